//! Claude Code: hooks and the session registry file (spec/agents.md §5.1.1, §5.1.4).
//!
//! The hook mapping is shared with Codex, whose hooks have the same shape (§5.2.1);
//! [`HookFlavour`] holds what differs.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::{EventError, EventFacts, Fields, Observations, PermissionRequest, event_stamp};
use crate::types::{
    Activity, AgentState, Confidence, ErrorKind, Hint, InputKind, MetaDelta, Observation, Source,
    Stamp,
};

/// Claude's question tool: its "permission" is a question menu.
const QUESTION_TOOL: &str = "AskUserQuestion";

/// What differs between Claude's hooks and Codex's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum HookFlavour {
    /// Claude Code.
    Claude,
    /// Codex CLI: `model` on every event, no subagents, no hook answers.
    Codex,
}

impl HookFlavour {
    fn source(self) -> Source {
        match self {
            HookFlavour::Claude => Source::ClaudeHook,
            HookFlavour::Codex => Source::CodexHook,
        }
    }

    /// Whether the flavour knows this event name.
    fn knows(self, event: &str) -> bool {
        const CLAUDE: [&str; 16] = [
            "SessionStart",
            "UserPromptSubmit",
            "PreToolUse",
            "PermissionRequest",
            "PostToolUse",
            "PostToolUseFailure",
            "Notification",
            "Stop",
            "StopFailure",
            "SubagentStart",
            "SubagentStop",
            "PreCompact",
            "PostCompact",
            "SessionEnd",
            "Elicitation",
            "ElicitationResult",
        ];
        const CODEX: [&str; 8] = [
            "SessionStart",
            "PreToolUse",
            "PermissionRequest",
            "PostToolUse",
            "UserPromptSubmit",
            "Stop",
            "PreCompact",
            "PostCompact",
        ];
        match self {
            HookFlavour::Claude => CLAUDE.contains(&event),
            HookFlavour::Codex => CODEX.contains(&event),
        }
    }
}

/// A Claude hook payload.
pub(super) fn hook(obj: &Map<String, Value>, at: Stamp) -> Result<EventFacts, EventError> {
    hook_of(HookFlavour::Claude, obj, at)
}

