//! The tracker: one per session. It takes every input (PTY bytes, screens, process facts,
//! structured events, client events, time), turns them into observations, and fuses them
//! into one state by the rules of §4.2, in order; the first rule that applies decides and
//! its source is kept for display.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::escapes::{EscapeEvent, EscapeScanner};
use crate::events::{self, EventSource, HookEnvelope, RolloutTail, TranscriptTail};
use crate::meta::Meta;
use crate::process::{self, AgentProcess, ProcessFacts};
use crate::report::{AgentReport, Background, Detail, YoloReport};
use crate::rules::{Rules, Timing};
use crate::screen::{Fnv, Hit, RuleState, ScreenEval, ScreenView};
use crate::types::{
    Activity, AgentKind, AgentState, Claim, Confidence, ErrorKind, Hint, InputKind, MetaDelta,
    Observation, SetupKind, Source, Stamp, one_line,
};

/// How many observations the trace keeps (`tsm info --json`).
pub const TRACE_LEN: usize = 32;

/// Where the agents keep their files: the environment of the session's programs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentEnv {
    /// `$HOME`.
    pub home: Option<PathBuf>,
    /// `$CLAUDE_CONFIG_DIR`.
    pub claude_config_dir: Option<PathBuf>,
    /// `$CODEX_HOME`.
    pub codex_home: Option<PathBuf>,
}

impl AgentEnv {
    /// Claude's projects directory (transcripts).
    fn claude_projects_dir(&self) -> Option<PathBuf> {
        match &self.claude_config_dir {
            Some(dir) => Some(dir.join("projects")),
            None => self.home.as_ref().map(|h| h.join(".claude").join("projects")),
        }
    }

    /// Claude's session registry directory.
    fn claude_sessions_dir(&self) -> Option<PathBuf> {
        match &self.claude_config_dir {
            Some(dir) => Some(dir.join("sessions")),
            None => self.home.as_ref().map(|h| h.join(".claude").join("sessions")),
        }
    }
}

/// A structured input for [`Tracker::on_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StructuredEvent {
    /// A hook, statusline or notify payload forwarded by `tsm hook` / `tsm statusline`.
    Hook {
        /// Which program sent it.
        source: EventSource,
        /// The payload and its context.
        envelope: HookEnvelope,
    },
    /// Claude's registry file for `pid`; `None` when it is gone.
    ClaudeRegistry {
        /// The agent's pid (the file's name).
        pid: u32,
        /// The file's bytes.
        contents: Option<Vec<u8>>,
    },
    /// Bytes of a transcript or rollout file asked for with [`Want::Tail`], read from offset
    /// `from`.
    FileBytes {
        /// The file.
        path: PathBuf,
        /// Where the bytes start in the file.
        from: u64,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// The files `pid` has open, asked for with [`Want::OpenFiles`].
    OpenFiles {
        /// The process.
        pid: u32,
        /// Its open files.
        paths: Vec<PathBuf>,
    },
}

/// Something a client did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// A client attached (Init).
    Attached,
    /// A client detached.
    Detached,
    /// Input reached the program.
    Input(Vec<u8>),
    /// The user has seen the result (AgentAck).
    Ack,
}

/// What the tracker asks of the daemon, or tells it.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// The fused state changed.
    StateChanged {
        /// The state before.
        from: AgentState,
        /// The state now.
        to: AgentState,
        /// The source that decided it.
        source: Source,
        /// When.
        at: Stamp,
    },
    /// Metadata changed.
    MetaChanged,
    /// An agent appeared (`Some`) or the record was dropped (`None`).
    KindChanged(Option<AgentKind>),
    /// Facts the daemon should fetch and feed back.
    Want(Want),
    /// Bytes to write to the PTY like client input.
    Send {
        /// The bytes.
        bytes: Vec<u8>,
        /// Why.
        why: SendWhy,
    },
    /// What `tsm hook` must print for the event just given (§7.3).
    Print(String),
    /// A line for the session's agents log.
    Log(serde_json::Value),
}

/// Facts the tracker wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// Check the processes now (e.g. after `SessionEnd`).
    ProcessCheck,
    /// Read this file whole and feed it back (Claude's registry file).
    ReadWhole(PathBuf),
    /// Read this file from offset `from` to its end and feed it back as
    /// [`StructuredEvent::FileBytes`]. At `from == 0` a reader may start at most 128 KiB
    /// before the end, at a line start.
    Tail {
        /// The transcript or rollout.
        path: PathBuf,
        /// Where to start.
        from: u64,
    },
    /// List the files `pid` has open and feed them back as [`StructuredEvent::OpenFiles`]
    /// (Codex holds its rollout open).
    OpenFiles {
        /// The agent process.
        pid: u32,
    },
}

/// Why the tracker sends bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendWhy {
    /// An auto-approval answer, by rule id.
    Yolo(String),
    /// A focus report a real terminal would send.
    FocusReport,
}

/// The latest opinion of the structured sources about the agent's activity.
#[derive(Debug, Clone)]
struct Opinion {
    state: AgentState,
    source: Source,
    at: Stamp,
}

/// A structured dialog opinion and what has been seen since (F3).
#[derive(Debug, Clone)]
struct DialogOpinion {
    state: AgentState,
    source: Source,
    at: Stamp,
    /// The screen showed a dialog after the opinion.
    screen_showed: bool,
    /// Client input arrived after the opinion.
    input_after: bool,
}

/// What the last screen evaluation said, and since when.
#[derive(Debug, Default)]
struct ScreenMemory {
    eval: Option<ScreenEval>,
    hash: u64,
    /// When the stripped hash last changed.
    changed_at: Stamp,
    /// Since when no dialog has been on screen.
    no_dialog_since: Option<Stamp>,
    /// Since when a busy marker has been on screen.
    busy_since: Option<Stamp>,
    /// When each dialog fingerprint was first seen.
    first_seen: HashMap<u64, Stamp>,
}

impl ScreenMemory {
    fn hit(&self, state: RuleState) -> Option<&Hit> {
        self.eval.as_ref()?.first(state)
    }

    fn dialog(&self) -> Option<&Hit> {
        let eval = self.eval.as_ref()?;
        eval.hits
            .iter()
            .find(|h| matches!(h.state, RuleState::NeedsApproval | RuleState::NeedsInput))
    }

    fn busy(&self) -> bool {
        self.eval.as_ref().is_some_and(ScreenEval::busy)
    }

    fn idle_composer(&self) -> bool {
        self.eval.as_ref().is_some_and(ScreenEval::idle_composer)
    }

    fn any_hit(&self) -> bool {
        self.eval.as_ref().is_some_and(|e| !e.hits.is_empty())
    }
}

