//! The vocabulary of the crate: kinds of agents, their states, sources of evidence and
//! observations. Everything here is plain data; the behaviour lives in the tracker.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// A point in time, given by the caller: the crate never reads a clock.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Stamp {
    /// Monotonic milliseconds (timers and ordering).
    pub mono_ms: u64,
    /// Wall-clock milliseconds since the Unix epoch (shown to users, compared with event stamps).
    pub unix_ms: i64,
}

impl Stamp {
    /// A stamp `ms` milliseconds later.
    pub fn plus(self, ms: u64) -> Stamp {
        Stamp { mono_ms: self.mono_ms + ms, unix_ms: self.unix_ms + ms as i64 }
    }

    /// Milliseconds from `earlier` to `self` on the monotonic clock, 0 if `earlier` is later.
    pub fn since(self, earlier: Stamp) -> u64 {
        self.mono_ms.saturating_sub(earlier.mono_ms)
    }
}

/// Which agent.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgentKind {
    /// Claude Code.
    Claude,
    /// OpenAI Codex CLI.
    Codex,
    /// Gemini CLI.
    Gemini,
    /// Aider.
    Aider,
    /// OpenCode.
    OpenCode,
    /// An agent defined in the user's `agents.toml`.
    Other(String),
}

impl AgentKind {
    /// The name used in rule tables, `tsm ls` and JSON (`claude`, `codex`, …).
    pub fn name(&self) -> &str {
        match self {
            AgentKind::Claude => "claude",
            AgentKind::Codex => "codex",
            AgentKind::Gemini => "gemini",
            AgentKind::Aider => "aider",
            AgentKind::OpenCode => "opencode",
            AgentKind::Other(name) => name,
        }
    }

    /// The kind a rule table's `[agent.<name>]` names.
    pub fn from_name(name: &str) -> AgentKind {
        match name {
            "claude" => AgentKind::Claude,
            "codex" => AgentKind::Codex,
            "gemini" => AgentKind::Gemini,
            "aider" => AgentKind::Aider,
            "opencode" => AgentKind::OpenCode,
            other => AgentKind::Other(other.to_string()),
        }
    }
}

impl fmt::Display for AgentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for AgentKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for AgentKind {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(AgentKind::from_name(&name))
    }
}

/// What an agent is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentState {
    /// The agent process is seen, nothing else is known yet.
    Starting,
    /// Onboarding, login, trust…: blocked until the user acts.
    Setup {
        /// Which dialog.
        dialog: SetupKind,
    },
    /// Working on a turn.
    Working {
        /// What it is doing, when known.
        activity: Activity,
    },
    /// Waiting for the user to approve a tool.
    NeedsApproval {
        /// The tool, when known (`Bash`, `Edit`, …).
        tool: Option<String>,
        /// The command, file or other detail, when known.
        detail: Option<String>,
        /// The options the dialog offers, when known.
        options: Vec<String>,
    },
    /// Waiting for an answer that is not an approval.
    NeedsInput {
        /// What kind of question.
        kind: InputKind,
    },
    /// At its prompt, no unseen finished turn.
    Idle,
    /// A turn finished normally.
    Done {
        /// Not yet acknowledged by the user (attach, input, AgentAck).
        unseen: bool,
    },
    /// A turn failed.
    Errored {
        /// Which failure.
        kind: ErrorKind,
        /// The error's text, one line.
        text: String,
    },
    /// The agent process is gone.
    Exited {
        /// Its exit code, only if the daemon reaped it.
        code: Option<i32>,
    },
}

impl AgentState {
    /// The machine name of the state (`needs_approval`, …), as in the JSON report.
    pub fn name(&self) -> &'static str {
        match self {
            AgentState::Starting => "starting",
            AgentState::Setup { .. } => "setup",
            AgentState::Working { .. } => "working",
            AgentState::NeedsApproval { .. } => "needs_approval",
            AgentState::NeedsInput { .. } => "needs_input",
            AgentState::Idle => "idle",
            AgentState::Done { .. } => "done",
            AgentState::Errored { .. } => "errored",
            AgentState::Exited { .. } => "exited",
        }
    }

    /// The `tsm ls` token: a seen `done` displays `idle`.
    pub fn display(&self) -> &'static str {
        match self {
            AgentState::Starting => "starting",
            AgentState::Setup { .. } => "setup",
            AgentState::Working { .. } => "working",
            AgentState::NeedsApproval { .. } => "approval",
            AgentState::NeedsInput { .. } => "input",
            AgentState::Idle => "idle",
            AgentState::Done { unseen: true } => "done",
            AgentState::Done { unseen: false } => "idle",
            AgentState::Errored { .. } => "error",
            AgentState::Exited { .. } => "exited",
        }
    }

    /// Whether the agent waits for the user in this state (what `tsm wait --agent` waits for).
    pub fn needs_user(&self) -> bool {
        !matches!(self, AgentState::Starting | AgentState::Working { .. })
    }

    /// Whether two states are the same state, ignoring details such as activity counters.
    pub fn same_kind(&self, other: &AgentState) -> bool {
        self.name() == other.name()
    }
}

