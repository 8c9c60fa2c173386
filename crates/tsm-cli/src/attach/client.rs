//! The attached client's loop (spec/cli.md, "The attached client"): raw mode, Init with
//! the terminal's size, Output to stdout, stdin to Input, SIGWINCH to Resize, the detach
//! key, the local-switch sequence, and the terminal restored on every way out.

use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};

use rustix::event::{PollFd, PollFlags};
use std::path::Path;

use anyhow::{Context, Result};
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::signal::unix::{SignalKind, signal};
use tsm_proto::{Connection, FrameDecoder, Size, Tag};

use crate::attach::detach_key::{DetachKey, DetachKeyScanner};
use crate::attach::switch::SwitchFilter;
use crate::attach::terminal::{TerminalGuard, window_size_or_default};

/// Bytes read from stdin at once.
const STDIN_CHUNK: usize = 4096;

/// How an attach ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The user detached, or the daemon closed the connection (`tsm detach`, a kill).
    Detached,
    /// The session's program exited with this code.
    Exited(u8),
    /// A program inside asked to switch to another session.
    Switch(String),
    /// The client got this signal.
    Signaled(i32),
}

/// Attaches the terminal to the session at `path` until detach, exit or a signal. The
/// terminal is back in cooked mode with its modes reset when this returns, however it
/// returns.
pub(crate) fn run(path: &Path) -> Result<Outcome> {
    let conn = Connection::connect(path)?;
    let stream = conn.stream().try_clone().context("cannot use the session's socket")?;
    stream.set_nonblocking(true)?;
    let mut guard = TerminalGuard::enter_stdio().context("tsm attach needs a terminal")?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let outcome = runtime.block_on(relay(stream));
    if matches!(outcome, Ok(Outcome::Switch(_))) {
        guard.set_clear_on_restore(false);
    }
    guard.restore_now();
    outcome
}

/// Relays between the terminal and the daemon.
async fn relay(stream: std::os::unix::net::UnixStream) -> Result<Outcome> {
    let daemon = DaemonSocket::new(stream)?;
    let mut winch = signal(SignalKind::window_change())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut int = signal(SignalKind::interrupt())?;
    let stdin = Stdin::new()?;

    daemon.send(Tag::Init, &terminal_size().to_payload())?;

    let mut decoder = FrameDecoder::new();
    let mut read_buf = Vec::with_capacity(64 * 1024);
    let mut detach = DetachKeyScanner::new(DetachKey::from_env());
    let mut switch = SwitchFilter::new();
    let mut shown = Vec::with_capacity(64 * 1024);
    let mut stdout = io::stdout();
    let mut stdin_open = true;
    loop {
        tokio::select! {
            read = daemon.read(&mut read_buf) => {
                if read? == 0 {
                    stdout.write_all(&switch.take_pending())?;
                    stdout.flush()?;
                    return Ok(Outcome::Detached);
                }
                decoder.push(&read_buf);
                read_buf.clear();
                while let Some(frame) = decoder.next_frame()? {
                    match frame.tag {
                        Tag::Output => {
                            shown.clear();
                            let target = switch.filter(frame.payload, &mut shown);
                            stdout.write_all(&shown)?;
                            if let Some(target) = target {
                                stdout.flush()?;
                                return Ok(Outcome::Switch(target));
                            }
                        }
                        Tag::SessionExit => {
                            stdout.flush()?;
                            return Ok(Outcome::Exited(frame.payload.first().copied().unwrap_or(0)));
                        }
                        _ => {}
                    }
                }
                stdout.flush()?;
            }
            chunk = stdin.recv(), if stdin_open => {
                let Some(chunk) = chunk? else {
                    // stdin closed: nothing more to type; stay attached to show output.
                    stdin_open = false;
                    let held = detach.flush_pending();
                    if !held.is_empty() {
                        daemon.send(Tag::Input, &held)?;
                    }
                    continue;
                };
                let scan = detach.scan(&chunk);
                if !scan.forward.is_empty() {
                    daemon.send(Tag::Input, &scan.forward)?;
                }
                if scan.detach {
                    let _ = daemon.send(Tag::Detach, &[]);
                    return Ok(Outcome::Detached);
                }
            }
            _ = winch.recv() => daemon.send(Tag::Resize, &terminal_size().to_payload())?,
            _ = term.recv() => return Ok(Outcome::Signaled(15)),
            _ = hup.recv() => return Ok(Outcome::Signaled(1)),
            _ = int.recv() => return Ok(Outcome::Signaled(2)),
        }
    }
}

