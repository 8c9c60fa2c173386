//! `tsm hook` and `tsm statusline` (spec/agents.md §1.1, §6.3): they exit 0 within a
//! second whatever happens, and forward the event to a scripted daemon on
//! `$TSM_DIR/<name>` as one AgentEvent frame.

use std::io::{ErrorKind, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tsm_agents::events::MAX_EVENT_PAYLOAD_LEN;
use tsm_agents::{EventSource, HookEnvelope, decode_envelope};
use tsm_proto::{FrameDecoder, Info, Tag, write_frame};

use crate::support::{TestDir, WAIT};

/// The spec's bound: `tsm hook` always exits within 1 s. Measured from outside (process
/// start and reaping included), with room for a loaded machine.
const EXIT_BOUND: Duration = Duration::from_millis(1500);

/// A Claude permission request: the one event where `tsm hook` waits for a decision.
const PERMISSION_REQUEST: &str = r#"{"session_id":"5f0c91a2-7d3e-4c1b-9a8e-2b6f0c4d1e11","transcript_path":"/tmp/t.jsonl","cwd":"/tmp","permission_mode":"default","hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"npm test"}}"#;

/// What a finished `tsm hook` or `tsm statusline` left.
#[derive(Debug)]
struct HookRun {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    elapsed: Duration,
}

/// Runs `tsm ARGS` with `TSM_SESSION` (when given) and `stdin`, measuring how long it
/// takes; fails the test if it has not ended after [`WAIT`].
#[track_caller]
fn run_tsm(dir: &TestDir, session: Option<&str>, args: &[&str], stdin: &[u8]) -> HookRun {
    let mut cmd = dir.tsm();
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    if let Some(session) = session {
        cmd.env("TSM_SESSION", session);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn tsm");
    let mut pipe = child.stdin.take().expect("piped");
    let input = stdin.to_vec();
    // A broken pipe only means tsm stopped reading (as it must past 1 MiB).
    std::thread::spawn(move || {
        let _ = pipe.write_all(&input);
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = tx.send((output, start.elapsed()));
    });
    let (output, elapsed) = rx.recv_timeout(WAIT).unwrap_or_else(|_| {
        dir.fail(&format!("`tsm {}` did not exit within {WAIT:?}", args.join(" ")))
    });
    let output = output.expect("wait");
    HookRun {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed,
    }
}

/// Fails unless the run exited 0 within [`EXIT_BOUND`].
#[track_caller]
fn assert_quick_success(run: &HookRun) {
    assert_eq!(run.code, Some(0), "exit code; stderr: {}", run.stderr);
    assert!(run.elapsed < EXIT_BOUND, "took {:?}", run.elapsed);
}

/// A scripted daemon on one socket: answers Info with `child_pid`, and each AgentEvent
/// with `reply` (none: no answer), handing the event's payload to the test.
struct ScriptedDaemon {
    events: Receiver<Vec<u8>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ScriptedDaemon {
    fn start(path: &Path, child_pid: i32, reply: Option<&str>) -> ScriptedDaemon {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let listener = UnixListener::bind(path).unwrap();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, events) = mpsc::channel();
        let reply = reply.map(str::to_owned);
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => serve(stream, child_pid, reply.as_deref(), &tx),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    Err(e) => panic!("accept: {e}"),
                }
            }
        });
        ScriptedDaemon { events, stop, thread: Some(thread) }
    }

    /// The next AgentEvent envelope, decoded; fails after [`WAIT`].
    #[track_caller]
    fn next_event(&self) -> (EventSource, HookEnvelope) {
        let payload = self.events.recv_timeout(WAIT).expect("an AgentEvent frame");
        decode_envelope(&payload).expect("a valid envelope")
    }
}