/// Auto-approval state (§7).
#[derive(Debug, Default)]
struct Yolo {
    enabled_at: Option<Stamp>,
    answered: HashMap<u64, Stamp>,
    answers: u32,
    stuck: bool,
    hook_seen: bool,
}

/// One agent process and everything known about it.
#[derive(Debug)]
struct Record {
    kind: AgentKind,
    process: Option<AgentProcess>,
    gone: Option<Option<i32>>,
    structured: Option<Opinion>,
    dialog: Option<DialogOpinion>,
    failure: Option<Opinion>,
    /// The stamp of the event that last decided a structured opinion, per agent session.
    last_decided: HashMap<Option<String>, Stamp>,
    state: AgentState,
    since: Stamp,
    source: Source,
    confidence: Confidence,
    meta: Meta,
    trace: VecDeque<Observation>,
    subagents: u32,
    background: Background,
    /// The agent's transcript or rollout, once known.
    tail: Option<FileTail>,
    /// The registry file last read, to skip it while it does not change.
    registry_digest: Option<u64>,
    /// When the record was made.
    created: Stamp,
    /// The rows of the dialog the state shows, when it is on screen.
    dialog_fingerprint: Option<u64>,
}

/// A transcript (Claude) or rollout (Codex) read as it grows.
#[derive(Debug)]
struct FileTail {
    path: PathBuf,
    /// How far it has been read.
    offset: u64,
    reader: FileReader,
}

/// How a tailed file reads.
#[derive(Debug)]
enum FileReader {
    Transcript(Box<TranscriptTail>),
    Rollout(RolloutTail),
}

impl FileTail {
    fn new(kind: &AgentKind, path: PathBuf) -> FileTail {
        let reader = match kind {
            AgentKind::Codex => FileReader::Rollout(RolloutTail::new()),
            _ => FileReader::Transcript(Box::new(TranscriptTail::new())),
        };
        FileTail { path, offset: 0, reader }
    }

    fn want(&self) -> Want {
        Want::Tail { path: self.path.clone(), from: self.offset }
    }
}

impl Record {
    fn new(kind: AgentKind, process: Option<AgentProcess>, now: Stamp) -> Record {
        Record {
            kind,
            process,
            gone: None,
            structured: None,
            dialog: None,
            failure: None,
            last_decided: HashMap::new(),
            state: AgentState::Starting,
            since: now,
            source: Source::Process,
            confidence: Confidence::High,
            meta: Meta::default(),
            trace: VecDeque::with_capacity(TRACE_LEN),
            subagents: 0,
            background: Background::default(),
            tail: None,
            registry_digest: None,
            created: now,
            dialog_fingerprint: None,
        }
    }

    fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(|p| p.pid)
    }
}

/// The state machine of one session's agent.
pub struct Tracker {
    rules: Arc<Rules>,
    env: AgentEnv,
    record: Option<Record>,
    /// The last record, kept for the report's resume command after the agent exits.
    screen: ScreenMemory,
    escapes: EscapeScanner,
    clients: usize,
    last_input: Option<Stamp>,
    last_input_interrupt: bool,
    attention_at: Option<Stamp>,
    focus_reporting: bool,
    /// A focus-out report was sent and not yet taken back by a focus-in.
    told_unfocused: bool,
    yolo: Yolo,
    procs: Vec<crate::process::Proc>,
    rejected: u64,
}

impl Tracker {
    /// A tracker for a new session.
    pub fn new(rules: Arc<Rules>, env: AgentEnv, _now: Stamp) -> Tracker {
        Tracker {
            rules,
            env,
            record: None,
            screen: ScreenMemory::default(),
            escapes: EscapeScanner::new(),
            clients: 0,
            last_input: None,
            last_input_interrupt: false,
            attention_at: None,
            focus_reporting: false,
            told_unfocused: false,
            yolo: Yolo::default(),
            procs: Vec::new(),
            rejected: 0,
        }
    }

    /// The timing constants in force.
    pub fn timing(&self) -> &Timing {
        self.rules.timing()
    }

    /// Whether an agent is known: only then are PTY bytes and screens worth feeding.
    pub fn has_agent(&self) -> bool {
        self.record.as_ref().is_some_and(|r| r.gone.is_none())
    }

    /// How many payloads were refused (malformed, oversized, unknown).
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// Raw PTY output: escape side channels.
    pub fn on_pty_bytes(&mut self, now: Stamp, chunk: &[u8]) -> Vec<Output> {
        let mut out = Vec::new();
        for event in self.escapes.scan(chunk) {
            let hint = match event {
                EscapeEvent::Title(title) => title_hint(&title),
                EscapeEvent::Notification(_) | EscapeEvent::Bell => Some(Hint::Attention),
                EscapeEvent::FocusReporting(on) => {
                    self.set_focus_reporting(on, &mut out);
                    Some(Hint::FocusMode(on))
                }
            };
            if let Some(hint) = hint {
                let source = if matches!(hint, Hint::TitleBusy | Hint::TitleDone) {
                    Source::Title
                } else {
                    Source::Escape
                };
                self.observe(Observation {
                    source,
                    at: now,
                    confidence: Confidence::Medium,
                    claim: Claim::Hint(hint),
                });
            }
        }
        self.decide(now, &mut out);
        out
    }

    /// The terminal's focus-report mode as the screen model has it: for a Codex that turned
    /// it on before the tracker knew it was Codex (§5.2.1).
    pub fn on_focus_reporting(&mut self, on: bool) -> Vec<Output> {
        let mut out = Vec::new();
        self.set_focus_reporting(on, &mut out);
        out
    }

    /// Focus reporting turned on or off.
    fn set_focus_reporting(&mut self, on: bool, out: &mut Vec<Output>) {
        self.focus_reporting = on;
        if !on {
            self.told_unfocused = false;
        }
        self.tell_focus(out);
    }

    /// A Codex with focus reporting on is told it has no focus while nobody is attached
    /// (so it sends its notifications), and that it has it back on attach; never another
    /// program (editors act on focus loss).
    fn tell_focus(&mut self, out: &mut Vec<Output>) {
        let codex =
            self.record.as_ref().is_some_and(|r| r.kind == AgentKind::Codex && r.gone.is_none());
        if !(codex && self.focus_reporting) {
            return;
        }
        if self.clients == 0 && !self.told_unfocused {
            self.told_unfocused = true;
            out.push(Output::Send { bytes: b"\x1b[O".to_vec(), why: SendWhy::FocusReport });
        } else if self.clients > 0 && self.told_unfocused {
            self.told_unfocused = false;
            out.push(Output::Send { bytes: b"\x1b[I".to_vec(), why: SendWhy::FocusReport });
        }
    }