/// A setup dialog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupKind {
    /// Theme choice.
    Theme,
    /// Login method.
    Login,
    /// Use the API key found in the environment?
    ApiKey,
    /// Trust this folder?
    Trust,
    /// Trust an MCP server?
    McpTrust,
    /// The bypass-permissions warning.
    BypassWarning,
    /// Hooks need review (Codex).
    HooksReview,
    /// The agent cannot reach its service.
    Offline,
    /// The agent refused its settings file.
    SettingsError,
    /// An authorisation URL to visit.
    Auth,
    /// Another dialog, by rule id.
    Other(String),
}

impl SetupKind {
    /// The kind a rule's `setup` name gives (`trust`, `login`, …).
    pub fn from_name(name: &str) -> SetupKind {
        match name {
            "theme" => SetupKind::Theme,
            "login" => SetupKind::Login,
            "api_key" => SetupKind::ApiKey,
            "trust" => SetupKind::Trust,
            "mcp_trust" => SetupKind::McpTrust,
            "bypass_warning" => SetupKind::BypassWarning,
            "hooks_review" => SetupKind::HooksReview,
            "offline" => SetupKind::Offline,
            "settings_error" => SetupKind::SettingsError,
            "auth" => SetupKind::Auth,
            other => SetupKind::Other(other.to_string()),
        }
    }

    /// The name of the dialog, as in the JSON report.
    pub fn name(&self) -> &str {
        match self {
            SetupKind::Theme => "theme",
            SetupKind::Login => "login",
            SetupKind::ApiKey => "api_key",
            SetupKind::Trust => "trust",
            SetupKind::McpTrust => "mcp_trust",
            SetupKind::BypassWarning => "bypass_warning",
            SetupKind::HooksReview => "hooks_review",
            SetupKind::Offline => "offline",
            SetupKind::SettingsError => "settings_error",
            SetupKind::Auth => "auth",
            SetupKind::Other(name) => name,
        }
    }
}

/// What a working agent is doing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    /// The tool running, when known.
    pub tool: Option<String>,
    /// The spinner row's text, when read from the screen.
    pub spinner: Option<String>,
    /// Subagents running.
    pub subagents: u32,
    /// Background shells still running after the turn.
    pub background_shells: u32,
    /// Background agents still running after the turn.
    pub background_agents: u32,
}

/// What kind of input an agent waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// A question menu (Claude's `AskUserQuestion`, Codex questions).
    Question,
    /// An MCP elicitation.
    Elicitation,
    /// Another dialog.
    Dialog,
}

impl InputKind {
    /// The name of the kind, as in the JSON report.
    pub fn name(self) -> &'static str {
        match self {
            InputKind::Question => "question",
            InputKind::Elicitation => "elicitation",
            InputKind::Dialog => "dialog",
        }
    }
}

/// Why a turn failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Not logged in or bad credentials.
    Auth,
    /// Rate limited.
    RateLimit,
    /// Usage limit of the plan reached.
    UsageLimit,
    /// The service is overloaded.
    Overloaded,
    /// No connection to the service.
    Connection,
    /// Billing problem.
    Billing,
    /// Another API error.
    Api,
    /// Unknown.
    Unknown,
}

