//! A small blocking client over `std::os::unix::net::UnixStream`, with timeouts.
//!
//! Liveness follows the rule of DESIGN.md: a refused connection proves the daemon is gone
//! (a stale socket, safe to remove); a connection that does not answer in time is busy
//! (alive, maybe stopped): never remove it. This client never deletes anything itself.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::net::{AddressFamily, SocketAddrUnix, SocketFlags, SocketType};

use crate::error::ClientError;
use crate::frame::{FrameDecoder, OwnedFrame, write_frame};
use crate::info::Info;
use crate::msg::{HistoryRequest, parse_ack};
use crate::socket_dir::SocketDir;
use crate::tag::Tag;

/// How long a probe waits for a daemon's Info, as the Go tsm does.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// How long [`kill`] waits for the daemon to hang up: its grace period before SIGKILL
/// (500 ms) plus room for a slow exit.
pub const KILL_TIMEOUT: Duration = Duration::from_secs(5);

/// How long requests other than probes wait for their reply.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// One connection to a session's daemon.
#[derive(Debug)]
pub struct Connection {
    stream: UnixStream,
    decoder: FrameDecoder,
}

impl Connection {
    /// Connects to the socket at `path` without blocking on a full listen backlog (a
    /// stopped daemon): that case is reported as [`ClientError::TimedOut`].
    ///
    /// # Errors
    ///
    /// [`ClientError::Refused`] for a stale socket, [`ClientError::NotFound`] when there is
    /// none, [`ClientError::TimedOut`] for a full backlog.
    pub fn connect(path: &Path) -> Result<Connection, ClientError> {
        let fd = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )
        .map_err(std::io::Error::from)?;
        let addr = SocketAddrUnix::new(path).map_err(std::io::Error::from)?;
        match rustix::net::connect(&fd, &addr) {
            Ok(()) => {}
            // A Unix socket connects at once or not at all; EAGAIN means the backlog is full.
            Err(rustix::io::Errno::AGAIN) | Err(rustix::io::Errno::INPROGRESS) => {
                return Err(ClientError::TimedOut);
            }
            Err(errno) => return Err(std::io::Error::from(errno).into()),
        }
        let stream = UnixStream::from(fd);
        stream.set_nonblocking(false)?;
        Ok(Connection { stream, decoder: FrameDecoder::new() })
    }

    /// Splits the connection into its stream and the bytes already read from it but not
    /// yet returned as frames, for a reader that takes over (an async one, say).
    pub fn into_parts(mut self) -> (UnixStream, Vec<u8>) {
        let buffered = self.decoder.take_buffered();
        (self.stream, buffered)
    }

    /// The underlying stream (e.g. to clone it for a reader thread).
    pub fn stream(&self) -> &UnixStream {
        &self.stream
    }

    /// Sends one frame, waiting at most `timeout` for the socket to take it.
    ///
    /// # Errors
    ///
    /// [`ClientError::TimedOut`] when the daemon does not read, or the stream's errors.
    pub fn send(&mut self, tag: Tag, payload: &[u8], timeout: Duration) -> Result<(), ClientError> {
        self.stream.set_write_timeout(Some(timeout.max(Duration::from_millis(1))))?;
        write_frame(&mut self.stream, tag, payload)?;
        Ok(())
    }

    /// Receives the next frame, waiting until `deadline`.
    ///
    /// # Errors
    ///
    /// [`ClientError::TimedOut`] at the deadline (a partial frame stays buffered),
    /// [`ClientError::Closed`] when the daemon hangs up, [`ClientError::Decode`] for a
    /// broken stream.
    pub fn recv(&mut self, deadline: Instant) -> Result<OwnedFrame, ClientError> {
        loop {
            if let Some(frame) = self.decoder.next_frame()? {
                return Ok(frame.to_owned_frame());
            }
            self.fill(deadline)?;
        }
    }

    /// Waits until the daemon closes the connection, ignoring what it sends meanwhile.
    ///
    /// # Errors
    ///
    /// [`ClientError::TimedOut`] when it is still open at the deadline.
    pub fn wait_closed(&mut self, deadline: Instant) -> Result<(), ClientError> {
        loop {
            while self.decoder.next_frame()?.is_some() {}
            match self.fill(deadline) {
                Ok(()) => {}
                Err(ClientError::Closed) => return Ok(()),
                Err(err) => return Err(err),
            }
        }
    }

    /// Sends a request and returns the payload of its reply, which must carry `reply_tag`.
    ///
    /// # Errors
    ///
    /// [`ClientError::UnexpectedTag`] for another reply, and the errors of
    /// [`send`](Connection::send) and [`recv`](Connection::recv).
    pub fn request(
        &mut self,
        tag: Tag,
        payload: &[u8],
        reply_tag: Tag,
        timeout: Duration,
    ) -> Result<Vec<u8>, ClientError> {
        let deadline = Instant::now() + timeout;
        self.send(tag, payload, timeout)?;
        let reply = self.recv(deadline)?;
        if reply.tag != reply_tag {
            return Err(ClientError::UnexpectedTag(reply.tag));
        }
        Ok(reply.payload)
    }

    /// Reads once into the decoder, waiting until `deadline`.
    fn fill(&mut self, deadline: Instant) -> Result<(), ClientError> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(ClientError::TimedOut);
        }
        self.stream.set_read_timeout(Some(remaining))?;
        match self.decoder.read_from(&mut self.stream)? {
            0 => Err(ClientError::Closed),
            _ => Ok(()),
        }
    }
}

