//! `tsm-fake-agent FILE.tsmrec [--speed X] [--wait-input] [--size-wait MS]`: replays a
//! recorded coding-agent session into its terminal with the recording's timing
//! (spec/agents.md §8.3). A test tool: run it as a session's command through a symlink
//! named like the agent (`claude`, `codex`, …) so process matching sees that agent.
//!
//! - Waits (at most `--size-wait` ms, default 0) until its terminal has the recorded size.
//! - `out` entries are written at their time, scaled by `--speed`.
//! - `in` entries: with `--wait-input`, waits until those bytes arrive on stdin (the
//!   terminal is in raw mode) and shifts the rest of the timeline by the wait; else skipped.
//! - `event` entries run `tsm hook <agent>` (`$TSM_BIN`, else `tsm` on `PATH`) with the
//!   payload on stdin (for `codex_notify`, as the last argument), like the real agent.
//! - `file` entries are written under `$HOME` (`~`), `{pid}` in the path replaced by this
//!   process's pid, and a JSON string value `"{pid}"` by the pid as a number.
//! - `proc` entries are not replayed: the process facts are this process's own.
//! - `exit` exits with its code; without one the program stays, like an agent at its
//!   prompt, until its terminal goes away.
//! - With `$TSM_FAKE_AGENT_LOG` set, a JSON line per entry gives its wall time.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tsm_agents::tsmrec::{self, EntryKind, EventEntry, FileEntry};

/// Options from the command line.
struct Options {
    file: PathBuf,
    speed: f64,
    wait_input: bool,
    size_wait: Duration,
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("tsm-fake-agent: {err}");
            ExitCode::from(2)
        }
    }
}

fn parse_args() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut options =
        Options { file: PathBuf::new(), speed: 1.0, wait_input: false, size_wait: Duration::ZERO };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--speed" => {
                let value = args.next().ok_or("--speed needs a value")?;
                options.speed = value
                    .parse()
                    .ok()
                    .filter(|s: &f64| *s > 0.0)
                    .ok_or("--speed takes a number > 0")?;
            }
            "--wait-input" => options.wait_input = true,
            "--size-wait" => {
                let value = args.next().ok_or("--size-wait needs a value")?;
                options.size_wait =
                    Duration::from_millis(value.parse().map_err(|_| "--size-wait takes ms")?);
            }
            other if options.file.as_os_str().is_empty() => options.file = PathBuf::from(other),
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    if options.file.as_os_str().is_empty() {
        return Err(
            "usage: tsm-fake-agent FILE.tsmrec [--speed X] [--wait-input] [--size-wait MS]".into(),
        );
    }
    Ok(options)
}

fn run() -> Result<ExitCode, String> {
    let options = parse_args()?;
    let text = fs::read_to_string(&options.file)
        .map_err(|e| format!("{}: {e}", options.file.display()))?;
    let recording = tsmrec::parse(&text).map_err(|e| format!("{}: {e}", options.file.display()))?;
    let stdin = io::stdin();
    let _raw = options.wait_input.then(|| RawMode::enable(&stdin)).flatten();
    wait_for_size(recording.header.rows, recording.header.cols, options.size_wait);
    let log = std::env::var_os("TSM_FAKE_AGENT_LOG").map(PathBuf::from);
    let mut stdout = io::stdout();
    let mut input = InputWatcher::default();
    let start = Instant::now();
    let mut shift = Duration::ZERO;
    for entry in &recording.entries {
        let due = start + Duration::from_secs_f64(entry.t as f64 / 1000.0 / options.speed) + shift;
        if let Some(left) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(left);
        }
        let kind = match &entry.kind {
            EntryKind::Out(bytes) => {
                stdout
                    .write_all(bytes)
                    .and_then(|()| stdout.flush())
                    .map_err(|e| format!("writing output: {e}"))?;
                "out"
            }
            EntryKind::In(expected) if options.wait_input => {
                let waited = Instant::now();
                input
                    .wait_for(&mut io::stdin().lock(), expected.as_bytes())
                    .map_err(|e| format!("reading input: {e}"))?;
                shift += waited.elapsed();
                "in"
            }
            EntryKind::In(_) => "in-skipped",
            EntryKind::Event(event) => {
                send_event(event);
                "event"
            }
            EntryKind::File(file) => {
                write_file(file).map_err(|e| format!("file {}: {e}", file.path))?;
                "file"
            }
            EntryKind::Proc(_) => "proc",
            EntryKind::Exit(code) => {
                log_entry(log.as_deref(), entry.t, "exit");
                return Ok(ExitCode::from(*code as u8));
            }
        };
        log_entry(log.as_deref(), entry.t, kind);
    }
    // Like an agent at its prompt: stay until the terminal goes away.
    let mut sink = [0u8; 4096];
    while matches!(io::stdin().read(&mut sink), Ok(n) if n > 0) {}
    Ok(ExitCode::SUCCESS)
}

