//! Starting a program on a new PTY: [`spawn`], its [`SpawnOptions`], and the [`Child`] it
//! returns with its [`ExitStatus`].
//!
//! The one `pre_exec` of the crate lives here. Everything the child needs (program, argv,
//! environment, working directory, the slave fds) is prepared in the parent before the
//! fork by `std::process::Command`; the closure that runs between `fork` and `exec` only
//! makes two async-signal-safe system calls.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use rustix::io::Errno;
use rustix::process::{Pid, PidfdFlags, Signal};

use crate::error::SpawnError;
use crate::pty::{Pty, WindowSize};

/// `TERM` given to the child when the environment has none, or only `dumb`.
///
/// The session's screen model emulates an xterm-compatible terminal with 256 colours, and
/// the clients that attach later are real terminals, whatever started the daemon.
pub const DEFAULT_TERM: &str = "xterm-256color";

/// Shell used when neither `$SHELL` nor the passwd entry names one.
const FALLBACK_SHELL: &str = "/bin/sh";

/// The user database searched for the login shell.
const PASSWD_PATH: &str = "/etc/passwd";

/// What to run on the new PTY, where, with what extra environment, at what size.
///
/// Build it with [`SpawnOptions::new`] and the builder methods, or set the public fields.
///
/// ```
/// use tsm_pty::{SpawnOptions, WindowSize};
///
/// let opts = SpawnOptions::new("/tmp")
///     .command(["htop", "-d", "10"])
///     .env("TSM_SESSION", "work")
///     .size(WindowSize::new(50, 200));
/// assert_eq!(opts.command.len(), 3);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SpawnOptions {
    /// The program and its arguments; `command[0]` is looked up on `PATH` unless it holds
    /// a `/`. Empty means the user's login shell (see [`login_shell`]), started with an
    /// `argv[0]` of `-` plus its base name, as `login(1)` does.
    pub command: Vec<OsString>,
    /// The child's working directory.
    pub cwd: PathBuf,
    /// Variables set in the child on top of the inherited environment, in order (a later
    /// entry wins). They also win over the `TERM` default and are where `SHELL` is looked
    /// up first for the login shell. The daemon passes `TSM_SESSION` and `TSM_DIR` here.
    pub env: Vec<(OsString, OsString)>,
    /// The initial window size, set before the child starts.
    pub size: WindowSize,
}

impl SpawnOptions {
    /// Options to run the login shell in `cwd`, at 24x80, with no extra variables.
    pub fn new(cwd: impl Into<PathBuf>) -> Self {
        Self { command: Vec::new(), cwd: cwd.into(), env: Vec::new(), size: WindowSize::default() }
    }

    /// Sets the program and its arguments (empty: the login shell).
    pub fn command<I, S>(mut self, argv: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.command = argv.into_iter().map(Into::into).collect();
        self
    }

    /// Adds one variable to the child's environment.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Sets the initial window size.
    pub fn size(mut self, size: WindowSize) -> Self {
        self.size = size;
        self
    }
}

