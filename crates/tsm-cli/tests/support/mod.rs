//! The harness of the integration tests: real daemons in temp dirs, a protocol client, and
//! the attached client on a real PTY.
//!
//! - [`TestDir`]: a short temp dir used as `TSM_DIR` (Linux's `sun_path` is 108 bytes), a
//!   temp `HOME`, and on `Drop` every daemon of the dir ended, so no test leaks processes.
//! - [`TestDir::tsm`]: the `tsm` binary with a scrubbed environment.
//! - [`TestClient`]: speaks tsm-proto over a Unix stream.
//! - [`PtyClient`]: `tsm attach NAME` on a real PTY.
//! - [`TestDir::spawn`]: `tsm` in the background ([`Spawned`]), output collected as it comes.
//! - [`TestDir::wait_for`]: polls a condition until a deadline; nothing sleeps to wait.
//!
//! Every failure message carries the tail of the session logs (`<dir>.logs/<name>.log`).

#![allow(dead_code, unreachable_pub)]

mod client;
mod pty;
mod spawned;

use std::ffi::OsString;
use std::fs;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

pub use client::{Recv, TestClient};
pub use pty::PtyClient;
pub use spawned::{Finished, Spawned};

/// The longest any test waits for one thing.
pub const WAIT: Duration = Duration::from_secs(10);

/// How often [`TestDir::wait_for`] looks again.
const POLL: Duration = Duration::from_millis(20);

/// Lines of each log shown in a failure message.
const LOG_TAIL_LINES: usize = 40;

/// The deadline of a wait that starts now.
pub fn deadline() -> Instant {
    Instant::now() + WAIT
}

/// The `tsm` binary under test.
pub fn tsm_bin() -> &'static str {
    env!("CARGO_BIN_EXE_tsm")
}

/// A shell with a plain prompt and no rc files, for sessions whose output tests read.
pub const SHELL: &[&str] = &["bash", "--norc", "--noprofile"];

/// Where failure messages find the session logs.
#[derive(Debug, Clone)]
pub struct Diag {
    log_dir: PathBuf,
}

impl Diag {
    /// The tail of every session log of the dir, each under its path.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        let mut entries: Vec<PathBuf> = fs::read_dir(&self.log_dir)
            .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        entries.sort();
        if entries.is_empty() {
            out.push_str(&format!("(no logs in {})\n", self.log_dir.display()));
        }
        for path in entries {
            let text = fs::read_to_string(&path).unwrap_or_else(|e| format!("(unreadable: {e})"));
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(LOG_TAIL_LINES)..];
            out.push_str(&format!("--- {} (last {} lines)\n", path.display(), tail.len()));
            for line in tail {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// Fails the test with `message` and the logs.
    #[track_caller]
    pub fn fail(&self, message: &str) -> ! {
        panic!("{message}\n\n{}", self.logs())
    }

    /// Fails the test with `message` and the logs unless `condition` holds.
    #[track_caller]
    pub fn check(&self, condition: bool, message: impl FnOnce() -> String) {
        if !condition {
            self.fail(&message());
        }
    }

    /// Polls `condition` until it holds or the deadline passes (then fails, naming `what`).
    #[track_caller]
    pub fn wait_for(&self, what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = deadline();
        loop {
            if condition() {
                return;
            }
            if Instant::now() >= deadline {
                self.fail(&format!("timed out after {WAIT:?} waiting for {what}"));
            }
            std::thread::sleep(POLL);
        }
    }
}

/// What a finished `tsm` command left.
#[derive(Debug)]
pub struct Run {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its stdout, lossily decoded.
    pub stdout: String,
    /// Its stderr, lossily decoded.
    pub stderr: String,
}

impl Run {
    /// The exit code (`None` when a signal ended it).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }
}

/// A temp `TSM_DIR` (and `HOME`) whose daemons are all ended on `Drop`.
#[derive(Debug)]
pub struct TestDir {
    root: TempDir,
    sockets: PathBuf,
    home: PathBuf,
    diag: Diag,
}

impl TestDir {
    /// A fresh dir: `/tmp/tsm-tXXXXXX/s` for sockets, `.../h` as `HOME`.
    pub fn new() -> TestDir {
        let root = tempfile::Builder::new().prefix("tsm-t").tempdir_in("/tmp").expect("temp dir");
        let sockets = root.path().join("s");
        let home = root.path().join("h");
        fs::create_dir(&home).expect("temp home");
        let mut log_dir = sockets.as_os_str().to_owned();
        log_dir.push(".logs");
        let diag = Diag { log_dir: PathBuf::from(log_dir) };
        TestDir { root, sockets, home, diag }
    }

