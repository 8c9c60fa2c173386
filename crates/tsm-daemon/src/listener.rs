//! The session's socket: bind (0600, never over a live daemon), and the peer check on
//! every accepted connection (SO_PEERCRED: only the owner and root are served).

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixListener;
use std::path::Path;

use rustix::fs::Mode;
use tokio::net::UnixStream;
use tsm_proto::SessionStatus;

use crate::error::DaemonError;

/// Identity of the socket file the daemon bound (device and inode), so that it removes
/// only its own socket, never one a newer session bound at the same path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SocketId {
    dev: u64,
    ino: u64,
}

impl SocketId {
    /// The identity of the file at `path`, if there is one.
    pub(crate) fn of(path: &Path) -> Option<SocketId> {
        let meta = fs::symlink_metadata(path).ok()?;
        Some(SocketId { dev: meta.dev(), ino: meta.ino() })
    }
}

/// Binds the socket at `path` with mode 0600.
///
/// A socket already there is probed first: a live or busy daemon keeps its name
/// ([`DaemonError::AlreadyExists`]); a stale one is reported, not removed
/// ([`DaemonError::StaleSocket`]): removing it is for `tsm doctor clean-stale` or
/// `tsm kill --force`.
pub(crate) fn bind(path: &Path, name: &str) -> Result<(UnixListener, SocketId), DaemonError> {
    match tsm_proto::status(path) {
        Some(SessionStatus::Live(_) | SessionStatus::Busy) => {
            return Err(DaemonError::AlreadyExists { name: name.to_owned() });
        }
        Some(SessionStatus::Stale) => {
            return Err(DaemonError::StaleSocket { path: path.to_owned() });
        }
        None => {}
    }
    // The socket is created with the umask's mode; this one makes it 0600 from the start,
    // with no window in which it is wider. The daemon is single-threaded here.
    let old_umask = rustix::process::umask(Mode::from_raw_mode(0o177));
    let bound = UnixListener::bind(path);
    rustix::process::umask(old_umask);
    let listener = bound.map_err(|source| DaemonError::Bind { path: path.to_owned(), source })?;
    let id = SocketId::of(path).ok_or_else(|| DaemonError::Bind {
        path: path.to_owned(),
        source: std::io::ErrorKind::NotFound.into(),
    })?;
    Ok((listener, id))
}

/// Whether the peer of `stream` may talk to this session: the owner of the daemon, or
/// root. A peer whose credentials cannot be read is refused.
pub(crate) fn peer_allowed(stream: &UnixStream) -> bool {
    let own_uid = rustix::process::getuid().as_raw();
    match stream.peer_cred() {
        Ok(cred) => cred.uid() == own_uid || cred.uid() == 0,
        Err(_) => false,
    }
}

/// Removes the socket at `path` if it is still the one this daemon bound.
pub(crate) fn remove_own_socket(path: &Path, id: SocketId) {
    if SocketId::of(path) == Some(id) {
        let _ = fs::remove_file(path);
    }
}
