//! Structured events: hook, statusline and notify payloads, and registry files, turned
//! into observations (spec/agents.md §3.2, §5).
//!
//! `tsm hook` and `tsm statusline` wrap what an agent hands them in a [`HookEnvelope`]
//! and send it to the session's daemon as an AgentEvent frame (tag 33,
//! [`encode_envelope`]). The daemon decodes it ([`decode_envelope`]) and asks
//! [`interpret`] what the event says: observations for the tracker plus a few facts the
//! daemon acts on itself ([`EventFacts`]). Claude's registry file has its own pair,
//! [`parse_registry`] and [`registry_observations`]; Claude transcripts and Codex
//! rollouts are read line by line by [`TranscriptTail`] and [`RolloutTail`].
//!
//! Everything here is pure: no IO, no clock. Bad input (not JSON, not an object, an
//! unknown event name, over [`MAX_EVENT_PAYLOAD_LEN`]) is an [`EventError`], never a
//! panic; the caller counts it and the state is left alone.
//!
//! # Timing
//!
//! An event's observations carry the time `tsm hook` started (`sent_unix_ms`), not the
//! time the daemon received it, so a late event orders before what happened after it
//! was sent (§4.4). Gemini hooks carry their own `timestamp`, which is used instead when
//! present. Either way the stamp is never later than `now`.
//!
//! # Decisions made here
//!
//! - Ids from hooks and the statusline are marked verified: they come from the agent
//!   process. The caller clears the flag when the event's ancestry holds no agent pid
//!   (§6.3, `attribution: env_only`).
//! - Events of Claude subagents (`agent_id`, `SubagentStart`, `SubagentStop`) carry no
//!   state claims at all, only metadata and the subagent count, so a tracker that
//!   ignores [`EventFacts::subagent`] still never lets them end the main turn.
//! - `SessionStart` with `source: compact` (and Codex `PostCompact`) claim no state:
//!   compaction may happen in the middle of a turn, which goes on after it.
//! - `PostToolUseFailure` with `is_interrupt: true` claims `Idle`: the user interrupted
//!   the turn and Claude sends no `Stop` for that.
//! - `SessionEnd` claims nothing; it sets [`EventFacts::recheck_process`] (F1: the
//!   process layer decides).
//! - A `waiting` registry status with an unknown `waitingFor` claims
//!   `NeedsInput{Dialog}` with medium confidence.
//! - Claude's registry `procStart` is text (`/proc/<pid>/stat` start ticks on Linux, a
//!   date on macOS); a number is kept as its decimal text.

mod aider;
mod claude;
mod codex;
mod envelope;
mod gemini;
mod statusline;
mod transcript;

use std::path::PathBuf;

use serde_json::{Map, Value};

use crate::types::{AgentState, Claim, Confidence, Hint, MetaDelta, Observation, Source, Stamp};

pub use claude::{RegistryEntry, parse_registry, registry_observations};
pub use codex::RolloutTail;
pub use envelope::{HookEnvelope, MAX_ENVELOPE_LEN, decode_envelope, encode_envelope};
pub use statusline::statusline_line;
pub use transcript::TranscriptTail;

/// The largest payload accepted, in bytes (1 MiB): hook payloads carry tool input and
/// output, which can be large, but nothing an agent sends in one event is larger.
pub const MAX_EVENT_PAYLOAD_LEN: usize = 1 << 20;

/// Which program sent an event, and so how its payload reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventSource {
    /// A Claude Code hook (`tsm hook claude`), JSON on stdin.
    ClaudeHook,
    /// Claude Code's statusline command (`tsm statusline`), JSON on stdin.
    ClaudeStatusline,
    /// A Codex hook (`tsm hook codex`), JSON on stdin.
    CodexHook,
    /// Codex's `notify` program (`tsm hook codex JSON`): the JSON is the last argument.
    CodexNotify,
    /// A Gemini CLI hook (`tsm hook gemini`), JSON on stdin.
    GeminiHook,
    /// Aider's notifications command (`tsm hook aider`): no payload.
    AiderNotify,
}

impl EventSource {
    /// Every source, in wire-name order.
    pub const ALL: [EventSource; 6] = [
        EventSource::ClaudeHook,
        EventSource::ClaudeStatusline,
        EventSource::CodexHook,
        EventSource::CodexNotify,
        EventSource::GeminiHook,
        EventSource::AiderNotify,
    ];

