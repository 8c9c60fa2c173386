//! Agent detection in the daemon (spec/agents.md §3.5): drives the session's
//! `tsm_agents::Tracker` from output, the screen model, `/proc`, client events and hook
//! frames, and serves its report over tags 32–36.
//!
//! Cost: nothing runs while nothing happens. Output schedules a screen evaluation 50 ms
//! after the last chunk (at least every 100 ms while output flows) and a process check at
//! most every 250 ms; the tracker's own timers (idle by absence, dialog gone) are armed only
//! while a state may still change. Escape side channels and screen rules run only once an
//! agent process is known. Process checks run on output and on the program's exit only,
//! not on an idle timer: an agent that starts or ends prints something.
//!
//! `TSM_AGENTS=off` in the environment the daemon starts with turns all of it off: no
//! `/proc` reads, no screen rules, hook events acknowledged and dropped, AgentGet `null`.

use std::collections::BTreeSet;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tsm_agents::events::decode_envelope;
use tsm_agents::screen::ScreenView;
use tsm_agents::tracker::{AgentEnv, ClientEvent, Output, StructuredEvent, Tracker, Want};
use tsm_agents::{Rules, Stamp};
use tsm_proto::Tag;
use tsm_scrollback::Offset;

use crate::client::ClientId;
use crate::session::Session;

/// How often process facts are read at most while output flows.
const PROCESS_CHECK_INTERVAL: Duration = Duration::from_millis(250);
/// The largest file the tracker may ask to read (Claude's registry entry is ~1 KiB).
const MAX_READ_WHOLE: u64 = 1024 * 1024;

/// The daemon's side of agent detection.
pub(crate) struct Agents {
    /// `TSM_AGENTS=off` in the daemon's environment turns detection off.
    enabled: bool,
    tracker: Tracker,
    origin: Instant,
    settle: Duration,
    max_interval: Duration,
    /// When the screen is evaluated next (trailing edge after output).
    screen_due: Option<Instant>,
    /// The first output since the last evaluation.
    pending_since: Option<Instant>,
    /// When process facts are read next.
    process_due: Option<Instant>,
    last_process_check: Option<Instant>,
    /// The tracker's own next timer.
    tracker_due: Option<Instant>,
    /// Connections that sent AgentWatch.
    watchers: BTreeSet<ClientId>,
    /// The report last sent to watchers.
    last_sent: Option<String>,
    log_path: PathBuf,
}

impl Agents {
    /// Detection for a new session; `log_path` receives the agents log (JSON lines).
    pub(crate) fn new(log_path: PathBuf) -> Agents {
        let rules = Arc::new(load_rules());
        let env = AgentEnv {
            home: std::env::var_os("HOME").map(PathBuf::from),
            claude_config_dir: std::env::var_os("CLAUDE_CONFIG_DIR").map(PathBuf::from),
            codex_home: std::env::var_os("CODEX_HOME").map(PathBuf::from),
        };
        let timing = *rules.timing();
        let origin = Instant::now();
        let tracker = Tracker::new(rules, env, stamp_at(origin, origin));
        Agents {
            enabled: std::env::var_os("TSM_AGENTS").is_none_or(|v| v != "off"),
            tracker,
            origin,
            settle: Duration::from_millis(timing.screen_settle),
            max_interval: Duration::from_millis(timing.screen_max_interval),
            screen_due: None,
            pending_since: None,
            process_due: Some(origin),
            last_process_check: None,
            tracker_due: None,
            watchers: BTreeSet::new(),
            last_sent: None,
            log_path,
        }
    }

    /// The earliest time something is due, if anything is.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        if !self.enabled {
            return None;
        }
        [self.screen_due, self.process_due, self.tracker_due].into_iter().flatten().min()
    }

    fn now(&self) -> Stamp {
        stamp_at(self.origin, Instant::now())
    }
}

/// The rules: built in, overlaid with `$XDG_CONFIG_HOME/tsm/agents.toml` when it exists.
/// A file that does not parse is logged and the built-in tables stay in force.
fn load_rules() -> Rules {
    let Some(path) = user_rules_path() else { return Rules::builtin() };
    let Ok(text) = std::fs::read_to_string(&path) else { return Rules::builtin() };
    let (rules, errors) = Rules::with_overrides(&text);
    for err in errors {
        tracing::warn!(path = %path.display(), %err, "agent rules");
    }
    rules
}

