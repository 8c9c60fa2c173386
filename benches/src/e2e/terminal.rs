//! The user's terminal: a real PTY with a client (or, for the raw reference, the program
//! itself) running in it, read by the runner with poll and deadlines.

use std::ffi::OsStr;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::termios::LocalModes;
use tsm_pty::{Child, Pty, Signal, SpawnOptions, WindowSize};

use crate::e2e::sandbox::Sandbox;

/// The user's terminal: 50 rows of 200 columns (spec/bench.md).
pub(crate) const TERMINAL_SIZE: WindowSize = WindowSize::new(50, 200);
/// One read from the PTY master: large, so a flood costs few system calls.
const READ_CHUNK_BYTES: usize = 64 * 1024;
/// How much of the latest output an error message quotes.
const RECENT_BYTES: usize = 200;
/// The longest marker [`Terminal::wait_for`] looks for.
const MAX_MARKER_BYTES: usize = 64;
/// How often [`Terminal::wait_raw`] looks at the terminal's modes.
const RAW_CHECK: Duration = Duration::from_millis(1);
/// The longest a flood drainer sleeps in poll before looking at its stop flag.
const STOP_CHECK: Duration = Duration::from_millis(20);

/// A PTY with a program running in it, as a terminal emulator would run a client.
///
/// Reads never block past a deadline: every wait polls the master with the time left.
/// Dropping it kills the program (SIGKILL), reaps it and closes the master.
#[derive(Debug)]
pub(crate) struct Terminal {
    /// The master side, non-blocking.
    pty: Pty,
    /// The program (the client); reaped on drop if not before.
    child: Child,
    /// Set once the child was reaped.
    exited: bool,
    /// Set once the master reported the end of output.
    eof: bool,
    /// Reused read buffer.
    buf: Vec<u8>,
    /// The last bytes read, for error messages.
    recent: Vec<u8>,
    /// The last bytes [`wait_for`](Terminal::wait_for) searched without a match (at most
    /// `MAX_MARKER_BYTES - 1`), so a marker split across reads is found; cleared by a
    /// match and by every read that is not a search, so old bytes never match again.
    carry: Vec<u8>,
    /// Bytes read from the master so far.
    received: u64,
}

impl Terminal {
    /// Starts `argv` in a fresh 200x50 PTY with the sandbox's scrubbed environment.
    pub(crate) fn spawn<S: AsRef<OsStr>>(sandbox: &Sandbox, argv: &[S]) -> Result<Terminal> {
        let argv = sandbox.scrubbed_argv(argv);
        let options = SpawnOptions::new(sandbox.path()).command(&argv).size(TERMINAL_SIZE);
        let (pty, child) = tsm_pty::spawn(&options).with_context(|| {
            let line: Vec<_> = argv.iter().map(|a| a.to_string_lossy()).collect();
            format!("cannot start {} in a PTY", line.join(" "))
        })?;
        pty.set_nonblocking(true)?;
        Ok(Terminal {
            pty,
            child,
            exited: false,
            eof: false,
            buf: vec![0; READ_CHUNK_BYTES],
            recent: Vec::new(),
            carry: Vec::new(),
            received: 0,
        })
    }

    /// The program's pid.
    pub(crate) fn pid(&self) -> i32 {
        self.child.pid()
    }

    /// Bytes read from the terminal so far.
    pub(crate) fn received(&self) -> u64 {
        self.received
    }

    /// Types `bytes` (they reach the program's stdin, through the line discipline).
    pub(crate) fn send(&self, mut bytes: &[u8]) -> Result<()> {
        while !bytes.is_empty() {
            match self.pty.write(bytes) {
                Ok(n) => bytes = &bytes[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    poll_one(&self.pty, PollFlags::OUT, Some(STOP_CHECK))?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e).context("cannot write to the terminal"),
            }
        }
        Ok(())
    }