impl ErrorKind {
    /// The name of the kind, as in the JSON report.
    pub fn name(self) -> &'static str {
        match self {
            ErrorKind::Auth => "auth",
            ErrorKind::RateLimit => "rate_limit",
            ErrorKind::UsageLimit => "usage_limit",
            ErrorKind::Overloaded => "overloaded",
            ErrorKind::Connection => "connection",
            ErrorKind::Billing => "billing",
            ErrorKind::Api => "api",
            ErrorKind::Unknown => "unknown",
        }
    }

    /// Classifies an error text (a banner or an event's error name).
    pub fn classify(text: &str) -> ErrorKind {
        let lower = text.to_ascii_lowercase();
        let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
        if has(&["401", "login", "authentication", "oauth", "unauthorized"]) {
            ErrorKind::Auth
        } else if has(&["usage limit", "usage_limit"]) {
            ErrorKind::UsageLimit
        } else if has(&["rate limit", "rate_limit", "429"]) {
            ErrorKind::RateLimit
        } else if has(&["overloaded", "529"]) {
            ErrorKind::Overloaded
        } else if has(&["connection", "socket", "unable to connect"]) {
            ErrorKind::Connection
        } else if has(&["billing", "credit"]) {
            ErrorKind::Billing
        } else if has(&["api error", "server_error", "invalid_request", "model_not_found"]) {
            ErrorKind::Api
        } else {
            ErrorKind::Unknown
        }
    }
}

/// How much an observation is to be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Confidence {
    /// A guess (a screen that changes, nothing else).
    Low,
    /// Generic markers, events without a matching process.
    Medium,
    /// Specific screen markers.
    High,
    /// The agent's own structured events.
    Exact,
}

/// Where an observation came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The process table.
    Process,
    /// Screen rules.
    Screen,
    /// The window title.
    Title,
    /// Notification escapes and BEL.
    Escape,
    /// Client input.
    Input,
    /// A timer (idle by absence).
    Timer,
    /// A Claude Code hook.
    ClaudeHook,
    /// Claude Code's session registry file.
    ClaudeRegistry,
    /// Claude Code's statusline JSON.
    ClaudeStatusline,
    /// A Claude Code transcript.
    ClaudeTranscript,
    /// Codex's `notify` program.
    CodexNotify,
    /// A Codex hook.
    CodexHook,
    /// A Codex rollout file.
    CodexRollout,
    /// Codex's thread index.
    CodexThreads,
    /// A Gemini CLI hook.
    GeminiHook,
    /// A Gemini CLI chat file.
    GeminiChat,
    /// Aider's notification command.
    AiderNotify,
    /// OpenCode's event stream.
    OpenCodeEvents,
}

impl Source {
    /// The snake_case name, as in the JSON report and `tsm agents`.
    pub fn name(self) -> &'static str {
        match self {
            Source::Process => "process",
            Source::Screen => "screen",
            Source::Title => "title",
            Source::Escape => "escape",
            Source::Input => "input",
            Source::Timer => "timer",
            Source::ClaudeHook => "claude_hook",
            Source::ClaudeRegistry => "claude_registry",
            Source::ClaudeStatusline => "claude_statusline",
            Source::ClaudeTranscript => "claude_transcript",
            Source::CodexNotify => "codex_notify",
            Source::CodexHook => "codex_hook",
            Source::CodexRollout => "codex_rollout",
            Source::CodexThreads => "codex_threads",
            Source::GeminiHook => "gemini_hook",
            Source::GeminiChat => "gemini_chat",
            Source::AiderNotify => "aider_notify",
            Source::OpenCodeEvents => "open_code_events",
        }
    }

    /// The short name of `tsm agents`' SOURCE column (`hook`, `screen`, …).
    pub fn short(self) -> &'static str {
        match self {
            Source::ClaudeHook | Source::CodexHook | Source::GeminiHook => "hook",
            Source::CodexNotify | Source::AiderNotify => "notify",
            Source::ClaudeRegistry => "registry",
            Source::ClaudeStatusline => "status",
            Source::ClaudeTranscript | Source::CodexRollout | Source::GeminiChat => "file",
            Source::CodexThreads => "threads",
            Source::OpenCodeEvents => "events",
            other => other.name(),
        }
    }

    /// Whether this is one of the agents' own structured sources (layers 1 and 3).
    pub fn is_structured(self) -> bool {
        !matches!(
            self,
            Source::Process
                | Source::Screen
                | Source::Title
                | Source::Escape
                | Source::Input
                | Source::Timer
        )
    }
}

/// One piece of evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Where it came from.
    pub source: Source,
    /// When it was made (for an event: when `tsm hook` started).
    pub at: Stamp,
    /// How much to trust it.
    pub confidence: Confidence,
    /// What it says.
    pub claim: Claim,
}