/// Asks the daemon at `path` for its [`Info`], waiting at most [`PROBE_TIMEOUT`].
///
/// # Errors
///
/// [`ClientError::Refused`] for a stale socket, [`ClientError::TimedOut`] for a busy
/// daemon, and the other [`ClientError`]s.
pub fn probe(path: &Path) -> Result<Info, ClientError> {
    let mut conn = Connection::connect(path)?;
    let payload = conn.request(Tag::Info, &[], Tag::Info, PROBE_TIMEOUT)?;
    Ok(Info::parse(&payload)?)
}

/// What a probe found at a socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionStatus {
    /// The daemon answered.
    Live(Info),
    /// The connection was refused: the daemon is gone and the socket is stale.
    Stale,
    /// The daemon accepted but did not answer in time (or answered nonsense): alive but
    /// busy or stopped. Never remove its socket.
    Busy,
}

/// Probes the socket at `path` and classifies it. `None` when no socket is there (any
/// more).
pub fn status(path: &Path) -> Option<SessionStatus> {
    match probe(path) {
        Ok(info) => Some(SessionStatus::Live(info)),
        Err(ClientError::Refused) => Some(SessionStatus::Stale),
        Err(ClientError::NotFound) => None,
        Err(_) => Some(SessionStatus::Busy),
    }
}

/// One socket of a directory listing and what its probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionEntry {
    /// The session's name (the socket's file name).
    pub name: String,
    /// The socket's path.
    pub path: PathBuf,
    /// What the probe found.
    pub status: SessionStatus,
}

/// Probes every socket of the directory concurrently and returns them sorted by name.
/// Takes about one [`PROBE_TIMEOUT`] at worst, however many daemons are busy. Deletes
/// nothing.
///
/// # Errors
///
/// Reading the directory failed (a missing directory has no sessions).
pub fn list(dir: &SocketDir) -> std::io::Result<Vec<SessionEntry>> {
    let names = dir.session_names()?;
    let entries = std::thread::scope(|scope| {
        let probes: Vec<_> = names
            .into_iter()
            .map(|name| {
                let path = dir.path().join(&name);
                scope.spawn(move || status(&path).map(|status| SessionEntry { name, path, status }))
            })
            .collect();
        probes.into_iter().filter_map(|probe| probe.join().ok().flatten()).collect()
    });
    Ok(entries)
}

/// Ends the session at `path` and returns once its daemon has hung up, so the name is
/// free at once.
///
/// # Errors
///
/// [`ClientError::Refused`] for a stale socket, [`ClientError::TimedOut`] when the
/// daemon is still there after [`KILL_TIMEOUT`].
pub fn kill(path: &Path) -> Result<(), ClientError> {
    let mut conn = Connection::connect(path)?;
    conn.send(Tag::Kill, &[], PROBE_TIMEOUT)?;
    conn.wait_closed(Instant::now() + KILL_TIMEOUT)
}

/// Detaches every client of the session at `path`; the session keeps running.
///
/// # Errors
///
/// Connecting or sending failed.
pub fn detach_all(path: &Path) -> Result<(), ClientError> {
    let mut conn = Connection::connect(path)?;
    conn.send(Tag::DetachAll, &[], PROBE_TIMEOUT)?;
    // The daemon closes every connection, this one included; waiting for that makes the
    // detach visible to whoever runs next.
    conn.wait_closed(Instant::now() + PROBE_TIMEOUT)
}

/// Renames the session at `path` to `new_name` (the daemon moves its socket).
///
/// # Errors
///
/// [`ClientError::Rejected`] with the daemon's text when it refuses the name.
pub fn rename(path: &Path, new_name: &str) -> Result<(), ClientError> {
    let mut conn = Connection::connect(path)?;
    let ack = conn.request(Tag::Rename, new_name.as_bytes(), Tag::Ack, REQUEST_TIMEOUT)?;
    parse_ack(&ack).map_err(ClientError::Rejected)
}

/// Asks the session at `path` for its history in the requested format.
///
/// # Errors
///
/// The errors of [`Connection::request`].
pub fn history(path: &Path, request: &HistoryRequest) -> Result<Vec<u8>, ClientError> {
    let mut conn = Connection::connect(path)?;
    conn.request(Tag::History, &request.to_payload(), Tag::History, REQUEST_TIMEOUT)
}
