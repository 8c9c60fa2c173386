//! The socket directory (spec/cli.md, "Conventions"): where it is, its permissions, the
//! socket path of a session, and the sibling log directory.
//!
//! Resolution order: `$TSM_DIR`, else `$XDG_RUNTIME_DIR/tsm`, else `$TMPDIR/tsm-<uid>`
//! (trailing slashes of TMPDIR stripped), else `/tmp/tsm-<uid>`. Empty variables count as
//! unset. The directory is created 0700; logs go to `<dir>.logs`, a sibling, so no session
//! name can collide with it.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{NameError, SocketDirError};
use crate::name::SessionName;

/// Bytes in Linux's `sun_path`, including the terminating NUL.
const SUN_PATH_LEN: usize = 108;

/// The directory that holds one socket per session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketDir {
    path: PathBuf,
}

impl SocketDir {
    /// A socket directory at `path` (not created; see [`SocketDir::ensure`]).
    pub fn new(path: impl Into<PathBuf>) -> SocketDir {
        SocketDir { path: path.into() }
    }

    /// The socket directory this process's environment names.
    pub fn from_env() -> SocketDir {
        SocketDir::resolve(|key| std::env::var_os(key), rustix::process::getuid().as_raw())
    }

    /// The socket directory for an environment given as a lookup function and a uid (the
    /// testable core of [`SocketDir::from_env`]).
    pub fn resolve(env: impl Fn(&str) -> Option<OsString>, uid: u32) -> SocketDir {
        let var = |key: &str| env(key).filter(|value| !value.is_empty());
        if let Some(dir) = var("TSM_DIR") {
            return SocketDir::new(dir);
        }
        if let Some(runtime) = var("XDG_RUNTIME_DIR") {
            return SocketDir::new(Path::new(&runtime).join("tsm"));
        }
        let tmp = var("TMPDIR")
            .map(|tmp| {
                let bytes = tmp.as_bytes();
                let trimmed = match bytes.iter().rposition(|&b| b != b'/') {
                    Some(last) => &bytes[..=last],
                    None => b"/",
                };
                PathBuf::from(OsStr::from_bytes(trimmed))
            })
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        SocketDir::new(tmp.join(format!("tsm-{uid}")))
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The log directory: `<socket dir>.logs`, a sibling of the socket directory.
    pub fn log_dir(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".logs");
        PathBuf::from(name)
    }

    /// The longest session name whose socket path fits `sun_path` in this directory:
    /// `107 - len(dir) - 1` bytes (one for the `/`, one for the NUL).
    pub fn max_name_len(&self) -> usize {
        (SUN_PATH_LEN - 1).saturating_sub(self.path.as_os_str().len() + 1)
    }

    /// Checks `name` against every rule, the length limit of this directory included.
    ///
    /// # Errors
    ///
    /// The rule the name breaks.
    pub fn session_name(&self, name: &str) -> Result<SessionName, NameError> {
        let name = SessionName::new(name)?;
        self.socket_path(&name)?;
        Ok(name)
    }

    /// The socket path of a session: `<dir>/<name>`.
    ///
    /// # Errors
    ///
    /// [`NameError::TooLong`] when the path would not fit `sun_path`.
    pub fn socket_path(&self, name: &SessionName) -> Result<PathBuf, NameError> {
        let max = self.max_name_len();
        if name.len() > max {
            return Err(NameError::TooLong { len: name.len(), max });
        }
        Ok(self.path.join(name.as_str()))
    }

    /// The log file of a session: `<dir>.logs/<name>.log`.
    pub fn log_path(&self, name: &SessionName) -> PathBuf {
        self.log_dir().join(format!("{name}.log"))
    }

    /// Creates the directory with mode 0700 if it is missing; if it exists, checks that
    /// it is a directory owned by this user and tightens its mode to 0700.
    ///
    /// # Errors
    ///
    /// [`SocketDirError`] when it cannot be created or belongs to someone else.
    pub fn ensure(&self) -> Result<(), SocketDirError> {
        ensure_private_dir(&self.path)
    }