    /// A rendered screen: the screen rules.
    pub fn on_screen(&mut self, now: Stamp, view: &ScreenView<'_>) -> Vec<Output> {
        let mut out = Vec::new();
        let Some(record) = &self.record else { return out };
        let Some(rules) = self.rules.agent(&record.kind) else { return out };
        let version = record.meta.version().and_then(|v| semver::Version::parse(v).ok());
        let eval = rules.evaluate(view, version.as_ref());
        let memory = &mut self.screen;
        if memory.eval.is_none() || eval.hash != memory.hash {
            memory.changed_at = now;
            memory.hash = eval.hash;
        }
        let has_dialog = eval
            .hits
            .iter()
            .any(|h| matches!(h.state, RuleState::NeedsApproval | RuleState::NeedsInput));
        if has_dialog {
            memory.no_dialog_since = None;
            for hit in eval.hits.iter().filter(|h| matches!(h.state, RuleState::NeedsApproval)) {
                memory.first_seen.entry(hit.fingerprint).or_insert(now);
            }
        } else if memory.no_dialog_since.is_none() {
            memory.no_dialog_since = Some(now);
        }
        if eval.busy() {
            memory.busy_since.get_or_insert(now);
        } else {
            memory.busy_since = None;
        }
        let meta: Vec<_> = eval.meta.clone();
        memory.eval = Some(eval);
        if let Some(dialog) = self.record.as_mut().and_then(|r| r.dialog.as_mut())
            && has_dialog
            && now >= dialog.at
        {
            dialog.screen_showed = true;
        }
        let mut delta = MetaDelta::default();
        for (field, value) in meta {
            crate::meta::apply_screen_field(&mut delta, field, value);
        }
        // The banner is read on every evaluation: only news counts (and fills the trace).
        let news =
            self.record.as_ref().is_some_and(|r| r.meta.would_change(Source::Screen, &delta));
        if news {
            self.observe(Observation {
                source: Source::Screen,
                at: now,
                confidence: Confidence::Medium,
                claim: Claim::Meta(delta),
            });
            out.push(Output::MetaChanged);
        }
        self.decide(now, &mut out);
        self.maybe_answer(now, &mut out);
        out
    }

    /// Process facts: which agent runs, and whether it is still there.
    pub fn on_process(&mut self, now: Stamp, facts: &ProcessFacts) -> Vec<Output> {
        let mut out = Vec::new();
        self.procs = facts.procs.clone();
        let found = process::find_agent(&self.rules, facts);
        let current = self.record.as_ref().and_then(|r| r.process.clone());
        match (found, current) {
            (Some(found), Some(current))
                if found.pid == current.pid && found.start_ticks == current.start_ticks => {}
            (Some(found), _) => {
                let kind = found.kind.clone();
                // A record made from an event before the process was seen keeps what it learnt.
                let adopt = self
                    .record
                    .as_ref()
                    .is_some_and(|r| r.process.is_none() && r.kind == kind && r.gone.is_none());
                if adopt {
                    if let Some(record) = self.record.as_mut() {
                        record.process = Some(found.clone());
                    }
                } else {
                    self.record = Some(Record::new(kind.clone(), Some(found.clone()), now));
                    self.screen = ScreenMemory::default();
                    out.push(Output::KindChanged(Some(kind.clone())));
                }
                let mut delta = MetaDelta { cwd: found.cwd.clone(), ..MetaDelta::default() };
                delta.model = found.flag(&["--model", "-m"]).map(str::to_string);
                if let Some(id) = found.flag(&["--session-id"]) {
                    delta.agent_session_id = Some((id.to_string(), false));
                }
                self.observe(Observation {
                    source: Source::Process,
                    at: now,
                    confidence: Confidence::Exact,
                    claim: Claim::Kind(kind),
                });
                self.observe(Observation {
                    source: Source::Process,
                    at: now,
                    confidence: Confidence::Exact,
                    claim: Claim::Meta(delta),
                });
                out.push(Output::MetaChanged);
            }
            (None, Some(current)) => {
                if self.record.as_ref().is_some_and(|r| r.gone.is_none()) {
                    let code = facts
                        .exited
                        .iter()
                        .find(|(pid, _)| *pid == current.pid)
                        .and_then(|(_, code)| *code);
                    self.observe(Observation {
                        source: Source::Process,
                        at: now,
                        confidence: Confidence::Exact,
                        claim: Claim::Gone { code },
                    });
                }
            }
            (None, None) => {
                // A record made from events whose process never showed up in front of the
                // PTY ends after the secondary expiry (§6.2).
                let expiry = self.rules.timing().secondary_expiry;
                let stale = self.record.as_ref().is_some_and(|r| {
                    r.gone.is_none() && r.process.is_none() && now.since(r.created) >= expiry
                });
                if stale {
                    self.observe(Observation {
                        source: Source::Process,
                        at: now,
                        confidence: Confidence::Medium,
                        claim: Claim::Gone { code: None },
                    });
                }
            }
        }
        if let Some(record) = &self.record
            && record.kind == AgentKind::Claude
            && record.gone.is_none()
            && let (Some(pid), Some(dir)) = (record.pid(), self.env.claude_sessions_dir())
        {
            out.push(Output::Want(Want::ReadWhole(dir.join(format!("{pid}.json")))));
        }
        self.want_files(&mut out);
        self.decide(now, &mut out);
        out
    }

    /// Asks for the agent's transcript or rollout: new bytes of a known one, else the way
    /// to find it (open files for Codex; the path events or the registry gave for Claude).
    fn want_files(&mut self, out: &mut Vec<Output>) {
        let projects = self.env.claude_projects_dir();
        let Some(record) = self.record.as_mut().filter(|r| r.gone.is_none()) else { return };
        // A new agent session (`/clear`, `/resume`) writes another transcript.
        let moved = record.kind == AgentKind::Claude
            && record
                .meta
                .transcript_path()
                .is_some_and(|p| record.tail.as_ref().is_some_and(|t| &t.path != p));
        if moved {
            record.tail = None;
        }
        if record.tail.is_none() {
            let path = match record.kind {
                AgentKind::Claude => record.meta.transcript_path().cloned().or_else(|| {
                    let (id, verified) = record.meta.agent_session_id()?;
                    let cwd = record.meta.cwd()?;
                    verified
                        .then(|| claude_transcript_path(projects.as_deref()?, cwd, id))
                        .flatten()
                }),
                _ => None,
            };
            match (path, &record.kind, record.pid()) {
                (Some(path), _, _) => record.tail = Some(FileTail::new(&record.kind, path)),
                (None, AgentKind::Codex, Some(pid)) => {
                    out.push(Output::Want(Want::OpenFiles { pid }))
                }
                _ => {}
            }
        }
        if let Some(tail) = &record.tail {
            out.push(Output::Want(tail.want()));
        }
    }