/// A Claude or Codex hook payload.
pub(super) fn hook_of(
    flavour: HookFlavour,
    obj: &Map<String, Value>,
    at: Stamp,
) -> Result<EventFacts, EventError> {
    let f = Fields(obj);
    let event = f.str("hook_event_name").ok_or(EventError::MissingField("hook_event_name"))?;
    if !flavour.knows(event) {
        return Err(EventError::UnknownEvent(event.to_owned()));
    }
    let mut facts = EventFacts {
        agent_session_id: f.str("session_id").filter(|id| !id.is_empty()).map(str::to_owned),
        event_name: Some(event.to_owned()),
        ..EventFacts::default()
    };
    let mut obs = Observations::new(flavour.source(), at);
    let mut meta = MetaDelta {
        agent_session_id: facts.agent_session_id.clone().map(|id| (id, true)),
        transcript_path: f.path("transcript_path"),
        cwd: f.path("cwd"),
        permission_mode: f.text("permission_mode"),
        ..MetaDelta::default()
    };
    if flavour == HookFlavour::Codex || event == "SessionStart" {
        meta.model = f.text("model");
    }

    let subagent = flavour == HookFlavour::Claude
        && (f.str("agent_id").is_some() || matches!(event, "SubagentStart" | "SubagentStop"));
    if subagent {
        facts.subagent = true;
        meta.subagents_delta = match event {
            "SubagentStart" => 1,
            "SubagentStop" => -1,
            _ => 0,
        };
        if event == "PermissionRequest" {
            facts.permission_request = permission_request(f);
        }
        // Subagent events never claim the main state (§4.4); their transcript path is the
        // main session's, their messages are not.
        obs.meta(meta);
        facts.observations = obs.into_vec();
        return Ok(facts);
    }

    let tool = f.text("tool_name");
    let working = |tool: Option<String>| AgentState::Working {
        activity: Activity { tool, ..Activity::default() },
    };
    match event {
        "SessionStart" => {
            obs.meta(meta);
            // After compaction the turn may go on: no state (see the module docs).
            if f.str("source") != Some("compact") {
                obs.state(AgentState::Idle);
            }
        }
        "UserPromptSubmit" => {
            meta.last_prompt = f.text("prompt");
            obs.meta(meta);
            obs.hint(Hint::TurnStarted);
            obs.hint(Hint::DialogGone);
            obs.state(working(None));
        }
        "PreToolUse" if tool.as_deref() == Some(QUESTION_TOOL) => {
            obs.meta(meta);
            obs.state(AgentState::NeedsInput { kind: InputKind::Question });
        }
        "PreToolUse" | "PostToolUse" => {
            obs.meta(meta);
            obs.hint(Hint::DialogGone);
            obs.state(working(tool));
        }
        "PostToolUseFailure" => {
            obs.meta(meta);
            obs.hint(Hint::DialogGone);
            if f.bool("is_interrupt") == Some(true) {
                obs.state(AgentState::Idle);
            } else {
                obs.state(working(tool));
            }
        }
        "PermissionRequest" => {
            if flavour == HookFlavour::Claude {
                facts.permission_request = permission_request(f);
            }
            obs.meta(meta);
            if tool.as_deref() == Some(QUESTION_TOOL) {
                obs.state(AgentState::NeedsInput { kind: InputKind::Question });
            } else {
                obs.state(AgentState::NeedsApproval {
                    tool,
                    detail: super::tool_detail(obj.get("tool_input")),
                    options: Vec::new(),
                });
            }
        }
        "Notification" => {
            obs.meta(meta);
            notification(f, &mut obs);
        }
        "Elicitation" => {
            obs.meta(meta);
            obs.state(AgentState::NeedsInput { kind: InputKind::Elicitation });
        }
        "ElicitationResult" => {
            obs.meta(meta);
            obs.hint(Hint::DialogGone);
            obs.state(working(None));
        }
        "Stop" => {
            meta.last_message = f.text("last_assistant_message");
            obs.meta(meta);
            obs.hint(Hint::DialogGone);
            let (background_shells, background_agents) = background_counts(f);
            if background_shells + background_agents > 0 {
                obs.state(AgentState::Working {
                    activity: Activity {
                        background_shells,
                        background_agents,
                        ..Activity::default()
                    },
                });
            } else {
                obs.state(AgentState::Done { unseen: true });
            }
        }
        "StopFailure" => {
            meta.last_message = f.text("last_assistant_message");
            obs.meta(meta);
            obs.hint(Hint::DialogGone);
            let error = f.str("error").unwrap_or("unknown");
            let text = f
                .text("error_details")
                .or_else(|| f.object("error_details").and_then(|d| d.text("message")))
                .unwrap_or_else(|| crate::types::one_line(error));
            obs.state(AgentState::Errored { kind: stop_failure_kind(error), text });
        }
        "PreCompact" => {
            obs.meta(meta);
            obs.state(AgentState::Working {
                activity: Activity { spinner: Some("compacting".into()), ..Activity::default() },
            });
        }
        "SessionEnd" => {
            obs.meta(meta);
            facts.recheck_process = !matches!(f.str("reason"), Some("clear" | "resume"));
        }
        // PostCompact: see SessionStart with source compact.
        _ => obs.meta(meta),
    }
    facts.observations = obs.into_vec();
    Ok(facts)
}

/// What a `PermissionRequest` asks about.
fn permission_request(f: Fields<'_>) -> Option<PermissionRequest> {
    Some(PermissionRequest {
        tool: f.text("tool_name")?,
        detail: super::tool_detail(f.0.get("tool_input")),
    })
}

/// A `Notification` by its `notification_type`: elicitations enter `NeedsInput`; the late
/// permission and idle prompts only confirm (F3).
fn notification(f: Fields<'_>, obs: &mut Observations) {
    match f.str("notification_type").unwrap_or("") {
        "permission_prompt" => obs.confirm(AgentState::NeedsApproval {
            tool: f.str("message").and_then(permission_prompt_tool),
            detail: None,
            options: Vec::new(),
        }),
        "idle_prompt" => obs.confirm(AgentState::Idle),
        "elicitation_dialog" | "elicitation_url_dialog" => {
            obs.state(AgentState::NeedsInput { kind: InputKind::Elicitation });
        }
        "elicitation_complete" | "elicitation_response" => {
            obs.hint(Hint::DialogGone);
            obs.state(AgentState::Working { activity: Activity::default() });
        }
        "agent_needs_input" | "agent_completed" => obs.hint(Hint::Attention),
        // auth_success and types added later say nothing about the state.
        _ => {}
    }
}