/// Opens a PTY and starts a program on it, as the leader of a new session whose
/// controlling terminal is the PTY.
///
/// In order:
/// 1. checks that [`cwd`](SpawnOptions::cwd) is a directory;
/// 2. opens the PTY pair (close-on-exec, the slave with `O_NOCTTY`) and sets the size;
/// 3. builds the command: the program (or the [`login_shell`] with a `-` in `argv[0]`),
///    the working directory, the environment (inherited, then `TERM`, then
///    [`env`](SpawnOptions::env)), and the slave as stdin, stdout and stderr;
/// 4. forks; in the child std resets the signal mask to empty and SIGPIPE to its default
///    action, then the child calls `setsid` and `ioctl(0, TIOCSCTTY)` and execs;
/// 5. returns once the exec has succeeded, with the parent's slave fds closed, so the
///    master sees the end of output when the child side closes its last fd.
///
/// `TERM` is set to [`DEFAULT_TERM`] when the inherited environment has no `TERM`, an
/// empty one or `dumb` (a daemon started from a script or cron must not make the session
/// dumb for the terminals that attach later); an inherited real `TERM` is kept, and a
/// `TERM` in [`env`](SpawnOptions::env) always wins.
///
/// Other signal dispositions follow POSIX: handlers the parent installed are reset by
/// `exec`, but a signal the parent *ignores* (other than SIGPIPE) stays ignored in the
/// child. The daemon should not ignore signals before it spawns.
///
/// # Errors
///
/// [`SpawnError::Cwd`], [`SpawnError::OpenPty`], [`SpawnError::Resize`], or
/// [`SpawnError::Exec`] when the program cannot be run (not found, not executable): the
/// child's `exec` error comes back through std's close-on-exec pipe, so a missing
/// command is an error here, never a child that exits 127.
pub fn spawn(opts: &SpawnOptions) -> Result<(Pty, Child), SpawnError> {
    check_cwd(&opts.cwd)?;
    let (pty, slave) = Pty::open().map_err(|source| SpawnError::OpenPty { source })?;
    pty.resize(opts.size).map_err(|source| SpawnError::Resize {
        rows: opts.size.rows,
        cols: opts.size.cols,
        source,
    })?;

    let (program, argv) = match opts.command.split_first() {
        Some((program, _)) => (program.clone(), opts.command.clone()),
        None => {
            let shell = login_shell(&opts.env);
            let argv0 = login_argv0(&shell);
            (shell.into_os_string(), vec![argv0])
        }
    };

    let mut cmd = Command::new(&program);
    cmd.arg0(&argv[0]).args(&argv[1..]).current_dir(&opts.cwd);
    if needs_default_term(std::env::var_os("TERM").as_deref()) {
        cmd.env("TERM", DEFAULT_TERM);
    }
    cmd.envs(opts.env.iter().map(|(k, v)| (k, v)));

    // Three fds for stdin, stdout and stderr; std dup2s them onto 0, 1 and 2 in the child
    // before the pre_exec closure runs. These copies are close-on-exec.
    let open_err = |source| SpawnError::OpenPty { source };
    let stdin = slave.try_clone().map_err(open_err)?;
    let stdout = slave.try_clone().map_err(open_err)?;
    cmd.stdin(Stdio::from(stdin)).stdout(Stdio::from(stdout)).stderr(Stdio::from(slave));

    // SAFETY: `pre_exec` requires the closure to be safe to run in the child between `fork`
    // and `exec`, where another thread of the parent may have held a lock (malloc's
    // included), so only async-signal-safe calls are allowed. The closure captures nothing,
    // allocates nothing, and makes two system calls through rustix (raw syscalls on Linux):
    // `setsid(2)` and `ioctl(0, TIOCSCTTY, 0)`, both async-signal-safe. An error becomes an
    // `io::Error` from a raw errno, which does not allocate. Argv, environment and cwd were
    // all built by `Command` in the parent before the fork.
    unsafe {
        cmd.pre_exec(|| {
            // A new session with no controlling terminal; we are not a group leader after
            // fork, so this cannot fail with EPERM.
            rustix::process::setsid()?;
            // Stdin is the slave by now: make it the session's controlling terminal. The
            // terminal's foreground process group becomes ours (pgid == pid).
            rustix::process::ioctl_tiocsctty(rustix::stdio::stdin())?;
            Ok(())
        });
    }

    let inner = cmd.spawn().map_err(|source| SpawnError::Exec { program, source })?;
    // `cmd` holds the parent's slave fds; close them now so EOF/EIO reaches the master.
    drop(cmd);
    Ok((pty, Child { inner, argv, status: None }))
}

/// The login shell `spawn` runs when [`command`](SpawnOptions::command) is empty.
///
/// The first of: a non-empty `SHELL` in `env` (the last one wins), a non-empty `SHELL` in
/// this process's environment, the shell of the current uid's entry in `/etc/passwd`,
/// and `/bin/sh`.
pub fn login_shell(env: &[(OsString, OsString)]) -> PathBuf {
    let from_env = env
        .iter()
        .rev()
        .find(|(k, _)| k == "SHELL")
        .map(|(_, v)| v.clone())
        .or_else(|| std::env::var_os("SHELL"));
    pick_shell(from_env, || {
        let passwd = std::fs::read_to_string(PASSWD_PATH).ok()?;
        passwd_shell(&passwd, rustix::process::getuid().as_raw())
    })
}