impl Drop for ScriptedDaemon {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Serves one connection until the client hangs up.
fn serve(
    mut stream: UnixStream,
    child_pid: i32,
    reply: Option<&str>,
    events: &mpsc::Sender<Vec<u8>>,
) {
    stream.set_nonblocking(false).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    let mut decoder = FrameDecoder::new();
    loop {
        while let Some(frame) = decoder.next_frame().unwrap() {
            let frame = frame.to_owned_frame();
            match frame.tag {
                Tag::Info => {
                    let info = Info { pid: child_pid, ..Info::default() };
                    let _ = write_frame(&mut stream, Tag::Info, &info.encode());
                }
                Tag::AgentEvent => {
                    let _ = events.send(frame.payload);
                    if let Some(reply) = reply {
                        let _ = write_frame(&mut stream, Tag::AgentEvent, reply.as_bytes());
                    }
                }
                other => panic!("unexpected frame {other:?}"),
            }
        }
        match decoder.read_from(&mut stream) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

#[test]
fn hook_without_tsm_session_exits_at_once() {
    let dir = TestDir::new();
    for agent in ["claude", "codex", "aider"] {
        let run = run_tsm(&dir, None, &["hook", agent], PERMISSION_REQUEST.as_bytes());
        assert_quick_success(&run);
        assert_eq!(run.stdout, "", "{agent}");
    }
    let run = run_tsm(&dir, None, &["hook", "gemini"], b"{}");
    assert_quick_success(&run);
    assert_eq!(run.stdout, "{}\n", "Gemini reads stdout as JSON");
}

#[test]
fn hook_with_an_invalid_session_name_never_touches_a_path() {
    let dir = TestDir::new();
    // A socket where `..` would lead: it must never get the event.
    let escaped =
        ScriptedDaemon::start(&dir.root().join("x"), 1, Some(r#"{"ok":true,"print":"no"}"#));
    for name in ["../x", "a/b", ".hidden", "-rf", ""] {
        let run = run_tsm(&dir, Some(name), &["hook", "claude"], PERMISSION_REQUEST.as_bytes());
        assert_quick_success(&run);
        assert_eq!(run.stdout, "", "{name:?}");
    }
    assert!(escaped.events.try_recv().is_err(), "an event went through an invalid name");
}

#[test]
fn hook_without_a_daemon_exits_quickly() {
    let dir = TestDir::new();
    std::fs::create_dir_all(dir.path()).unwrap();
    // A stale socket (nobody listens) and a missing one.
    drop(UnixListener::bind(dir.socket("stale")).unwrap());
    for name in ["stale", "missing"] {
        let run = run_tsm(&dir, Some(name), &["hook", "claude"], PERMISSION_REQUEST.as_bytes());
        assert_quick_success(&run);
        assert_eq!(run.stdout, "");
        let run =
            run_tsm(&dir, Some(name), &["hook", "gemini"], b"{\"hook_event_name\":\"AfterAgent\"}");
        assert_quick_success(&run);
        assert_eq!(run.stdout, "{}\n");
    }
}

#[test]
fn hook_exits_within_a_second_when_the_daemon_never_answers() {
    let dir = TestDir::new();
    std::fs::create_dir_all(dir.path()).unwrap();
    // Bound but never accepted: the connection and the frame sit in the kernel's queues.
    let _listener = UnixListener::bind(dir.socket("stuck")).unwrap();
    let run = run_tsm(&dir, Some("stuck"), &["hook", "claude"], PERMISSION_REQUEST.as_bytes());
    assert_quick_success(&run);
    assert_eq!(run.stdout, "");
    // A daemon that reads but never replies.
    let _silent = ScriptedDaemon::start(&dir.socket("silent"), 1, None);
    let run =
        run_tsm(&dir, Some("silent"), &["hook", "gemini"], b"{\"hook_event_name\":\"AfterAgent\"}");
    assert_quick_success(&run);
    assert_eq!(run.stdout, "{}\n");
}

#[test]
fn hook_exits_within_a_second_when_stdin_never_closes() {
    let dir = TestDir::new();
    let _daemon = ScriptedDaemon::start(&dir.socket("api"), 1, Some(r#"{"ok":true,"print":"no"}"#));
    let mut cmd = dir.tsm();
    cmd.args(["hook", "gemini"]).env("TSM_SESSION", "api");
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::null());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn tsm");
    // Written, never closed: the agent hung with our stdin open.
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(b"{\"hook_event_name\":").unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send((child.wait_with_output(), start.elapsed()));
    });
    let (output, elapsed) = rx.recv_timeout(WAIT).expect("tsm hook exited");
    drop(stdin);
    let output = output.unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(elapsed < EXIT_BOUND, "took {elapsed:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "{}\n", "Gemini still gets its JSON");
}

#[test]
fn hook_forwards_bad_json_and_stays_quiet_when_refused() {
    let dir = TestDir::new();
    let daemon = ScriptedDaemon::start(
        &dir.socket("api"),
        1,
        Some(r#"{"ok":false,"error":"payload is not JSON"}"#),
    );
    let run = run_tsm(&dir, Some("api"), &["hook", "claude"], b"{\"hook_event_name\": \"Sto");
    assert_quick_success(&run);
    assert_eq!(run.stdout, "");
    let (source, env) = daemon.next_event();
    assert_eq!(source, EventSource::ClaudeHook);
    assert_eq!(env.payload, b"{\"hook_event_name\": \"Sto", "bytes are forwarded as they are");
}

#[test]
fn hook_drops_a_payload_over_one_mib() {
    let dir = TestDir::new();
    std::fs::create_dir_all(dir.path()).unwrap();
    let listener = UnixListener::bind(dir.socket("api")).unwrap();
    listener.set_nonblocking(true).unwrap();
    let mut big = br#"{"hook_event_name":"Stop","pad":""#.to_vec();
    big.resize(MAX_EVENT_PAYLOAD_LEN + 10, b'x');
    let run = run_tsm(&dir, Some("api"), &["hook", "claude"], &big);
    assert_quick_success(&run);
    assert_eq!(run.stdout, "");
    let accepted = listener.accept();
    assert!(
        matches!(&accepted, Err(e) if e.kind() == ErrorKind::WouldBlock),
        "the hook connected: {accepted:?}"
    );
    // Exactly 1 MiB is still forwarded.
    drop(listener);
    std::fs::remove_file(dir.socket("api")).unwrap();
    let daemon = ScriptedDaemon::start(&dir.socket("api"), 1, Some(r#"{"ok":true,"print":null}"#));
    big.truncate(MAX_EVENT_PAYLOAD_LEN);
    let run = run_tsm(&dir, Some("api"), &["hook", "claude"], &big);
    assert_quick_success(&run);
    assert_eq!(daemon.next_event().1.payload.len(), MAX_EVENT_PAYLOAD_LEN);
}

#[test]
fn hook_sends_the_envelope_and_prints_the_decision() {
    let dir = TestDir::new();
    let decision = r#"{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow"}}}"#;
    let reply = serde_json::json!({"ok": true, "print": decision}).to_string();
    let daemon = ScriptedDaemon::start(&dir.socket("api"), 1, Some(&reply));
    let before = now_unix_ms();
    let run = run_tsm(&dir, Some("api"), &["hook", "claude"], PERMISSION_REQUEST.as_bytes());
    let after = now_unix_ms();
    assert_quick_success(&run);
    assert_eq!(run.stdout, format!("{decision}\n"));
    let (source, env) = daemon.next_event();
    assert_eq!(source, EventSource::ClaudeHook);
    assert_eq!(env.payload, PERMISSION_REQUEST.as_bytes());
    assert_eq!(env.env_session.as_deref(), Some("api"));
    assert!(env.args.is_empty());
    assert_eq!(env.ancestry.first(), Some(&std::process::id()), "the hook's parent is this test");
    assert!(env.ancestry.len() <= 8);
    assert!(
        (before..=after).contains(&env.sent_unix_ms),
        "{before} <= {} <= {after}",
        env.sent_unix_ms
    );
}

#[test]
fn gemini_hook_prints_empty_json_when_the_daemon_has_nothing_to_say() {
    let dir = TestDir::new();
    let daemon = ScriptedDaemon::start(&dir.socket("site"), 1, Some(r#"{"ok":true,"print":null}"#));
    let payload = br#"{"session_id":"g1","hook_event_name":"BeforeAgent","prompt":"hi","timestamp":"2026-01-01T00:00:00Z"}"#;
    let run = run_tsm(&dir, Some("site"), &["hook", "gemini"], payload);
    assert_quick_success(&run);
    assert_eq!(run.stdout, "{}\n");
    let (source, env) = daemon.next_event();
    assert_eq!(source, EventSource::GeminiHook);
    assert_eq!(env.payload, payload);
}

#[test]
fn aider_hook_forwards_an_empty_notification_without_reading_stdin() {
    let dir = TestDir::new();
    let daemon = ScriptedDaemon::start(&dir.socket("aid"), 1, Some(r#"{"ok":true,"print":null}"#));
    let run = run_tsm(&dir, Some("aid"), &["hook", "aider"], b"the user's typing");
    assert_quick_success(&run);
    let (source, env) = daemon.next_event();
    assert_eq!(source, EventSource::AiderNotify);
    assert!(env.payload.is_empty());
}

#[test]
fn codex_notify_forwards_the_last_argument_and_runs_the_old_program() {
    let dir = TestDir::new();
    let daemon = ScriptedDaemon::start(&dir.socket("web"), 1, Some(r#"{"ok":true,"print":null}"#));
    let json =
        r#"{"type":"agent-turn-complete","thread-id":"019e353a-0000-7000-8000-000000000000"}"#;
    let out = dir.root().join("old-notify.out");
    let script = format!("printf '%s' \"$1\" > {}", out.display());
    let args = ["hook", "codex", "--", "sh", "-c", script.as_str(), "sh", json];
    let run = run_tsm(&dir, Some("web"), &args, b"stdin is not read");
    assert_quick_success(&run);
    let (source, env) = daemon.next_event();
    assert_eq!(source, EventSource::CodexNotify);
    assert_eq!(env.args.last().map(String::as_str), Some(json));
    assert!(env.payload.is_empty());
    dir.wait_for("the old notify program to get the payload", || {
        std::fs::read_to_string(&out).is_ok_and(|text| text == json)
    });
    // Without an old program, only the payload.
    let run = run_tsm(&dir, Some("web"), &["hook", "codex", json], b"");
    assert_quick_success(&run);
    assert_eq!(daemon.next_event().1.args, [json]);
}

#[test]
fn codex_hooks_read_stdin() {
    let dir = TestDir::new();
    let daemon = ScriptedDaemon::start(&dir.socket("web"), 1, Some(r#"{"ok":true,"print":null}"#));
    let payload =
        br#"{"session_id":"t1","hook_event_name":"Stop","model":"gpt-5.5","turn_id":"7"}"#;
    let run = run_tsm(&dir, Some("web"), &["hook", "codex"], payload);
    assert_quick_success(&run);
    let (source, env) = daemon.next_event();
    assert_eq!(source, EventSource::CodexHook);
    assert_eq!(env.payload, payload);
}

#[test]
fn hook_finds_a_renamed_session_by_its_child_pid() {
    let dir = TestDir::new();
    // Sorted before the right one, with a child that is not our ancestor.
    let decoy = ScriptedDaemon::start(
        &dir.socket("a-decoy"),
        999_999,
        Some(r#"{"ok":true,"print":"decoy"}"#),
    );
    // The session was renamed from "old" to "new"; its child is this test process, an
    // ancestor of the hook.
    let renamed = ScriptedDaemon::start(
        &dir.socket("new"),
        std::process::id() as i32,
        Some(r#"{"ok":true,"print":"found"}"#),
    );
    let run = run_tsm(&dir, Some("old"), &["hook", "claude"], PERMISSION_REQUEST.as_bytes());
    assert_quick_success(&run);
    assert_eq!(run.stdout, "found\n");
    let (_, env) = renamed.next_event();
    assert_eq!(env.env_session.as_deref(), Some("old"));
    assert!(decoy.events.try_recv().is_err(), "the decoy got the event");
}

#[test]
fn hook_record_appends_a_json_line_even_outside_tsm() {
    let dir = TestDir::new();
    let file = dir.root().join("events.jsonl");
    let file_arg = file.to_str().unwrap();
    let run = run_tsm(
        &dir,
        None,
        &["hook", "claude", "--record", file_arg],
        PERMISSION_REQUEST.as_bytes(),
    );
    assert_quick_success(&run);
    let text = std::fs::read_to_string(&file).unwrap();
    let line: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
    assert_eq!(line["event"]["source"], "claude_hook");
    assert_eq!(line["event"]["payload"]["tool_name"], "Bash");
}

/// A statusline payload as Claude sends it.
const STATUS: &str = r#"{"session_id":"5f0c91a2","model":{"id":"claude-opus-4-6","display_name":"Opus"},"workspace":{"current_dir":"/home/dev/work"},"context_window":{"used_percentage":8.4,"context_window_size":200000,"current_usage":null},"cost":{"total_cost_usd":0.0123}}"#;

#[test]
fn statusline_forwards_the_status_and_prints_the_default_line() {
    let dir = TestDir::new();
    let daemon = ScriptedDaemon::start(&dir.socket("api"), 1, Some(r#"{"ok":true,"print":null}"#));
    let run = run_tsm(&dir, Some("api"), &["statusline"], STATUS.as_bytes());
    assert_quick_success(&run);
    assert_eq!(run.stdout, "[Opus]  work  8% context  $0.01\n");
    let (source, env) = daemon.next_event();
    assert_eq!(source, EventSource::ClaudeStatusline);
    assert_eq!(env.payload, STATUS.as_bytes());
    // Outside tsm the line is printed all the same.
    let run = run_tsm(&dir, None, &["claude-statusline"], STATUS.as_bytes());
    assert_eq!(run.stdout, "[Opus]  work  8% context  $0.01\n");
}

#[test]
fn statusline_chain_prints_the_command_output_fed_the_same_json() {
    let dir = TestDir::new();
    let daemon = ScriptedDaemon::start(&dir.socket("api"), 1, None);
    let chain =
        "sed 's/Opus/Chained/; s/.*display_name\":\"\\([A-Za-z]*\\)\".*/model \\1/'; exit 3";
    let run = run_tsm(&dir, Some("api"), &["statusline", "--chain", chain], STATUS.as_bytes());
    assert_quick_success(&run);
    // Printed as the command wrote it (sed keeps the missing final newline).
    assert_eq!(run.stdout, "model Chained", "stderr: {}", run.stderr);
    assert_eq!(daemon.next_event().0, EventSource::ClaudeStatusline);
    // The hidden alias takes --chain too.
    let run = run_tsm(&dir, None, &["claude-statusline", "--chain", "cat"], STATUS.as_bytes());
    assert_eq!(run.stdout, STATUS);
}

fn now_unix_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}