/// The tool of a permission prompt's message: `Claude needs your permission to use Bash`.
fn permission_prompt_tool(message: &str) -> Option<String> {
    let rest = message.split_once("permission to use ")?.1;
    let tool: String =
        rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-').collect();
    (!tool.is_empty()).then_some(tool)
}

/// Running background shells and agents of a `Stop`'s `background_tasks`. Entries are
/// objects (`type` `shell`, `monitor`, `subagent`, …; `status`) or plain strings; an entry
/// without a status counts as running.
fn background_counts(f: Fields<'_>) -> (u32, u32) {
    let (mut shells, mut agents) = (0u32, 0u32);
    for task in f.array("background_tasks").map(Vec::as_slice).unwrap_or(&[]) {
        let (kind, running) = match task {
            Value::Object(map) => {
                let task = Fields(map);
                let status = task.str("status");
                let running = status.is_none_or(|s| matches!(s, "running" | "pending" | "active"));
                (task.str("type").or_else(|| task.str("kind")).unwrap_or(""), running)
            }
            Value::String(_) => ("", true),
            _ => continue,
        };
        if !running {
            continue;
        }
        if kind.contains("agent") {
            agents = agents.saturating_add(1);
        } else {
            shells = shells.saturating_add(1);
        }
    }
    (shells, agents)
}

/// The error kind of a `StopFailure`'s `error`.
fn stop_failure_kind(error: &str) -> ErrorKind {
    match error {
        "rate_limit" => ErrorKind::RateLimit,
        "overloaded" => ErrorKind::Overloaded,
        "authentication_failed" | "oauth_org_not_allowed" => ErrorKind::Auth,
        "billing_error" => ErrorKind::Billing,
        "invalid_request" | "model_not_found" | "server_error" | "max_output_tokens" => {
            ErrorKind::Api
        }
        "unknown" => ErrorKind::Unknown,
        other => ErrorKind::classify(other),
    }
}

/// One Claude registry file, `~/.claude/sessions/<pid>.json` (§5.1.1).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryEntry {
    /// The Claude process (`pid`).
    pub pid: u32,
    /// The agent session (`sessionId`); `/resume` rewrites it in place.
    pub session_id: Option<String>,
    /// The working directory (`cwd`).
    pub cwd: Option<PathBuf>,
    /// `busy`, `idle` or `waiting` (`status`; older versions have none).
    pub status: Option<String>,
    /// What a `waiting` Claude waits for (`waitingFor`: `approve Bash`, `input needed`, …).
    pub waiting_for: Option<String>,
    /// Claude's version (`version`).
    pub version: Option<String>,
    /// The process's start time (`procStart`), against pid reuse: text as Claude wrote
    /// it (`/proc` start ticks on Linux, a date on macOS); a number as its decimal text.
    pub proc_start: Option<String>,
    /// When the file was last written (`updatedAt`, Unix ms).
    pub updated_at: Option<i64>,
    /// When `status` last changed (`statusUpdatedAt`, Unix ms).
    pub status_updated_at: Option<i64>,
}

