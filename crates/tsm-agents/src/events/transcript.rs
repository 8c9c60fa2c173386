//! Claude Code transcripts (`~/.claude/projects/<dir>/<session id>.jsonl`, spec/agents.md
//! §5.1.1): usage, model, version and a lagging, approval-blind view of the turn.

use std::collections::HashSet;
use std::path::PathBuf;

use serde_json::Value;

use super::{Fields, LineBuffer, LineClock, Observations, parse_object};
use crate::types::{Activity, AgentState, Hint, MetaDelta, Observation, Source, Stamp, Tokens};

/// What a user line starts with when Claude wrote it, not the user.
const META_PREFIXES: [&str; 5] = [
    "<local-command-",
    "<command-name>",
    "<command-message>",
    "<persisted-output>",
    "<system-reminder>",
];

/// What a user line says when the user interrupted the turn (with `]` or ` for tool use]`).
const INTERRUPT_MARKER: &str = "[Request interrupted by user";

/// Reads a Claude transcript line by line.
///
/// - Usage is counted once per response (`message.id`, `requestId`): one response spans
///   several lines that repeat it. There is no cost field.
/// - State, reported only when it changes: an unanswered `tool_use` → Working{tool}; a
///   `tool_result` → Working; `stop_reason: end_turn` → Done; a real user prompt →
///   Working; an interrupt marker → Idle. Meta user lines (`isMeta`, command output) and
///   sidechain lines (old subagent layout) are skipped.
/// - Ids are unverified: a transcript is not the agent process itself (§6.1).
///
/// Feed it complete lines ([`TranscriptTail::on_line`]) or raw bytes
/// ([`TranscriptTail::on_bytes`]: a partial last line waits for its newline). Lines that
/// are not JSON objects are skipped. Stamps come from the lines' `timestamp`, kept
/// monotonic (they are not in the file).
#[derive(Debug, Default)]
pub struct TranscriptTail {
    lines: LineBuffer,
    clock: LineClock,
    /// Responses whose usage is counted: (`message.id`, `requestId`).
    counted: HashSet<(String, String)>,
    tokens: Tokens,
    /// `tool_use` ids without a `tool_result` yet, with their tool names.
    pending: Vec<(String, String)>,
    state: Option<AgentState>,
    /// The last id, version, cwd and model reported, so unchanged ones are not repeated.
    reported: MetaDelta,
}

impl TranscriptTail {
    /// A tail that has read nothing yet.
    pub fn new() -> TranscriptTail {
        TranscriptTail::default()
    }

    /// The tokens counted so far.
    pub fn tokens(&self) -> Tokens {
        self.tokens
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
        if f.bool("isSidechain") == Some(true) {
            return Vec::new();
        }
        let at = self.clock.stamp(f.str("timestamp"), now);
        let mut obs = Observations::new(Source::ClaudeTranscript, at);
        let message = f.object("message");
        let mut meta = MetaDelta {
            agent_session_id: f
                .str("sessionId")
                .filter(|id| !id.is_empty())
                .map(|id| (id.to_owned(), false)),
            version: f.text("version"),
            cwd: f.path("cwd"),
            model: message.and_then(|m| m.text("model")).filter(|m| m != "<synthetic>"),
            ..MetaDelta::default()
        };
        self.drop_repeated(&mut meta);
        let mut state = None;
        let mut prompt_hint = false;
        match (f.str("type"), message) {
            (Some("assistant"), Some(m)) => {
                if self.count_usage(f, m) {
                    meta.tokens = Some(self.tokens);
                }
                let content = m.array("content").map(Vec::as_slice).unwrap_or(&[]);
                let mut text = None;
                for block in content.iter().filter_map(Value::as_object).map(Fields) {
                    match block.str("type") {
                        Some("tool_use") => {
                            let id = block.str("id").unwrap_or("").to_owned();
                            let name = block.text("name").unwrap_or_default();
                            self.pending.push((id, name));
                        }
                        Some("text") => text = block.text("text").or(text),
                        _ => {}
                    }
                }
                if m.str("stop_reason") == Some("end_turn") && self.pending.is_empty() {
                    meta.last_message = text;
                    state = Some(AgentState::Done { unseen: true });
                } else if let Some((_, tool)) = self.pending.last() {
                    state = Some(working(Some(tool.clone()).filter(|t| !t.is_empty())));
                }
            }
            (Some("user"), Some(m)) if f.bool("isMeta") != Some(true) => match user_line(m) {
                UserLine::ToolResults(ids) => {
                    self.pending.retain(|(id, _)| !ids.contains(id));
                    let tool = self.pending.last().map(|(_, tool)| tool.clone());
                    state = Some(working(tool.filter(|t| !t.is_empty())));
                }
                UserLine::Interrupt => {
                    self.pending.clear();
                    state = Some(AgentState::Idle);
                }
                UserLine::Prompt(text) => {
                    self.pending.clear();
                    meta.last_prompt = Some(text);
                    prompt_hint = true;
                    state = Some(working(None));
                }
                UserLine::Meta => {}
            },
            _ => {}
        }
        obs.meta(meta);
        if prompt_hint {
            obs.hint(Hint::TurnStarted);
        }
        if let Some(state) = state.filter(|s| self.state.as_ref() != Some(s)) {
            self.state = Some(state.clone());
            obs.state(state);
        }
        obs.into_vec()
    }

