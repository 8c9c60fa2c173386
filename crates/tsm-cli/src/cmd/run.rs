//! `tsm run NAME [-d] [--timeout SECS] [--vt] [--json] [CMD...]`: types a command into the
//! session's shell, streams what it prints, exits with its exit code. Creates the session
//! (running `bash`) if it is missing.
//!
//! One CMD argument is shell text as given (`tsm run x 'ls | wc -l'`); several are quoted
//! and joined (`tsm run x grep -r "a b" .`). No CMD: the script on stdin.

use std::ffi::OsString;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, anyhow, bail};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::signal::unix::{SignalKind, signal};
use tsm_proto::{Connection, FrameDecoder, REQUEST_TIMEOUT, SocketDir, Tag, parse_ack};

use crate::ansi::AnsiStripper;
use crate::cli::RunArgs;
use crate::daemon_spawn::{NewSession, spawn_daemon};
use crate::target::{Target, action_error};

/// The exit code when `--timeout` passes, as timeout(1) has it.
const TIMEOUT_EXIT: u8 = 124;

/// Runs the command in the session and exits with its code.
pub(crate) fn run(args: &RunArgs) -> Result<ExitCode> {
    let dir = SocketDir::from_env();
    let target = Target::new(&dir, &args.name)?;
    let command = command_text(&args.command)?;
    ensure_session(&dir, &target)?;
    let mut conn =
        Connection::connect(&target.path).map_err(|e| action_error("run in", &args.name, &e))?;
    submit(&mut conn, &args.name, Tag::Run, command.as_bytes())?;
    if args.detach {
        return Ok(ExitCode::SUCCESS);
    }
    let timeout = args.timeout.map(Duration::from_secs_f64);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let result = runtime.block_on(follow_task(conn, !args.vt, args.json, timeout))?;
    let code = match result {
        TaskEnd::Completed(code) => code,
        TaskEnd::TimedOut => {
            eprintln!(
                "tsm run: the command in session \"{}\" did not finish in time; it keeps running",
                args.name
            );
            TIMEOUT_EXIT
        }
    };
    Ok(ExitCode::from(code))
}

/// The shell text to run.
fn command_text(args: &[OsString]) -> Result<String> {
    match args {
        [] => {
            let mut stdin = std::io::stdin();
            if stdin.is_terminal() {
                bail!(
                    "usage: tsm run NAME [CMD...]\nGive the command as arguments or the script on stdin."
                );
            }
            let mut script = String::new();
            stdin.read_to_string(&mut script)?;
            Ok(script)
        }
        [one] => Ok(one.to_string_lossy().into_owned()),
        several => Ok(several
            .iter()
            .map(|arg| shell_quote(&arg.to_string_lossy()))
            .collect::<Vec<_>>()
            .join(" ")),
    }
}

/// `word` quoted for a POSIX shell, unchanged when it needs no quoting.
pub(crate) fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c));
    if plain { word.to_owned() } else { format!("'{}'", word.replace('\'', "'\\''")) }
}

/// Creates the session with `bash` if it is missing, saying so on stderr.
pub(crate) fn ensure_session(dir: &SocketDir, target: &Target) -> Result<()> {
    if target.path.exists() {
        return Ok(());
    }
    dir.ensure()?;
    let bash = [OsString::from("bash")];
    spawn_daemon(dir, target, &NewSession { command: &bash, ..NewSession::default() })?;
    eprintln!("session \"{}\" created", target.name);
    Ok(())
}

/// Sends a Run (or RunStdin) and waits for its Ack.
pub(crate) fn submit(conn: &mut Connection, name: &str, tag: Tag, command: &[u8]) -> Result<()> {
    let ack = conn
        .request(tag, command, Tag::Ack, REQUEST_TIMEOUT)
        .map_err(|e| action_error("run in", name, &e))?;
    parse_ack(&ack).map_err(|text| anyhow!("Cannot run in session \"{name}\": {text}."))
}

/// How following a task ended.
enum TaskEnd {
    /// TaskComplete with this code.
    Completed(u8),
    /// `--timeout` passed first.
    TimedOut,
}

/// Prints the task's output until TaskComplete; Ctrl-C is passed on to the command.
async fn follow_task(
    conn: Connection,
    strip: bool,
    json_output: bool,
    timeout: Option<Duration>,
) -> Result<TaskEnd> {
    let (stream, already_read) = conn.into_parts();
    stream.set_nonblocking(true)?;
    let (mut reader, mut writer) = tokio::net::UnixStream::from_std(stream)?.into_split();
    let mut interrupt = signal(SignalKind::interrupt())?;
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let mut decoder = FrameDecoder::new();
    decoder.push(&already_read); // frames that came with the Ack
    let mut printer = TaskOutput {
        strip,
        json_output,
        stripper: AnsiStripper::new(),
        text: Vec::new(),
        captured: Vec::new(),
    };
    let mut buf = Vec::with_capacity(64 * 1024);
    loop {
        while let Some(frame) = decoder.next_frame()? {
            if let Some(code) = printer.on_frame(frame.tag, frame.payload)? {
                return Ok(TaskEnd::Completed(code));
            }
        }
        std::io::stdout().flush()?;
        tokio::select! {
            read = reader.read_buf(&mut buf) => {
                if read? == 0 {
                    bail!("the session ended before the command finished");
                }
                decoder.push(&buf);
                buf.clear();
            }
            _ = interrupt.recv() => {
                let mut frame = Vec::new();
                tsm_proto::encode_into(Tag::Interrupt, &[], &mut frame);
                writer.write_all(&frame).await?;
            }
            () = sleep_until(deadline) => return Ok(TaskEnd::TimedOut),
        }
    }
}

/// What `tsm run` does with the frames of its task.
struct TaskOutput {
    /// Strip escape sequences.
    strip: bool,
    /// Print one JSON object at the end instead of streaming.
    json_output: bool,
    stripper: AnsiStripper,
    /// Scratch for stripped text.
    text: Vec<u8>,
    /// The whole output, for `--json`.
    captured: Vec<u8>,
}

impl TaskOutput {
    /// Handles one frame; returns the exit code once the task completed.
    fn on_frame(&mut self, tag: Tag, payload: &[u8]) -> Result<Option<u8>> {
        let mut stdout = std::io::stdout();
        match tag {
            Tag::Output => {
                let shown = if self.strip {
                    self.text.clear();
                    self.stripper.strip(payload, &mut self.text);
                    &self.text[..]
                } else {
                    payload
                };
                if self.json_output {
                    self.captured.extend_from_slice(shown);
                } else {
                    stdout.write_all(shown)?;
                }
                Ok(None)
            }
            Tag::TaskComplete => {
                let code = tsm_proto::parse_task_complete(payload)?;
                if self.json_output {
                    let output = String::from_utf8_lossy(&self.captured);
                    writeln!(stdout, "{}", json!({ "exit_code": code, "output": output }))?;
                }
                stdout.flush()?;
                Ok(Some(code))
            }
            Tag::SessionExit => bail!("the session ended before the command finished"),
            _ => Ok(None),
        }
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn quotes_only_what_needs_it() {
        assert_eq!(shell_quote("ls"), "ls");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("--flag=x/y"), "--flag=x/y");
    }
}