    /// A structured event (hook, statusline, notify, registry file).
    pub fn on_event(&mut self, now: Stamp, event: StructuredEvent) -> Vec<Output> {
        let mut out = Vec::new();
        match event {
            StructuredEvent::Hook { source, envelope } => {
                self.on_hook(now, source, &envelope, &mut out)
            }
            StructuredEvent::ClaudeRegistry { pid, contents } => {
                self.on_registry(now, pid, contents, &mut out)
            }
            StructuredEvent::FileBytes { path, from, bytes } => {
                self.on_file_bytes(now, &path, from, &bytes, &mut out)
            }
            StructuredEvent::OpenFiles { pid, paths } => self.on_open_files(pid, paths, &mut out),
        }
        self.decide(now, &mut out);
        out
    }

    /// A client event: attach, detach, input, acknowledgement.
    pub fn on_client(&mut self, now: Stamp, event: ClientEvent) -> Vec<Output> {
        let mut out = Vec::new();
        match event {
            ClientEvent::Attached => {
                self.clients += 1;
                self.acknowledge(now, &mut out);
                self.tell_focus(&mut out);
            }
            ClientEvent::Detached => {
                self.clients = self.clients.saturating_sub(1);
                self.tell_focus(&mut out);
            }
            ClientEvent::Input(bytes) => {
                let interrupt = is_interrupt_key(&bytes);
                self.last_input = Some(now);
                self.last_input_interrupt = interrupt;
                if let Some(dialog) = self.record.as_mut().and_then(|r| r.dialog.as_mut()) {
                    dialog.input_after = true;
                }
                let hint = if interrupt { Hint::InterruptKey } else { Hint::UserInput };
                self.observe(Observation {
                    source: Source::Input,
                    at: now,
                    confidence: Confidence::Exact,
                    claim: Claim::Hint(hint),
                });
                self.acknowledge(now, &mut out);
            }
            ClientEvent::Ack => self.acknowledge(now, &mut out),
        }
        self.decide(now, &mut out);
        out
    }

    /// Turns auto-approval on or off for this session (§7).
    pub fn set_yolo(&mut self, now: Stamp, on: bool) -> Vec<Output> {
        self.yolo.enabled_at = on.then_some(now);
        self.yolo.stuck = false;
        vec![
            Output::MetaChanged,
            Output::Log(serde_json::json!({"at_ms": now.unix_ms, "yolo": on})),
        ]
    }

    /// A timer: re-decides the state with the time passed.
    pub fn tick(&mut self, now: Stamp) -> Vec<Output> {
        let mut out = Vec::new();
        self.decide(now, &mut out);
        self.maybe_answer(now, &mut out);
        out
    }

    /// The monotonic time of the next timer, if any: `None` when nothing can change without
    /// new input (no idle wake-ups).
    pub fn next_deadline(&self, now: Stamp) -> Option<u64> {
        let record = self.record.as_ref()?;
        if record.gone.is_some() {
            return None;
        }
        let t = self.rules.timing();
        let mut candidates = vec![
            self.screen.changed_at.mono_ms + t.idle_debounce,
            self.screen.changed_at.mono_ms + t.attention_debounce,
        ];
        if let Some(since) = self.screen.no_dialog_since {
            candidates.push(since.mono_ms + t.dialog_gone);
        }
        if let Some(since) = self.screen.busy_since {
            candidates.push(since.mono_ms + t.busy_override);
        }
        if let Some(dialog) = &record.dialog {
            candidates.push(dialog.at.mono_ms + t.dialog_confirm);
        }
        if self.yolo.enabled_at.is_some() {
            candidates.push(self.screen.changed_at.mono_ms + YOLO_SETTLE_MS);
            candidates.extend(self.yolo.answered.values().map(|at| at.mono_ms + YOLO_STUCK_MS));
        }
        candidates.into_iter().filter(|&c| c > now.mono_ms).min()
    }

    /// The report of §1.3, without the session name; `None` when no agent is known.
    pub fn report(&self) -> Option<AgentReport> {
        let record = self.record.as_ref()?;
        let meta = &record.meta;
        let (id, verified) =
            meta.agent_session_id().map_or((None, false), |(id, v)| (Some(id.to_string()), v));
        let resume_cmd = match (&record.kind, &id, verified) {
            (AgentKind::Claude, Some(id), true) => Some(format!("claude --resume {id}")),
            (AgentKind::Codex, Some(id), true) => Some(format!("codex resume {id}")),
            (AgentKind::Aider, _, _) => Some("aider --restore-chat-history".to_string()),
            _ => None,
        };
        let yolo_native = record.process.as_ref().is_some_and(AgentProcess::yolo_native);
        let mode = self.yolo.enabled_at.map(|_| {
            if yolo_native {
                "native"
            } else if self.yolo.hook_seen {
                "hook"
            } else {
                "screen"
            }
        });
        Some(AgentReport {
            session: String::new(),
            kind: record.kind.clone(),
            state: record.state.name().to_string(),
            display: record.state.display().to_string(),
            unseen: matches!(record.state, AgentState::Done { unseen: true }),
            since_ms: record.since.unix_ms,
            source: record.source,
            confidence: record.confidence,
            screen_agrees: self.screen_agrees(record),
            detail: Detail::of(&record.state),
            pid: record.pid(),
            version: meta.version().map(str::to_string),
            model: meta.model().map(str::to_string),
            agent_session_id: id,
            agent_session_id_verified: verified,
            resume_cmd,
            transcript_path: meta.transcript_path().cloned(),
            cwd: meta.cwd().cloned(),
            permission_mode: meta.permission_mode().map(str::to_string),
            cost_usd: meta.cost_usd(),
            tokens: meta.tokens(),
            context: meta.context(),
            last_prompt: meta.last_prompt().map(str::to_string),
            last_message: meta.last_message().map(str::to_string),
            updated_at_ms: meta.updated_at().unix_ms.max(record.since.unix_ms),
            background: record.background,
            subagents: record.subagents,
            yolo: YoloReport {
                enabled: self.yolo.enabled_at.is_some(),
                mode: mode.map(str::to_string),
                answers: self.yolo.answers,
                stuck: self.yolo.stuck,
            },
            sources: meta.sources(),
            last_input_ms: self.last_input.map(|at| at.unix_ms),
        })
    }

    /// The last observations, oldest first.
    pub fn trace(&self) -> impl Iterator<Item = &Observation> {
        self.record.iter().flat_map(|r| r.trace.iter())
    }