    /// Reads until `marker` has arrived (possibly split across reads) and returns the
    /// instant of the read that completed it. Only bytes read after the previous match
    /// can match.
    ///
    /// # Errors
    ///
    /// At `deadline`, or when the output ends first; the message quotes the last output.
    pub(crate) fn wait_for(&mut self, marker: &[u8], deadline: Instant) -> Result<Instant> {
        assert!(!marker.is_empty() && marker.len() <= MAX_MARKER_BYTES, "bad marker");
        loop {
            while let Some(n) = self.read_some()? {
                let chunk = &self.buf[..n];
                // Across the boundary: the carried bytes, then the chunk's first bytes.
                let mut seam =
                    self.carry[self.carry.len().saturating_sub(marker.len() - 1)..].to_vec();
                seam.extend_from_slice(&chunk[..n.min(marker.len() - 1)]);
                if contains(&seam, marker) || contains(chunk, marker) {
                    self.carry.clear();
                    return Ok(Instant::now());
                }
                self.carry.extend_from_slice(&chunk[n.saturating_sub(MAX_MARKER_BYTES)..]);
                let excess = self.carry.len().saturating_sub(MAX_MARKER_BYTES - 1);
                self.carry.drain(..excess);
            }
            if self.eof {
                bail!(
                    "the terminal's output ended before {}; {}",
                    quote(marker),
                    self.last_output()
                );
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("timed out waiting for {}; {}", quote(marker), self.last_output());
            }
            poll_one(&self.pty, PollFlags::IN, Some(left))?;
        }
    }

    /// Waits until at least one byte of output has arrived (a client drew something).
    pub(crate) fn wait_for_output(&mut self, deadline: Instant) -> Result<()> {
        let before = self.received;
        self.carry.clear();
        loop {
            while self.read_some()?.is_some() {}
            if self.received > before {
                return Ok(());
            }
            if self.eof {
                bail!("the terminal's output ended before any output; {}", self.last_output());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("timed out waiting for any output");
            }
            poll_one(&self.pty, PollFlags::IN, Some(left))?;
        }
    }

    /// Waits until the program has put the terminal in raw mode (no canonical input, no
    /// echo), reading output meanwhile. A client is ready for keys only then: a key typed
    /// before would be echoed by the kernel, or held in the line buffer and later flushed.
    ///
    /// No event says "termios changed", so this looks every [`RAW_CHECK`] (or sooner, when
    /// output arrives).
    ///
    /// # Errors
    ///
    /// At `deadline`, or when the output ends first.
    pub(crate) fn wait_raw(&mut self, deadline: Instant) -> Result<()> {
        self.carry.clear();
        loop {
            let termios = rustix::termios::tcgetattr(&self.pty).context("cannot read termios")?;
            let cooked = LocalModes::ICANON | LocalModes::ECHO;
            if !termios.local_modes.intersects(cooked) {
                return Ok(());
            }
            while self.read_some()?.is_some() {}
            if self.eof {
                bail!("the terminal's output ended before raw mode; {}", self.last_output());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("timed out waiting for raw mode; {}", self.last_output());
            }
            poll_one(&self.pty, PollFlags::IN, Some(left.min(RAW_CHECK)))?;
        }
    }

    /// Reads whatever output is there now, without waiting; returns how many bytes.
    pub(crate) fn drain(&mut self) -> Result<u64> {
        let before = self.received;
        self.carry.clear();
        while self.read_some()?.is_some() {}
        Ok(self.received - before)
    }

    /// Reads output until the program has exited, then reaps it.
    ///
    /// # Errors
    ///
    /// At `deadline` (the program is still running).
    pub(crate) fn wait_exit(&mut self, deadline: Instant) -> Result<()> {
        let pidfd = self.child.pidfd().context("cannot watch the client")?;
        self.carry.clear();
        loop {
            while self.read_some()?.is_some() {}
            if self.child.try_wait()?.is_some() {
                self.exited = true;
                return Ok(());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!("timed out waiting for the client to exit; {}", self.last_output());
            }
            let timeout = Timespec::try_from(left).ok();
            let mut fds = [PollFd::new(&pidfd, PollFlags::IN)];
            if self.eof {
                retry_poll(&mut fds, timeout.as_ref())?;
            } else {
                let mut both = [fds[0].clone(), PollFd::new(&self.pty, PollFlags::IN)];
                retry_poll(&mut both, timeout.as_ref())?;
            }
        }
    }