/// What an observation says.
// Observations are made and consumed one at a time; a box per metadata update would cost
// more than the unused bytes of the small variants.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// The agent is of this kind.
    Kind(AgentKind),
    /// The agent process is gone (or about to be: re-check).
    Gone {
        /// The exit code, if known.
        code: Option<i32>,
    },
    /// The agent is in this state.
    State(AgentState),
    /// Confirms a state without entering it (late notifications, §4.2 F3).
    Confirm(AgentState),
    /// Evidence that is not a state by itself.
    Hint(Hint),
    /// Metadata.
    Meta(MetaDelta),
}

/// Evidence that is not a state by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hint {
    /// A notification escape or BEL: the agent wants attention.
    Attention,
    /// The title shows a busy spinner.
    TitleBusy,
    /// The title shows the done glyph.
    TitleDone,
    /// The user pressed an interrupt key (Esc alone, Ctrl-C).
    InterruptKey,
    /// The user typed something.
    UserInput,
    /// The agent reported progress that answers any open dialog.
    DialogGone,
    /// A new turn started (clears errors).
    TurnStarted,
    /// The program turned focus reporting on or off.
    FocusMode(bool),
}

/// Token counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    /// Input tokens.
    pub input: u64,
    /// Output tokens.
    pub output: u64,
    /// Tokens read from the cache.
    pub cache_read: u64,
    /// Tokens written to the cache.
    pub cache_write: u64,
}

/// How full the context window is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Context {
    /// Tokens in the context.
    pub used: u64,
    /// The window's size in tokens.
    pub window: u64,
    /// Percentage used.
    pub pct: u32,
}

/// Field updates; `None` leaves a field alone. Merged per field by source rank (§4.5).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetaDelta {
    /// The agent's version.
    pub version: Option<String>,
    /// The model id or display name.
    pub model: Option<String>,
    /// The permission mode (`default`, `plan`, …).
    pub permission_mode: Option<String>,
    /// The agent session id, and whether it comes from the agent process itself.
    pub agent_session_id: Option<(String, bool)>,
    /// The transcript or rollout file.
    pub transcript_path: Option<PathBuf>,
    /// The agent's working directory.
    pub cwd: Option<PathBuf>,
    /// Cost so far, in USD.
    pub cost_usd: Option<f64>,
    /// Token counts.
    pub tokens: Option<Tokens>,
    /// Context window use.
    pub context: Option<Context>,
    /// The last prompt the user sent.
    pub last_prompt: Option<String>,
    /// The last message of the agent.
    pub last_message: Option<String>,
    /// Subagents started (+1) or stopped (-1).
    pub subagents_delta: i32,
}

impl MetaDelta {
    /// Whether the delta changes nothing.
    pub fn is_empty(&self) -> bool {
        *self == MetaDelta::default()
    }
}

/// Cuts text to one line of at most 200 characters, on a character boundary.
pub fn one_line(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    line.chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_of_seen_done_is_idle() {
        assert_eq!(AgentState::Done { unseen: true }.display(), "done");
        assert_eq!(AgentState::Done { unseen: false }.display(), "idle");
        assert_eq!(AgentState::NeedsInput { kind: InputKind::Question }.display(), "input");
    }

    #[test]
    fn one_line_cuts_on_char_boundary() {
        let long = "é".repeat(300);
        assert_eq!(one_line(&long).chars().count(), 200);
        assert_eq!(one_line("\n  first \nsecond"), "first");
    }

    #[test]
    fn error_texts_are_classified() {
        assert_eq!(ErrorKind::classify("API Error: 401 Unauthorized"), ErrorKind::Auth);
        assert_eq!(ErrorKind::classify("API Error: Rate limit reached"), ErrorKind::RateLimit);
        assert_eq!(ErrorKind::classify("You've hit your usage limit."), ErrorKind::UsageLimit);
        assert_eq!(ErrorKind::classify("API Error (Connection error.)"), ErrorKind::Connection);
        assert_eq!(ErrorKind::classify("overloaded"), ErrorKind::Overloaded);
        assert_eq!(ErrorKind::classify("something odd"), ErrorKind::Unknown);
    }

    #[test]
    fn kinds_round_trip_by_name() {
        for kind in [AgentKind::Claude, AgentKind::Codex, AgentKind::Gemini, AgentKind::Aider] {
            assert_eq!(AgentKind::from_name(kind.name()), kind);
        }
        assert_eq!(AgentKind::from_name("copilot"), AgentKind::Other("copilot".into()));
    }
}
