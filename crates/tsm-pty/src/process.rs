//! Facts about a live process, read from `/proc` (Linux only).
//!
//! The daemon uses these for `tsm info` (the shell's current directory) and to look at the
//! program in the terminal's foreground process group. A process can exit between two
//! calls, so every answer may be stale by the time it is used.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;

use rustix::process::Pid;

/// The current working directory of process `pid` (`readlink /proc/PID/cwd`).
///
/// # Errors
///
/// `NotFound` when the process does not exist (or is a zombie), `PermissionDenied` for
/// another user's process.
pub fn cwd(pid: i32) -> io::Result<PathBuf> {
    std::fs::read_link(format!("/proc/{pid}/cwd"))
}

/// The argument vector of process `pid` (`/proc/PID/cmdline`), `argv[0]` first.
///
/// This is what the process shows to `ps`: a login shell's `argv[0]` starts with `-`.
///
/// # Errors
///
/// `NotFound` when the process does not exist. A zombie, or a kernel thread, gives an
/// empty vector.
pub fn cmdline(pid: i32) -> io::Result<Vec<OsString>> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline"))?;
    Ok(split_cmdline(raw))
}

/// Whether a process with this pid exists (`kill(pid, 0)`), zombies included.
///
/// `false` for pids that name no single process (0 and negatives).
pub fn exists(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    let Some(pid) = Pid::from_raw(pid) else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        // It exists but belongs to someone else.
        Err(e) => e == rustix::io::Errno::PERM,
    }
}

/// Splits NUL-terminated arguments; a missing final NUL still ends the last argument.
fn split_cmdline(mut raw: Vec<u8>) -> Vec<OsString> {
    if raw.last() == Some(&0) {
        raw.pop();
    }
    if raw.is_empty() {
        return Vec::new();
    }
    raw.split(|&b| b == 0).map(|arg| OsString::from_vec(arg.to_vec())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> i32 {
        std::process::id() as i32
    }

    #[test]
    fn cwd_of_this_process_is_the_current_dir() {
        let here = std::env::current_dir().unwrap();
        assert_eq!(cwd(me()).unwrap(), here.canonicalize().unwrap());
    }

    #[test]
    fn this_process_exists_and_pid_0_and_negatives_do_not() {
        assert!(exists(me()));
        assert!(!exists(0));
        assert!(!exists(-1));
    }

    #[test]
    fn cmdline_of_this_process_starts_with_its_executable() {
        let args = cmdline(me()).unwrap();
        let expected: Vec<OsString> = std::env::args_os().collect();
        assert_eq!(args, expected);
    }

    #[test]
    fn cmdline_splits_on_nul_and_drops_the_final_one() {
        assert_eq!(split_cmdline(b"-bash\0".to_vec()), vec![OsString::from("-bash")]);
        assert_eq!(
            split_cmdline(b"sh\0-c\0\0".to_vec()),
            vec![OsString::from("sh"), OsString::from("-c"), OsString::from("")]
        );
        assert_eq!(split_cmdline(b"no-nul".to_vec()), vec![OsString::from("no-nul")]);
        assert!(split_cmdline(Vec::new()).is_empty());
    }

    #[test]
    fn a_missing_process_has_no_cwd() {
        // Pids are at most 2^22 on Linux, so this one is never in use.
        let err = cwd(i32::MAX).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(!exists(i32::MAX));
    }
}
