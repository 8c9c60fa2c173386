//! `tsm attach [NAME] [--label k=v]... [-- CMD...]`: attach, creating the session if it is
//! missing; without a name, the only session or a new one named after the directory.
//! Inside a session it switches the outer client instead of nesting.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use tsm_proto::{SessionStatus, SocketDir};

use crate::attach::client::{self, Outcome};
use crate::attach::switch::switch_sequence;
use crate::cli::AttachArgs;
use crate::cmd::new::{check_labels, ensure_free};
use crate::daemon_spawn::{NewSession, spawn_daemon};
use crate::sessions::{self, Probe};
use crate::target::{Target, action_error};

/// Attaches (or switches, inside a session).
pub(crate) fn run(args: AttachArgs) -> Result<ExitCode> {
    let dir = SocketDir::from_env();
    let current = std::env::var("TSM_SESSION").ok().filter(|s| !s.is_empty());
    if let (Some(current), Some(name)) = (&current, &args.name) {
        return switch_outer_client(&dir, current, name);
    }
    let name = match args.name.clone() {
        Some(name) => name,
        None => match pick_session(&dir)? {
            Some(name) => name,
            None => return Ok(ExitCode::FAILURE),
        },
    };
    let target = Target::new(&dir, &name)?;
    check_labels(&args.labels)?;
    match tsm_proto::status(&target.path) {
        Some(SessionStatus::Live(_)) => {}
        Some(SessionStatus::Busy) => {
            return Err(action_error("attach", &name, &tsm_proto::ClientError::TimedOut));
        }
        Some(SessionStatus::Stale) => {
            return Err(action_error("attach", &name, &tsm_proto::ClientError::Refused));
        }
        None => {
            dir.ensure()?;
            ensure_free(&target)?;
            let size = terminal_size();
            let new = NewSession { cwd: None, command: &args.command, labels: &args.labels, size };
            spawn_daemon(&dir, &target, &new)?;
        }
    }
    attach(&target)
}

/// Runs the attached client and reports how it ended.
fn attach(target: &Target) -> Result<ExitCode> {
    let name = &target.name;
    let outcome = client::run(&target.path).map_err(|err| {
        match err.downcast_ref::<tsm_proto::ClientError>() {
            Some(client_err) => action_error("attach", name, client_err),
            None => err,
        }
    })?;
    let mut stdout = std::io::stdout();
    match outcome {
        Outcome::Detached => {
            writeln!(stdout, "[detached from {name}]")?;
            Ok(ExitCode::SUCCESS)
        }
        Outcome::Exited(code) => {
            writeln!(stdout, "[session {name} exited with code {code}]")?;
            Ok(ExitCode::SUCCESS)
        }
        Outcome::Signaled(signal) => Ok(ExitCode::from(128 + signal as u8)),
        Outcome::Switch(target) => {
            stdout.flush()?;
            let exe = std::env::current_exe().context("cannot find the tsm executable")?;
            let err = std::process::Command::new(exe)
                .arg("attach")
                .arg(&target)
                .env_remove("TSM_SESSION")
                .exec();
            bail!("Cannot switch to session \"{target}\": {err}.")
        }
    }
}

/// Inside session `current`: ask the outer client to switch to `name` (the Go tsm's
/// `ESC ] 633 ; TSM_ATTACH=<name> BEL`, written to the session's terminal).
fn switch_outer_client(dir: &SocketDir, current: &str, name: &str) -> Result<ExitCode> {
    if name == current {
        return Ok(ExitCode::SUCCESS);
    }
    Target::new(dir, name)?;
    let mut stdout = std::io::stdout();
    stdout.write_all(&switch_sequence(name))?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// No name given: the only live session, or a new name from the directory; with several
/// sessions, print them and ask for a name (`None`).
fn pick_session(dir: &SocketDir) -> Result<Option<String>> {
    let live: Vec<String> = sessions::collect(dir)?
        .into_iter()
        .filter(|s| matches!(s.probe, Probe::Live(..)))
        .map(|s| s.name)
        .collect();
    match live.as_slice() {
        [] => Ok(Some(suggest_name(dir, &std::env::current_dir()?)?)),
        [only] => Ok(Some(only.clone())),
        several => {
            let mut err = std::io::stderr();
            writeln!(err, "Several sessions are running; name the one to attach:")?;
            for name in several {
                writeln!(err, "  {name}")?;
            }
            writeln!(err, "Run 'tsm attach NAME'.")?;
            Ok(None)
        }
    }
}

/// A free session name from the directory's base name (`demo`, `demo-2`, ...).
pub(crate) fn suggest_name(dir: &SocketDir, cwd: &Path) -> Result<String> {
    let base = cwd.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let base: String = base.split_whitespace().collect::<Vec<_>>().join("-");
    let base = base.trim_start_matches(['.', '-']);
    let base = if base.is_empty() { "shell" } else { base };
    let max = dir.max_name_len();
    for i in 1..10_000 {
        let suffix = if i == 1 { String::new() } else { format!("-{i}") };
        let mut stem: String = base.to_owned();
        while stem.len() + suffix.len() > max {
            stem.pop();
        }
        let candidate = format!("{stem}{suffix}");
        if dir.session_name(&candidate).is_ok() && !dir.path().join(&candidate).exists() {
            return Ok(candidate);
        }
    }
    bail!("could not generate a unique session name")
}

/// The terminal's size, when stdout is one.
fn terminal_size() -> Option<tsm_proto::Size> {
    use std::os::fd::AsFd;
    let (rows, cols, xpixel, ypixel) =
        crate::attach::terminal::window_size(std::io::stdout().as_fd()).ok()?;
    Some(tsm_proto::Size { rows, cols, xpixel, ypixel })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_directory_and_avoid_taken_ones() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = SocketDir::new(tmp.path());
        assert_eq!(suggest_name(&dir, Path::new("/work/demo")).unwrap(), "demo");
        std::fs::write(tmp.path().join("demo"), b"").unwrap();
        std::fs::write(tmp.path().join("demo-2"), b"").unwrap();
        assert_eq!(suggest_name(&dir, Path::new("/work/demo")).unwrap(), "demo-3");
        assert_eq!(
            suggest_name(&dir, Path::new("/x/  my project\tname ")).unwrap(),
            "my-project-name"
        );
        assert_eq!(suggest_name(&dir, Path::new("/")).unwrap(), "shell");
        assert_eq!(suggest_name(&dir, Path::new("/x/.hidden")).unwrap(), "hidden");
    }
}