    /// The wire name, as in the envelope's `source` (`claude_hook`, …).
    pub fn name(self) -> &'static str {
        match self {
            EventSource::ClaudeHook => "claude_hook",
            EventSource::ClaudeStatusline => "claude_statusline",
            EventSource::CodexHook => "codex_hook",
            EventSource::CodexNotify => "codex_notify",
            EventSource::GeminiHook => "gemini_hook",
            EventSource::AiderNotify => "aider_notify",
        }
    }

    /// The source a wire name names, if any.
    pub fn from_name(name: &str) -> Option<EventSource> {
        EventSource::ALL.into_iter().find(|source| source.name() == name)
    }

    /// The observation source of this event source.
    pub fn source(self) -> Source {
        match self {
            EventSource::ClaudeHook => Source::ClaudeHook,
            EventSource::ClaudeStatusline => Source::ClaudeStatusline,
            EventSource::CodexHook => Source::CodexHook,
            EventSource::CodexNotify => Source::CodexNotify,
            EventSource::GeminiHook => Source::GeminiHook,
            EventSource::AiderNotify => Source::AiderNotify,
        }
    }
}

/// What one event says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFacts {
    /// The observations, in the order to apply them (metadata first).
    pub observations: Vec<Observation>,
    /// The agent session the event belongs to, when it names one.
    pub agent_session_id: Option<String>,
    /// A Claude subagent's event (`agent_id`, `SubagentStart`, `SubagentStop`): it may
    /// change the subagent count and metadata, never the main state, and its
    /// observations claim no state.
    pub subagent: bool,
    /// The hook event's name (`hook_event_name`) or the notify type.
    pub event_name: Option<String>,
    /// A Claude `PermissionRequest`: what the yolo hook answer is about (§7.3).
    pub permission_request: Option<PermissionRequest>,
    /// `SessionEnd` (other than reason `clear` or `resume`): check the process now (F1).
    pub recheck_process: bool,
}

/// The tool a Claude `PermissionRequest` asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionRequest {
    /// The tool's name (`Bash`, `Edit`, `AskUserQuestion`, …).
    pub tool: String,
    /// Its command, file or other detail, one line.
    pub detail: Option<String>,
}

impl PermissionRequest {
    /// Whether a yolo hook answer may allow it: never for the question tool or plan
    /// approval (§7.3).
    pub fn auto_answerable(&self) -> bool {
        !matches!(self.tool.as_str(), "AskUserQuestion" | "ExitPlanMode")
    }
}

