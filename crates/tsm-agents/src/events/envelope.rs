//! The AgentEvent envelope (tag 33, spec/agents.md §3.5): what `tsm hook` and
//! `tsm statusline` send to the daemon.
//!
//! ```json
//! {"source": "claude_hook", "sent_unix_ms": 1767201011000, "ancestry": [41877, 41800],
//!  "env_session": "api", "args": [], "payload_b64": "eyJob29rX2V2ZW50X25hbWUiOi4uLn0="}
//! ```
//!
//! The payload travels as base64 so any bytes survive; so a 1 MiB payload makes an
//! envelope of about 1.33 MiB, and [`MAX_ENVELOPE_LEN`] allows for that.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::{EventError, EventSource, Fields, MAX_EVENT_PAYLOAD_LEN};

/// The largest envelope accepted, in bytes: a [`MAX_EVENT_PAYLOAD_LEN`] payload in
/// base64, plus 64 KiB for the other fields (ancestry, session name, arguments).
pub const MAX_ENVELOPE_LEN: usize = MAX_EVENT_PAYLOAD_LEN.div_ceil(3) * 4 + 64 * 1024;

/// An event as `tsm hook` hands it over: the agent's payload and where it came from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookEnvelope {
    /// The payload as the agent gave it (stdin), at most [`MAX_EVENT_PAYLOAD_LEN`].
    pub payload: Vec<u8>,
    /// When `tsm hook` started, before it read stdin (Unix milliseconds).
    pub sent_unix_ms: i64,
    /// The pids above `tsm hook`, its parent first, at most 8 (for attribution, §6.3).
    pub ancestry: Vec<u32>,
    /// `$TSM_SESSION` as `tsm hook` saw it.
    pub env_session: Option<String>,
    /// `tsm hook`'s extra arguments (for Codex `notify`: the JSON is the last).
    pub args: Vec<String>,
}

/// Encodes the envelope as the JSON of an AgentEvent frame.
pub fn encode_envelope(source: EventSource, env: &HookEnvelope) -> Vec<u8> {
    let value = json!({
        "source": source.name(),
        "sent_unix_ms": env.sent_unix_ms,
        "ancestry": env.ancestry,
        "env_session": env.env_session,
        "args": env.args,
        "payload_b64": STANDARD.encode(&env.payload),
    });
    value.to_string().into_bytes()
}