/// Where the user's agent rule overrides live: `$XDG_CONFIG_HOME/tsm/agents.toml`, else
/// `~/.config/tsm/agents.toml`.
pub fn user_rules_path() -> Option<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(config.join("tsm").join("agents.toml"))
}

fn stamp_at(origin: Instant, at: Instant) -> Stamp {
    let unix_ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64);
    let unix_ms = unix_ms - Instant::now().saturating_duration_since(at).as_millis() as i64;
    Stamp { mono_ms: at.saturating_duration_since(origin).as_millis() as u64, unix_ms }
}

/// New output since ring offset `from`: side channels now, the screen and the processes
/// soon.
pub(crate) fn on_output(session: &mut Session, from: Offset) {
    if !session.agents.enabled {
        return;
    }
    let now = Instant::now();
    if session.agents.tracker.has_agent() {
        let stamp = session.agents.now();
        let mut outputs = Vec::new();
        if let Ok((first, second)) = session.ring.slices(from, session.ring.head()) {
            outputs.extend(session.agents.tracker.on_pty_bytes(stamp, first));
            outputs.extend(session.agents.tracker.on_pty_bytes(stamp, second));
        }
        apply(session, outputs);
        let agents = &mut session.agents;
        let first = *agents.pending_since.get_or_insert(now);
        agents.screen_due = Some((now + agents.settle).min(first + agents.max_interval));
    }
    let agents = &mut session.agents;
    if agents.process_due.is_none() {
        let earliest = agents.last_process_check.map_or(now, |last| last + PROCESS_CHECK_INTERVAL);
        agents.process_due = Some(earliest.max(now));
    }
}

/// The program exited: the agent may be gone with it.
pub(crate) fn on_child_exit(session: &mut Session) {
    session.agents.process_due = Some(Instant::now());
}

/// Runs whatever is due.
pub(crate) fn on_timer(session: &mut Session) {
    if !session.agents.enabled {
        return;
    }
    let now = Instant::now();
    if session.agents.process_due.is_some_and(|due| due <= now) {
        session.agents.process_due = None;
        session.agents.last_process_check = Some(now);
        let child = session.child.pid() as u32;
        let foreground = if session.exit.is_none() {
            session.pty.get_ref().foreground_process_group().map(|pgid| pgid as u32)
        } else {
            None
        };
        let mut facts = crate::procs::facts(child, foreground);
        if let Some(exit) = session.exit {
            // The program was the agent (`tsm new x -- claude`): its code is known.
            facts.exited.push((child, Some(exit.status.code())));
        }
        let stamp = session.agents.now();
        let outputs = session.agents.tracker.on_process(stamp, &facts);
        apply(session, outputs);
        if session.agents.tracker.has_agent() {
            // Modes the agent set before it was known (Codex's focus reporting).
            let focus = session.screen().focus_reporting();
            let outputs = session.agents.tracker.on_focus_reporting(focus);
            apply(session, outputs);
            if session.agents.screen_due.is_none() {
                // A new agent: look at the screen it already drew.
                session.agents.screen_due = Some(now);
            }
        }
    }
    if session.agents.screen_due.is_some_and(|due| due <= now) {
        session.agents.screen_due = None;
        session.agents.pending_since = None;
        evaluate_screen(session);
    }
    if session.agents.tracker_due.is_some_and(|due| due <= now) {
        session.agents.tracker_due = None;
        let stamp = session.agents.now();
        let outputs = session.agents.tracker.tick(stamp);
        apply(session, outputs);
    }
    arm_tracker_timer(session);
}

fn evaluate_screen(session: &mut Session) {
    if !session.agents.tracker.has_agent() {
        return;
    }
    let text = session.screen().view();
    let view = ScreenView {
        rows: &text.rows,
        wrapped: &text.wrapped,
        cursor_row: text.cursor_row,
        cursor_col: text.cursor_col,
        cols: text.cols,
        alt_screen: text.alt_screen,
        title: text.title.as_deref(),
    };
    let stamp = session.agents.now();
    let outputs = session.agents.tracker.on_screen(stamp, &view);
    apply(session, outputs);
}

fn arm_tracker_timer(session: &mut Session) {
    let agents = &mut session.agents;
    let now = agents.now();
    agents.tracker_due =
        agents.tracker.next_deadline(now).map(|mono| agents.origin + Duration::from_millis(mono));
}