    fn on_hook(
        &mut self,
        now: Stamp,
        source: EventSource,
        envelope: &HookEnvelope,
        out: &mut Vec<Output>,
    ) {
        let facts = match events::interpret(source, envelope, now) {
            Ok(facts) => facts,
            Err(err) => {
                self.rejected += 1;
                out.push(Output::Log(serde_json::json!({"at_ms": now.unix_ms, "rejected": source.name(), "error": err.to_string()})));
                return;
            }
        };
        let kind = match source {
            EventSource::ClaudeHook | EventSource::ClaudeStatusline => AgentKind::Claude,
            EventSource::CodexHook | EventSource::CodexNotify => AgentKind::Codex,
            EventSource::GeminiHook => AgentKind::Gemini,
            EventSource::AiderNotify => AgentKind::Aider,
        };
        // Attribution (§6.3): whose event is it?
        let mut nested = self.nested_agent(&envelope.ancestry);
        let mut late = false;
        match &self.record {
            // A live agent we saw of another kind: this one runs under it (`codex exec` in
            // Claude's Bash tool) and only counts as a subagent.
            Some(r) if r.gone.is_none() && r.process.is_some() && r.kind != kind => nested = true,
            // A late event of the agent that exited (async hooks, SessionEnd): metadata only.
            Some(r)
                if r.gone.is_some()
                    && r.pid().is_some_and(|pid| envelope.ancestry.contains(&pid)) =>
            {
                late = true;
            }
            Some(r) if r.gone.is_none() && r.kind == kind => {}
            _ => {
                // An event before the process was seen: a record attributed by the
                // environment only, until a process check finds the agent.
                self.record = Some(Record::new(kind.clone(), None, now));
                self.screen = ScreenMemory::default();
                out.push(Output::KindChanged(Some(kind)));
            }
        }
        let subagent = facts.subagent || nested;
        let Some(record) = self.record.as_mut() else { return };
        // An id is verified only when the event comes from the agent process itself (§6.1):
        // its pid in the hook's ancestry. Without a known pid, or outside it, it is not,
        // and the event counts with medium confidence.
        let from_agent = record.pid().is_some_and(|pid| envelope.ancestry.contains(&pid));
        let env_only = !from_agent && record.pid().is_some();
        let decided = record.last_decided.get(&facts.agent_session_id).copied();
        let mut accepted = Vec::new();
        for mut obs in facts.observations {
            if env_only {
                obs.confidence = obs.confidence.min(Confidence::Medium);
            }
            match &obs.claim {
                // A subagent's (or nested agent's) events only count subagents.
                Claim::Meta(delta) if subagent => {
                    let count = i64::from(record.subagents) + i64::from(delta.subagents_delta);
                    record.subagents = count.clamp(0, i64::from(u32::MAX)) as u32;
                    continue;
                }
                _ if subagent => continue,
                Claim::State(_) | Claim::Hint(_) | Claim::Gone { .. } if late => continue,
                // Hints of an event older than the one that decided the state (an async
                // PostToolUse of an earlier tool) answer no newer dialog and start no turn.
                Claim::Hint(_) if decided.is_some_and(|d| obs.at < d) => continue,
                Claim::Meta(delta)
                    if !from_agent && delta.agent_session_id.as_ref().is_some_and(|(_, v)| *v) =>
                {
                    let mut delta = delta.clone();
                    delta.agent_session_id = delta.agent_session_id.map(|(id, _)| (id, false));
                    accepted.push(Observation { claim: Claim::Meta(delta), ..obs });
                    continue;
                }
                Claim::State(_) => {
                    if decided.is_some_and(|d| obs.at < d) {
                        // Older than the event that decided the current state: metadata only.
                        continue;
                    }
                    record.last_decided.insert(facts.agent_session_id.clone(), obs.at);
                }
                _ => {}
            }
            accepted.push(obs);
        }
        for obs in accepted {
            self.observe(obs);
        }
        self.want_files(out);
        if facts.recheck_process {
            out.push(Output::Want(Want::ProcessCheck));
        }
        if let Some(request) = facts.permission_request {
            self.yolo.hook_seen = true;
            let allowed = request.auto_answerable();
            let native = self
                .record
                .as_ref()
                .and_then(|r| r.process.as_ref())
                .is_some_and(AgentProcess::yolo_native);
            if self.yolo.enabled_at.is_some() && allowed && !native {
                self.yolo.answers += 1;
                let print = r#"{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow"}}}"#;
                out.push(Output::Print(print.to_string()));
                out.push(Output::Log(serde_json::json!({
                    "at_ms": now.unix_ms, "yolo_answer": "hook", "tool": request.tool, "detail": request.detail,
                })));
            }
        }
        out.push(Output::MetaChanged);
    }

    fn on_registry(
        &mut self,
        now: Stamp,
        pid: u32,
        contents: Option<Vec<u8>>,
        out: &mut Vec<Output>,
    ) {
        let Some(record) = self.record.as_mut() else { return };
        if record.pid() != Some(pid) || record.kind != AgentKind::Claude {
            return;
        }
        let Some(contents) = contents else { return };
        let mut digest = Fnv::new();
        digest.bytes(&contents);
        let digest = digest.0;
        if record.registry_digest == Some(digest) {
            return; // read again, unchanged
        }
        let Ok(entry) = events::parse_registry(&contents) else {
            // Half-written or foreign: wait for the next version of the file.
            return;
        };
        // A file of another process that had this pid before (procStart, when it is the
        // start time in clock ticks, as on Linux) is not ours.
        let started = record.process.as_ref().map(|p| p.start_ticks);
        let reused = entry
            .proc_start
            .as_deref()
            .and_then(|s| s.parse::<u64>().ok())
            .zip(started)
            .is_some_and(|(a, b)| a != b);
        if entry.pid != pid || reused {
            return;
        }
        record.registry_digest = Some(digest);
        let observations = events::registry_observations(&entry, now);
        self.observe_lagging(observations, out);
    }

    /// New bytes of the tailed file. Its states only count when they are not older than
    /// the structured opinion in force: a lagging transcript never undoes a newer hook.
    fn on_file_bytes(
        &mut self,
        now: Stamp,
        path: &Path,
        from: u64,
        bytes: &[u8],
        out: &mut Vec<Output>,
    ) {
        let Some(record) = self.record.as_mut() else { return };
        let Some(tail) = record.tail.as_mut().filter(|t| t.path == path) else { return };
        if from != tail.offset {
            // The first read starts near the end; a file that shrank starts over.
            *tail = FileTail::new(&record.kind, path.to_path_buf());
        }
        tail.offset = from + bytes.len() as u64;
        let observations = match &mut tail.reader {
            FileReader::Transcript(reader) => reader.on_bytes(bytes, now),
            FileReader::Rollout(reader) => reader.on_bytes(bytes, now),
        };
        self.observe_lagging(observations, out);
    }