    /// Adds a response's usage unless it was counted; whether it was new.
    fn count_usage(&mut self, line: Fields<'_>, message: Fields<'_>) -> bool {
        let Some(usage) = message.object("usage") else { return false };
        let key = (
            message.str("id").unwrap_or("").to_owned(),
            line.str("requestId").unwrap_or("").to_owned(),
        );
        if key.0.is_empty() && key.1.is_empty() {
            return false;
        }
        if !self.counted.insert(key) {
            return false;
        }
        let t = &mut self.tokens;
        t.input = t.input.saturating_add(usage.u64("input_tokens").unwrap_or(0));
        t.output = t.output.saturating_add(usage.u64("output_tokens").unwrap_or(0));
        t.cache_read =
            t.cache_read.saturating_add(usage.u64("cache_read_input_tokens").unwrap_or(0));
        t.cache_write =
            t.cache_write.saturating_add(usage.u64("cache_creation_input_tokens").unwrap_or(0));
        true
    }

    /// Clears the fields of `meta` that repeat what was reported, and remembers the rest.
    fn drop_repeated(&mut self, meta: &mut MetaDelta) {
        fn fresh<T: Clone + PartialEq>(new: &mut Option<T>, last: &mut Option<T>) {
            if new.is_some() && *new == *last {
                *new = None;
            } else if new.is_some() {
                last.clone_from(new);
            }
        }
        let last = &mut self.reported;
        fresh(&mut meta.agent_session_id, &mut last.agent_session_id);
        fresh(&mut meta.version, &mut last.version);
        fresh::<PathBuf>(&mut meta.cwd, &mut last.cwd);
        fresh(&mut meta.model, &mut last.model);
    }
}

fn working(tool: Option<String>) -> AgentState {
    AgentState::Working { activity: Activity { tool, ..Activity::default() } }
}

/// What a (non-meta) user line is.
enum UserLine {
    /// Tool results for these `tool_use` ids.
    ToolResults(Vec<String>),
    /// The user interrupted the turn.
    Interrupt,
    /// A prompt the user typed, one line.
    Prompt(String),
    /// Command output and other text Claude wrote as the user.
    Meta,
}

fn user_line(message: Fields<'_>) -> UserLine {
    let mut texts: Vec<&str> = Vec::new();
    let mut results = Vec::new();
    match message.0.get("content") {
        Some(Value::String(text)) => texts.push(text),
        Some(Value::Array(blocks)) => {
            for block in blocks.iter().filter_map(Value::as_object).map(Fields) {
                match block.str("type") {
                    Some("tool_result") => {
                        results.push(block.str("tool_use_id").unwrap_or("").to_owned())
                    }
                    Some("text") => texts.extend(block.str("text")),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    if texts.iter().any(|t| t.contains(INTERRUPT_MARKER)) {
        return UserLine::Interrupt;
    }
    if !results.is_empty() {
        return UserLine::ToolResults(results);
    }
    let text = texts.join("\n");
    let trimmed = text.trim_start();
    if trimmed.is_empty() || META_PREFIXES.iter().any(|p| trimmed.starts_with(p)) {
        return UserLine::Meta;
    }
    UserLine::Prompt(crate::types::one_line(trimmed))
}