/// A client event: attach, detach, input, acknowledgement.
pub(crate) fn on_client(session: &mut Session, event: ClientEvent) {
    if !session.agents.enabled {
        return;
    }
    let stamp = session.agents.now();
    let outputs = session.agents.tracker.on_client(stamp, event);
    apply(session, outputs);
    arm_tracker_timer(session);
}

/// A connection closed: it no longer watches.
pub(crate) fn on_closed(session: &mut Session, id: ClientId) {
    session.agents.watchers.remove(&id);
}

/// AgentGet: the report, or `null`. With payload `trace` (our addition) the report also
/// carries `trace`, the last observations (`tsm info --json`).
pub(crate) fn on_get(session: &mut Session, id: ClientId, payload: &[u8]) {
    let mut report = report_json(session);
    if payload == b"trace"
        && let Ok(serde_json::Value::Object(mut object)) = serde_json::from_str(&report)
    {
        object.insert("trace".into(), trace_json(session));
        report = serde_json::Value::Object(object).to_string();
    }
    reply(session, id, Tag::AgentGet, report.as_bytes());
}

/// The last observations, oldest first.
fn trace_json(session: &Session) -> serde_json::Value {
    let trace = session.agents.tracker.trace().map(|obs| {
        serde_json::json!({
            "source": obs.source,
            "at_ms": obs.at.unix_ms,
            "confidence": obs.confidence,
            "claim": format!("{:?}", obs.claim),
        })
    });
    serde_json::Value::Array(trace.collect())
}

/// AgentWatch: the report at once, then one per change.
pub(crate) fn on_watch(session: &mut Session, id: ClientId) {
    session.agents.watchers.insert(id);
    let report = report_json(session);
    reply(session, id, Tag::AgentGet, report.as_bytes());
}

/// AgentAck: the user has seen the result.
pub(crate) fn on_ack(session: &mut Session, id: ClientId) {
    on_client(session, ClientEvent::Ack);
    reply(session, id, Tag::Ack, b"");
}

/// AgentYolo: `on` or `off`.
pub(crate) fn on_yolo(session: &mut Session, id: ClientId, payload: &[u8]) {
    let on = match payload {
        b"on" => true,
        b"off" => false,
        _ => return reply(session, id, Tag::Ack, b"AgentYolo takes on or off"),
    };
    let stamp = session.agents.now();
    let outputs = session.agents.tracker.set_yolo(stamp, on);
    apply(session, outputs);
    reply(session, id, Tag::Ack, b"");
}

/// AgentEvent: a hook, statusline or notify payload from `tsm hook`.
pub(crate) fn on_event(session: &mut Session, id: ClientId, payload: &[u8]) {
    if !session.agents.enabled {
        return reply(session, id, Tag::AgentEvent, br#"{"ok":true,"print":null}"#);
    }
    let (source, envelope) = match decode_envelope(payload) {
        Ok(decoded) => decoded,
        Err(err) => {
            let reply_text = serde_json::json!({"ok": false, "error": err.to_string()}).to_string();
            return reply(session, id, Tag::AgentEvent, reply_text.as_bytes());
        }
    };
    let stamp = session.agents.now();
    let outputs =
        session.agents.tracker.on_event(stamp, StructuredEvent::Hook { source, envelope });
    let print = apply(session, outputs);
    arm_tracker_timer(session);
    let reply_text = serde_json::json!({"ok": true, "print": print}).to_string();
    reply(session, id, Tag::AgentEvent, reply_text.as_bytes());
}

/// The report as JSON with the session's name, `null` when no agent is known.
pub(crate) fn report_json(session: &Session) -> String {
    match session.agents.tracker.report() {
        Some(mut report) => {
            report.session = session.name.as_str().to_string();
            serde_json::to_string(&report).unwrap_or_else(|_| "null".to_string())
        }
        None => "null".to_string(),
    }
}

/// Carries out the tracker's outputs; returns what `tsm hook` must print, if anything.
fn apply(session: &mut Session, outputs: Vec<Output>) -> Option<String> {
    let mut print = None;
    let mut changed = false;
    for output in outputs {
        match output {
            Output::StateChanged { .. } | Output::MetaChanged | Output::KindChanged(_) => {
                changed = true
            }
            Output::Want(Want::ProcessCheck) => session.agents.process_due = Some(Instant::now()),
            Output::Want(Want::ReadWhole(path)) => {
                let pid = path.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse().ok());
                if let Some(pid) = pid {
                    let contents = read_small(&path);
                    let stamp = session.agents.now();
                    let more = session
                        .agents
                        .tracker
                        .on_event(stamp, StructuredEvent::ClaudeRegistry { pid, contents });
                    if !more.is_empty() {
                        changed = true;
                    }
                }
            }
            Output::Want(Want::Tail { path, from }) => {
                if let Some((from, bytes)) = read_tail(&path, from) {
                    let stamp = session.agents.now();
                    let event = StructuredEvent::FileBytes { path, from, bytes };
                    let more = session.agents.tracker.on_event(stamp, event);
                    changed |= !more.is_empty();
                }
            }
            Output::Want(Want::OpenFiles { pid }) => {
                let paths = crate::procs::open_files(pid);
                let stamp = session.agents.now();
                let more = session
                    .agents
                    .tracker
                    .on_event(stamp, StructuredEvent::OpenFiles { pid, paths });
                // The rollout found asks for its first read.
                let print_more = apply(session, more);
                print = print.or(print_more);
                changed = true;
            }
            Output::Send { bytes, why } => {
                tracing::info!(?why, "agent tracker sends input");
                session.queue_input(&bytes);
            }
            Output::Print(text) => print = Some(text),
            Output::Log(record) => append_log(&session.agents.log_path, &record),
        }
    }
    if changed {
        notify_watchers(session);
    }
    print
}