    /// Observations of a lagging source (registry file, transcript, rollout): their states
    /// count only when not older than the structured opinion in force, so a file written
    /// before the last hook never undoes it; their metadata always counts.
    fn observe_lagging(&mut self, observations: Vec<Observation>, out: &mut Vec<Output>) {
        let Some(record) = &self.record else { return };
        let newest_opinion =
            [record.structured.as_ref().map(|o| o.at), record.dialog.as_ref().map(|d| d.at)]
                .into_iter()
                .flatten()
                .max();
        let accepted: Vec<Observation> = observations
            .into_iter()
            .filter(|obs| {
                !matches!(obs.claim, Claim::State(_))
                    || newest_opinion.is_none_or(|at| obs.at >= at)
            })
            .collect();
        if accepted.is_empty() {
            return;
        }
        for obs in accepted {
            self.observe(obs);
        }
        out.push(Output::MetaChanged);
    }

    /// The agent's open files: its rollout, if it holds one.
    fn on_open_files(&mut self, pid: u32, paths: Vec<PathBuf>, out: &mut Vec<Output>) {
        let Some(record) =
            self.record.as_mut().filter(|r| r.pid() == Some(pid) && r.tail.is_none())
        else {
            return;
        };
        let rollout = paths.into_iter().find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rollout-") && n.ends_with(".jsonl"))
        });
        if let Some(path) = rollout {
            let tail = FileTail::new(&record.kind, path);
            out.push(Output::Want(tail.want()));
            record.tail = Some(tail);
        }
    }

    /// Whether the nearest agent in an event's ancestry is another agent than the primary
    /// (a nested `claude -p` run by a tool): its events are the primary's subagents.
    fn nested_agent(&self, ancestry: &[u32]) -> bool {
        let Some(primary) = self.record.as_ref().and_then(Record::pid) else { return false };
        for pid in ancestry {
            if *pid == primary {
                return false;
            }
            let is_agent = self.procs.iter().find(|p| p.pid == *pid).is_some_and(|p| {
                self.rules.agents().any(|a| process::is_match(a.process(), &p.argv))
            });
            if is_agent {
                return true;
            }
        }
        false
    }

    /// Records an observation and updates the opinion it belongs to.
    fn observe(&mut self, obs: Observation) {
        let Some(record) = self.record.as_mut() else {
            if let Claim::Hint(Hint::Attention) = obs.claim {
                self.attention_at = Some(obs.at);
            }
            return;
        };
        match &obs.claim {
            Claim::Kind(_) | Claim::Confirm(_) => {}
            Claim::Gone { code } => record.gone = Some(*code),
            Claim::Meta(delta) => {
                record.meta.merge(obs.source, obs.at, delta);
            }
            Claim::Hint(hint) => match hint {
                Hint::Attention | Hint::TitleDone => self.attention_at = Some(obs.at),
                Hint::DialogGone => resolve_dialog(record, obs.at),
                Hint::TurnStarted => {
                    if record.failure.as_ref().is_some_and(|f| obs.at >= f.at) {
                        record.failure = None;
                    }
                }
                Hint::InterruptKey | Hint::UserInput | Hint::TitleBusy | Hint::FocusMode(_) => {}
            },
            Claim::State(state) => {
                let opinion = Opinion { state: state.clone(), source: obs.source, at: obs.at };
                // Any newer word of the agent on what it does ends a reported failure.
                if !matches!(state, AgentState::Errored { .. })
                    && record.failure.as_ref().is_some_and(|f| obs.at > f.at)
                {
                    record.failure = None;
                }
                match state {
                    AgentState::NeedsApproval { .. } | AgentState::NeedsInput { .. } => {
                        let resolved_later =
                            record.structured.as_ref().is_some_and(|s| s.at > obs.at);
                        if !resolved_later {
                            record.dialog = Some(DialogOpinion {
                                state: state.clone(),
                                source: obs.source,
                                at: obs.at,
                                screen_showed: false,
                                input_after: false,
                            });
                        }
                    }
                    AgentState::Errored { .. } => record.failure = Some(opinion),
                    AgentState::Working { activity } => {
                        resolve_dialog(record, obs.at);
                        record.background = Background {
                            shells: activity.background_shells,
                            agents: activity.background_agents,
                        };
                        record.structured = Some(opinion);
                    }
                    AgentState::Idle | AgentState::Done { .. } => {
                        resolve_dialog(record, obs.at);
                        record.background = Background::default();
                        // Registry `idle` right after `busy` is a finished turn.
                        let after_busy = matches!(
                            record.structured.as_ref().map(|s| &s.state),
                            Some(AgentState::Working { .. })
                        );
                        let state = if *state == AgentState::Idle
                            && after_busy
                            && obs.source == Source::ClaudeRegistry
                        {
                            AgentState::Done { unseen: true }
                        } else {
                            state.clone()
                        };
                        record.structured = Some(Opinion { state, ..opinion });
                    }
                    AgentState::Exited { code } => record.gone = Some(*code),
                    AgentState::Starting | AgentState::Setup { .. } => {}
                }
            }
        }
        if record.trace.len() == TRACE_LEN {
            record.trace.pop_front();
        }
        record.trace.push_back(obs);
    }

    fn acknowledge(&mut self, now: Stamp, out: &mut Vec<Output>) {
        if let Some(record) = self.record.as_mut()
            && record.state == (AgentState::Done { unseen: true })
        {
            let from = std::mem::replace(&mut record.state, AgentState::Done { unseen: false });
            out.push(Output::StateChanged {
                from,
                to: record.state.clone(),
                source: record.source,
                at: now,
            });
        }
    }

    /// Runs the fusion rules and applies the result.
    fn decide(&mut self, now: Stamp, out: &mut Vec<Output>) {
        self.resolve_dialog_by_screen(now);
        let Some(record) = &self.record else { return };
        let (state, source, confidence) = self.fuse(record, now);
        let dialog_on_screen = self.screen.dialog().map(|hit| hit.fingerprint);
        let record = self.record.as_mut().expect("checked above");
        let state = match state {
            // A finished turn is unseen unless somebody watches as it finishes.
            AgentState::Done { .. } => match &record.state {
                AgentState::Done { unseen } => AgentState::Done { unseen: *unseen },
                _ => AgentState::Done { unseen: self.clients == 0 },
            },
            other => other,
        };
        // The screen ended a turn the structured sources still call working (an interrupt
        // without Stop): only a newer event may reopen it.
        if matches!(source, Source::Screen | Source::Timer)
            && matches!(state, AgentState::Idle | AgentState::Done { .. })
            && matches!(
                record.structured.as_ref().map(|o| &o.state),
                Some(AgentState::Working { .. })
            )
        {
            record.structured = None;
        }
        // Another dialog right after the last one (other rows on screen, or another tool)
        // is a new state with its own `since`.
        let dialog =
            matches!(state, AgentState::NeedsApproval { .. } | AgentState::NeedsInput { .. });
        let new_dialog = dialog
            && (state != record.state
                || dialog_on_screen.is_some_and(|f| record.dialog_fingerprint != Some(f)));
        if dialog {
            record.dialog_fingerprint = dialog_on_screen.or(record.dialog_fingerprint);
        }
        if state != record.state || new_dialog {
            let same = state.same_kind(&record.state) && !new_dialog;
            let from = std::mem::replace(&mut record.state, state.clone());
            if !same {
                record.since = now;
            }
            record.source = source;
            record.confidence = confidence;
            out.push(Output::StateChanged { from, to: state, source, at: now });
        }
    }

    /// F3 (b), (c), (d): a structured dialog opinion answered on screen.
    fn resolve_dialog_by_screen(&mut self, now: Stamp) {
        let t = *self.rules.timing();
        let no_dialog_for = self.screen.no_dialog_since.map(|since| now.since(since));
        let screen_changed_after_input =
            self.last_input.is_some_and(|input| self.screen.changed_at > input);
        let busy = self.screen.busy();
        let Some(record) = self.record.as_mut() else { return };
        let Some(dialog) = &record.dialog else { return };
        let gone_long_enough = no_dialog_for.is_some_and(|ms| ms >= t.dialog_gone);
        let answered_on_screen = dialog.screen_showed && gone_long_enough;
        let answered_by_input =
            dialog.input_after && screen_changed_after_input && gone_long_enough;
        let never_shown_and_busy =
            !dialog.screen_showed && now.since(dialog.at) >= t.dialog_confirm && busy;
        if answered_on_screen || answered_by_input || never_shown_and_busy {
            resolve_dialog(record, now);
        }
    }

    /// The fusion rules F1–F7 (§4.2), in order.
    fn fuse(&self, record: &Record, now: Stamp) -> (AgentState, Source, Confidence) {
        let t = self.rules.timing();
        let screen = &self.screen;
        // F1
        if let Some(code) = record.gone {
            return (AgentState::Exited { code }, Source::Process, Confidence::Exact);
        }
        // F2
        if let Some(hit) = screen.hit(RuleState::Setup) {
            let dialog = hit.setup.clone().unwrap_or_else(|| SetupKind::Other(hit.rule_id.clone()));
            return (AgentState::Setup { dialog }, Source::Screen, hit.confidence);
        }
        // F3
        if let Some(hit) = screen.dialog() {
            return (
                screen_dialog_state(hit, record.dialog.as_ref()),
                Source::Screen,
                hit.confidence,
            );
        }
        if let Some(dialog) = &record.dialog {
            return (dialog.state.clone(), dialog.source, Confidence::Exact);
        }
        // F4: a failure stands until the next turn, or until the screen shows work again.
        if let Some(failure) = &record.failure
            && screen.busy_since.is_none_or(|since| since <= failure.at)
        {
            return (failure.state.clone(), failure.source, Confidence::Exact);
        }
        let busy = screen.busy();
        if let Some(hit) = screen.hit(RuleState::Errored)
            && !busy
        {
            let text = hit.detail.clone().unwrap_or_default();
            let kind = ErrorKind::classify(&text);
            return (
                AgentState::Errored { kind, text: one_line(&text) },
                Source::Screen,
                hit.confidence,
            );
        }
        let quiet = now.since(screen.changed_at);
        let hinted = [self.attention_at, self.last_input.filter(|_| self.last_input_interrupt)]
            .into_iter()
            .flatten()
            // A hint shortly before the last change counts: Esc, then the composer redraws.
            .any(|at| at.mono_ms + t.idle_debounce >= screen.changed_at.mono_ms);
        let debounce = if hinted { t.attention_debounce } else { t.idle_debounce };
        let settled = screen.idle_composer() && !busy && quiet >= debounce;
        let screen_background =
            screen.eval.as_ref().map_or((0, 0), |e| (e.background_shells, e.background_agents));
        let activity = |tool: Option<String>| Activity {
            tool,
            spinner: screen.hit(RuleState::Working).and_then(|h| h.detail.clone()),
            subagents: record.subagents,
            background_shells: screen_background.0.max(record.background.shells),
            background_agents: screen_background.1.max(record.background.agents),
        };
        // F5
        if let Some(opinion) = &record.structured {
            match &opinion.state {
                AgentState::Working { activity: a } => {
                    let background = a.background_shells + a.background_agents > 0;
                    let background_clear =
                        background && screen.hit(RuleState::Background).is_none() && settled;
                    if !settled && !background_clear {
                        return (
                            AgentState::Working { activity: activity(a.tool.clone()) },
                            opinion.source,
                            Confidence::Exact,
                        );
                    }
                }
                AgentState::Done { .. } | AgentState::Idle => {
                    let busy_long =
                        screen.busy_since.is_some_and(|since| now.since(since) >= t.busy_override)
                            && screen.busy_since.is_some_and(|since| since > opinion.at);
                    if !busy_long {
                        return (opinion.state.clone(), opinion.source, Confidence::Exact);
                    }
                    return (
                        AgentState::Working { activity: activity(None) },
                        Source::Screen,
                        Confidence::High,
                    );
                }
                _ => {}
            }
        }
        // F6
        if let Some(hit) = screen.hit(RuleState::Working) {
            return (
                AgentState::Working { activity: activity(None) },
                Source::Screen,
                hit.confidence,
            );
        }
        if let Some(hit) = screen.hit(RuleState::Background) {
            return (
                AgentState::Working { activity: activity(None) },
                Source::Screen,
                hit.confidence,
            );
        }
        // A turn we saw working, not ended by an interrupt key, finished; anything else
        // (an interrupted turn, an old summary still on screen) is idle.
        let finished_turn =
            matches!(record.state, AgentState::Working { .. } | AgentState::Done { .. })
                && !(self.last_input_interrupt
                    && self.last_input.is_some_and(|at| at >= record.since));
        if screen.hit(RuleState::Done).is_some()
            && screen.idle_composer()
            && quiet >= t.attention_debounce
        {
            let state =
                if finished_turn { AgentState::Done { unseen: true } } else { AgentState::Idle };
            return (state, Source::Screen, Confidence::High);
        }
        if settled {
            let state =
                if finished_turn { AgentState::Done { unseen: true } } else { AgentState::Idle };
            return (state, Source::Screen, Confidence::High);
        }
        // F7
        if !screen.any_hit() && screen.eval.is_some() {
            if quiet < t.idle_debounce && screen.changed_at > record.since {
                return (
                    AgentState::Working { activity: activity(None) },
                    Source::Screen,
                    Confidence::Low,
                );
            }
            if quiet >= t.idle_debounce {
                return (AgentState::Idle, Source::Timer, Confidence::Low);
            }
        }
        // Nothing decides: keep the state, but never a dialog, an error or a setup screen
        // that is gone.
        match &record.state {
            AgentState::NeedsApproval { .. }
            | AgentState::NeedsInput { .. }
            | AgentState::Errored { .. } => {
                (AgentState::Working { activity: activity(None) }, Source::Screen, Confidence::Low)
            }
            AgentState::Setup { .. } if screen.idle_composer() => {
                (AgentState::Idle, Source::Screen, Confidence::Medium)
            }
            AgentState::Setup { .. } => (AgentState::Starting, Source::Screen, Confidence::Low),
            other => (other.clone(), record.source, record.confidence),
        }
    }

    fn screen_agrees(&self, record: &Record) -> Option<bool> {
        let eval = self.screen.eval.as_ref()?;
        if record.source == Source::Screen || eval.hits.is_empty() {
            return Some(true).filter(|_| !eval.hits.is_empty());
        }
        let top = eval.top()?;
        let agrees = match top.state {
            RuleState::Setup => matches!(record.state, AgentState::Setup { .. }),
            RuleState::NeedsApproval => matches!(record.state, AgentState::NeedsApproval { .. }),
            RuleState::NeedsInput => matches!(record.state, AgentState::NeedsInput { .. }),
            RuleState::Errored => matches!(record.state, AgentState::Errored { .. }),
            RuleState::Working | RuleState::Background => {
                matches!(record.state, AgentState::Working { .. })
            }
            RuleState::Done | RuleState::Idle => {
                matches!(record.state, AgentState::Done { .. } | AgentState::Idle)
            }
        };
        Some(agrees)
    }

    /// Screen auto-approval (§7.2): every condition, or nothing is sent.
    fn maybe_answer(&mut self, now: Stamp, out: &mut Vec<Output>) {
        // A dialog gone for good is forgotten: the same question later is a new dialog.
        let gone_for = self.screen.no_dialog_since.map(|since| now.since(since));
        if gone_for.is_some_and(|ms| ms >= self.rules.timing().dialog_gone) {
            self.screen.first_seen.clear();
            self.yolo.answered.clear();
            self.yolo.stuck = false;
        }
        let Some(enabled_at) = self.yolo.enabled_at else { return };
        let Some(record) = &self.record else { return };
        if record.process.as_ref().is_some_and(AgentProcess::yolo_native) {
            return;
        }
        let Some(hit) = self.screen.dialog() else { return };
        if let Some(at) = self.yolo.answered.get(&hit.fingerprint) {
            if now.since(*at) >= YOLO_STUCK_MS && !self.yolo.stuck {
                self.yolo.stuck = true;
                out.push(Output::MetaChanged);
            }
            return;
        }
        let Some(yolo) = &hit.yolo else { return };
        let first_seen = self.screen.first_seen.get(&hit.fingerprint).copied();
        let fresh = first_seen.is_some_and(|seen| {
            seen > enabled_at && self.last_input.is_none_or(|input| seen > input)
        });
        let structured_agrees = record
            .dialog
            .as_ref()
            .is_none_or(|d| matches!(d.state, AgentState::NeedsApproval { .. }));
        let drawn = now.since(self.screen.changed_at) >= YOLO_SETTLE_MS;
        let sure = hit.state == RuleState::NeedsApproval
            && hit.confidence >= Confidence::High
            && hit.yolo_selected;
        if !(fresh
            && structured_agrees
            && drawn
            && sure
            && matches!(record.state, AgentState::NeedsApproval { .. }))
        {
            return;
        }
        self.yolo.answered.insert(hit.fingerprint, now);
        self.yolo.answers += 1;
        out.push(Output::Send {
            bytes: yolo.keys.as_bytes().to_vec(),
            why: SendWhy::Yolo(hit.rule_id.clone()),
        });
        out.push(Output::Log(serde_json::json!({
            "at_ms": now.unix_ms, "yolo_answer": "screen", "agent": record.kind.name(), "rule": hit.rule_id,
            "tool": hit.tool, "detail": hit.detail, "keys": yolo.keys,
            "agreeing_sources": record.dialog.as_ref().map(|d| d.source.name()),
        })));
        out.push(Output::MetaChanged);
    }
}