    /// The root of the temp dir (parent of the socket dir and of `HOME`).
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// The socket dir (`TSM_DIR`).
    pub fn path(&self) -> &Path {
        &self.sockets
    }

    /// The temp `HOME`, also the working directory of every command.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The socket of session `name`.
    pub fn socket(&self, name: &str) -> PathBuf {
        self.sockets.join(name)
    }

    /// The log dir, `<socket dir>.logs`.
    pub fn log_dir(&self) -> &Path {
        &self.diag.log_dir
    }

    /// The failure reporter of this dir.
    pub fn diag(&self) -> &Diag {
        &self.diag
    }

    /// The environment every `tsm` of the tests runs with, and nothing else: no `TSM_*`
    /// or `NO_COLOR` leaks in from the outside.
    pub fn env(&self) -> Vec<(String, OsString)> {
        vec![
            ("PATH".into(), std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into())),
            ("TSM_DIR".into(), self.sockets.clone().into()),
            ("TSM_LOG".into(), "debug".into()),
            ("TERM".into(), "xterm-256color".into()),
            ("SHELL".into(), "/bin/bash".into()),
            ("HOME".into(), self.home.clone().into()),
            ("PS1".into(), "$ ".into()),
            ("LANG".into(), "C.UTF-8".into()),
        ]
    }

    /// The `tsm` binary with the scrubbed environment, run in `HOME`.
    pub fn tsm(&self) -> Command {
        let mut cmd = Command::new(tsm_bin());
        cmd.env_clear().envs(self.env()).current_dir(&self.home);
        cmd
    }