/// Why an event or registry file says nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// Over the size limit.
    #[error("payload of {len} bytes is over the limit of {max}")]
    TooLarge {
        /// The size seen.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Not JSON (or cut off: a half-written file).
    #[error("payload is not JSON: {0}")]
    NotJson(#[source] serde_json::Error),
    /// JSON, but not an object.
    #[error("payload is not a JSON object")]
    NotAnObject,
    /// An event name (or notify type) this crate does not know.
    #[error("unknown event {0:?}")]
    UnknownEvent(String),
    /// A required field is missing or has the wrong type.
    #[error("field {0:?} is missing or invalid")]
    MissingField(&'static str),
    /// The envelope names a source this crate does not know.
    #[error("unknown event source {0:?}")]
    UnknownSource(String),
    /// The envelope's `payload_b64` is not base64.
    #[error("payload_b64 is not base64")]
    BadBase64,
    /// There is nothing to read (Codex `notify` without its argument).
    #[error("no payload")]
    NoPayload,
}

/// What one event says: its observations and the facts around them.
///
/// `now` is the time the daemon received the event; the observations take the time the
/// event was sent (see the module docs), never later than `now`.
///
/// # Errors
///
/// [`EventError`] for a payload over [`MAX_EVENT_PAYLOAD_LEN`], one that is not a JSON
/// object, or an unknown event name or notify type.
pub fn interpret(
    source: EventSource,
    env: &HookEnvelope,
    now: Stamp,
) -> Result<EventFacts, EventError> {
    let at = event_stamp(env.sent_unix_ms, now);
    match source {
        EventSource::ClaudeHook => claude::hook(&parse_object(&env.payload)?, at),
        EventSource::ClaudeStatusline => statusline::interpret(&parse_object(&env.payload)?, at),
        EventSource::CodexHook => codex::hook(&parse_object(&env.payload)?, at),
        EventSource::CodexNotify => {
            // The JSON is Codex's last argument; a payload on stdin is accepted too.
            let json = match env.args.last() {
                Some(arg) => arg.as_bytes(),
                None if !env.payload.is_empty() => &env.payload,
                None => return Err(EventError::NoPayload),
            };
            codex::notify(&parse_object(json)?, at)
        }
        EventSource::GeminiHook => gemini::hook(&parse_object(&env.payload)?, at, now),
        EventSource::AiderNotify => aider::notify(&env.payload, at),
    }
}

/// Whether `tsm hook` should wait for the daemon's reply to this payload: only where the
/// daemon may answer for the user (a Claude `PermissionRequest`, §7.3).
pub fn decision_possible(source: EventSource, payload: &[u8]) -> bool {
    source == EventSource::ClaudeHook
        && parse_object(payload).is_ok_and(|obj| {
            obj.get("hook_event_name").and_then(Value::as_str) == Some("PermissionRequest")
        })
}

/// The stamp of something sent at `sent_unix_ms` and received at `now`: its wall time,
/// and the monotonic time that many milliseconds before `now`; never after `now`.
pub(crate) fn event_stamp(sent_unix_ms: i64, now: Stamp) -> Stamp {
    let sent = sent_unix_ms.min(now.unix_ms);
    let age = u64::try_from(now.unix_ms.saturating_sub(sent)).unwrap_or(u64::MAX);
    Stamp { mono_ms: now.mono_ms.saturating_sub(age), unix_ms: sent }
}

/// Parses a payload that must be a JSON object of at most [`MAX_EVENT_PAYLOAD_LEN`].
pub(crate) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, EventError> {
    check_len(bytes.len())?;
    match serde_json::from_slice::<Value>(bytes).map_err(EventError::NotJson)? {
        Value::Object(map) => Ok(map),
        _ => Err(EventError::NotAnObject),
    }
}

/// Refuses a length over [`MAX_EVENT_PAYLOAD_LEN`].
pub(crate) fn check_len(len: usize) -> Result<(), EventError> {
    if len > MAX_EVENT_PAYLOAD_LEN {
        return Err(EventError::TooLarge { len, max: MAX_EVENT_PAYLOAD_LEN });
    }
    Ok(())
}

/// Typed, forgiving reads of a JSON object's fields: a field of the wrong type counts
/// as absent.
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a>(pub(crate) &'a Map<String, Value>);

impl<'a> Fields<'a> {
    /// A string field, as is.
    pub(crate) fn str(self, key: &str) -> Option<&'a str> {
        self.0.get(key).and_then(Value::as_str)
    }

    /// A string field cut to one line; empty counts as absent.
    pub(crate) fn text(self, key: &str) -> Option<String> {
        self.str(key).map(crate::types::one_line).filter(|text| !text.is_empty())
    }

    /// A non-empty string field as a path.
    pub(crate) fn path(self, key: &str) -> Option<PathBuf> {
        self.str(key).filter(|s| !s.is_empty()).map(PathBuf::from)
    }

    /// A nested object.
    pub(crate) fn object(self, key: &str) -> Option<Fields<'a>> {
        self.0.get(key).and_then(Value::as_object).map(Fields)
    }

    /// A non-negative integer field (a float is truncated).
    pub(crate) fn u64(self, key: &str) -> Option<u64> {
        let value = self.0.get(key)?;
        value.as_u64().or_else(|| value.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
    }

    /// An integer field.
    pub(crate) fn i64(self, key: &str) -> Option<i64> {
        let value = self.0.get(key)?;
        value.as_i64().or_else(|| value.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
    }

    /// A number field.
    pub(crate) fn f64(self, key: &str) -> Option<f64> {
        self.0.get(key).and_then(Value::as_f64).filter(|f| f.is_finite())
    }

    /// A boolean field.
    pub(crate) fn bool(self, key: &str) -> Option<bool> {
        self.0.get(key).and_then(Value::as_bool)
    }

    /// An array field.
    pub(crate) fn array(self, key: &str) -> Option<&'a Vec<Value>> {
        self.0.get(key).and_then(Value::as_array)
    }
}

/// Collects one event's observations, all from one source at one time.
pub(crate) struct Observations {
    source: Source,
    at: Stamp,
    list: Vec<Observation>,
}

impl Observations {
    /// An empty list for events of `source` stamped `at`.
    pub(crate) fn new(source: Source, at: Stamp) -> Observations {
        Observations { source, at, list: Vec::new() }
    }

    fn push(&mut self, confidence: Confidence, claim: Claim) {
        self.list.push(Observation { source: self.source, at: self.at, confidence, claim });
    }

    /// Adds the metadata, unless it is empty.
    pub(crate) fn meta(&mut self, meta: MetaDelta) {
        if !meta.is_empty() {
            self.push(Confidence::Exact, Claim::Meta(meta));
        }
    }

    /// Adds a state claim of exact confidence.
    pub(crate) fn state(&mut self, state: AgentState) {
        self.push(Confidence::Exact, Claim::State(state));
    }

    /// Adds a state claim of the given confidence.
    pub(crate) fn state_with(&mut self, confidence: Confidence, state: AgentState) {
        self.push(confidence, Claim::State(state));
    }

    /// Adds a confirmation of a state (late notifications).
    pub(crate) fn confirm(&mut self, state: AgentState) {
        self.push(Confidence::Exact, Claim::Confirm(state));
    }

    /// Adds a hint.
    pub(crate) fn hint(&mut self, hint: Hint) {
        self.push(Confidence::Exact, Claim::Hint(hint));
    }

    /// The observations, in the order they were added.
    pub(crate) fn into_vec(self) -> Vec<Observation> {
        self.list
    }
}

/// Stamps of file lines: the line's own `timestamp` when it has one, never before the
/// previous line's stamp (transcript timestamps are not monotonic), never after `now`.
#[derive(Debug, Default)]
pub(crate) struct LineClock {
    last: Option<Stamp>,
}

impl LineClock {
    /// The stamp of a line with this `timestamp`, read at `now`.
    pub(crate) fn stamp(&mut self, timestamp: Option<&str>, now: Stamp) -> Stamp {
        let mut at = timestamp.and_then(parse_rfc3339_ms).map_or(now, |ms| event_stamp(ms, now));
        if let Some(last) = self.last.filter(|last| *last > at && *last <= now) {
            at = last;
        }
        self.last = Some(at);
        at
    }
}

/// Splits complete lines off `partial` + `chunk`; the rest stays in `partial`. A partial
/// line longer than [`MAX_EVENT_PAYLOAD_LEN`] is dropped up to its newline (it would be
/// refused anyway), so the buffer stays bounded.
#[derive(Debug, Default)]
pub(crate) struct LineBuffer {
    partial: Vec<u8>,
    skipping: bool,
}

impl LineBuffer {
    /// Adds `chunk` and returns the lines it completed, without their newlines.
    pub(crate) fn push(&mut self, chunk: &[u8]) -> Vec<Vec<u8>> {
        let mut lines = Vec::new();
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            if !self.skipping {
                self.partial.extend_from_slice(&rest[..end]);
                lines.push(std::mem::take(&mut self.partial));
            }
            self.partial.clear();
            self.skipping = false;
            rest = &rest[end + 1..];
        }
        if !self.skipping {
            self.partial.extend_from_slice(rest);
            if self.partial.len() > MAX_EVENT_PAYLOAD_LEN {
                self.partial = Vec::new();
                self.skipping = true;
            }
        }
        lines
    }
}

/// Unix milliseconds of an RFC 3339 time (`2026-01-01T12:00:00.123Z`, `…+02:00`).
pub(crate) fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = b.get(range)?;
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(digits).ok()?.parse().ok()
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut millis = 0;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let frac = &text[start..i];
        if frac.is_empty() {
            return None;
        }
        let padded: String = frac.chars().chain("000".chars()).take(3).collect();
        millis = padded.parse::<i64>().ok()?;
    }
    let offset_min = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let minutes = num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?;
            if *sign == b'+' { minutes } else { -minutes }
        }
        _ => return None,
    };
    // Days from the civil date (March-based years, 400-year eras of 146097 days).
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    Some(seconds * 1000 + millis)
}

