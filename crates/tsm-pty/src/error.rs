//! The one error type of the crate: what went wrong while starting a child on a PTY.

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;

/// Why [`spawn`](crate::spawn) could not start the child.
///
/// Each variant is named after the step that broke and carries that step's context; the
/// underlying OS error is the [`source`](std::error::Error::source). Messages are lowercase
/// with no final period, so a caller can wrap them in its own sentence.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// Opening the PTY pair failed (`/dev/ptmx`, `grantpt`, `unlockpt`, `ptsname`, or
    /// opening the slave).
    #[error("cannot open a pseudo-terminal")]
    OpenPty {
        /// The OS error.
        source: io::Error,
    },

    /// Setting the initial window size on the new PTY failed.
    #[error("cannot set the pseudo-terminal size to {rows}x{cols}")]
    Resize {
        /// Rows asked for.
        rows: u16,
        /// Columns asked for.
        cols: u16,
        /// The OS error.
        source: io::Error,
    },

    /// The working directory is missing, not a directory, or not accessible.
    #[error("cannot use {} as the working directory", path.display())]
    Cwd {
        /// The directory asked for.
        path: PathBuf,
        /// The OS error (`NotADirectory` when the path is something else).
        source: io::Error,
    },

    /// Starting the program failed: it was not found, not executable, or a step in the
    /// child before `exec` (new session, controlling terminal) failed.
    ///
    /// The child never ran any of the program's code; nothing is left to reap.
    #[error("cannot run {}", program.to_string_lossy())]
    Exec {
        /// The program as it was given (a name looked up on `PATH`, or a path).
        program: OsString,
        /// The OS error reported by the child (`NotFound` for a missing program).
        source: io::Error,
    },
}
