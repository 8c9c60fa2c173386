//! `tsm agents [--json] [--watch]`, `tsm agents yolo NAME on|off` and `tsm wait --agent`:
//! the coding agents in sessions, as their daemons report them (spec/agents.md 1.1).

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result, bail};
use tsm_agents::report::AgentReport;
use tsm_proto::{Connection, SocketDir, Tag};

use crate::cli::{AgentsArgs, AgentsCommand};
use crate::cmd::wait::poll_sessions;
use crate::output::write_table;
use crate::sessions::{self, AgentProbe, Probe};
use crate::target::Target;

/// How often `--watch` looks for new sessions.
const RESCAN_INTERVAL: Duration = Duration::from_millis(1000);

/// `tsm agents`.
pub(crate) fn run(args: &AgentsArgs) -> Result<ExitCode> {
    if let Some(AgentsCommand::Yolo { name, state }) = &args.command {
        return yolo(name, state == "on");
    }
    let dir = SocketDir::from_env();
    if args.watch {
        return watch(&dir, args.json);
    }
    let reports = reports(&dir)?;
    let mut stdout = io::stdout();
    if args.json {
        writeln!(stdout, "{}", serde_json::to_string(&reports)?)?;
    } else if reports.is_empty() {
        writeln!(stdout, "no agents found in the sessions of {}", dir.path().display())?;
    } else {
        write_table(&mut stdout, &table(&reports, now_ms()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Every session's agent report, sorted by session.
fn reports(dir: &SocketDir) -> Result<Vec<AgentReport>> {
    let list = sessions::collect(dir).context("listing sessions")?;
    Ok(list
        .into_iter()
        .filter_map(|session| match session.agent {
            AgentProbe::Report(report) => Some(*report),
            _ => None,
        })
        .collect())
}

/// The table of §1.1.
fn table(reports: &[AgentReport], now_ms: i64) -> Vec<Vec<String>> {
    let mut rows = vec![
        ["SESSION", "AGENT", "STATE", "SINCE", "MODEL", "ID", "COST", "CTX", "SOURCE", "LAST"]
            .map(String::from)
            .to_vec(),
    ];
    for r in reports {
        let id = r.agent_session_id.as_deref().map(|id| {
            let short: String = id.chars().take(8).collect();
            if r.agent_session_id_verified { short } else { format!("{short}?") }
        });
        let last = match r.detail.summary() {
            // Claude refused its settings file, maybe because of a hook this version does not
            // know: say how to take tsm's hooks out.
            _ if r.detail.dialog.as_deref() == Some("settings_error") => {
                "Settings Error: try `tsm hooks uninstall claude`".to_owned()
            }
            summary if summary.is_empty() => r.last_prompt.clone().unwrap_or_default(),
            summary => summary,
        };
        rows.push(vec![
            r.session.clone(),
            r.kind.to_string(),
            r.display.clone(),
            age((now_ms - r.since_ms).max(0) as u64 / 1000),
            r.model.clone().unwrap_or_else(|| "-".into()),
            id.unwrap_or_else(|| "-".into()),
            r.cost_usd.map_or_else(|| "-".into(), |c| format!("${c:.2}")),
            r.context.map_or_else(|| "-".into(), |c| format!("{}%", c.pct)),
            r.source.short().to_string(),
            tsm_agents::one_line(&last).chars().take(60).collect(),
        ]);
    }
    rows
}

/// `12s`, `3m`, `2h`, `4d`.
fn age(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// `--watch`: one connection per session with AgentWatch; a line per change.
fn watch(dir: &SocketDir, json: bool) -> Result<ExitCode> {
    let (tx, rx) = mpsc::channel::<(String, Option<AgentReport>)>();
    let mut watched: BTreeMap<String, ()> = BTreeMap::new();
    let mut last: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut stdout = io::stdout();
    loop {
        for name in dir.session_names().unwrap_or_default() {
            if watched.contains_key(&name) {
                continue;
            }
            watched.insert(name.clone(), ());
            let path = dir.path().join(&name);
            let tx = tx.clone();
            std::thread::spawn(move || follow(&name, &path, &tx));
        }
        let until = Instant::now() + RESCAN_INTERVAL;
        while let Some(left) = until.checked_duration_since(Instant::now()) {
            let Ok((name, report)) = rx.recv_timeout(left) else { break };
            let Some(report) = report else {
                // The session ended or stopped answering: look for it again on rescan.
                watched.remove(&name);
                continue;
            };
            let key =
                (format!("{}:{}", report.kind, report.display), report.source.short().to_string());
            if json {
                writeln!(stdout, "{}", serde_json::to_string(&report)?)?;
            } else if last.get(&name) != Some(&key) {
                writeln!(stdout, "{} {name} {} ({})", clock(now_ms()), key.0, key.1)?;
            }
            last.insert(name, key);
            stdout.flush()?;
        }
    }
}

/// Follows one session's reports until its connection ends; `None` then.
fn follow(name: &str, path: &std::path::Path, tx: &mpsc::Sender<(String, Option<AgentReport>)>) {
    let result = (|| -> Result<()> {
        let mut conn = Connection::connect(path)?;
        conn.send(Tag::AgentWatch, &[], tsm_proto::PROBE_TIMEOUT)?;
        loop {
            // A watcher waits as long as the session lives; a day is "forever" here.
            let frame = conn.recv(Instant::now() + Duration::from_secs(86400))?;
            if frame.tag != Tag::AgentGet {
                continue;
            }
            if let AgentProbe::Report(report) = sessions::parse_agent(&frame.payload) {
                if tx.send((name.to_string(), Some(*report))).is_err() {
                    return Ok(());
                }
            }
        }
    })();
    drop(result);
    let _ = tx.send((name.to_string(), None));
}

/// `tsm agents yolo NAME on|off`.
fn yolo(name: &str, on: bool) -> Result<ExitCode> {
    let dir = SocketDir::from_env();
    let target = Target::new(&dir, name)?;
    let mut conn = Connection::connect(&target.path)
        .map_err(|err| crate::target::action_error("change auto-approval of", name, &err))?;
    let reply = conn.request(
        Tag::AgentYolo,
        if on { b"on" } else { b"off" },
        Tag::Ack,
        tsm_proto::PROBE_TIMEOUT,
    )?;
    if !reply.is_empty() {
        bail!(
            "Cannot change auto-approval of session \"{name}\": {}",
            String::from_utf8_lossy(&reply)
        );
    }
    let state = if on { "on" } else { "off" };
    println!("auto-approval {state} for session {name}");
    Ok(ExitCode::SUCCESS)
}

/// `tsm wait NAME… --agent`: until every session's agent needs the user, in a state
/// entered at or after the last input sent to the session.
pub(crate) fn wait(patterns: &[String], timeout: Option<f64>) -> Result<ExitCode> {
    let mut stdout = io::stdout();
    let pending = poll_sessions(patterns, timeout, |target, session| {
        let name = &target.name;
        match (&session.probe, &session.agent) {
            (Probe::Stale, _) => {
                bail!("Cannot wait for session \"{name}\": its daemon is gone (stale socket).")
            }
            (Probe::Busy, _) => Ok(false),
            (_, AgentProbe::Unknown) => {
                bail!("Cannot wait for session \"{name}\": its daemon does not report agents.")
            }
            (_, AgentProbe::None) => {
                bail!("Cannot wait for session \"{name}\": no coding agent runs in it.")
            }
            (_, AgentProbe::Report(report)) if ready(report) => {
                writeln!(stdout, "{name} {}:{}", report.kind, report.display)?;
                Ok(true)
            }
            (_, AgentProbe::Report(_)) => Ok(false),
        }
    })?;
    if !pending.is_empty() {
        bail!("Timed out waiting for the agent in {}.", pending.join(", "));
    }
    Ok(ExitCode::SUCCESS)
}

/// Whether the agent needs the user in a state entered after the last input.
fn ready(report: &AgentReport) -> bool {
    let needs_user = !matches!(report.state.as_str(), "starting" | "working");
    needs_user && report.last_input_ms.is_none_or(|input| report.since_ms >= input)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// `HH:MM:SS` of a Unix ms time, UTC.
fn clock(ms: i64) -> String {
    let secs = (ms / 1000).rem_euclid(86400);
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_clock() {
        assert_eq!(age(12), "12s");
        assert_eq!(age(180), "3m");
        assert_eq!(age(7200), "2h");
        assert_eq!(clock(((14 * 3600 + 2 * 60 + 11) * 1000) as i64), "14:02:11");
    }
}