/// How much of a transcript or rollout is read at once at most.
const MAX_TAIL_READ: u64 = 1024 * 1024;
/// How far before its end a file is first read (§3.5: at most the last 128 KiB).
const FIRST_TAIL_READ: u64 = 128 * 1024;

/// Reads `path` from `from` (a first read, `from == 0`, starts at most 128 KiB before the
/// end, after a newline); returns where the bytes start and the bytes, `None` when there
/// is nothing new or no file.
fn read_tail(path: &std::path::Path, from: u64) -> Option<(u64, Vec<u8>)> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut start =
        if from == 0 || from > len { len.saturating_sub(FIRST_TAIL_READ) } else { from };
    if start == len {
        return None;
    }
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut bytes = Vec::new();
    file.take(MAX_TAIL_READ).read_to_end(&mut bytes).ok()?;
    if start > 0 && (from == 0 || from > len) {
        // Started inside a line: skip to the next one.
        let skip = bytes.iter().position(|&b| b == b'\n').map_or(bytes.len(), |at| at + 1);
        bytes.drain(..skip);
        start += skip as u64;
    }
    (!bytes.is_empty()).then_some((start, bytes))
}

fn read_small(path: &std::path::Path) -> Option<Vec<u8>> {
    use std::io::Read as _;
    let file = std::fs::File::open(path).ok()?;
    let mut contents = Vec::new();
    file.take(MAX_READ_WHOLE).read_to_end(&mut contents).ok()?;
    Some(contents)
}

fn append_log(path: &std::path::Path, record: &serde_json::Value) {
    use std::os::unix::fs::OpenOptionsExt as _;
    let written = OpenOptions::new()
        .create(true)
        .mode(0o600)
        .append(true)
        .open(path)
        .and_then(|mut file| writeln!(file, "{record}"));
    if let Err(err) = written {
        tracing::warn!(path = %path.display(), %err, "writing the agents log failed");
    }
}

/// Sends the report to every watcher if it changed since the last one sent.
fn notify_watchers(session: &mut Session) {
    if session.agents.watchers.is_empty() {
        return;
    }
    let report = report_json(session);
    if session.agents.last_sent.as_deref() == Some(report.as_str()) {
        return;
    }
    let watchers: Vec<ClientId> = session.agents.watchers.iter().copied().collect();
    for id in watchers {
        // A watcher that stopped reading is dropped rather than fed without bound; a
        // watcher reconnects and gets the report at once.
        let stalled = session
            .clients
            .get(&id)
            .is_some_and(|c| c.control_pending().len() >= crate::connection::CONTROL_QUEUE_LIMIT);
        if stalled {
            if let Some(client) = session.clients.get_mut(&id) {
                client.close = crate::client::Close::Now;
                client.wake.notify_one();
            }
            session.agents.watchers.remove(&id);
            continue;
        }
        reply(session, id, Tag::AgentGet, report.as_bytes());
    }
    session.agents.last_sent = Some(report);
}

fn reply(session: &mut Session, id: ClientId, tag: Tag, payload: &[u8]) {
    if let Some(client) = session.clients.get_mut(&id) {
        client.queue_frame(tag, payload);
        client.wake.notify_one();
    }
}