/// Parses a registry file.
///
/// # Errors
///
/// [`EventError::NotJson`] for a half-written file (keep the last good one until the file
/// changes), [`EventError::NotAnObject`], [`EventError::MissingField`] without a `pid`,
/// [`EventError::TooLarge`] over [`super::MAX_EVENT_PAYLOAD_LEN`].
pub fn parse_registry(contents: &[u8]) -> Result<RegistryEntry, EventError> {
    let obj = super::parse_object(contents)?;
    let f = Fields(&obj);
    let pid = obj
        .get("pid")
        .and_then(Value::as_u64)
        .and_then(|pid| u32::try_from(pid).ok())
        .ok_or(EventError::MissingField("pid"))?;
    let proc_start = match obj.get("procStart") {
        Some(Value::String(text)) => Some(text.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    Ok(RegistryEntry {
        pid,
        session_id: f.str("sessionId").filter(|id| !id.is_empty()).map(str::to_owned),
        cwd: f.path("cwd"),
        status: f.str("status").map(str::to_owned),
        waiting_for: f.str("waitingFor").map(str::to_owned),
        version: f.text("version"),
        proc_start,
        updated_at: f.i64("updatedAt"),
        status_updated_at: f.i64("statusUpdatedAt"),
    })
}

/// What a registry file says: the verified id, cwd and version, and the state of its
/// `status` (`busy` → Working, `idle` → Idle, `waiting` by `waitingFor`). Stamped with
/// `statusUpdatedAt` (else `updatedAt`, else `now`), never later than `now`.
///
/// The caller has checked that the pid is the agent's and alive, and that `procStart`
/// agrees (§5.1.1).
pub fn registry_observations(entry: &RegistryEntry, now: Stamp) -> Vec<Observation> {
    let at = entry.status_updated_at.or(entry.updated_at).map_or(now, |ms| event_stamp(ms, now));
    let mut obs = Observations::new(Source::ClaudeRegistry, at);
    obs.meta(MetaDelta {
        agent_session_id: entry.session_id.clone().map(|id| (id, true)),
        cwd: entry.cwd.clone(),
        version: entry.version.clone(),
        ..MetaDelta::default()
    });
    match entry.status.as_deref() {
        Some("busy") => {
            obs.hint(Hint::DialogGone);
            obs.state(AgentState::Working { activity: Activity::default() });
        }
        Some("idle") => {
            obs.hint(Hint::DialogGone);
            obs.state(AgentState::Idle);
        }
        Some("waiting") => {
            let (confidence, state) = waiting_state(entry.waiting_for.as_deref().unwrap_or(""));
            obs.state_with(confidence, state);
        }
        _ => {}
    }
    obs.into_vec()
}

/// The state of a `waiting` registry entry by its `waitingFor`.
fn waiting_state(waiting_for: &str) -> (Confidence, AgentState) {
    let approval = |tool: Option<String>| AgentState::NeedsApproval {
        tool,
        detail: None,
        options: Vec::new(),
    };
    let waiting_for = waiting_for.trim();
    if let Some(tool) = waiting_for.strip_prefix("approve ") {
        let tool = crate::types::one_line(tool);
        return (Confidence::Exact, approval(Some(tool).filter(|t| !t.is_empty())));
    }
    match waiting_for {
        "permission prompt" => (Confidence::Exact, approval(None)),
        "input needed" => (Confidence::Exact, AgentState::NeedsInput { kind: InputKind::Question }),
        "dialog open" => (Confidence::Exact, AgentState::NeedsInput { kind: InputKind::Dialog }),
        "worker request" | "sandbox request" => (Confidence::Medium, approval(None)),
        _ => (Confidence::Medium, AgentState::NeedsInput { kind: InputKind::Dialog }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_prompt_messages_name_the_tool() {
        assert_eq!(
            permission_prompt_tool("Claude needs your permission to use Bash").as_deref(),
            Some("Bash")
        );
        assert_eq!(
            permission_prompt_tool("Claude needs your permission to use mcp__github__pr.")
                .as_deref(),
            Some("mcp__github__pr")
        );
        assert_eq!(permission_prompt_tool("Claude is waiting for your input"), None);
    }

    #[test]
    fn stop_failure_errors_map_to_kinds() {
        for (error, kind) in [
            ("rate_limit", ErrorKind::RateLimit),
            ("overloaded", ErrorKind::Overloaded),
            ("authentication_failed", ErrorKind::Auth),
            ("oauth_org_not_allowed", ErrorKind::Auth),
            ("billing_error", ErrorKind::Billing),
            ("invalid_request", ErrorKind::Api),
            ("model_not_found", ErrorKind::Api),
            ("server_error", ErrorKind::Api),
            ("max_output_tokens", ErrorKind::Api),
            ("unknown", ErrorKind::Unknown),
            ("usage_limit_reached", ErrorKind::UsageLimit),
        ] {
            assert_eq!(stop_failure_kind(error), kind, "{error}");
        }
    }

    #[test]
    fn registry_stamps_follow_status_updated_at() {
        let now = Stamp { mono_ms: 50_000, unix_ms: 1_000_000 };
        let entry = RegistryEntry {
            pid: 7,
            status: Some("busy".into()),
            status_updated_at: Some(990_000),
            updated_at: Some(999_000),
            ..RegistryEntry::default()
        };
        let obs = registry_observations(&entry, now);
        assert!(obs.iter().all(|o| o.at == Stamp { mono_ms: 40_000, unix_ms: 990_000 }));
        let entry = RegistryEntry { status_updated_at: None, updated_at: None, ..entry };
        assert!(registry_observations(&entry, now).iter().all(|o| o.at == now));
    }
}