    /// Runs `tsm ARGS` (stdin from /dev/null) and returns what it printed; fails the test
    /// if it does not end within the deadline.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> Run {
        let mut cmd = self.tsm();
        cmd.args(args);
        self.run_command(cmd, &format!("tsm {}", args.join(" ")))
    }

    /// Runs a prepared command with a deadline.
    #[track_caller]
    pub fn run_command(&self, cmd: Command, what: &str) -> Run {
        self.run_command_to(cmd, what, Stdio::piped())
    }

    /// Runs a prepared command with a deadline and `stdout` as its stdout (captured only
    /// when it is `Stdio::piped()`).
    #[track_caller]
    pub fn run_command_to(&self, mut cmd: Command, what: &str, stdout: Stdio) -> Run {
        cmd.stdin(Stdio::null()).stdout(stdout).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| self.fail(&format!("spawn {what}: {e}")));
        drop(cmd);
        let pid = child.id();
        let stdout = child.stdout.take();
        let mut stderr = child.stderr.take().expect("piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let mut err = Vec::new();
            if let Some(mut stdout) = stdout {
                let _ = stdout.read_to_end(&mut out);
            }
            let _ = stderr.read_to_end(&mut err);
            let status = child.wait();
            let _ = tx.send((status, out, err));
        });
        match rx.recv_timeout(WAIT) {
            Ok((status, out, err)) => Run {
                status: status.expect("wait"),
                stdout: String::from_utf8_lossy(&out).into_owned(),
                stderr: String::from_utf8_lossy(&err).into_owned(),
            },
            Err(_) => {
                kill_pid(pid as i32, rustix::process::Signal::KILL);
                self.fail(&format!("`{what}` did not finish within {WAIT:?}"))
            }
        }
    }

    /// Runs `tsm ARGS`, fails unless it exits 0, returns its stdout.
    #[track_caller]
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        self.check(run.status.success(), || {
            format!(
                "`tsm {}` failed ({}):\nstdout: {}\nstderr: {}",
                args.join(" "),
                run.status,
                run.stdout,
                run.stderr
            )
        });
        run.stdout
    }

    /// `tsm new NAME -- CMD...`; fails unless it says `Session "NAME" created`.
    #[track_caller]
    pub fn new_session(&self, name: &str, command: &[&str]) {
        let mut args = vec!["new", name];
        if !command.is_empty() {
            args.push("--");
            args.extend_from_slice(command);
        }
        let out = self.ok(&args);
        self.check(out == format!("Session \"{name}\" created\n"), || {
            format!("unexpected output of `tsm new {name}`: {out:?}")
        });
    }

    /// A session running [`SHELL`].
    #[track_caller]
    pub fn new_shell(&self, name: &str) {
        self.new_session(name, SHELL);
    }

    /// A protocol client connected to session `name`.
    #[track_caller]
    pub fn client(&self, name: &str) -> TestClient {
        TestClient::connect(&self.socket(name), self.diag.clone())
    }

    /// The session's Info, from a fresh connection.
    #[track_caller]
    pub fn info(&self, name: &str) -> tsm_proto::Info {
        self.client(name).info()
    }

    /// The session's Status (tag 38), from a fresh connection.
    #[track_caller]
    pub fn status(&self, name: &str) -> Value {
        self.client(name).status()
    }

    /// `tsm ls --json`, parsed.
    #[track_caller]
    pub fn ls_json(&self) -> Vec<Value> {
        let out = self.ok(&["ls", "--json"]);
        match serde_json::from_str::<Value>(&out) {
            Ok(Value::Array(rows)) => rows,
            other => self.fail(&format!("`tsm ls --json` printed {out:?}: {other:?}")),
        }
    }

    /// The `tsm ls --json` entry of `name`, if listed.
    #[track_caller]
    pub fn ls_entry(&self, name: &str) -> Option<Value> {
        self.ls_json().into_iter().find(|row| row["name"] == name)
    }

    /// `tsm history NAME` (plain).
    #[track_caller]
    pub fn history(&self, name: &str) -> String {
        self.ok(&["history", name])
    }

    /// The daemon's pid, from `tsm info --json`.
    #[track_caller]
    pub fn daemon_pid(&self, name: &str) -> i32 {
        let out = self.ok(&["info", name, "--json"]);
        let info: Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| self.fail(&format!("`tsm info --json` printed {out:?}: {e}")));
        match info["daemon_pid"].as_i64() {
            Some(pid) => pid as i32,
            None => self.fail(&format!("no daemon_pid in {out}")),
        }
    }

    /// Whether the socket of `name` exists (as a socket).
    pub fn socket_exists(&self, name: &str) -> bool {
        fs::symlink_metadata(self.socket(name)).is_ok_and(|m| m.file_type().is_socket())
    }

    /// Every socket in the dir.
    pub fn socket_names(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(&self.sockets)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_socket()))
                    .filter_map(|e| e.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Pids of every daemon started for this dir (alive or stopped), from `/proc`.
    pub fn daemon_pids(&self) -> Vec<i32> {
        let dir = self.sockets.as_os_str().as_encoded_bytes().to_vec();
        let mut pids = Vec::new();
        let Ok(entries) = fs::read_dir("/proc") else { return pids };
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else { continue };
            let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
            let is_ours = args.iter().any(|a| *a == b"__daemon")
                && args.windows(2).any(|w| w[0] == b"--dir" && w[1] == dir.as_slice());
            if is_ours && process_alive(pid) {
                pids.push(pid);
            }
        }
        pids
    }

    /// Polls `condition` until it holds or the deadline passes.
    #[track_caller]
    pub fn wait_for(&self, what: &str, condition: impl FnMut() -> bool) {
        self.diag.wait_for(what, condition);
    }

    /// Fails the test with `message` and the logs.
    #[track_caller]
    pub fn fail(&self, message: &str) -> ! {
        self.diag.fail(message)
    }

    /// Fails the test with a message and the logs unless `condition` holds.
    #[track_caller]
    pub fn check(&self, condition: bool, message: impl FnOnce() -> String) {
        self.diag.check(condition, message);
    }

    /// Waits until process `pid` is gone (a zombie counts as gone).
    #[track_caller]
    pub fn wait_gone(&self, pid: i32, what: &str) {
        self.wait_for(&format!("{what} (pid {pid}) to exit"), || !process_alive(pid));
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        // Stopped daemons first get to run again, then every session is killed the
        // ordinary way, and whatever is left gets SIGKILL.
        let pids = self.daemon_pids();
        for &pid in &pids {
            kill_pid(pid, rustix::process::Signal::CONT);
        }
        if !pids.is_empty() {
            for name in self.socket_names() {
                let _ = tsm_proto::kill(&self.socket(&name));
            }
        }
        for pid in self.daemon_pids() {
            kill_pid(pid, rustix::process::Signal::KILL);
        }
    }
}

