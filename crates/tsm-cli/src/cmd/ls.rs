//! `tsm ls [--json] [--short] [--watch]`: the table `NAME PID ATTACHED UPTIME STATE AGENT
//! CMD DIR` sorted by name. Stale and busy sockets are listed too (never removed).

use std::io::{self, Write};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use serde_json::{Value, json};
use tsm_proto::SocketDir;

use crate::cli::LsArgs;
use crate::output::{format_uptime, tilde, write_table};
use crate::sessions::{self, Probe, Session, unix_now};

/// How often `--watch` looks again.
const WATCH_INTERVAL: Duration = Duration::from_secs(1);

/// Lists sessions.
pub(crate) fn run(args: &LsArgs) -> Result<ExitCode> {
    let dir = SocketDir::from_env();
    let filters = parse_filters(&args.filters)?;
    let mut stdout = io::stdout();
    let mut last = None;
    loop {
        let mut list = sessions::collect(&dir)?;
        list.retain(|session| matches_filters(session, &filters));
        let text = render(&dir, &list, args);
        if last.as_ref() != Some(&text) {
            stdout.write_all(text.as_bytes())?;
            stdout.flush()?;
            last = Some(text);
        }
        if !args.watch {
            return Ok(ExitCode::SUCCESS);
        }
        std::thread::sleep(WATCH_INTERVAL);
    }
}

/// The `--where k=v` filters as (key, value) pairs.
fn parse_filters(filters: &[String]) -> Result<Vec<(String, String)>> {
    filters
        .iter()
        .map(|filter| match filter.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
            _ => anyhow::bail!("Invalid filter {filter:?}: expected --where key=value."),
        })
        .collect()
}

/// Whether the session has every label of `filters` (sessions without labels, stale and
/// busy ones included, match no filter).
fn matches_filters(session: &Session, filters: &[(String, String)]) -> bool {
    filters.iter().all(|(key, value)| match &session.probe {
        Probe::Live(_, Some(status)) => status.labels.get(key) == Some(value),
        _ => false,
    })
}

fn render(dir: &SocketDir, list: &[Session], args: &LsArgs) -> String {
    if args.json {
        let rows: Vec<Value> = list.iter().map(session_json).collect();
        return format!("{}\n", Value::Array(rows));
    }
    if args.short {
        return list.iter().map(|s| format!("{}\n", s.name)).collect();
    }
    if list.is_empty() {
        return format!("no sessions found in {}\n", dir.path().display());
    }
    let mut rows = vec![
        ["NAME", "PID", "ATTACHED", "UPTIME", "STATE", "AGENT", "CMD", "DIR"]
            .map(String::from)
            .to_vec(),
    ];
    let now = unix_now();
    for session in list {
        let state = session.state();
        rows.push(match &session.probe {
            Probe::Live(info, _) => vec![
                session.name.clone(),
                info.pid.to_string(),
                if info.clients == 0 { "-".to_owned() } else { format!("yes ({})", info.clients) },
                format_uptime((info.created_at != 0).then(|| now.saturating_sub(info.created_at))),
                state,
                session.agent.column(),
                info.cmd.clone(),
                tilde(&info.cwd),
            ],
            Probe::Stale | Probe::Busy => {
                let mut row = vec![session.name.clone(), "-".into(), "-".into(), "-".into(), state];
                row.extend(["-", "-", "-"].map(String::from));
                row
            }
        });
    }
    let mut out = Vec::new();
    let _ = write_table(&mut out, &rows);
    String::from_utf8_lossy(&out).into_owned()
}

/// One session as a JSON object (field names are stable; see the README).
pub(crate) fn session_json(session: &Session) -> Value {
    let state = match &session.probe {
        Probe::Live(_, Some(status)) => status.state.clone(),
        Probe::Live(_, None) => "running".to_owned(),
        Probe::Stale => "stale".to_owned(),
        Probe::Busy => "busy".to_owned(),
    };
    let mut object = json!({
        "name": session.name,
        "socket": session.path,
        "state": state,
        "exit_code": null,
        "pid": null,
        "clients": null,
        "created_at": null,
        "cmd": null,
        "cwd": null,
        "labels": {},
        "agent": null,
    });
    if let Probe::Live(info, status) = &session.probe {
        object["pid"] = json!(info.pid);
        object["clients"] = json!(info.clients);
        object["created_at"] = json!(info.created_at);
        object["cmd"] = json!(info.cmd);
        object["cwd"] = json!(info.cwd);
        if let Some(status) = status {
            object["exit_code"] = json!(status.exit_code);
            object["labels"] = json!(status.labels);
        }
        object["agent"] = session.agent.json();
    }
    object
}