/// The child of [`spawn`]: a session leader on the PTY, running one program.
///
/// Reap it with [`try_wait`](Child::try_wait) or [`wait`](Child::wait): dropping a
/// `Child` neither kills nor waits for it, so a never-reaped child stays a zombie until
/// the daemon exits.
#[derive(Debug)]
pub struct Child {
    /// The process; its stdio handles are all `None` (they are the PTY).
    inner: std::process::Child,
    /// The argument vector the program was started with, `argv[0]` as it sees it.
    argv: Vec<OsString>,
    /// Set once the child has been reaped; after that its pid may belong to another process.
    status: Option<ExitStatus>,
}

impl Child {
    /// The child's pid, which is also its session id and process group id.
    pub fn pid(&self) -> i32 {
        self.inner.id() as i32
    }

    /// The argument vector the program was started with (`["-bash"]` for a login shell).
    pub fn argv(&self) -> &[OsString] {
        &self.argv
    }

    /// The argument vector joined by single spaces, lossily as UTF-8: what `tsm ls` and
    /// the Info reply show as the command (`-zsh`, `htop -d 10`).
    pub fn command_line(&self) -> String {
        let parts: Vec<_> = self.argv.iter().map(|a| a.to_string_lossy()).collect();
        parts.join(" ")
    }

    /// Reaps the child if it has exited, without blocking (`waitpid(WNOHANG)`).
    ///
    /// Once it returned a status, later calls return the same status.
    ///
    /// # Errors
    ///
    /// `waitpid`'s error, e.g. `ECHILD` if something else reaped the child.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let status = self.inner.try_wait()?.map(ExitStatus::from_std);
        self.status = status;
        Ok(status)
    }

    /// Blocks until the child exits, and reaps it.
    ///
    /// # Errors
    ///
    /// `waitpid`'s error, e.g. `ECHILD` if something else reaped the child.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = ExitStatus::from_std(self.inner.wait()?);
        self.status = Some(status);
        Ok(status)
    }

    /// Sends `sig` to the child alone.
    ///
    /// Does nothing once the child has been reaped, since its pid may then name another
    /// process.
    ///
    /// # Errors
    ///
    /// `kill`'s error; `ESRCH` cannot happen before the child is reaped (a zombie still
    /// has its pid).
    pub fn signal(&self, sig: Signal) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        rustix::process::kill_process(self.rustix_pid(), sig)?;
        Ok(())
    }

    /// Sends `sig` to the child's process group (`kill(-pid, sig)`): the child and every
    /// process that stayed in its group, such as the pipeline of a shell without job
    /// control. Jobs that a job-control shell moved to their own groups are not included;
    /// they see the hang-up when the master is closed.
    ///
    /// Still works after the child has been reaped while other members of the group live
    /// (Linux does not reuse a pid that is still in use as a process group id).
    ///
    /// # Errors
    ///
    /// `kill`'s error; `ESRCH` once the whole group has exited.
    pub fn signal_group(&self, sig: Signal) -> io::Result<()> {
        rustix::process::kill_process_group(self.rustix_pid(), sig)?;
        Ok(())
    }

    /// A pidfd for the child (`pidfd_open`, close-on-exec): it becomes readable when the
    /// child exits, so an event loop can wait for the exit without handling SIGCHLD (put it
    /// in an `AsyncFd`, then call [`try_wait`](Child::try_wait)). Linux 5.3 or later.
    ///
    /// # Errors
    ///
    /// `ESRCH` once the child has been reaped; `ENOSYS` on older kernels.
    pub fn pidfd(&self) -> io::Result<OwnedFd> {
        if self.status.is_some() {
            return Err(Errno::SRCH.into());
        }
        Ok(rustix::process::pidfd_open(self.rustix_pid(), PidfdFlags::empty())?)
    }

    fn rustix_pid(&self) -> Pid {
        Pid::from_child(&self.inner)
    }
}