/// The connection to the daemon, registered for reading only: a socket registered for
/// writing too would wake the client each time the daemon reads a keystroke's Input frame
/// (the kernel reports the freed space as `EPOLLOUT`), one idle wake-up per keystroke.
struct DaemonSocket {
    fd: AsyncFd<std::os::unix::net::UnixStream>,
}

impl DaemonSocket {
    /// Watches `stream`, which is non-blocking.
    fn new(stream: std::os::unix::net::UnixStream) -> io::Result<DaemonSocket> {
        // SAFETY: the `AsyncFd` owns the stream, which owns its fd: it stays open and the
        // same until the `AsyncFd` is dropped.
        let fd = unsafe { AsyncFd::register_with_interest(stream, Interest::READABLE) }?;
        Ok(DaemonSocket { fd })
    }

    /// Reads what the daemon sent, appending to `buf`; 0 when it closed the connection.
    async fn read(&self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            let mut guard = self.fd.readable().await?;
            match guard.try_io(|stream| io::Read::read(&mut stream.get_ref(), &mut chunk)) {
                Ok(Ok(n)) => {
                    buf.extend_from_slice(&chunk[..n]);
                    return Ok(n);
                }
                Ok(Err(err)) => return Err(err),
                Err(_would_block) => {}
            }
        }
    }

    /// Sends one frame, waiting (with the loop) while the socket is full: the daemon stops
    /// reading a client only while the program does not read its input, and the loop would
    /// not get further than this frame meanwhile anyway.
    fn send(&self, tag: Tag, payload: &[u8]) -> io::Result<()> {
        let mut frame = Vec::with_capacity(tsm_proto::HEADER_LEN + payload.len());
        tsm_proto::encode_into(tag, payload, &mut frame);
        let mut rest = &frame[..];
        while !rest.is_empty() {
            match io::Write::write(&mut self.fd.get_ref(), rest) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => rest = &rest[n..],
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let mut fds = [PollFd::new(self.fd.get_ref(), PollFlags::OUT)];
                    rustix::event::poll(&mut fds, None)?;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// The size of the terminal on stdout (24x80 if it cannot be read).
fn terminal_size() -> Size {
    let (rows, cols, xpixel, ypixel) = window_size_or_default(io::stdout().as_fd());
    Size { rows, cols, xpixel, ypixel }
}

/// The terminal's input, read by the event loop itself (one thread hop less per keystroke
/// than a reader thread), without making stdin non-blocking: its file description is shared
/// with the user's shell. Each read asks for exactly what `FIONREAD` says is there, so it
/// never blocks.
struct Stdin {
    fd: AsyncFd<OwnedFd>,
}

impl Stdin {
    /// Watches a duplicate of fd 0.
    fn new() -> io::Result<Stdin> {
        let fd = rustix::io::dup(io::stdin())?;
        // SAFETY: `fd` is an `OwnedFd` the `AsyncFd` owns: it stays open and the same fd
        // until the `AsyncFd` is dropped.
        let fd = unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) }?;
        Ok(Stdin { fd })
    }

    /// The next bytes typed; `None` at end of input (the terminal hung up).
    async fn recv(&self) -> io::Result<Option<Vec<u8>>> {
        loop {
            let mut guard = self.fd.readable().await?;
            let available = rustix::io::ioctl_fionread(self.fd.get_ref()).unwrap_or(0) as usize;
            if available == 0 {
                // Readable with nothing to read: a hang-up, or readiness that went stale.
                let mut fds = [PollFd::new(self.fd.get_ref(), PollFlags::IN)];
                let zero = rustix::time::Timespec { tv_sec: 0, tv_nsec: 0 };
                let _ = rustix::event::poll(&mut fds, Some(&zero));
                if fds[0].revents().intersects(PollFlags::HUP | PollFlags::ERR) {
                    return Ok(None);
                }
                guard.clear_ready();
                continue;
            }
            let mut buf = vec![0u8; available.min(STDIN_CHUNK)];
            let n = rustix::io::read(self.fd.get_ref(), &mut buf)?;
            if n == 0 {
                return Ok(None);
            }
            buf.truncate(n);
            if available <= STDIN_CHUNK {
                guard.clear_ready();
            }
            return Ok(Some(buf));
        }
    }
}
