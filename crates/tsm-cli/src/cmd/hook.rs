//! `tsm hook claude|codex|gemini|aider`: what the agents' hook settings run (spec/agents.md
//! §1.1, §6.3). Forwards the event to the session of `$TSM_SESSION` and exits 0 within
//! 1 s whatever happens: no session, no daemon, bad JSON, a payload over 1 MiB.
//!
//! - Claude, Gemini and Codex hooks: the payload is stdin.
//! - Codex `notify`: the payload is the last argument (stdin is not read); arguments
//!   before it are the old notify program (`tsm hook codex -- prog args…`), run with the
//!   payload appended, not waited for.
//! - Aider's notifications command: no payload (stdin is the user's terminal).
//!
//! It prints the daemon's `print` text (a yolo hook decision, §7.3), else nothing;
//! Gemini needs JSON on stdout, so `tsm hook gemini` prints `{}` instead of nothing.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::Result;
use tsm_agents::events::{MAX_EVENT_PAYLOAD_LEN, decision_possible};
use tsm_agents::{EventSource, HookEnvelope};

use crate::agent_event::{
    ancestry, forward, print_once, read_stdin, session_from_env, start_watchdog, unix_ms_now,
};
use crate::cli::{HookAgent, HookArgs};

/// When the forwarding gives up, counted from the start.
const FORWARD_BUDGET: Duration = Duration::from_millis(900);

/// When the process exits whatever it is doing, counted from the start (the spec's 1 s,
/// with room to exit).
const EXIT_AT: Duration = Duration::from_millis(950);

/// How long to wait for the daemon's reply where it may decide for the user (§3.5).
const DECISION_WAIT: Duration = Duration::from_millis(500);

/// How long to wait for the reply otherwise: the daemon answers at once, and a stuck one
/// must not slow the agent down.
const ACK_WAIT: Duration = Duration::from_millis(200);

/// Gemini reads stdout as JSON: this is "nothing to say".
const GEMINI_EMPTY: &str = "{}";

/// Forwards one hook event; always exits 0.
pub(crate) fn run(args: &HookArgs) -> Result<ExitCode> {
    // Stamped first, before reading stdin (§4.4).
    let sent_unix_ms = unix_ms_now();
    let start = Instant::now();
    let fallback = (args.agent == HookAgent::Gemini).then_some(GEMINI_EMPTY);
    start_watchdog(start + EXIT_AT, fallback);
    let print = hook(args, sent_unix_ms, start + FORWARD_BUDGET);
    print_once(print.as_deref().or(fallback));
    Ok(ExitCode::SUCCESS)
}

/// Everything but the printing: the text to print, if the daemon sent one.
fn hook(args: &HookArgs, sent_unix_ms: i64, deadline: Instant) -> Option<String> {
    let session = session_from_env();
    if session.is_none() && args.record.is_none() {
        return None; // an agent outside tsm
    }
    let extra: Vec<String> =
        args.args.iter().map(|arg| arg.to_string_lossy().into_owned()).collect();
    let (source, payload) = match args.agent {
        HookAgent::Codex if !args.args.is_empty() => {
            run_old_notify(&args.args);
            if extra.last().map_or(0, String::len) > MAX_EVENT_PAYLOAD_LEN {
                return None;
            }
            (EventSource::CodexNotify, Vec::new())
        }
        HookAgent::Claude => (EventSource::ClaudeHook, read_stdin()?),
        HookAgent::Codex => (EventSource::CodexHook, read_stdin()?),
        HookAgent::Gemini => (EventSource::GeminiHook, read_stdin()?),
        HookAgent::Aider => (EventSource::AiderNotify, Vec::new()),
    };
    if let Some(file) = &args.record {
        record(file, source, sent_unix_ms, &payload, &extra);
    }
    let session = session?;
    let env = HookEnvelope {
        payload,
        sent_unix_ms,
        ancestry: ancestry(),
        env_session: Some(session.to_string()),
        args: extra,
    };
    let wait = if decision_possible(source, &env.payload) { DECISION_WAIT } else { ACK_WAIT };
    forward(&session, source, &env, wait, deadline)
}

/// Runs the notify program `tsm hooks install codex` replaced (all arguments but the
/// last, which is the payload, appended by Codex): not waited for, output discarded.
fn run_old_notify(args: &[OsString]) {
    let Some((program, rest)) = args.split_first() else { return };
    if rest.is_empty() {
        return; // only the payload: there is no old program
    }
    let _ = Command::new(program)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

/// Appends the event to `file` as one JSON line, in the shape of a `.tsmrec` event
/// entry (spec/agents.md §8.1), for the recorder; errors are ignored.
fn record(file: &Path, source: EventSource, sent_unix_ms: i64, payload: &[u8], args: &[String]) {
    let json = |bytes: &[u8]| {
        serde_json::from_slice::<serde_json::Value>(bytes)
            .unwrap_or_else(|_| String::from_utf8_lossy(bytes).into_owned().into())
    };
    let payload = match (source, args.last()) {
        (EventSource::CodexNotify, Some(last)) => json(last.as_bytes()),
        _ => json(payload),
    };
    let line = serde_json::json!({
        "unix_ms": sent_unix_ms,
        "event": { "source": source.name(), "payload": payload, "args": args },
    });
    if let Ok(mut out) = OpenOptions::new().create(true).append(true).open(file) {
        let _ = writeln!(out, "{line}");
    }
}