    /// Moves the terminal to a thread that reads and discards its output as fast as it
    /// can (a user terminal showing a flood) until `stop` is set; joining gives it back.
    pub(crate) fn drain_in_background(mut self, stop: Arc<AtomicBool>) -> JoinHandle<Terminal> {
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) && !self.eof {
                // Errors end the drain; the terminal is handed back for cleanup.
                if self.drain().is_err()
                    || poll_one(&self.pty, PollFlags::IN, Some(STOP_CHECK)).is_err()
                {
                    break;
                }
            }
            self
        })
    }

    /// One non-blocking read into `buf`: `Some(n)` for `n` new bytes (their tail also goes
    /// to `recent`), `None` when nothing is there now or the output has ended.
    fn read_some(&mut self) -> Result<Option<usize>> {
        if self.eof {
            return Ok(None);
        }
        loop {
            match self.pty.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(None);
                }
                Ok(n) => {
                    self.received += n as u64;
                    let keep = n.min(RECENT_BYTES);
                    self.recent.extend_from_slice(&self.buf[n - keep..n]);
                    let excess = self.recent.len().saturating_sub(RECENT_BYTES);
                    self.recent.drain(..excess);
                    return Ok(Some(n));
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e).context("cannot read the terminal"),
            }
        }
    }

    /// The last output, for error messages.
    fn last_output(&self) -> String {
        format!("last output: {:?}", String::from_utf8_lossy(&self.recent))
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        if !self.exited {
            // Exited already (a zombie) if this fails; wait reaps it either way.
            let _ = self.child.signal(Signal::KILL);
            let _ = self.child.wait();
        }
    }
}

/// Polls one fd for `flags` for at most `timeout` (forever if `None`).
fn poll_one(fd: &impl AsFd, flags: PollFlags, timeout: Option<Duration>) -> Result<()> {
    let timeout = timeout.and_then(|t| Timespec::try_from(t).ok());
    retry_poll(&mut [PollFd::new(fd, flags)], timeout.as_ref())
}

/// `poll`, restarted when a signal interrupts it (with the full timeout again: callers
/// loop on their own deadlines).
fn retry_poll(fds: &mut [PollFd<'_>], timeout: Option<&Timespec>) -> Result<()> {
    loop {
        match rustix::event::poll(fds, timeout) {
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e).context("poll failed"),
        }
    }
}

/// Whether `haystack` contains `needle`. Cheap on a flood: `<[u8]>::contains` (memchr
/// underneath) rejects the chunks without the needle's first byte, which is all of them
/// when markers start with a byte the payload lacks.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else { return true };
    haystack.contains(&first)
        && haystack
            .iter()
            .enumerate()
            .any(|(i, &b)| b == first && haystack[i + 1..].starts_with(rest))
}

/// A marker as printable text.
fn quote(marker: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(marker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_finds_needles_anywhere_and_only_whole() {
        assert!(contains(b"xxZZ-ENDyy", b"ZZ-END"));
        assert!(contains(b"ZZ-END", b"ZZ-END"));
        assert!(!contains(b"ZZ-EN", b"ZZ-END"));
        assert!(!contains(b"Z Z-END", b"ZZ-END"));
        assert!(contains(b"ZZZ-END", b"ZZ-END"));
    }

    #[test]
    fn wait_for_finds_a_marker_split_across_reads_and_never_twice() {
        let sandbox = Sandbox::new("test").unwrap();
        let script = "printf 'xxMAR'; sleep 0.3; printf 'KERyy'; exec sleep 10";
        let mut terminal = Terminal::spawn(&sandbox, &["sh", "-c", script]).unwrap();
        let start = Instant::now();
        terminal.wait_for(b"MARKER", start + Duration::from_secs(10)).unwrap();
        // The halves came 0.3 s apart, so in separate reads.
        assert!(start.elapsed() >= Duration::from_millis(250));
        let again = terminal.wait_for(b"MARKER", Instant::now() + Duration::from_millis(300));
        assert!(again.is_err(), "matched bytes from before the previous match");
    }
}