/// Sends `signal` to `pid`, ignoring errors (it may be gone).
pub fn kill_pid(pid: i32, signal: rustix::process::Signal) {
    if let Some(pid) = rustix::process::Pid::from_raw(pid) {
        let _ = rustix::process::kill_process(pid, signal);
    }
}

/// Whether `pid` is a live process (not gone, not a zombie).
pub fn process_alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses, which may contain anything.
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| {
            !matches!(rest.trim_start().chars().next(), Some('Z' | 'X') | None)
        }),
        Err(_) => false,
    }
}

/// The process state letter of `pid` (`R`, `S`, `T` for stopped, ...).
pub fn process_state(pid: i32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// `bytes` without escape sequences and control characters (newlines kept), for
/// contains-text checks on terminal output.
pub fn strip_ansi(bytes: &[u8]) -> String {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0x1b => {
                i += 1;
                match bytes.get(i) {
                    // CSI: parameters and intermediates, then one final byte.
                    Some(b'[') => {
                        i += 1;
                        while i < bytes.len() && !(0x40..=0x7e).contains(&bytes[i]) {
                            i += 1;
                        }
                        i += 1;
                    }
                    // OSC, DCS, APC, PM, SOS: a string up to BEL or ST.
                    Some(b']' | b'P' | b'_' | b'^' | b'X') => {
                        i += 1;
                        while i < bytes.len() {
                            if bytes[i] == 0x07 {
                                i += 1;
                                break;
                            }
                            if bytes[i] == 0x1b && bytes.get(i + 1) == Some(&b'\\') {
                                i += 2;
                                break;
                            }
                            i += 1;
                        }
                    }
                    // Charset designations take one more byte.
                    Some(b'(' | b')' | b'*' | b'+' | b'#' | b'%' | b' ') => i += 2,
                    Some(_) => i += 1,
                    None => {}
                }
            }
            b'\n' => {
                out.push(b'\n');
                i += 1;
            }
            b if b < 0x20 || b == 0x7f => i += 1,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether `haystack` contains `needle` as bytes.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Shell input that prints `MARK<n>` only when executed (the echo of the typed line
/// shows `MARK$((n))`, never the result).
pub fn marker_command(mark: &str, n: u32) -> (String, String) {
    (format!("echo {mark}$(({n}+0))\r"), format!("{mark}{n}"))
}

#[test]
fn strip_ansi_keeps_text_and_newlines() {
    let raw = b"\x1b[?25h\x1b[1;31mred\x1b[0m \x1b]0;title\x07x\r\ny\x1b(Bz\x1b[2 q";
    assert_eq!(strip_ansi(raw), "red x\nyz");
}
