//! `tsm statusline [--chain CMD]` (hidden alias `tsm claude-statusline`): Claude Code's
//! `statusLine.command` (spec/agents.md §5.1.1). Forwards the status JSON to the session
//! of `$TSM_SESSION` (model, cost, tokens, context), then prints the output of
//! `sh -c CMD` fed the same JSON, or else the Go tsm's line
//! (`[Opus]  work  8% context  $0.01`).

use std::io::{Read, Write};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::Result;
use tsm_agents::{EventSource, HookEnvelope, statusline_line};

use crate::agent_event::{ancestry, forward, read_stdin, session_from_env, unix_ms_now};
use crate::cli::StatuslineArgs;

/// How long forwarding may take in all: the line must not wait for a stuck daemon.
const FORWARD_BUDGET: Duration = Duration::from_millis(500);

/// How long to wait for the daemon's acknowledgement (nothing in it is printed).
const ACK_WAIT: Duration = Duration::from_millis(200);

/// Forwards the status and prints the status line; exits 0.
pub(crate) fn run(args: &StatuslineArgs) -> Result<ExitCode> {
    let sent_unix_ms = unix_ms_now();
    let start = Instant::now();
    let Some(json) = read_stdin() else { return Ok(ExitCode::SUCCESS) };
    let output = std::thread::scope(|scope| {
        if let Some(session) = session_from_env() {
            let env = HookEnvelope {
                payload: json.clone(),
                sent_unix_ms,
                ancestry: ancestry(),
                env_session: Some(session.to_string()),
                args: Vec::new(),
            };
            // The line does not depend on the daemon: forward while the chain runs.
            scope.spawn(move || {
                forward(
                    &session,
                    EventSource::ClaudeStatusline,
                    &env,
                    ACK_WAIT,
                    start + FORWARD_BUDGET,
                )
            });
        }
        match &args.chain {
            Some(command) => chain(command, &json),
            None => None,
        }
    });
    let output = output.unwrap_or_else(|| {
        let value = serde_json::from_slice(&json).unwrap_or(serde_json::Value::Null);
        let line = statusline_line(&value);
        if line.is_empty() { Vec::new() } else { format!("{line}\n").into_bytes() }
    });
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&output)?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The stdout of `sh -c command` fed `input`, whatever its status; `None` if it could
/// not be started.
fn chain(command: &str, input: &[u8]) -> Option<Vec<u8>> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .ok()?;
    let mut stdin = child.stdin.take()?;
    let mut stdout = child.stdout.take()?;
    let output = std::thread::scope(|scope| {
        // Written from a thread: a command that prints before reading must not deadlock.
        scope.spawn(move || {
            let _ = stdin.write_all(input);
        });
        let mut output = Vec::new();
        let _ = stdout.read_to_end(&mut output);
        output
    });
    let _ = child.wait();
    Some(output)
}
