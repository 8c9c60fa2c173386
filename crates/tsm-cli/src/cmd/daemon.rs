//! The hidden `tsm __daemon`: becomes a session's daemon. `tsm new` starts it with piped
//! stdout and stderr; it prints `ready` once the session runs, then lets go of both, so
//! `tsm new` returns (with the daemon's error text if it never got ready).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use tsm_proto::{Labels, Size, SocketDir};

use crate::cli::DaemonArgs;
use crate::daemon_spawn::READY_LINE;

/// Runs the daemon until its session ends.
pub(crate) fn run(args: DaemonArgs) -> Result<ExitCode> {
    // A new session, so the daemon outlives the terminal and process group it came from.
    let _ = rustix::process::setsid();
    close_inherited_fds();
    let dir = SocketDir::new(&args.dir);
    let mut labels = Labels::new();
    for label in &args.labels {
        match Labels::parse_changes(label) {
            Ok(changes) => labels.apply(&changes),
            Err(err) => return fail(&format!("invalid label: {err}")),
        }
    }
    if let Err(err) = tsm_daemon::init_logging(&dir, &args.name) {
        return fail(&err.to_string());
    }
    let cwd = match std::env::current_dir() {
        Ok(cwd) => cwd,
        Err(err) => return fail(&format!("cannot read the working directory: {err}")),
    };
    let options = tsm_daemon::Options {
        command: args.command,
        labels,
        size: Size::new(args.rows, args.cols),
        ..tsm_daemon::Options::new(args.name.clone(), dir, cwd)
    };
    match tsm_daemon::run(options, announce_ready) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(err) => fail(&format!("Cannot create session \"{}\": {err}.", args.name)),
    }
}

/// Closes every fd above stderr that the daemon inherited from whoever ran `tsm new`
/// (a test harness's pipe, a script's redirection): a long-lived daemon holding them would
/// keep its parent's pipes open forever, and its program would inherit them.
fn close_inherited_fds() {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else { return };
    let own_dir = format!("/proc/{}/fd", std::process::id());
    let fds: Vec<i32> = entries
        .filter_map(|entry| {
            let entry = entry.ok()?;
            // The directory listing's own fd points at the listing; it closes by itself.
            let target = std::fs::read_link(entry.path()).ok()?;
            if target.as_os_str() == own_dir.as_str() {
                return None;
            }
            entry.file_name().to_str()?.parse().ok()
        })
        .filter(|&fd| fd > 2)
        .collect();
    for fd in fds {
        // SAFETY: this runs first thing in the daemon process, before it opens anything:
        // fds above 2 were inherited, nothing in this process refers to them, and each is
        // closed exactly once here.
        drop(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) });
    }
}

/// Tells `tsm new` the session runs, then detaches stdout and stderr from its pipes.
fn announce_ready() {
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{READY_LINE}");
    let _ = stdout.flush();
    if let Ok(null) =
        rustix::fs::open("/dev/null", rustix::fs::OFlags::RDWR, rustix::fs::Mode::empty())
    {
        let _ = rustix::stdio::dup2_stdout(&null);
        let _ = rustix::stdio::dup2_stderr(&null);
    }
}

/// Reports a startup error to `tsm new` (on the stderr pipe) and fails.
fn fail(message: &str) -> Result<ExitCode> {
    eprintln!("{message}");
    Ok(ExitCode::FAILURE)
}
