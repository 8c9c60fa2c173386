//! Starting a session's daemon: the same binary re-executed as `tsm __daemon`, detached
//! (it calls `setsid` itself), returning once the daemon answers Info. Startup errors
//! (a bad command, a name in use) reach the user with the daemon's own text.

use std::ffi::OsString;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use tsm_proto::{Size, SocketDir};

use crate::target::Target;

/// What the daemon prints on stdout once it listens and its program runs.
pub(crate) const READY_LINE: &str = "ready";

/// How long `tsm new` waits for a daemon to become ready.
const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// What the new session runs.
#[derive(Debug, Default)]
pub(crate) struct NewSession<'a> {
    /// Its working directory.
    pub(crate) cwd: Option<&'a Path>,
    /// The command (empty: the login shell).
    pub(crate) command: &'a [OsString],
    /// Labels `k=v`.
    pub(crate) labels: &'a [String],
    /// The initial size (default 24x80).
    pub(crate) size: Option<Size>,
}

/// Starts the daemon of `target` and waits until it answers Info.
pub(crate) fn spawn_daemon(dir: &SocketDir, target: &Target, new: &NewSession<'_>) -> Result<()> {
    let exe = std::env::current_exe().context("cannot find the tsm executable")?;
    let size = new.size.unwrap_or(Size::new(24, 80));
    let mut command = Command::new(exe);
    command
        .arg("__daemon")
        .arg("--dir")
        .arg(dir.path())
        .arg("--name")
        .arg(target.name.as_str())
        .arg("--rows")
        .arg(size.rows.to_string())
        .arg("--cols")
        .arg(size.cols.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for label in new.labels {
        command.arg("--label").arg(label);
    }
    if let Some(cwd) = new.cwd {
        command.current_dir(cwd);
    }
    if !new.command.is_empty() {
        command.arg("--").args(new.command);
    }
    let mut child = command.spawn().context("cannot start the session daemon")?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");

    // The daemon closes its stdout and stderr once ready (or exits on failure): read both
    // to their end, off this thread, so a hung daemon cannot hang us past the timeout.
    let (done, ready) = mpsc::channel();
    std::thread::spawn(move || {
        let mut out = String::new();
        let mut err = String::new();
        let _ = stdout.read_to_string(&mut out);
        let _ = stderr.read_to_string(&mut err);
        let _ = done.send((out, err));
    });
    let name = &target.name;
    let (out, err) = ready
        .recv_timeout(READY_TIMEOUT)
        .map_err(|_| anyhow!("session \"{name}\": the daemon did not start in time"))?;
    if out.lines().next() != Some(READY_LINE) {
        let status = child.wait().ok();
        let reason = err.trim();
        return Err(match (reason.is_empty(), status) {
            (false, _) => anyhow!("{reason}"),
            (true, Some(status)) => anyhow!("session \"{name}\": the daemon exited ({status})"),
            (true, None) => anyhow!("session \"{name}\": the daemon exited before becoming ready"),
        });
    }
    // Reap it in the background: it lives on after we exit (it called setsid).
    std::thread::spawn(move || child.wait());
    tsm_proto::probe(&target.path)
        .with_context(|| format!("session \"{name}\": the daemon does not answer"))?;
    Ok(())
}
