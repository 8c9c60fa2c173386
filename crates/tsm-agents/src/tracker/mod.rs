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

mod fusion;
mod structured;
mod yolo;

use fusion::resolve_dialog;
use structured::FileTail;
use yolo::{YOLO_SETTLE_MS, YOLO_STUCK_MS};

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
