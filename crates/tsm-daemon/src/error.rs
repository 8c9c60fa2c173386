//! The daemon's error type: what can stop a session from starting.

use std::io;
use std::path::PathBuf;

/// Why the daemon could not start (or had to stop).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    /// A live (or busy) daemon already serves this name.
    #[error("session \"{name}\" already exists")]
    AlreadyExists {
        /// The session name.
        name: String,
    },
    /// A socket whose daemon is gone sits at the path; it is removed only on request.
    #[error("a stale socket is in the way at {}", path.display())]
    StaleSocket {
        /// The socket's path.
        path: PathBuf,
    },
    /// The name breaks the naming rules.
    #[error(transparent)]
    Name(#[from] tsm_proto::NameError),
    /// The socket directory is unusable.
    #[error(transparent)]
    SocketDir(#[from] tsm_proto::SocketDirError),
    /// Binding the socket failed.
    #[error("bind {}: {source}", path.display())]
    Bind {
        /// The socket's path.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The program could not be started.
    #[error(transparent)]
    Spawn(#[from] tsm_pty::SpawnError),
    /// Another system call failed.
    #[error("{what}: {source}")]
    Io {
        /// What the daemon was doing.
        what: &'static str,
        /// The underlying error.
        source: io::Error,
    },
}

impl DaemonError {
    /// An I/O error while doing `what`.
    pub(crate) fn io(what: &'static str) -> impl FnOnce(io::Error) -> DaemonError {
        move |source| DaemonError::Io { what, source }
    }
}