/// How the child ended, in the two ways a shell can report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExitStatus {
    /// It called `exit` with this code (0 to 255).
    Exited(i32),
    /// A signal with this number ended it.
    Signaled(i32),
}

impl ExitStatus {
    /// The code as a shell reports it in `$?`: the exit code, or 128 plus the signal number
    /// (143 for SIGTERM, 137 for SIGKILL).
    pub fn code(self) -> i32 {
        match self {
            Self::Exited(code) => code,
            Self::Signaled(sig) => 128 + sig,
        }
    }

    /// The number of the signal that ended the child, if one did.
    pub fn signal(self) -> Option<i32> {
        match self {
            Self::Exited(_) => None,
            Self::Signaled(sig) => Some(sig),
        }
    }

    /// Whether the child exited with code 0.
    pub fn success(self) -> bool {
        self == Self::Exited(0)
    }

    fn from_std(status: std::process::ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(code), _) => Self::Exited(code),
            (None, Some(sig)) => Self::Signaled(sig),
            // Stopped or continued: std's wait never reports those (no WUNTRACED).
            (None, None) => Self::Exited(status.into_raw()),
        }
    }
}

impl fmt::Display for ExitStatus {
    /// `exited with code 7`, `killed by signal 15`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exited(code) => write!(f, "exited with code {code}"),
            Self::Signaled(sig) => write!(f, "killed by signal {sig}"),
        }
    }
}

/// Refuses a missing or non-directory cwd in the parent, so the error names the directory
/// instead of coming back from the child as an anonymous exec failure.
fn check_cwd(path: &Path) -> Result<(), SpawnError> {
    let err = |source| SpawnError::Cwd { path: path.to_path_buf(), source };
    let meta = std::fs::metadata(path).map_err(err)?;
    if !meta.is_dir() {
        return Err(err(io::ErrorKind::NotADirectory.into()));
    }
    Ok(())
}

/// Whether the child needs [`DEFAULT_TERM`], given the inherited `TERM`.
fn needs_default_term(inherited: Option<&OsStr>) -> bool {
    inherited.is_none_or(|term| term.is_empty() || term == "dumb")
}

/// The login shell: `SHELL` if set and non-empty, else the passwd shell, else `/bin/sh`.
fn pick_shell(env_shell: Option<OsString>, passwd: impl FnOnce() -> Option<PathBuf>) -> PathBuf {
    match env_shell {
        Some(shell) if !shell.is_empty() => PathBuf::from(shell),
        _ => passwd().unwrap_or_else(|| PathBuf::from(FALLBACK_SHELL)),
    }
}

/// The shell field of the first `/etc/passwd` line for `uid`, if it is non-empty.
fn passwd_shell(passwd: &str, uid: u32) -> Option<PathBuf> {
    passwd.lines().find_map(|line| {
        // name:password:uid:gid:gecos:home:shell
        let fields: Vec<&str> = line.split(':').collect();
        let [_, _, line_uid, _, _, _, shell] = fields[..] else {
            return None;
        };
        (line_uid.parse() == Ok(uid) && !shell.is_empty()).then(|| PathBuf::from(shell))
    })
}

