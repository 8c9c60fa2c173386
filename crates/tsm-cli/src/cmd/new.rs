//! `tsm new [-c DIR] [--label k=v]... NAME [--] [CMD...]`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};
use tsm_proto::{Labels, SessionStatus, SocketDir};

use crate::cli::NewArgs;
use crate::daemon_spawn::{NewSession, spawn_daemon};
use crate::target::Target;

/// Creates a detached session.
pub(crate) fn run(args: NewArgs) -> Result<ExitCode> {
    let dir = SocketDir::from_env();
    let target = Target::new(&dir, &args.name)?;
    check_labels(&args.labels)?;
    dir.ensure()?;
    ensure_free(&target)?;
    let new = NewSession {
        cwd: args.cwd.as_deref(),
        command: &args.command,
        labels: &args.labels,
        size: None,
    };
    spawn_daemon(&dir, &target, &new)?;
    writeln!(std::io::stdout(), "Session \"{}\" created", target.name)?;
    Ok(ExitCode::SUCCESS)
}

/// Refuses bad labels before anything is created.
pub(crate) fn check_labels(labels: &[String]) -> Result<()> {
    for label in labels {
        if let Err(err) = Labels::parse_changes(label) {
            bail!("Invalid label {label:?}: {err}.");
        }
    }
    Ok(())
}

/// Fails unless nothing answers at the session's socket path.
pub(crate) fn ensure_free(target: &Target) -> Result<()> {
    let name = &target.name;
    match tsm_proto::status(&target.path) {
        None if target.path.exists() => {
            bail!(
                "Cannot create session \"{name}\": something that is not a session is in the way at {}.",
                target.path.display()
            )
        }
        None => Ok(()),
        Some(SessionStatus::Live(_) | SessionStatus::Busy) => {
            bail!("Session \"{name}\" already exists.")
        }
        Some(SessionStatus::Stale) => bail!(
            "Cannot create session \"{name}\": a stale socket of an earlier session is in the way.\n\
             Run 'tsm doctor clean-stale' or 'tsm kill --force {name}' to remove it."
        ),
    }
}
