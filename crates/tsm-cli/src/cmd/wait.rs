//! `tsm wait NAME|PREFIX*... [--timeout SECS]`: waits until the sessions' `run` tasks have
//! ended; exits with the first non-zero task code (0 if all succeeded).

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use tsm_proto::SocketDir;

use crate::sessions::{self, Probe, Session};
use crate::target::{Target, expand_patterns};

/// How often the sessions are asked again.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Tells the daemon this wait has reported its task codes.
fn collect(target: &Target) {
    if let Ok(mut conn) = tsm_proto::Connection::connect(&target.path) {
        let _ = conn.request(
            tsm_proto::Tag::Status,
            b"collect",
            tsm_proto::Tag::Status,
            tsm_proto::PROBE_TIMEOUT,
        );
    }
}

/// Waits for every named session's tasks.
pub(crate) fn run(patterns: &[String], timeout: Option<f64>) -> Result<ExitCode> {
    let mut first_failure = 0u8;
    let mut stdout = std::io::stdout();
    let pending = poll_sessions(patterns, timeout, |target, session| {
        let name = &target.name;
        let status = match &session.probe {
            Probe::Live(_, Some(status)) => status,
            Probe::Live(_, None) => {
                bail!("Cannot wait for session \"{name}\": its daemon does not report tasks.")
            }
            Probe::Stale => {
                bail!("Cannot wait for session \"{name}\": its daemon is gone (stale socket).")
            }
            Probe::Busy => return Ok(false),
        };
        if status.tasks.unwrap_or(0) > 0 && status.state != "exited" {
            return Ok(false);
        }
        let code = status
            .uncollected_exit_code
            .or(status.last_task_exit_code)
            .or(status.exit_code.map(|c| c as u8))
            .unwrap_or(0);
        collect(target);
        writeln!(stdout, "{name}: done (exit code {code})")?;
        if first_failure == 0 {
            first_failure = code;
        }
        Ok(true)
    })?;
    if !pending.is_empty() {
        eprintln!("tsm wait: timed out; still running: {}", pending.join(", "));
        return Ok(ExitCode::from(124));
    }
    Ok(ExitCode::from(first_failure))
}

/// Probes each named session until `done` says it is done (`Ok(true)`), or until
/// `timeout` seconds have passed; returns the names still pending then (empty when all
/// are done). A session that is gone, or an error from `done`, ends the wait.
pub(crate) fn poll_sessions(
    patterns: &[String],
    timeout: Option<f64>,
    mut done: impl FnMut(&Target, &Session) -> Result<bool>,
) -> Result<Vec<String>> {
    let dir = SocketDir::from_env();
    let names = expand_patterns(&dir, patterns)?;
    let mut pending: Vec<Target> =
        names.iter().map(|name| Target::new(&dir, name)).collect::<Result<_>>()?;
    let deadline = timeout.map(|secs| Instant::now() + Duration::from_secs_f64(secs));
    loop {
        let mut still = Vec::new();
        for target in pending {
            let name = target.name.to_string();
            let Some(session) = sessions::probe(name.clone(), target.path.clone()) else {
                bail!(
                    "Cannot wait for session \"{name}\": session not found.\nRun 'tsm ls' to list sessions."
                );
            };
            if !done(&target, &session)? {
                still.push(target);
            }
        }
        pending = still;
        if pending.is_empty() || deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(pending.iter().map(|t| t.name.to_string()).collect());
        }
        std::thread::sleep(POLL_INTERVAL);
    }
}