/// How long a dialog must be unchanged before an automatic answer (fully drawn).
const YOLO_SETTLE_MS: u64 = 300;
/// A dialog still there this long after an answer is left to the user.
const YOLO_STUCK_MS: u64 = 2000;

fn resolve_dialog(record: &mut Record, at: Stamp) {
    if record.dialog.as_ref().is_some_and(|d| d.at > at) {
        return; // evidence older than the dialog answers nothing
    }
    if let Some(dialog) = record.dialog.take()
        && record.structured.as_ref().is_none_or(|s| s.at <= at)
    {
        record.structured = Some(Opinion {
            state: AgentState::Working { activity: Activity::default() },
            source: dialog.source,
            at,
        });
    }
}

/// The state a screen dialog shows, with a structured opinion's detail merged in.
fn screen_dialog_state(hit: &Hit, structured: Option<&DialogOpinion>) -> AgentState {
    match hit.state {
        RuleState::NeedsInput => {
            AgentState::NeedsInput { kind: hit.input.unwrap_or(InputKind::Dialog) }
        }
        _ => {
            let (s_tool, s_detail) = match structured.map(|d| &d.state) {
                Some(AgentState::NeedsApproval { tool, detail, .. }) => {
                    (tool.clone(), detail.clone())
                }
                _ => (None, None),
            };
            AgentState::NeedsApproval {
                tool: s_tool.or_else(|| hit.tool.clone()),
                detail: s_detail.or_else(|| hit.detail.clone()),
                options: Vec::new(),
            }
        }
    }
}

fn title_hint(title: &str) -> Option<Hint> {
    let first = title.chars().next()?;
    if ('\u{2800}'..='\u{28ff}').contains(&first) || ('\u{25d0}'..='\u{25d3}').contains(&first) {
        Some(Hint::TitleBusy)
    } else if "✳✻✽✶✢".contains(first) {
        Some(Hint::TitleDone)
    } else {
        None
    }
}

/// Esc alone or Ctrl-C.
fn is_interrupt_key(bytes: &[u8]) -> bool {
    bytes == b"\x1b" || bytes == b"\x03"
}

/// Claude's transcript of session `id` started in `cwd`: `<projects>/<encoded cwd>/<id>.jsonl`,
/// where every character but an ASCII letter or digit becomes `-`. Names over 200
/// characters get a hash suffix Claude does not document: unknown, not guessed.
fn claude_transcript_path(projects: &Path, cwd: &Path, id: &str) -> Option<PathBuf> {
    let encoded: String =
        cwd.to_str()?.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '-' }).collect();
    (encoded.len() <= 200).then(|| projects.join(encoded).join(format!("{id}.jsonl")))
}
