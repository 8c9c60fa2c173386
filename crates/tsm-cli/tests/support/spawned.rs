//! [`Spawned`]: a `tsm` process in the background (no PTY) with its stdout and stderr
//! collected as they arrive, for commands that stream (`run`, `tail`), that need stdin,
//! or that must get a signal while they run.

use std::io::{Read, Write};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Diag, TestDir, WAIT, kill_pid};

/// What a finished [`Spawned`] process left.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its stdout, as bytes.
    pub stdout: Vec<u8>,
    /// Its stderr, lossily decoded.
    pub stderr: String,
}

impl Finished {
    /// The exit code (`None` when a signal ended it).
    pub fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Its stdout, lossily decoded.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// A running `tsm` process; killed (SIGKILL) on `Drop` if it is still running.
#[derive(Debug)]
pub struct Spawned {
    child: Child,
    what: String,
    stdout: Arc<Mutex<Vec<u8>>>,
    stderr: Arc<Mutex<Vec<u8>>>,
    readers: Vec<JoinHandle<()>>,
    status: Option<ExitStatus>,
    diag: Diag,
}

/// Copies everything `from` yields into `to` until EOF.
fn collect(mut from: impl Read + Send + 'static, to: Arc<Mutex<Vec<u8>>>) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => to.lock().unwrap().extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
    })
}

impl TestDir {
    /// Starts `tsm ARGS` in the background with `stdin` as its whole stdin (written by a
    /// thread, then closed), or /dev/null when `None`.
    #[track_caller]
    pub fn spawn(&self, args: &[&str], stdin: Option<Vec<u8>>) -> Spawned {
        let what = format!("tsm {}", args.join(" "));
        let mut cmd = self.tsm();
        cmd.args(args)
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| self.fail(&format!("spawn {what}: {e}")));
        if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A broken pipe only means tsm stopped reading; its exit tells the rest.
            std::thread::spawn(move || {
                let _ = pipe.write_all(&bytes);
            });
        }
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let readers = vec![
            collect(child.stdout.take().expect("piped"), Arc::clone(&stdout)),
            collect(child.stderr.take().expect("piped"), Arc::clone(&stderr)),
        ];
        Spawned { child, what, stdout, stderr, readers, status: None, diag: self.diag().clone() }
    }

    /// Runs `tsm ARGS` with `input` on stdin; fails the test unless it ends within
    /// [`WAIT`].
    #[track_caller]
    pub fn run_input(&self, args: &[&str], input: &[u8]) -> Finished {
        self.spawn(args, Some(input.to_vec())).finish(WAIT)
    }
}

impl Spawned {
    /// The pid of the `tsm` process.
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// Everything it wrote to stdout so far.
    pub fn stdout(&self) -> Vec<u8> {
        self.stdout.lock().unwrap().clone()
    }

    /// Its stdout so far, lossily decoded.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout()).into_owned()
    }

    /// Its stderr so far, lossily decoded.
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.lock().unwrap()).into_owned()
    }

    /// Waits until its stdout contains `text` (fails at the deadline or if it exits
    /// without printing it).
    #[track_caller]
    pub fn wait_stdout_contains(&mut self, text: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            if self.stdout_text().contains(text) {
                return;
            }
            if let Some(status) = self.try_status() {
                // Its last output may still be in the pipe.
                self.join_readers();
                if self.stdout_text().contains(text) {
                    return;
                }
                self.fail_with(&format!("it exited ({status}) without printing {text:?}"));
            }
            if Instant::now() >= deadline {
                self.fail_with(&format!("timed out after {WAIT:?} waiting for {text:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` to the process.
    pub fn signal(&self, signal: rustix::process::Signal) {
        kill_pid(self.pid(), signal);
    }

    /// The exit status, if it has exited (reaps it).
    pub fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            self.status = self.child.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits until it exits (at most `within`, else kills it and fails the test) and its
    /// output is read to the end; returns what it left.
    #[track_caller]
    pub fn finish(mut self, within: Duration) -> Finished {
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = self.try_status() {
                break status;
            }
            if Instant::now() >= deadline {
                self.fail_with(&format!("it did not exit within {within:?}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        self.join_readers();
        Finished { status, stdout: self.stdout(), stderr: self.stderr_text() }
    }

    /// Waits for the output readers (the process has exited; a daemon it started could
    /// hold the pipes only if it inherited them, which `tsm` never lets it).
    fn join_readers(&mut self) {
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
    }

    /// Kills it and fails the test with `message`, what it printed and the logs.
    #[track_caller]
    fn fail_with(&mut self, message: &str) -> ! {
        kill_pid(self.pid(), rustix::process::Signal::KILL);
        let stdout = self.stdout_text();
        let shown: String = stdout.chars().take(2000).collect();
        self.diag.fail(&format!(
            "`{}`: {message}\nstdout ({} bytes): {shown:?}\nstderr: {:?}",
            self.what,
            stdout.len(),
            self.stderr_text()
        ))
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        if self.try_status().is_none() {
            kill_pid(self.pid(), rustix::process::Signal::KILL);
            let _ = self.child.wait();
        }
    }
}