/// Decodes an AgentEvent frame's JSON.
///
/// `source`, `sent_unix_ms` and `payload_b64` are required; a missing `ancestry`,
/// `env_session` or `args` counts as empty.
///
/// # Errors
///
/// [`EventError::TooLarge`] for an envelope over [`MAX_ENVELOPE_LEN`] or a payload over
/// [`MAX_EVENT_PAYLOAD_LEN`] (checked before decoding it), [`EventError::NotJson`],
/// [`EventError::NotAnObject`], [`EventError::UnknownSource`],
/// [`EventError::MissingField`] and [`EventError::BadBase64`].
pub fn decode_envelope(bytes: &[u8]) -> Result<(EventSource, HookEnvelope), EventError> {
    if bytes.len() > MAX_ENVELOPE_LEN {
        return Err(EventError::TooLarge { len: bytes.len(), max: MAX_ENVELOPE_LEN });
    }
    let Value::Object(map) = serde_json::from_slice(bytes).map_err(EventError::NotJson)? else {
        return Err(EventError::NotAnObject);
    };
    let fields = Fields(&map);
    let name = fields.str("source").ok_or(EventError::MissingField("source"))?;
    let source =
        EventSource::from_name(name).ok_or_else(|| EventError::UnknownSource(name.into()))?;
    let sent_unix_ms = map
        .get("sent_unix_ms")
        .and_then(Value::as_i64)
        .ok_or(EventError::MissingField("sent_unix_ms"))?;
    let ancestry = match map.get("ancestry") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(pids)) => pids
            .iter()
            .map(|pid| pid.as_u64().and_then(|pid| u32::try_from(pid).ok()))
            .collect::<Option<Vec<u32>>>()
            .ok_or(EventError::MissingField("ancestry"))?,
        Some(_) => return Err(EventError::MissingField("ancestry")),
    };
    let env_session = match map.get("env_session") {
        None | Some(Value::Null) => None,
        Some(Value::String(name)) => Some(name.clone()),
        Some(_) => return Err(EventError::MissingField("env_session")),
    };
    let args = match map.get("args") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(args)) => args
            .iter()
            .map(|arg| arg.as_str().map(str::to_owned))
            .collect::<Option<Vec<String>>>()
            .ok_or(EventError::MissingField("args"))?,
        Some(_) => return Err(EventError::MissingField("args")),
    };
    let b64 = fields.str("payload_b64").ok_or(EventError::MissingField("payload_b64"))?;
    // Every 4 base64 characters decode to at most 3 bytes.
    let at_most = b64.len() / 4 * 3;
    if at_most > MAX_EVENT_PAYLOAD_LEN + 2 {
        return Err(EventError::TooLarge { len: at_most, max: MAX_EVENT_PAYLOAD_LEN });
    }
    let payload = STANDARD.decode(b64).map_err(|_| EventError::BadBase64)?;
    super::check_len(payload.len())?;
    Ok((source, HookEnvelope { payload, sent_unix_ms, ancestry, env_session, args }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> HookEnvelope {
        HookEnvelope {
            payload: br#"{"hook_event_name":"Stop"}"#.to_vec(),
            sent_unix_ms: 1_767_201_011_000,
            ancestry: vec![41877, 41800, 1200],
            env_session: Some("api".into()),
            args: vec!["--".into(), "{\"type\":\"agent-turn-complete\"}".into()],
        }
    }

    #[test]
    fn envelopes_round_trip() {
        for source in EventSource::ALL {
            let bytes = encode_envelope(source, &sample());
            assert_eq!(decode_envelope(&bytes).unwrap(), (source, sample()));
        }
        let empty = HookEnvelope::default();
        let bytes = encode_envelope(EventSource::AiderNotify, &empty);
        assert_eq!(decode_envelope(&bytes).unwrap(), (EventSource::AiderNotify, empty));
    }

    #[test]
    fn the_envelope_has_the_spec_field_names() {
        let bytes = encode_envelope(EventSource::ClaudeHook, &sample());
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        let keys: Vec<&str> = value.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["source", "sent_unix_ms", "ancestry", "env_session", "args", "payload_b64"]
        );
        assert_eq!(value["source"], "claude_hook");
        assert_eq!(value["payload_b64"], "eyJob29rX2V2ZW50X25hbWUiOiJTdG9wIn0=");
    }

    #[test]
    fn optional_fields_may_be_left_out() {
        let bytes = br#"{"source":"gemini_hook","sent_unix_ms":5,"payload_b64":"e30="}"#;
        let (source, env) = decode_envelope(bytes).unwrap();
        assert_eq!(source, EventSource::GeminiHook);
        assert_eq!(env.payload, b"{}");
        assert!(env.ancestry.is_empty() && env.args.is_empty() && env.env_session.is_none());
    }

    #[test]
    fn bad_envelopes_are_refused() {
        let cases: [&[u8]; 8] = [
            b"not json",
            b"[1,2]",
            br#"{"sent_unix_ms":5,"payload_b64":""}"#,
            br#"{"source":"opencode","sent_unix_ms":5,"payload_b64":""}"#,
            br#"{"source":"claude_hook","sent_unix_ms":"5","payload_b64":""}"#,
            br#"{"source":"claude_hook","sent_unix_ms":5,"payload_b64":"!!"}"#,
            br#"{"source":"claude_hook","sent_unix_ms":5,"ancestry":[-1],"payload_b64":""}"#,
            br#"{"source":"claude_hook","sent_unix_ms":5,"args":[1],"payload_b64":""}"#,
        ];
        for bytes in cases {
            assert!(decode_envelope(bytes).is_err(), "{}", String::from_utf8_lossy(bytes));
        }
    }

    #[test]
    fn payloads_over_one_mib_are_refused_and_one_mib_is_accepted() {
        let mut env = sample();
        env.payload = vec![b'x'; MAX_EVENT_PAYLOAD_LEN];
        let bytes = encode_envelope(EventSource::ClaudeHook, &env);
        assert!(bytes.len() <= MAX_ENVELOPE_LEN);
        assert_eq!(decode_envelope(&bytes).unwrap().1.payload.len(), MAX_EVENT_PAYLOAD_LEN);
        env.payload.push(b'x');
        let bytes = encode_envelope(EventSource::ClaudeHook, &env);
        assert!(matches!(decode_envelope(&bytes), Err(EventError::TooLarge { .. })));
        let huge = vec![b' '; MAX_ENVELOPE_LEN + 1];
        assert!(matches!(decode_envelope(&huge), Err(EventError::TooLarge { .. })));
    }
}
