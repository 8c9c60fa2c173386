//! The agent report (§1.3): what `tsm agents --json`, `tsm ls --json` and the AgentGet
//! reply carry. JSON, snake_case, stable; unknown facts are `null`, never guessed.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::types::{AgentKind, AgentState, Confidence, Context, Source, Tokens};

/// One session's agent, as reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentReport {
    /// The tsm session (filled in by the daemon).
    pub session: String,
    /// Which agent.
    pub kind: AgentKind,
    /// The state's machine name (`needs_approval`, …).
    pub state: String,
    /// The `tsm ls` token (`approval`, `done`, …).
    pub display: String,
    /// A finished turn the user has not seen yet.
    pub unseen: bool,
    /// When the state was entered, Unix ms.
    pub since_ms: i64,
    /// The source that decided the state.
    pub source: Source,
    /// How sure that source is.
    pub confidence: Confidence,
    /// Whether the screen says the same (`null` when no screen rule applies).
    pub screen_agrees: Option<bool>,
    /// State details: tool, text, dialog, error kind.
    pub detail: Detail,
    /// The agent process.
    pub pid: Option<u32>,
    /// The agent's version.
    pub version: Option<String>,
    /// The model.
    pub model: Option<String>,
    /// The agent's own session id.
    pub agent_session_id: Option<String>,
    /// Whether that id comes from the agent process itself.
    pub agent_session_id_verified: bool,
    /// The command that resumes the agent session (verified ids only).
    pub resume_cmd: Option<String>,
    /// The transcript or rollout file.
    pub transcript_path: Option<PathBuf>,
    /// The agent's working directory.
    pub cwd: Option<PathBuf>,
    /// The permission mode.
    pub permission_mode: Option<String>,
    /// Cost so far, USD.
    pub cost_usd: Option<f64>,
    /// Token counts.
    pub tokens: Option<Tokens>,
    /// Context window use.
    pub context: Option<Context>,
    /// The last prompt.
    pub last_prompt: Option<String>,
    /// The agent's last message.
    pub last_message: Option<String>,
    /// When anything last changed, Unix ms.
    pub updated_at_ms: i64,
    /// Background work after the turn.
    pub background: Background,
    /// Subagents running.
    pub subagents: u32,
    /// Auto-approval.
    pub yolo: YoloReport,
    /// Every source that has contributed.
    pub sources: Vec<Source>,
    /// When input last reached the program, Unix ms (`tsm wait --agent` waits for a state
    /// entered after it).
    #[serde(default)]
    pub last_input_ms: Option<i64>,
}

/// State details of a report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    /// The tool concerned.
    pub tool: Option<String>,
    /// The command, file, spinner row or error text.
    pub text: Option<String>,
    /// The setup dialog or input kind.
    pub dialog: Option<String>,
    /// The error kind.
    pub error: Option<String>,
}

impl Detail {
    /// The details of a state.
    pub fn of(state: &AgentState) -> Detail {
        match state {
            AgentState::Setup { dialog } => {
                Detail { dialog: Some(dialog.name().to_string()), ..Detail::default() }
            }
            AgentState::Working { activity } => Detail {
                tool: activity.tool.clone(),
                text: activity.spinner.clone(),
                ..Detail::default()
            },
            AgentState::NeedsApproval { tool, detail, .. } => {
                Detail { tool: tool.clone(), text: detail.clone(), ..Detail::default() }
            }
            AgentState::NeedsInput { kind } => {
                Detail { dialog: Some(kind.name().to_string()), ..Detail::default() }
            }
            AgentState::Errored { kind, text } => Detail {
                text: Some(text.clone()),
                error: Some(kind.name().to_string()),
                ..Detail::default()
            },
            _ => Detail::default(),
        }
    }

    /// A short text for the LAST column of `tsm agents` (`Bash: npm test`).
    pub fn summary(&self) -> String {
        match (&self.tool, &self.text) {
            (Some(tool), Some(text)) => format!("{tool}: {text}"),
            (Some(one), None) | (None, Some(one)) => one.clone(),
            (None, None) => self.dialog.clone().or_else(|| self.error.clone()).unwrap_or_default(),
        }
    }
}

/// Background work counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Background {
    /// Shells still running.
    pub shells: u32,
    /// Agents still running.
    pub agents: u32,
}

/// Auto-approval status (§7).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct YoloReport {
    /// Turned on for this session.
    pub enabled: bool,
    /// `native`, `hook` or `screen` while enabled.
    pub mode: Option<String>,
    /// Answers given.
    pub answers: u32,
    /// A dialog was still there 2 s after an answer.
    pub stuck: bool,
}