    /// Creates the log directory (mode 0700) if it is missing.
    ///
    /// # Errors
    ///
    /// As [`SocketDir::ensure`].
    pub fn ensure_log_dir(&self) -> Result<PathBuf, SocketDirError> {
        let dir = self.log_dir();
        ensure_private_dir(&dir)?;
        Ok(dir)
    }

    /// The names of the sockets in the directory, sorted. Hidden entries and anything that
    /// is not a socket are skipped; a missing directory has no sessions.
    ///
    /// # Errors
    ///
    /// Reading the directory failed for another reason than its absence.
    pub fn session_names(&self) -> io::Result<Vec<String>> {
        let entries = match fs::read_dir(&self.path) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry?;
            let Ok(name) = entry.file_name().into_string() else { continue };
            if name.starts_with('.') {
                continue;
            }
            if entry.file_type().is_ok_and(|kind| kind.is_socket()) {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }
}

fn ensure_private_dir(path: &Path) -> Result<(), SocketDirError> {
    let io_err = |source| SocketDirError::Io { path: path.to_owned(), source };
    match fs::DirBuilder::new().recursive(true).mode(0o700).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_err(e)),
    }
    let meta = fs::metadata(path).map_err(io_err)?;
    if !meta.is_dir() {
        return Err(SocketDirError::NotADirectory(path.to_owned()));
    }
    let uid = rustix::process::getuid().as_raw();
    if meta.uid() != uid {
        return Err(SocketDirError::WrongOwner { path: path.to_owned(), owner: meta.uid(), uid });
    }
    if meta.mode() & 0o777 != 0o700 {
        fs::set_permissions(path, fs::Permissions::from_mode(0o700)).map_err(io_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn resolve(vars: &[(&str, &str)]) -> PathBuf {
        let vars: HashMap<String, OsString> =
            vars.iter().map(|(k, v)| (k.to_string(), OsString::from(v))).collect();
        SocketDir::resolve(|key| vars.get(key).cloned(), 1000).path
    }

    #[test]
    fn resolution_order() {
        assert_eq!(
            resolve(&[("TSM_DIR", "/x"), ("XDG_RUNTIME_DIR", "/run/user/1000")]),
            Path::new("/x")
        );
        assert_eq!(
            resolve(&[("XDG_RUNTIME_DIR", "/run/user/1000")]),
            Path::new("/run/user/1000/tsm")
        );
        assert_eq!(resolve(&[("TMPDIR", "/my/tmp/")]), Path::new("/my/tmp/tsm-1000"));
        assert_eq!(resolve(&[("TMPDIR", "/my/tmp///")]), Path::new("/my/tmp/tsm-1000"));
        assert_eq!(resolve(&[("TMPDIR", "")]), Path::new("/tmp/tsm-1000"));
        assert_eq!(resolve(&[("TSM_DIR", ""), ("TMPDIR", "/")]), Path::new("/tsm-1000"));
        assert_eq!(resolve(&[]), Path::new("/tmp/tsm-1000"));
    }

    #[test]
    fn log_dir_is_a_sibling() {
        assert_eq!(SocketDir::new("/tmp/tsm-1000").log_dir(), Path::new("/tmp/tsm-1000.logs"));
    }

    #[test]
    fn name_limit_fits_sun_path() {
        let dir = SocketDir::new("/tmp/tsm-1000"); // 13 bytes
        assert_eq!(dir.max_name_len(), 107 - 13 - 1);
        let longest = "n".repeat(dir.max_name_len());
        let path = dir.socket_path(&SessionName::new(&longest).unwrap()).unwrap();
        assert_eq!(path.as_os_str().len(), 107); // plus the NUL: 108
        let err = dir.session_name(&format!("{longest}n")).unwrap_err();
        assert_eq!(err, NameError::TooLong { len: 94, max: 93 });
    }
}