/// `argv[0]` of a login shell: `-` and the shell's base name (`/bin/bash` -> `-bash`).
fn login_argv0(shell: &Path) -> OsString {
    let mut argv0 = OsString::from("-");
    argv0.push(shell.file_name().unwrap_or(shell.as_os_str()));
    argv0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_codes_follow_the_shell() {
        assert_eq!(ExitStatus::Exited(7).code(), 7);
        assert_eq!(ExitStatus::Signaled(15).code(), 143);
        assert_eq!(ExitStatus::Signaled(9).code(), 137);
        assert_eq!(ExitStatus::Signaled(15).signal(), Some(15));
        assert_eq!(ExitStatus::Exited(0).signal(), None);
        assert!(ExitStatus::Exited(0).success());
        assert!(!ExitStatus::Signaled(15).success());
        assert_eq!(ExitStatus::Exited(7).to_string(), "exited with code 7");
        assert_eq!(ExitStatus::Signaled(15).to_string(), "killed by signal 15");
    }

    #[test]
    fn exit_status_from_std_wait_statuses() {
        // Raw wait statuses: exit code in the second byte, signal in the low 7 bits.
        assert_eq!(
            ExitStatus::from_std(std::process::ExitStatus::from_raw(7 << 8)),
            ExitStatus::Exited(7)
        );
        assert_eq!(
            ExitStatus::from_std(std::process::ExitStatus::from_raw(15)),
            ExitStatus::Signaled(15)
        );
        // Core dumped (0x80) is still the signal.
        assert_eq!(
            ExitStatus::from_std(std::process::ExitStatus::from_raw(0x80 | 11)),
            ExitStatus::Signaled(11)
        );
    }

    #[test]
    fn term_defaults_when_missing_empty_or_dumb_only() {
        assert!(needs_default_term(None));
        assert!(needs_default_term(Some(OsStr::new(""))));
        assert!(needs_default_term(Some(OsStr::new("dumb"))));
        assert!(!needs_default_term(Some(OsStr::new("xterm-kitty"))));
        assert!(!needs_default_term(Some(OsStr::new("screen-256color"))));
    }

    #[test]
    fn shell_comes_from_env_then_passwd_then_bin_sh() {
        let passwd = || Some(PathBuf::from("/usr/bin/zsh"));
        assert_eq!(pick_shell(Some("/bin/fish".into()), passwd), PathBuf::from("/bin/fish"));
        assert_eq!(pick_shell(Some("".into()), passwd), PathBuf::from("/usr/bin/zsh"));
        assert_eq!(pick_shell(None, passwd), PathBuf::from("/usr/bin/zsh"));
        assert_eq!(pick_shell(None, || None), PathBuf::from("/bin/sh"));
    }

    #[test]
    fn login_shell_prefers_the_options_env() {
        let env = vec![
            (OsString::from("SHELL"), OsString::from("/bin/first")),
            (OsString::from("SHELL"), OsString::from("/bin/last")),
        ];
        assert_eq!(login_shell(&env), PathBuf::from("/bin/last"));
    }

    #[test]
    fn passwd_shell_matches_the_uid_field_exactly() {
        let passwd = "\
root:x:0:0:root:/root:/bin/bash
# a comment line
broken line
alice:x:1000:1000:Alice,,,:/home/alice:/usr/bin/zsh
bob:x:10000:10000::/home/bob:
";
        assert_eq!(passwd_shell(passwd, 0), Some(PathBuf::from("/bin/bash")));
        assert_eq!(passwd_shell(passwd, 1000), Some(PathBuf::from("/usr/bin/zsh")));
        assert_eq!(passwd_shell(passwd, 100), None, "no prefix match on 1000 or 10000");
        assert_eq!(passwd_shell(passwd, 10000), None, "an empty shell field is no shell");
    }

    #[test]
    fn login_argv0_is_dash_and_basename() {
        assert_eq!(login_argv0(Path::new("/bin/bash")), OsString::from("-bash"));
        assert_eq!(login_argv0(Path::new("zsh")), OsString::from("-zsh"));
    }

    #[test]
    fn builder_sets_every_field() {
        let opts = SpawnOptions::new("/tmp")
            .command(["sh", "-c", "true"])
            .env("TSM_SESSION", "s")
            .size(WindowSize::new(10, 20));
        assert_eq!(opts.cwd, PathBuf::from("/tmp"));
        assert_eq!(opts.command, vec![OsString::from("sh"), "-c".into(), "true".into()]);
        assert_eq!(opts.env, vec![(OsString::from("TSM_SESSION"), OsString::from("s"))]);
        assert_eq!(opts.size, WindowSize::new(10, 20));
    }
}
