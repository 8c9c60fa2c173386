//! `tsm doctor [clean-stale]`: the socket directory, its permissions, and every socket in
//! it (live, stale or busy); `clean-stale` removes the stale ones, and only those.

use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::ExitCode;

use anyhow::Result;
use tsm_proto::SocketDir;

use crate::cli::DoctorAction;
use crate::sessions::{self, Probe};

/// Reports on the socket directory, or cleans its stale sockets.
pub(crate) fn run(action: Option<DoctorAction>) -> Result<ExitCode> {
    let dir = SocketDir::from_env();
    let list = sessions::collect(&dir)?;
    let mut out = std::io::stdout();
    if let Some(DoctorAction::CleanStale) = action {
        let mut removed = 0;
        for session in list.iter().filter(|s| matches!(s.probe, Probe::Stale)) {
            // Probe again right before removing: only a refused connection proves it dead.
            if tsm_proto::status(&session.path) == Some(tsm_proto::SessionStatus::Stale) {
                std::fs::remove_file(&session.path)?;
                writeln!(out, "Removed stale socket \"{}\"", session.name)?;
                removed += 1;
            }
        }
        if removed == 0 {
            writeln!(out, "No stale sockets found")?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "tsm doctor")?;
    writeln!(out, "version: {}", crate::cmd::version::VERSION_LINE)?;
    match std::fs::metadata(dir.path()) {
        Ok(meta) => writeln!(
            out,
            "socket dir: {} (mode {:o})",
            dir.path().display(),
            meta.permissions().mode() & 0o7777
        )?,
        Err(err) => writeln!(out, "socket dir: {} ({err})", dir.path().display())?,
    }
    writeln!(out, "log dir: {}", dir.log_dir().display())?;
    check_agent_rules(&mut out)?;
    writeln!(out, "sessions:")?;
    if list.is_empty() {
        writeln!(out, "  none")?;
    }
    let mut stale = 0;
    for session in &list {
        match &session.probe {
            Probe::Live(info, status) => {
                let version = status.as_ref().and_then(|s| s.version.clone());
                let note = match &version {
                    Some(v) if v == env!("CARGO_PKG_VERSION") => String::new(),
                    Some(v) => format!(" [daemon version {v} differs from this binary]"),
                    None => " [daemon without Status: an older or Go tsm]".to_owned(),
                };
                writeln!(
                    out,
                    "  - {}: {} pid={} clients={} cmd={:?} dir={:?}{note}",
                    session.name,
                    session.state(),
                    info.pid,
                    info.clients,
                    info.cmd,
                    info.cwd
                )?;
            }
            Probe::Stale => {
                stale += 1;
                writeln!(
                    out,
                    "  - {}: stale (connection refused; the daemon is gone)",
                    session.name
                )?;
            }
            Probe::Busy => writeln!(
                out,
                "  - {}: busy (accepts but does not answer; left alone)",
                session.name
            )?,
        }
    }
    if stale > 0 {
        writeln!(out, "Run 'tsm doctor clean-stale' to remove {stale} stale socket(s).")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Reports whether the user's agent rules (`agents.toml`) load; built-in rules stay in
/// force when they do not.
fn check_agent_rules(out: &mut impl Write) -> Result<()> {
    let Some(path) = tsm_daemon::user_rules_path() else { return Ok(()) };
    let Ok(text) = std::fs::read_to_string(&path) else {
        writeln!(out, "agent rules: built in ({} not present)", path.display())?;
        return Ok(());
    };
    let (_, errors) = tsm_agents::Rules::with_overrides(&text);
    if errors.is_empty() {
        writeln!(out, "agent rules: built in + {}", path.display())?;
    } else {
        writeln!(
            out,
            "agent rules: {} has errors; the built-in rules stay in force:",
            path.display()
        )?;
        for err in errors {
            writeln!(out, "  - {err}")?;
        }
    }
    Ok(())
}
