//! What the CLI knows about each session: Info (every daemon answers it) plus our Status
//! (tag 38; older and Go daemons do not answer it, so it is optional).

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use tsm_agents::report::AgentReport;
use tsm_proto::{ClientError, Connection, Info, SocketDir, Tag};

/// How long to wait for a Status reply; a daemon that does not know the tag never answers.
const STATUS_TIMEOUT: Duration = Duration::from_millis(500);

/// Our daemon's Status reply (tag 38).
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub(crate) struct Status {
    /// `running` or `exited`.
    pub(crate) state: String,
    /// The program's exit code once it exited.
    pub(crate) exit_code: Option<i32>,
    /// The daemon's pid.
    pub(crate) daemon_pid: Option<u32>,
    /// PTY rows.
    pub(crate) rows: Option<u16>,
    /// PTY columns.
    pub(crate) cols: Option<u16>,
    /// The daemon's resident memory.
    pub(crate) rss_bytes: Option<u64>,
    /// The daemon's version.
    pub(crate) version: Option<String>,
    /// `run` tasks queued or running.
    pub(crate) tasks: Option<usize>,
    /// The last `run` task's exit code.
    pub(crate) last_task_exit_code: Option<u8>,
    /// The first non-zero code of the tasks that ended since the last collect, else 0.
    pub(crate) uncollected_exit_code: Option<u8>,
    /// The session's labels.
    #[serde(default)]
    pub(crate) labels: std::collections::BTreeMap<String, String>,
}

/// One session as the CLI shows it.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Its name.
    pub(crate) name: String,
    /// Its socket.
    pub(crate) path: PathBuf,
    /// What its probe found.
    pub(crate) probe: Probe,
    /// Its coding agent.
    pub(crate) agent: AgentProbe,
}

/// What the daemon said about the session's coding agent (tag 32).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AgentProbe {
    /// The daemon did not answer AgentGet in time (too old, or not ours).
    Unknown,
    /// No agent in the session.
    None,
    /// The agent report (spec/agents.md 1.3).
    Report(Box<AgentReport>),
}

impl AgentProbe {
    /// The AGENT column: `kind:display`, `-` without an agent, `?` when unknown.
    pub(crate) fn column(&self) -> String {
        match self {
            AgentProbe::Unknown => "?".to_owned(),
            AgentProbe::None => "-".to_owned(),
            AgentProbe::Report(report) => format!("{}:{}", report.kind, report.display),
        }
    }

    /// The report as JSON, `null` without one.
    pub(crate) fn json(&self) -> serde_json::Value {
        match self {
            AgentProbe::Report(report) => serde_json::to_value(report).unwrap_or_default(),
            _ => serde_json::Value::Null,
        }
    }
}

/// What a probe found.
#[derive(Debug, Clone)]
pub(crate) enum Probe {
    /// The daemon answered Info (and maybe Status).
    Live(Info, Option<Box<Status>>),
    /// Connection refused: the daemon is gone.
    Stale,
    /// No answer in time.
    Busy,
}

impl Session {
    /// The STATE column: `running`, `exited(N)`, `stale` or `busy`.
    pub(crate) fn state(&self) -> String {
        match &self.probe {
            Probe::Live(_, Some(status)) if status.state == "exited" => {
                format!("exited({})", status.exit_code.unwrap_or(0))
            }
            Probe::Live(..) => "running".to_owned(),
            Probe::Stale => "stale".to_owned(),
            Probe::Busy => "busy".to_owned(),
        }
    }
}

/// Probes one socket: Info, then Status.
pub(crate) fn probe(name: String, path: PathBuf) -> Option<Session> {
    let (probe, agent) = match probe_live(&path) {
        Ok((info, status, agent)) => (Probe::Live(info, status), agent),
        Err(ClientError::Refused) => (Probe::Stale, AgentProbe::Unknown),
        Err(ClientError::NotFound) => return None,
        Err(_) => (Probe::Busy, AgentProbe::Unknown),
    };
    Some(Session { name, path, probe, agent })
}

fn probe_live(
    path: &std::path::Path,
) -> Result<(Info, Option<Box<Status>>, AgentProbe), ClientError> {
    let mut conn = Connection::connect(path)?;
    let info = Info::parse(&conn.request(Tag::Info, &[], Tag::Info, tsm_proto::PROBE_TIMEOUT)?)?;
    let status = conn
        .request(Tag::Status, &[], Tag::Status, STATUS_TIMEOUT)
        .ok()
        .and_then(|payload| serde_json::from_slice(&payload).ok())
        .map(Box::new);
    // A daemon that does not answer Status will not answer AgentGet either: no second wait.
    let agent = if status.is_some() { agent_probe(&mut conn) } else { AgentProbe::Unknown };
    Ok((info, status, agent))
}

/// Asks for the agent report on an open connection.
pub(crate) fn agent_probe(conn: &mut Connection) -> AgentProbe {
    match conn.request(Tag::AgentGet, &[], Tag::AgentGet, STATUS_TIMEOUT) {
        Ok(payload) => parse_agent(&payload),
        Err(_) => AgentProbe::Unknown,
    }
}

/// An AgentGet reply: `null` or a report.
pub(crate) fn parse_agent(payload: &[u8]) -> AgentProbe {
    match serde_json::from_slice::<Option<AgentReport>>(payload) {
        Ok(Some(report)) => AgentProbe::Report(Box::new(report)),
        Ok(None) => AgentProbe::None,
        Err(_) => AgentProbe::Unknown,
    }
}

/// Every session of `dir`, probed concurrently, sorted by name.
pub(crate) fn collect(dir: &SocketDir) -> std::io::Result<Vec<Session>> {
    let names = dir.session_names()?;
    Ok(std::thread::scope(|scope| {
        let probes: Vec<_> = names
            .into_iter()
            .map(|name| {
                let path = dir.path().join(&name);
                scope.spawn(move || probe(name, path))
            })
            .collect();
        probes.into_iter().filter_map(|p| p.join().ok().flatten()).collect()
    }))
}

/// Unix seconds now.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