/// Waits until the terminal on stdout has `rows` x `cols`, at most `limit`.
fn wait_for_size(rows: u16, cols: u16, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(size) = rustix::termios::tcgetwinsize(io::stdout())
            && size.ws_row == rows
            && size.ws_col == cols
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Bytes read from stdin that have not matched an `in` entry yet.
#[derive(Default)]
struct InputWatcher {
    seen: Vec<u8>,
}

impl InputWatcher {
    /// Reads until `expected` has arrived, keeping what follows it for the next entry.
    fn wait_for(&mut self, stdin: &mut impl Read, expected: &[u8]) -> io::Result<()> {
        loop {
            if let Some(at) = self.seen.windows(expected.len().max(1)).position(|w| w == expected) {
                self.seen.drain(..at + expected.len());
                return Ok(());
            }
            let mut buf = [0u8; 256];
            let n = stdin.read(&mut buf)?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "stdin closed"));
            }
            self.seen.extend_from_slice(&buf[..n]);
        }
    }
}

/// Runs `tsm hook <agent>` (or `tsm statusline`) with the payload, like the agent does.
fn send_event(event: &EventEntry) {
    let tsm = std::env::var_os("TSM_BIN").unwrap_or_else(|| "tsm".into());
    let payload = event.payload.to_string();
    let (args, on_stdin): (Vec<&str>, bool) = match event.source.as_str() {
        "claude_hook" => (vec!["hook", "claude"], true),
        "claude_statusline" => (vec!["statusline"], true),
        "codex_hook" => (vec!["hook", "codex"], true),
        // Codex's notify program gets the payload as its last argument.
        "codex_notify" => (vec!["hook", "codex", &payload], false),
        "gemini_hook" => (vec!["hook", "gemini"], true),
        "aider_notify" => (vec!["hook", "aider"], true),
        other => {
            eprintln!("tsm-fake-agent: unknown event source {other:?}");
            return;
        }
    };
    let mut command = Command::new(tsm);
    command.args(args);
    let child = command.stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::null()).spawn();
    let Ok(mut child) = child else { return };
    if let Some(mut stdin) = child.stdin.take()
        && on_stdin
    {
        let _ = stdin.write_all(payload.as_bytes());
    }
    let _ = child.wait();
}

/// Writes, appends to or deletes a file under `$HOME`.
fn write_file(file: &FileEntry) -> io::Result<()> {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/"));
    let relative = file.path.replace("{pid}", &std::process::id().to_string());
    let path = match relative.strip_prefix("~/") {
        Some(rest) => home.join(rest),
        None => PathBuf::from(relative),
    };
    if file.delete {
        return match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    }
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    let pid = std::process::id().to_string();
    let contents = match (&file.json, &file.text) {
        // A registry file names its own pid: the JSON string "{pid}" becomes the number.
        (Some(json), _) => json.to_string().replace("\"{pid}\"", &pid),
        (None, Some(text)) => text.clone(),
        (None, None) => String::new(),
    };
    if file.append {
        OpenOptions::new().create(true).append(true).open(&path)?.write_all(contents.as_bytes())
    } else {
        fs::write(&path, contents)
    }
}

fn log_entry(log: Option<&Path>, t: u64, kind: &str) {
    let Some(log) = log else { return };
    let wall_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
    let line = serde_json::json!({"t": t, "kind": kind, "wall_ms": wall_ms as u64}).to_string();
    if let Ok(mut file) = OpenOptions::new().create(true).append(true).open(log) {
        let _ = writeln!(file, "{line}");
    }
}

/// The terminal in raw mode while it lives (so `\r` arrives as typed).
struct RawMode {
    saved: rustix::termios::Termios,
}

impl RawMode {
    fn enable(stdin: &io::Stdin) -> Option<RawMode> {
        let saved = rustix::termios::tcgetattr(stdin).ok()?;
        let mut raw = saved.clone();
        raw.make_raw();
        rustix::termios::tcsetattr(stdin, rustix::termios::OptionalActions::Now, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = rustix::termios::tcsetattr(
            io::stdin(),
            rustix::termios::OptionalActions::Now,
            &self.saved,
        );
    }
}
