//! Gemini CLI hooks (spec/agents.md §5.3).
//!
//! Every payload has `session_id`, `transcript_path`, `cwd`, `hook_event_name` and an
//! RFC 3339 `timestamp`, which orders the event when present. `BeforeModel`,
//! `AfterModel` and `BeforeToolSelection` are known but say nothing (they fire per chunk;
//! tsm does not subscribe to them).

use serde_json::{Map, Value};

use super::{EventError, EventFacts, Fields, Observations, event_stamp, parse_rfc3339_ms};
use crate::types::{Activity, AgentState, Hint, InputKind, MetaDelta, Source, Stamp};

/// Gemini's question tool, and the `details.type` of its confirmation.
const QUESTION_TOOL: &str = "ask_user";

/// A Gemini hook payload; `at` is the send time, used when there is no `timestamp`.
pub(super) fn hook(
    obj: &Map<String, Value>,
    at: Stamp,
    now: Stamp,
) -> Result<EventFacts, EventError> {
    let f = Fields(obj);
    let event = f.str("hook_event_name").ok_or(EventError::MissingField("hook_event_name"))?;
    let at = f.str("timestamp").and_then(parse_rfc3339_ms).map_or(at, |ms| event_stamp(ms, now));
    let mut obs = Observations::new(Source::GeminiHook, at);
    let session = f.str("session_id").filter(|id| !id.is_empty()).map(str::to_owned);
    let mut meta = MetaDelta {
        agent_session_id: session.clone().map(|id| (id, true)),
        transcript_path: f.path("transcript_path"),
        cwd: f.path("cwd"),
        ..MetaDelta::default()
    };
    let mut recheck_process = false;
    let working = |tool: Option<String>| AgentState::Working {
        activity: Activity { tool, ..Activity::default() },
    };
    match event {
        "SessionStart" => {
            obs.meta(meta);
            obs.state(AgentState::Idle);
        }
        "SessionEnd" => {
            obs.meta(meta);
            recheck_process = !matches!(f.str("reason"), Some("clear" | "resume"));
        }
        "BeforeAgent" => {
            meta.last_prompt = f.text("prompt");
            obs.meta(meta);
            obs.hint(Hint::TurnStarted);
            obs.hint(Hint::DialogGone);
            obs.state(working(None));
        }
        "AfterAgent" => {
            meta.last_message = f.text("prompt_response");
            obs.meta(meta);
            obs.hint(Hint::DialogGone);
            obs.state(AgentState::Done { unseen: true });
        }
        "BeforeTool" if f.str("tool_name") == Some(QUESTION_TOOL) => {
            obs.meta(meta);
            obs.state(AgentState::NeedsInput { kind: InputKind::Question });
        }
        "BeforeTool" | "AfterTool" => {
            obs.meta(meta);
            obs.hint(Hint::DialogGone);
            obs.state(working(f.text("tool_name")));
        }
        "Notification" => {
            obs.meta(meta);
            if f.str("notification_type") == Some("ToolPermission") {
                obs.state(tool_permission(f));
            }
        }
        "PreCompress" => {
            obs.meta(meta);
            obs.state(AgentState::Working {
                activity: Activity { spinner: Some("compressing".into()), ..Activity::default() },
            });
        }
        "BeforeModel" | "AfterModel" | "BeforeToolSelection" => obs.meta(meta),
        other => return Err(EventError::UnknownEvent(other.to_owned())),
    }
    Ok(EventFacts {
        observations: obs.into_vec(),
        agent_session_id: session,
        event_name: Some(event.to_owned()),
        recheck_process,
        ..EventFacts::default()
    })
}

/// The state of a `ToolPermission` notification, from its `details` (the confirmation:
/// `type` `exec`, `edit`, `mcp`, `info`, `ask_user`; `command`, `filePath`, `toolName`, …).
fn tool_permission(f: Fields<'_>) -> AgentState {
    let details = f.object("details");
    let kind = details.and_then(|d| d.str("type"));
    if kind == Some(QUESTION_TOOL) {
        return AgentState::NeedsInput { kind: InputKind::Question };
    }
    let tool = details
        .and_then(|d| d.text("toolName"))
        .or_else(|| kind.map(crate::types::one_line))
        .filter(|tool| !tool.is_empty());
    let detail = details
        .and_then(|d| {
            ["command", "filePath", "fileName", "prompt", "title"]
                .iter()
                .find_map(|key| d.text(key))
        })
        .or_else(|| f.text("message"));
    AgentState::NeedsApproval { tool, detail, options: Vec::new() }
}
