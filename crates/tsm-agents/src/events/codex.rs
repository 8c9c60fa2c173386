//! Codex CLI: `notify`, hooks and rollout files (spec/agents.md §5.2.1).

use serde_json::{Map, Value};

use super::claude::{HookFlavour, hook_of};
use super::{EventError, EventFacts, Fields, LineBuffer, LineClock, Observations, parse_object};
use crate::types::{
    Activity, AgentState, Context, Hint, MetaDelta, Observation, Source, Stamp, Tokens,
};

/// A Codex hook payload: mapped as Claude's, plus `model` on every event.
pub(super) fn hook(obj: &Map<String, Value>, at: Stamp) -> Result<EventFacts, EventError> {
    hook_of(HookFlavour::Codex, obj, at)
}

/// A Codex `notify` payload (hyphenated keys). Only `agent-turn-complete` exists: Done,
/// with the thread id (verified: Codex itself ran us) and the turn's last messages.
pub(super) fn notify(obj: &Map<String, Value>, at: Stamp) -> Result<EventFacts, EventError> {
    let f = Fields(obj);
    let kind = f.str("type").ok_or(EventError::MissingField("type"))?;
    if kind != "agent-turn-complete" {
        return Err(EventError::UnknownEvent(kind.to_owned()));
    }
    let thread = f.str("thread-id").filter(|id| !id.is_empty()).map(str::to_owned);
    let last_prompt = f
        .array("input-messages")
        .and_then(|messages| messages.iter().rev().find_map(Value::as_str))
        .map(crate::types::one_line)
        .filter(|text| !text.is_empty());
    let mut obs = Observations::new(Source::CodexNotify, at);
    obs.meta(MetaDelta {
        agent_session_id: thread.clone().map(|id| (id, true)),
        cwd: f.path("cwd"),
        last_prompt,
        last_message: f.text("last-assistant-message"),
        ..MetaDelta::default()
    });
    obs.hint(Hint::DialogGone);
    obs.state(AgentState::Done { unseen: true });
    Ok(EventFacts {
        observations: obs.into_vec(),
        agent_session_id: thread,
        event_name: Some(kind.to_owned()),
        ..EventFacts::default()
    })
}

/// Reads a Codex rollout (`$CODEX_HOME/sessions/…/rollout-….jsonl`) line by line: ids,
/// version, model, token counts and turn boundaries (approvals are never written).
///
/// Feed it complete lines ([`RolloutTail::on_line`]) or raw bytes
/// ([`RolloutTail::on_bytes`], which keeps a partial last line until its newline comes).
/// Lines that are not JSON objects are skipped. A state is reported only when it
/// changes. Ids are verified: the daemon finds rollouts among the agent's open files.
#[derive(Debug, Default)]
pub struct RolloutTail {
    lines: LineBuffer,
    clock: LineClock,
    state: Option<AgentState>,
}

impl RolloutTail {
    /// A tail that has read nothing yet.
    pub fn new() -> RolloutTail {
        RolloutTail::default()
    }

    /// Reads a chunk of the file; complete lines are read, a partial last line waits.
    pub fn on_bytes(&mut self, chunk: &[u8], now: Stamp) -> Vec<Observation> {
        let lines = self.lines.push(chunk);
        lines.iter().flat_map(|line| self.on_line(line, now)).collect()
    }

    /// Reads one complete line (without its newline).
    pub fn on_line(&mut self, line: &[u8], now: Stamp) -> Vec<Observation> {
        let Ok(obj) = parse_object(line) else { return Vec::new() };
        let f = Fields(&obj);
        let at = self.clock.stamp(f.str("timestamp"), now);
        let mut obs = Observations::new(Source::CodexRollout, at);
        let payload = f.object("payload");
        let mut state = None;
        match (f.str("type"), payload) {
            (Some("session_meta"), Some(p)) => obs.meta(MetaDelta {
                agent_session_id: p
                    .str("id")
                    .filter(|id| !id.is_empty())
                    .map(|id| (id.to_owned(), true)),
                version: p.text("cli_version"),
                cwd: p.path("cwd"),
                ..MetaDelta::default()
            }),
            (Some("turn_context"), Some(p)) => obs.meta(MetaDelta {
                model: p.text("model"),
                cwd: p.path("cwd"),
                ..MetaDelta::default()
            }),
            (Some("response_item"), Some(p)) => {
                if matches!(
                    p.str("type"),
                    Some("function_call" | "custom_tool_call" | "local_shell_call")
                ) {
                    let tool = p.text("name").or_else(|| Some("shell".to_owned()));
                    state = Some(AgentState::Working {
                        activity: Activity { tool, ..Activity::default() },
                    });
                }
            }
            (Some("event_msg"), Some(p)) => match p.str("type").unwrap_or("") {
                "user_message" => {
                    obs.meta(MetaDelta { last_prompt: p.text("message"), ..MetaDelta::default() });
                    obs.hint(Hint::TurnStarted);
                    state = Some(AgentState::Working { activity: Activity::default() });
                }
                "agent_message" => {
                    obs.meta(MetaDelta { last_message: p.text("message"), ..MetaDelta::default() })
                }
                "token_count" => obs.meta(token_count(p)),
                "turn_started" | "task_started" => {
                    state = Some(AgentState::Working { activity: Activity::default() });
                }
                "turn_complete" | "task_complete" => {
                    obs.meta(MetaDelta {
                        last_message: p.text("last_agent_message"),
                        ..MetaDelta::default()
                    });
                    state = Some(AgentState::Done { unseen: true });
                }
                "turn_aborted" => state = Some(AgentState::Idle),
                _ => {}
            },
            _ => {}
        }
        if let Some(state) = state {
            if self.state.as_ref() != Some(&state) {
                self.state = Some(state.clone());
                obs.state(state);
            }
        }
        obs.into_vec()
    }
}

/// Tokens and context of a `token_count` event.
fn token_count(p: Fields<'_>) -> MetaDelta {
    let Some(info) = p.object("info") else { return MetaDelta::default() };
    let tokens = info.object("total_token_usage").map(|usage| Tokens {
        input: usage.u64("input_tokens").unwrap_or(0),
        output: usage.u64("output_tokens").unwrap_or(0),
        cache_read: usage.u64("cached_input_tokens").unwrap_or(0),
        cache_write: 0,
    });
    let context = match (info.object("last_token_usage"), info.u64("model_context_window")) {
        (Some(last), Some(window)) if window > 0 => {
            let used = last.u64("total_tokens").or_else(|| last.u64("input_tokens")).unwrap_or(0);
            let pct = (used.saturating_mul(100) / window).min(100) as u32;
            Some(Context { used, window, pct })
        }
        _ => None,
    };
    MetaDelta { tokens, context, ..MetaDelta::default() }
}
