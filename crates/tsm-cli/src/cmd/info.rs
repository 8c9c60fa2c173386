//! `tsm info NAME [--json]`: everything known about one session.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};
use serde_json::json;
use tsm_proto::SocketDir;

use crate::cmd::ls::session_json;
use crate::output::format_uptime;
use crate::sessions::{self, Probe, unix_now};
use crate::target::Target;

/// Prints what the daemon says about the session.
pub(crate) fn run(name: &str, json_output: bool) -> Result<ExitCode> {
    let dir = SocketDir::from_env();
    let target = Target::new(&dir, name)?;
    let Some(session) = sessions::probe(name.to_owned(), target.path.clone()) else {
        bail!(
            "Cannot inspect session \"{name}\": session not found.\nRun 'tsm ls' to list sessions."
        );
    };
    let mut out = std::io::stdout();
    if json_output {
        let mut object = session_json(&session);
        if let Probe::Live(_, Some(status)) = &session.probe {
            object["daemon_pid"] = json!(status.daemon_pid);
            object["rows"] = json!(status.rows);
            object["cols"] = json!(status.cols);
            object["rss_bytes"] = json!(status.rss_bytes);
            object["version"] = json!(status.version);
        }
        if let Some(trace) = agent_trace(&target.path) {
            object["agent_trace"] = trace;
        }
        writeln!(out, "{object}")?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(out, "socket: {}", target.path.display())?;
    writeln!(out, "state: {}", session.state())?;
    let Probe::Live(info, status) = &session.probe else {
        return Ok(ExitCode::FAILURE);
    };
    writeln!(out, "pid: {}", info.pid)?;
    writeln!(out, "clients: {}", info.clients)?;
    writeln!(out, "command: {}", info.cmd)?;
    writeln!(out, "cwd: {}", info.cwd)?;
    writeln!(out, "uptime: {}", format_uptime(Some(unix_now().saturating_sub(info.created_at))))?;
    if let Some(status) = status {
        if let Some(pid) = status.daemon_pid {
            writeln!(out, "daemon pid: {pid}")?;
        }
        if let (Some(rows), Some(cols)) = (status.rows, status.cols) {
            writeln!(out, "size: {cols}x{rows}")?;
        }
        if let Some(rss) = status.rss_bytes {
            writeln!(out, "daemon memory: {} KiB", rss / 1024)?;
        }
        if let Some(version) = &status.version {
            writeln!(out, "daemon version: {version}")?;
        }
        let labels: Vec<String> = status.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(
            out,
            "labels: {}",
            if labels.is_empty() { "-".to_owned() } else { labels.join(" ") }
        )?;
    }
    writeln!(out, "agent: {}", session.agent.column())?;
    if info.task_ended_at != 0 {
        writeln!(
            out,
            "ended: {} s ago, exit code {}",
            unix_now().saturating_sub(info.task_ended_at),
            info.task_exit_code
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The agent's last observations (AgentGet with payload `trace`), when the daemon keeps any.
fn agent_trace(path: &std::path::Path) -> Option<serde_json::Value> {
    let mut conn = tsm_proto::Connection::connect(path).ok()?;
    let reply = conn
        .request(
            tsm_proto::Tag::AgentGet,
            b"trace",
            tsm_proto::Tag::AgentGet,
            tsm_proto::PROBE_TIMEOUT,
        )
        .ok()?;
    let mut report: serde_json::Value = serde_json::from_slice(&reply).ok()?;
    Some(report.get_mut("trace")?.take())
}
