//! [`PtyClient`]: the `tsm` binary (usually `tsm attach NAME`) on a real PTY, as a user's
//! terminal would run it.

use std::ffi::OsString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rustix::termios::{LocalModes, Termios};
use tsm_pty::{Child, ExitStatus, Pty, SpawnOptions, WindowSize};

use super::{Diag, TestDir, contains_bytes, deadline, kill_pid, strip_ansi, tsm_bin};

/// A `tsm` process on a PTY of 24x80, with everything it writes collected.
#[derive(Debug)]
pub struct PtyClient {
    pty: Arc<Pty>,
    child: Child,
    output: Arc<Mutex<Vec<u8>>>,
    /// Set once the reader saw the end of output (no process holds the slave any more).
    reader_done: Arc<AtomicBool>,
    status: Option<ExitStatus>,
    diag: Diag,
}

impl PtyClient {
    /// `tsm attach NAME` on a fresh PTY (the session must exist or is created).
    #[track_caller]
    pub fn attach(dir: &TestDir, name: &str) -> PtyClient {
        PtyClient::spawn(dir, &["attach", name], &[])
    }

    /// `tsm ARGS` on a fresh PTY with the tests' environment plus `extra_env`. The PTY's
    /// termios starts as the kernel's default (cooked, echo on).
    #[track_caller]
    pub fn spawn(dir: &TestDir, args: &[&str], extra_env: &[(&str, &str)]) -> PtyClient {
        // `env -i` so the child sees exactly the tests' environment: nothing of ours leaks.
        let mut argv: Vec<OsString> = vec!["/usr/bin/env".into(), "-i".into()];
        for (key, value) in dir.env() {
            let mut pair = OsString::from(key);
            pair.push("=");
            pair.push(value);
            argv.push(pair);
        }
        for (key, value) in extra_env {
            argv.push(format!("{key}={value}").into());
        }
        argv.push(tsm_bin().into());
        argv.extend(args.iter().map(OsString::from));
        let opts = SpawnOptions::new(dir.home()).command(argv).size(WindowSize::new(24, 80));
        let (pty, child) = tsm_pty::spawn(&opts)
            .unwrap_or_else(|e| dir.fail(&format!("spawn tsm {} on a PTY: {e}", args.join(" "))));
        let pty = Arc::new(pty);
        let output = Arc::new(Mutex::new(Vec::new()));
        let reader_pty = Arc::clone(&pty);
        let reader_output = Arc::clone(&output);
        let reader_done = Arc::new(AtomicBool::new(false));
        let done = Arc::clone(&reader_done);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match reader_pty.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => reader_output.lock().unwrap().extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            // Release: everything appended above is visible to whoever sees the flag.
            done.store(true, Ordering::Release);
        });
        PtyClient { pty, child, output, reader_done, status: None, diag: dir.diag().clone() }
    }

    /// The pid of the `tsm` process.
    pub fn pid(&self) -> i32 {
        self.child.pid()
    }

    /// Types `bytes` (one write, so the client reads them as one chunk when it is
    /// waiting).
    #[track_caller]
    pub fn type_bytes(&self, bytes: &[u8]) {
        let mut rest = bytes;
        while !rest.is_empty() {
            match self.pty.write(rest) {
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => self.diag.fail(&format!("write to the PTY: {e}")),
            }
        }
    }

    /// Everything the process wrote so far.
    pub fn output(&self) -> Vec<u8> {
        self.output.lock().unwrap().clone()
    }

    /// How many bytes the process wrote so far (a mark for [`output_since`]).
    ///
    /// [`output_since`]: PtyClient::output_since
    pub fn output_len(&self) -> usize {
        self.output.lock().unwrap().len()
    }

    /// What the process wrote after `mark`.
    pub fn output_since(&self, mark: usize) -> Vec<u8> {
        self.output.lock().unwrap()[mark..].to_vec()
    }

    /// The ANSI-stripped text of everything written so far.
    pub fn screen_text(&self) -> String {
        strip_ansi(&self.output())
    }

    /// Waits until the ANSI-stripped output contains `text`.
    #[track_caller]
    pub fn wait_screen_contains(&self, text: &str) {
        self.diag.wait_for(&format!("{text:?} on the PTY"), || self.screen_text().contains(text));
    }

    /// Waits until the raw output after `mark` contains `bytes`.
    #[track_caller]
    pub fn wait_raw_since(&self, mark: usize, bytes: &[u8]) {
        self.diag.wait_for(&format!("{:?} on the PTY", String::from_utf8_lossy(bytes)), || {
            contains_bytes(&self.output_since(mark), bytes)
        });
    }

    /// The terminal's settings (on Linux the master reports those of the pair).
    #[track_caller]
    pub fn termios(&self) -> Termios {
        rustix::termios::tcgetattr(&*self.pty)
            .unwrap_or_else(|e| self.diag.fail(&format!("tcgetattr on the PTY master: {e}")))
    }

    /// Whether the terminal is in cooked mode with echo (ICANON and ECHO set).
    #[track_caller]
    pub fn is_cooked(&self) -> bool {
        self.termios().local_modes.contains(LocalModes::ICANON | LocalModes::ECHO)
    }

    /// Waits until the terminal is in raw mode (the client has taken it over).
    #[track_caller]
    pub fn wait_raw_mode(&self) {
        self.diag.wait_for("the PTY in raw mode", || {
            !self.termios().local_modes.intersects(LocalModes::ICANON | LocalModes::ECHO)
        });
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

    /// Waits until the process exits and everything it wrote has been read, and returns
    /// its status.
    #[track_caller]
    pub fn wait_exit(&mut self) -> ExitStatus {
        let deadline = deadline();
        loop {
            // Acquire: pairs with the reader's Release, so the output is complete.
            if let Some(status) = self.try_status()
                && self.reader_done.load(Ordering::Acquire)
            {
                return status;
            }
            if Instant::now() >= deadline {
                self.diag.fail(&format!(
                    "the tsm process on the PTY did not exit; it wrote: {:?}",
                    self.screen_text()
                ));
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.try_status().is_none()
    }
}

impl Drop for PtyClient {
    fn drop(&mut self) {
        if self.try_status().is_none() {
            kill_pid(self.pid(), rustix::process::Signal::KILL);
            let _ = self.child.wait();
        }
    }
}
