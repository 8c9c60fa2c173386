//! Error types, one per operation. Messages are lowercase without a final period; the
//! `tsm` binary adds the sentences users read.

use std::io;
use std::path::PathBuf;

use crate::tag::Tag;

/// The byte stream broke a framing rule; the connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// A header announced a payload longer than the 16 MiB limit.
    #[error("frame payload of {len} bytes exceeds the limit of {max} bytes")]
    TooLong {
        /// The announced payload length.
        len: u64,
        /// The limit, [`MAX_PAYLOAD_LEN`](crate::MAX_PAYLOAD_LEN).
        max: usize,
    },
}

/// A payload does not have the shape its tag requires.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PayloadError {
    /// The payload is shorter than the fixed part its tag requires.
    #[error("{tag} payload of {len} bytes is shorter than {min}")]
    TooShort {
        /// The frame's tag.
        tag: Tag,
        /// The payload length received.
        len: usize,
        /// The least the tag requires.
        min: usize,
    },
    /// A History request named a format other than plain (0), vt (1) or html (2).
    #[error("unknown history format {0}")]
    UnknownHistoryFormat(u8),
    /// A Write request's path length runs past the payload.
    #[error("write path of {path_len} bytes runs past the {len}-byte payload")]
    WritePathTooLong {
        /// The announced path length.
        path_len: u32,
        /// The payload length.
        len: usize,
    },
    /// A text field is not valid UTF-8.
    #[error("{tag} payload is not valid UTF-8")]
    NotUtf8 {
        /// The frame's tag.
        tag: Tag,
    },
}

/// A session name breaks the naming rules of spec/cli.md ("Conventions").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The name is empty.
    #[error("session name is empty")]
    Empty,
    /// The name is longer than the socket path allows for this socket directory.
    #[error("session name is {len} bytes long; the limit for this socket directory is {max}")]
    TooLong {
        /// The name's length in bytes.
        len: usize,
        /// The longest name that fits `sun_path` in this directory.
        max: usize,
    },
    /// The name contains `/`, NUL or a control character.
    #[error("session name contains {0:?}, which is not allowed")]
    BadChar(char),
    /// The name is `.` or `..`, or starts with `.` or `-`.
    #[error("session name may not be \".\" or \"..\" or start with \".\" or \"-\"")]
    BadStart,
}

/// A label breaks the rules of [`Labels`](crate::Labels).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LabelError {
    /// An entry has no `=`.
    #[error("label {0:?} is not of the form key=value")]
    NoEquals(String),
    /// A key is empty.
    #[error("label key is empty")]
    EmptyKey,
    /// A key or value contains a character outside `[A-Za-z0-9._-]`.
    #[error("label {text:?} contains {bad:?}; only letters, digits, '.', '_' and '-' are allowed")]
    BadChar {
        /// The key or value.
        text: String,
        /// The first character not allowed.
        bad: char,
    },
    /// The key names a built-in field.
    #[error("label key {0:?} is reserved (a read-only built-in field)")]
    Reserved(String),
    /// A key or value is longer than allowed.
    #[error("label {text:?} is longer than {max} bytes")]
    TooLong {
        /// The key or value.
        text: String,
        /// The limit in bytes.
        max: usize,
    },
}

/// The socket directory cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SocketDirError {
    /// Creating or inspecting the directory failed.
    #[error("socket directory {path}: {source}")]
    Io {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The path exists but is not a directory.
    #[error("socket directory {0} is not a directory")]
    NotADirectory(PathBuf),
    /// The directory belongs to another user.
    #[error("socket directory {path} belongs to uid {owner}, not to uid {uid}")]
    WrongOwner {
        /// The directory.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// Our uid.
        uid: u32,
    },
}

/// A request to a session's daemon failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Nothing listens on the socket: the daemon is gone (a stale socket).
    #[error("connection refused (stale socket)")]
    Refused,
    /// There is no socket at that path.
    #[error("no such session")]
    NotFound,
    /// The daemon did not answer in time: it is busy or stopped, but alive.
    #[error("timed out waiting for the daemon")]
    TimedOut,
    /// The daemon closed the connection before replying.
    #[error("the daemon closed the connection")]
    Closed,
    /// The daemon replied with another tag than the request expects.
    #[error("unexpected response tag: {0}")]
    UnexpectedTag(Tag),
    /// The daemon refused the request; its Ack carried this text.
    #[error("{0}")]
    Rejected(String),
    /// The reply broke the framing rules.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The reply's payload is malformed.
    #[error(transparent)]
    Payload(#[from] PayloadError),
    /// The reply's Info is malformed.
    #[error(transparent)]
    Info(#[from] InfoError),
    /// Any other I/O error.
    #[error(transparent)]
    Io(io::Error),
}

impl From<io::Error> for ClientError {
    fn from(err: io::Error) -> ClientError {
        match err.kind() {
            io::ErrorKind::ConnectionRefused => ClientError::Refused,
            io::ErrorKind::NotFound => ClientError::NotFound,
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ClientError::TimedOut,
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe => ClientError::Closed,
            _ => ClientError::Io(err),
        }
    }
}

/// An Info payload is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InfoError {
    /// The payload is shorter than 552 bytes.
    #[error("info payload too short: {len} bytes, expected {expected}")]
    TooShort {
        /// The payload length received.
        len: usize,
        /// [`INFO_LEN`](crate::INFO_LEN).
        expected: usize,
    },
}