/// The one-line detail of a tool call: its command, file, URL or pattern.
pub(crate) fn tool_detail(input: Option<&Value>) -> Option<String> {
    const KEYS: [&str; 10] = [
        "command",
        "file_path",
        "notebook_path",
        "path",
        "url",
        "query",
        "pattern",
        "description",
        "prompt",
        "input",
    ];
    match input? {
        Value::String(text) => Some(crate::types::one_line(text)).filter(|t| !t.is_empty()),
        Value::Object(map) => KEYS.iter().find_map(|key| Fields(map).text(key)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_stamps_take_the_send_time_and_never_lie_in_the_future() {
        let now = Stamp { mono_ms: 10_000, unix_ms: 1_700_000_000_500 };
        assert_eq!(
            event_stamp(1_700_000_000_200, now),
            Stamp { mono_ms: 9_700, unix_ms: 1_700_000_000_200 }
        );
        assert_eq!(event_stamp(1_700_000_009_000, now), now);
        assert_eq!(event_stamp(i64::MIN, now), Stamp { mono_ms: 0, unix_ms: i64::MIN });
    }

    #[test]
    fn rfc3339_times_parse_to_unix_ms() {
        assert_eq!(parse_rfc3339_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339_ms("2026-01-01T00:00:00Z"), Some(1_767_225_600_000));
        assert_eq!(parse_rfc3339_ms("2026-01-01T00:00:00.5Z"), Some(1_767_225_600_500));
        assert_eq!(parse_rfc3339_ms("2026-01-01T02:00:00.123456+02:00"), Some(1_767_225_600_123));
        assert_eq!(parse_rfc3339_ms("2025-12-31T23:00:00-01:00"), Some(1_767_225_600_000));
        for bad in [
            "",
            "2026-01-01",
            "2026-13-01T00:00:00Z",
            "2026-01-01T00:00:00",
            "x026-01-01T00:00:00Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00Zjunk",
            "２０２６-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn line_buffers_keep_partial_lines_and_drop_overlong_ones() {
        let mut buf = LineBuffer::default();
        assert!(buf.push(b"{\"a\":").is_empty());
        assert_eq!(buf.push(b"1}\n{\"b\""), vec![b"{\"a\":1}".to_vec()]);
        assert_eq!(buf.push(b":2}\n\n"), vec![b"{\"b\":2}".to_vec(), Vec::new()]);
        assert!(buf.push(&vec![b'x'; MAX_EVENT_PAYLOAD_LEN + 1]).is_empty());
        assert_eq!(buf.push(b"xx\nok\n"), vec![b"ok".to_vec()]);
    }

    #[test]
    fn line_stamps_never_go_backwards() {
        let now = Stamp { mono_ms: 100_000, unix_ms: 1_767_225_700_000 };
        let mut clock = LineClock::default();
        let first = clock.stamp(Some("2026-01-01T00:01:00Z"), now);
        assert_eq!(first.unix_ms, 1_767_225_660_000);
        assert_eq!(clock.stamp(Some("2026-01-01T00:00:30Z"), now), first);
        assert_eq!(clock.stamp(None, now), now);
    }

    #[test]
    fn source_names_round_trip() {
        for source in EventSource::ALL {
            assert_eq!(EventSource::from_name(source.name()), Some(source));
            assert_eq!(source.source().name(), source.name());
        }
        assert_eq!(EventSource::from_name("opencode"), None);
    }

    #[test]
    fn only_a_claude_permission_request_waits_for_a_decision() {
        let request = br#"{"hook_event_name":"PermissionRequest","tool_name":"Bash"}"#;
        assert!(decision_possible(EventSource::ClaudeHook, request));
        assert!(!decision_possible(EventSource::CodexHook, request));
        assert!(!decision_possible(EventSource::ClaudeHook, br#"{"hook_event_name":"Stop"}"#));
        assert!(!decision_possible(EventSource::ClaudeHook, b"PermissionRequest"));
    }

    #[test]
    fn question_and_plan_tools_are_never_auto_answered() {
        let request = |tool: &str| PermissionRequest { tool: tool.into(), detail: None };
        assert!(request("Bash").auto_answerable());
        assert!(!request("AskUserQuestion").auto_answerable());
        assert!(!request("ExitPlanMode").auto_answerable());
    }

    #[test]
    fn tool_details_prefer_the_command() {
        let input = serde_json::json!({"description": "run tests", "command": "npm test\nmore"});
        assert_eq!(tool_detail(Some(&input)).as_deref(), Some("npm test"));
        assert_eq!(tool_detail(Some(&serde_json::json!({"x": 1}))), None);
        assert_eq!(tool_detail(None), None);
    }
}
