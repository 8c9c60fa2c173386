//! Fusion scenarios of spec/agents.md §8.2 (35–42) and the auto-approval rules of §7.4,
//! in virtual time: screens drawn as Claude Code 2.x draws them, hook payloads as Claude
//! sends them, process facts as the daemon reads them.

use std::sync::Arc;

use serde_json::json;
use tsm_agents::events::{EventSource, HookEnvelope};
use tsm_agents::process::{Proc, ProcessFacts};
use tsm_agents::screen::ScreenView;
use tsm_agents::tracker::{AgentEnv, ClientEvent, Output, SendWhy, StructuredEvent, Tracker};
use tsm_agents::{Rules, Source, Stamp};

const AGENT_PID: u32 = 4242;

/// The process facts of a session whose foreground is `claude` (pid [`AGENT_PID`]).
fn claude_facts() -> ProcessFacts {
    let claude = Proc {
        pid: AGENT_PID,
        ppid: 100,
        pgid: AGENT_PID,
        start_ticks: 7,
        argv: vec!["claude".into()],
        ..Proc::default()
    };
    ProcessFacts {
        session_child: 100,
        foreground_pgid: Some(AGENT_PID),
        procs: vec![claude],
        exited: vec![],
    }
}

/// A tracker on a virtual clock, with a Claude process already found.
struct Sim {
    tracker: Tracker,
    now: Stamp,
    sent: Vec<Vec<u8>>,
    prints: Vec<String>,
}

impl Sim {
    fn new() -> Sim {
        let now = Stamp { mono_ms: 0, unix_ms: 1_767_200_000_000 };
        let mut sim = Sim {
            tracker: Tracker::new(Arc::new(Rules::builtin()), AgentEnv::default(), now),
            now,
            sent: Vec::new(),
            prints: Vec::new(),
        };
        let facts = claude_facts();
        let out = sim.tracker.on_process(now, &facts);
        sim.take(out);
        sim
    }

    fn take(&mut self, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Send { bytes, why: SendWhy::Yolo(_) } => self.sent.push(bytes),
                Output::Print(text) => self.prints.push(text),
                _ => {}
            }
        }
    }

    /// Moves the clock forward, firing every timer on the way, as the daemon does.
    fn advance(&mut self, ms: u64) {
        let end = self.now.plus(ms);
        while let Some(due) = self.tracker.next_deadline(self.now) {
            if due > end.mono_ms {
                break;
            }
            self.now = self.now.plus(due - self.now.mono_ms);
            let out = self.tracker.tick(self.now);
            self.take(out);
        }
        self.now = end;
        let out = self.tracker.tick(self.now);
        self.take(out);
    }

    fn screen(&mut self, rows: &[&str]) {
        let rows: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
        let wrapped = vec![false; rows.len()];
        let cursor_row = rows.len().saturating_sub(3) as u16;
        let view = ScreenView {
            rows: &rows,
            wrapped: &wrapped,
            cursor_row,
            cursor_col: 2,
            cols: 100,
            alt_screen: false,
            title: None,
        };
        let out = self.tracker.on_screen(self.now, &view);
        self.take(out);
    }

    fn hook(&mut self, payload: serde_json::Value) {
        self.hook_sent_at(payload, self.now.unix_ms);
    }

    fn hook_sent_at(&mut self, payload: serde_json::Value, sent_unix_ms: i64) {
        let envelope = HookEnvelope {
            payload: payload.to_string().into_bytes(),
            sent_unix_ms,
            ancestry: vec![AGENT_PID, 100],
            env_session: Some("api".into()),
            args: vec![],
        };
        let out = self.tracker.on_event(
            self.now,
            StructuredEvent::Hook { source: EventSource::ClaudeHook, envelope },
        );
        self.take(out);
    }

    /// The process check finds the agent gone with code 0.
    fn agent_exits(&mut self) {
        let facts = ProcessFacts {
            session_child: 100,
            foreground_pgid: Some(100),
            procs: vec![],
            exited: vec![(AGENT_PID, Some(0))],
        };
        let out = self.tracker.on_process(self.now, &facts);
        self.take(out);
    }

    fn input(&mut self, bytes: &[u8]) {
        let out = self.tracker.on_client(self.now, ClientEvent::Input(bytes.to_vec()));
        self.take(out);
    }

    /// `Some(unseen)` when the state is done.
    fn done(&self) -> Option<bool> {
        let report = self.tracker.report().expect("an agent is known");
        (report.state == "done").then_some(report.unseen)
    }

    fn name(&self) -> String {
        self.tracker.report().expect("an agent is known").state
    }

    fn source(&self) -> Source {
        self.tracker.report().expect("an agent is known").source
    }
}

const COMPOSER: [&str; 4] = [
    "────────────────────────────────────────",
    "❯\u{a0}",
    "────────────────────────────────────────",
    "  ? for shortcuts",
];

fn working_screen(secs: u32) -> Vec<String> {
    let mut rows = vec![
        "⏺ I'll run the tests.".to_string(),
        String::new(),
        format!("✢ Combobulating… ({secs}s · ↓ 120 tokens · esc to interrupt)"),
        String::new(),
    ];
    rows.extend(COMPOSER.iter().map(|s| s.to_string()));
    rows
}

fn idle_screen() -> Vec<String> {
    let mut rows = vec!["⏺ Hello.".to_string(), String::new()];
    rows.extend(COMPOSER.iter().map(|s| s.to_string()));
    rows
}

fn done_screen() -> Vec<String> {
    let mut rows = vec![
        "⏺ All tests pass.".to_string(),
        String::new(),
        "✻ Worked for 2m 46s".to_string(),
        String::new(),
    ];
    rows.extend(COMPOSER.iter().map(|s| s.to_string()));
    rows
}

fn approval_screen() -> Vec<String> {
    [
        "⏺ Bash(npm test)",
        "",
        " Bash command",
        "",
        "   npm test",
        "   Run the test suite",
        "",
        " Do you want to proceed?",
        " ❯ 1. Yes",
        "   2. Yes, and don't ask again for npm test commands in /home/u/proj",
        "   3. No, and tell Claude what to do differently (esc)",
        "",
        " Esc to cancel · Tab to amend",
    ]
    .map(String::from)
    .to_vec()
}

fn show(sim: &mut Sim, rows: &[String]) {
    let rows: Vec<&str> = rows.iter().map(String::as_str).collect();
    sim.screen(&rows);
}

fn claude_event(name: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut payload = json!({
        "session_id": "5f0c91a2-0000-4000-8000-000000000001",
        "transcript_path": "/home/u/.claude/projects/-home-u-proj/5f0c91a2.jsonl",
        "cwd": "/home/u/proj",
        "hook_event_name": name,
    });
    if let (Some(target), Some(extra)) = (payload.as_object_mut(), extra.as_object()) {
        target.extend(extra.clone());
    }
    payload
}

#[test]
fn s35_prompt_tools_stop_then_attach_marks_seen() {
    let mut sim = Sim::new();
    show(&mut sim, &idle_screen());
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "run the tests"})));
    assert_eq!(sim.name(), "working");
    show(&mut sim, &working_screen(1));
    sim.advance(400);
    sim.hook(claude_event(
        "PreToolUse",
        json!({"tool_name": "Bash", "tool_input": {"command": "npm test"}}),
    ));
    sim.hook(claude_event("PostToolUse", json!({"tool_name": "Bash", "tool_response": {}})));
    assert_eq!(sim.name(), "working");
    sim.hook(claude_event("Stop", json!({"last_assistant_message": "All tests pass."})));
    assert_eq!(sim.done(), Some(true));
    assert_eq!(sim.source(), Source::ClaudeHook);
    show(&mut sim, &done_screen());
    sim.advance(5000);
    assert_eq!(sim.done(), Some(true), "time alone does not mark it seen");
    let out = sim.tracker.on_client(sim.now, ClientEvent::Attached);
    sim.take(out);
    assert_eq!(sim.done(), Some(false));
    assert_eq!(sim.tracker.report().unwrap().display, "idle");
}

#[test]
fn s36_permission_request_dialog_answer_then_stop() {
    let mut sim = Sim::new();
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "test"})));
    show(&mut sim, &working_screen(2));
    sim.hook(claude_event(
        "PermissionRequest",
        json!({"tool_name": "Bash", "tool_input": {"command": "npm test"}}),
    ));
    assert_eq!(sim.name(), "needs_approval", "the hook is the immediate signal");
    show(&mut sim, &approval_screen());
    assert_eq!(sim.name(), "needs_approval");
    let report = sim.tracker.report().unwrap();
    assert_eq!(report.detail.tool.as_deref(), Some("Bash"));
    sim.advance(1000);
    sim.input(b"\r");
    sim.advance(30);
    show(&mut sim, &working_screen(5));
    sim.advance(250);
    assert_eq!(sim.name(), "working", "answered on screen, without any event");
    sim.hook(claude_event("PostToolUse", json!({"tool_name": "Bash"})));
    sim.hook(claude_event("Stop", json!({})));
    assert_eq!(sim.name(), "done");
}

/// A turn started by a prompt hook and working for 2 s, then Esc (no Stop follows).
fn turn_interrupted_with_escape() -> Sim {
    let mut sim = Sim::new();
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "long job"})));
    show(&mut sim, &working_screen(3));
    sim.advance(2000);
    sim.input(b"\x1b");
    sim
}

#[test]
fn s37_escape_without_stop_ends_idle_within_500ms() {
    let mut sim = turn_interrupted_with_escape();
    sim.advance(50);
    show(&mut sim, &idle_screen());
    let shown = sim.now;
    sim.advance(500);
    assert_eq!(sim.name(), "idle", "an interrupted turn ends idle, not done");
    assert!(sim.now.since(shown) <= 500);
}

#[test]
fn s38_late_permission_prompt_does_not_reopen_an_answered_dialog() {
    let mut sim = Sim::new();
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "x"})));
    sim.hook(claude_event(
        "PermissionRequest",
        json!({"tool_name": "Bash", "tool_input": {"command": "ls"}}),
    ));
    show(&mut sim, &approval_screen());
    sim.advance(6000);
    let asked_at = sim.now.unix_ms - 6000;
    sim.input(b"\r");
    sim.advance(20);
    show(&mut sim, &working_screen(8));
    sim.advance(300);
    assert_eq!(sim.name(), "working");
    // Claude's permission_prompt notification comes about 6 s after the dialog.
    sim.hook_sent_at(
        claude_event("Notification", json!({"notification_type": "permission_prompt", "message": "Claude needs your permission"})),
        asked_at + 6000,
    );
    assert_eq!(sim.name(), "working", "a late notification only confirms");
    sim.advance(3000);
    assert_eq!(sim.name(), "working");
}

#[test]
fn s39_stop_with_background_shells_stays_working_until_markers_clear() {
    let mut sim = Sim::new();
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "serve"})));
    sim.hook(claude_event(
        "Stop",
        json!({"background_tasks": [{"id": "b1", "type": "shell"}, {"id": "b2", "type": "shell"}]}),
    ));
    assert_eq!(sim.name(), "working");
    let mut rows = vec!["✻ Churned for 6m 24s · 2 shells still running".to_string(), String::new()];
    rows.extend(COMPOSER.iter().map(|s| s.to_string()));
    show(&mut sim, &rows);
    sim.advance(3000);
    assert_eq!(sim.name(), "working");
    assert_eq!(sim.tracker.report().unwrap().background.shells, 2);
    show(&mut sim, &idle_screen());
    sim.advance(2000);
    assert_ne!(sim.name(), "working", "the markers cleared");
}

#[test]
fn s40_screen_only_working_approval_working_done() {
    let mut sim = Sim::new();
    show(&mut sim, &idle_screen());
    sim.advance(2000);
    assert_eq!(sim.name(), "idle");
    sim.input(b"run the tests\r");
    show(&mut sim, &working_screen(0));
    assert_eq!(sim.name(), "working");
    assert_eq!(sim.source(), Source::Screen);
    for secs in 1..4 {
        sim.advance(1000);
        show(&mut sim, &working_screen(secs));
        assert_eq!(sim.name(), "working", "a ticking timer is animation, not idleness");
    }
    show(&mut sim, &approval_screen());
    assert_eq!(sim.name(), "needs_approval");
    sim.advance(4000);
    assert_eq!(sim.name(), "needs_approval");
    sim.input(b"\r");
    show(&mut sim, &working_screen(9));
    assert_eq!(sim.name(), "working");
    show(&mut sim, &done_screen());
    sim.advance(299);
    assert_eq!(sim.name(), "working", "a turn summary needs 300 ms");
    sim.advance(2);
    assert_eq!(sim.done(), Some(true));
}

#[test]
fn s40_idle_by_absence_needs_one_and_a_half_seconds() {
    let mut sim = Sim::new();
    sim.input(b"hi\r");
    show(&mut sim, &working_screen(0));
    sim.advance(100);
    show(&mut sim, &idle_screen());
    sim.advance(1400);
    assert_eq!(sim.name(), "working", "not before 1.5 s");
    sim.advance(100);
    assert_eq!(sim.done(), Some(true));
}

#[test]
fn s42_permission_request_without_screen_rule_resolved_by_input_and_change() {
    let mut sim = Sim::new();
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "x"})));
    show(&mut sim, &working_screen(1));
    sim.hook(claude_event(
        "PermissionRequest",
        json!({"tool_name": "WebFetch", "tool_input": {"url": "https://x"}}),
    ));
    // A new layout no rule knows.
    sim.screen(&["  Fetch https://x ?", "  > allow", "    deny"]);
    assert_eq!(sim.name(), "needs_approval");
    sim.advance(2000);
    assert_eq!(sim.name(), "needs_approval", "stands while nothing happens");
    sim.input(b"\r");
    sim.advance(10);
    sim.screen(&["  fetching…"]);
    sim.advance(250);
    assert_eq!(sim.name(), "working");
}

#[test]
fn registry_idle_after_busy_is_done_and_session_end_asks_for_a_check() {
    let mut sim = Sim::new();
    let registry = |status: &str| {
        json!({"pid": AGENT_PID, "sessionId": "5f0c91a2-aaaa", "cwd": "/p", "status": status, "version": "2.1.173"})
            .to_string()
            .into_bytes()
    };
    let out = sim.tracker.on_event(
        sim.now,
        StructuredEvent::ClaudeRegistry { pid: AGENT_PID, contents: Some(registry("busy")) },
    );
    sim.take(out);
    assert_eq!(sim.name(), "working");
    sim.advance(100);
    let out = sim.tracker.on_event(
        sim.now,
        StructuredEvent::ClaudeRegistry { pid: AGENT_PID, contents: Some(registry("idle")) },
    );
    sim.take(out);
    assert_eq!(sim.name(), "done");
    let report = sim.tracker.report().unwrap();
    assert_eq!(report.agent_session_id.as_deref(), Some("5f0c91a2-aaaa"));
    assert!(report.agent_session_id_verified);
    assert_eq!(report.resume_cmd.as_deref(), Some("claude --resume 5f0c91a2-aaaa"));
    assert_eq!(report.version.as_deref(), Some("2.1.173"));
    let envelope = HookEnvelope {
        payload: claude_event("SessionEnd", json!({"reason": "prompt_input_exit"}))
            .to_string()
            .into_bytes(),
        sent_unix_ms: sim.now.unix_ms,
        ancestry: vec![AGENT_PID],
        env_session: None,
        args: vec![],
    };
    let out = sim
        .tracker
        .on_event(sim.now, StructuredEvent::Hook { source: EventSource::ClaudeHook, envelope });
    assert!(out.iter().any(|o| matches!(o, Output::Want(tsm_agents::tracker::Want::ProcessCheck))));
    assert_ne!(sim.name(), "exited", "the process layer is the authority");
}

#[test]
fn agent_exit_is_final() {
    let mut sim = Sim::new();
    sim.agent_exits();
    assert_eq!(sim.name(), "exited");
    assert!(!sim.tracker.has_agent());
    assert_eq!(sim.tracker.next_deadline(sim.now), None, "no timers after exit");
}

#[test]
fn no_wake_ups_once_settled() {
    let mut sim = Sim::new();
    show(&mut sim, &idle_screen());
    sim.advance(10_000);
    assert_eq!(sim.tracker.next_deadline(sim.now), None);
}

#[test]
fn subagent_events_never_end_the_main_turn() {
    let mut sim = Sim::new();
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "x"})));
    sim.hook(claude_event("SubagentStart", json!({"agent_id": "a1", "agent_type": "Explore"})));
    sim.hook(claude_event("Stop", json!({"agent_id": "a1"})));
    sim.hook(claude_event("SubagentStop", json!({"agent_id": "a1"})));
    assert_eq!(sim.name(), "working");
}

#[test]
fn an_older_event_does_not_undo_a_newer_one() {
    let mut sim = Sim::new();
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "x"})));
    let before_stop = sim.now.unix_ms;
    sim.advance(100);
    sim.hook(claude_event("Stop", json!({})));
    assert_eq!(sim.name(), "done");
    // An async PostToolUse stamped before Stop arrives after it.
    sim.hook_sent_at(claude_event("PostToolUse", json!({"tool_name": "Bash"})), before_stop + 50);
    assert_eq!(sim.name(), "done");
}

// §7.4: auto-approval.

/// Yolo on, the agent working, then a Bash approval dialog drawn (fresh: first seen after
/// yolo was turned on and after any input).
fn yolo_sim_with_fresh_dialog() -> Sim {
    let mut sim = Sim::new();
    let out = sim.tracker.set_yolo(sim.now, true);
    sim.take(out);
    sim.advance(10);
    show(&mut sim, &working_screen(1));
    sim.advance(100);
    show(&mut sim, &approval_screen());
    sim
}

#[test]
fn yolo_answers_a_fresh_bash_dialog_exactly_once() {
    let mut sim = yolo_sim_with_fresh_dialog();
    sim.advance(299);
    assert!(sim.sent.is_empty(), "not before the dialog is fully drawn");
    sim.advance(5);
    assert_eq!(sim.sent, vec![b"\r".to_vec()]);
    sim.advance(5000);
    assert_eq!(sim.sent.len(), 1, "a dialog still there is left to the user");
    assert!(sim.tracker.report().unwrap().yolo.stuck);
}

#[test]
fn yolo_off_sends_nothing() {
    let mut sim = Sim::new();
    show(&mut sim, &approval_screen());
    sim.advance(5000);
    assert!(sim.sent.is_empty());
}

#[test]
fn yolo_never_answers_a_dialog_seen_before_it_was_turned_on() {
    let mut sim = Sim::new();
    show(&mut sim, &approval_screen());
    sim.advance(100);
    let out = sim.tracker.set_yolo(sim.now, true);
    sim.take(out);
    sim.advance(5000);
    assert!(sim.sent.is_empty());
}

#[test]
fn yolo_ignores_answered_dialogs_and_quoted_text() {
    let mut sim = Sim::new();
    let out = sim.tracker.set_yolo(sim.now, true);
    sim.take(out);
    sim.advance(10);
    // An answered dialog still above the idle composer.
    let mut rows = approval_screen();
    rows.extend(COMPOSER.iter().map(|s| s.to_string()));
    show(&mut sim, &rows);
    sim.advance(3000);
    // Dialog text quoted in tool output.
    show(
        &mut sim,
        &[
            "⏺ The script prints:".to_string(),
            "  ⎿  Do you want to proceed?".to_string(),
            "  ⎿  ❯ 1. Yes".to_string(),
            String::new(),
        ],
    );
    sim.advance(3000);
    assert!(sim.sent.is_empty());
}

#[test]
fn yolo_hook_answer_for_permission_request_but_not_for_questions() {
    let mut sim = Sim::new();
    sim.hook(claude_event(
        "PermissionRequest",
        json!({"tool_name": "AskUserQuestion", "tool_input": {}}),
    ));
    assert!(sim.prints.is_empty(), "yolo off: nothing printed");
    let out = sim.tracker.set_yolo(sim.now, true);
    sim.take(out);
    sim.hook(claude_event(
        "PermissionRequest",
        json!({"tool_name": "AskUserQuestion", "tool_input": {}}),
    ));
    assert!(sim.prints.is_empty(), "never for the question tool");
    sim.hook(claude_event(
        "PermissionRequest",
        json!({"tool_name": "Bash", "tool_input": {"command": "ls"}}),
    ));
    assert_eq!(sim.prints.len(), 1);
    let printed: serde_json::Value = serde_json::from_str(&sim.prints[0]).unwrap();
    assert_eq!(printed["hookSpecificOutput"]["decision"]["behavior"], "allow");
}

#[test]
fn a_shell_printing_the_prompt_glyph_is_no_agent() {
    let mut tracker =
        Tracker::new(Arc::new(Rules::builtin()), AgentEnv::default(), Stamp::default());
    let facts = ProcessFacts {
        session_child: 100,
        foreground_pgid: Some(300),
        procs: vec![Proc {
            pid: 300,
            ppid: 100,
            pgid: 300,
            argv: vec!["printf".into(), "❯ 1. Yes".into()],
            ..Proc::default()
        }],
        exited: vec![],
    };
    tracker.on_process(Stamp::default(), &facts);
    let rows = vec!["Do you want to proceed?".to_string(), "❯ 1. Yes".to_string()];
    let wrapped = vec![false; 2];
    let view = ScreenView {
        rows: &rows,
        wrapped: &wrapped,
        cursor_row: 1,
        cursor_col: 0,
        cols: 80,
        alt_screen: false,
        title: None,
    };
    tracker.on_screen(Stamp::default(), &view);
    assert!(tracker.report().is_none());
}

// Layer 3: transcripts and rollouts, read as they grow.

fn wanted_tail(outputs: &[Output]) -> Option<(std::path::PathBuf, u64)> {
    outputs.iter().find_map(|o| match o {
        Output::Want(tsm_agents::tracker::Want::Tail { path, from }) => Some((path.clone(), *from)),
        _ => None,
    })
}

#[test]
fn a_hook_names_the_transcript_and_a_lagging_transcript_never_undoes_a_newer_hook() {
    let mut sim = Sim::new();
    sim.hook(claude_event(
        "SessionStart",
        json!({"source": "startup", "model": "claude-opus-4-6"}),
    ));
    let facts = claude_facts();
    let out = sim.tracker.on_process(sim.now, &facts);
    let (path, from) = wanted_tail(&out).expect("the transcript is asked for");
    assert_eq!(
        path,
        std::path::PathBuf::from("/home/u/.claude/projects/-home-u-proj/5f0c91a2.jsonl")
    );
    assert_eq!(from, 0);
    // A turn that ended a minute ago, then the user starts a new one (hook, now).
    let old = |s: i64| chrono_free_iso(sim.now.unix_ms - 60_000 + s);
    let lines = [
        json!({"type": "user", "sessionId": "5f0c91a2", "timestamp": old(0), "message": {"role": "user", "content": "hi"}}),
        json!({"type": "assistant", "sessionId": "5f0c91a2", "requestId": "r1", "timestamp": old(1000),
               "message": {"id": "m1", "model": "claude-opus-4-6", "stop_reason": "end_turn",
                           "content": [{"type": "text", "text": "Hello!"}],
                           "usage": {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 0, "cache_creation_input_tokens": 0}}}),
    ];
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "next"})));
    assert_eq!(sim.name(), "working");
    let bytes: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\n").into_bytes()).collect();
    let len = bytes.len() as u64;
    let out = sim
        .tracker
        .on_event(sim.now, StructuredEvent::FileBytes { path: path.clone(), from: 0, bytes });
    sim.take(out);
    assert_eq!(sim.name(), "working", "the old end_turn does not end the new turn");
    let report = sim.tracker.report().unwrap();
    assert_eq!(report.tokens.map(|t| t.output), Some(5), "usage is read");
    let out = sim.tracker.on_process(sim.now, &facts);
    assert_eq!(wanted_tail(&out), Some((path, len)), "the next read starts where this one ended");
}

#[test]
fn codex_rollout_is_found_among_open_files_and_verifies_the_id() {
    let mut tracker =
        Tracker::new(Arc::new(Rules::builtin()), AgentEnv::default(), Stamp::default());
    let now = Stamp { mono_ms: 10, unix_ms: 1_767_200_000_000 };
    let facts = ProcessFacts {
        session_child: 100,
        foreground_pgid: Some(300),
        procs: vec![Proc {
            pid: 300,
            ppid: 100,
            pgid: 300,
            argv: vec!["codex".into()],
            ..Proc::default()
        }],
        exited: vec![],
    };
    let out = tracker.on_process(now, &facts);
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Want(tsm_agents::tracker::Want::OpenFiles { pid: 300 })))
    );
    let rollout = std::path::PathBuf::from(
        "/h/.codex/sessions/2026/11/22/rollout-2026-11-22T01-00-00-019e353a-aaaa-7bbb-8ccc-0123456789ab.jsonl",
    );
    let out = tracker.on_event(
        now,
        StructuredEvent::OpenFiles { pid: 300, paths: vec!["/dev/pts/3".into(), rollout.clone()] },
    );
    assert_eq!(wanted_tail(&out), Some((rollout.clone(), 0)));
    let lines = [
        json!({"timestamp": "2026-11-22T01:00:00.000Z", "type": "session_meta", "payload": {"id": "019e353a-aaaa-7bbb-8ccc-0123456789ab", "cwd": "/p", "cli_version": "0.134.0"}}),
        json!({"timestamp": "2026-11-22T01:00:01.000Z", "type": "turn_context", "payload": {"cwd": "/p", "model": "gpt-5.5"}}),
    ];
    let bytes: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\n").into_bytes()).collect();
    tracker.on_event(now, StructuredEvent::FileBytes { path: rollout, from: 0, bytes });
    let report = tracker.report().unwrap();
    assert_eq!(report.agent_session_id.as_deref(), Some("019e353a-aaaa-7bbb-8ccc-0123456789ab"));
    assert!(report.agent_session_id_verified, "an open rollout is the process's own");
    assert_eq!(
        report.resume_cmd.as_deref(),
        Some("codex resume 019e353a-aaaa-7bbb-8ccc-0123456789ab")
    );
    assert_eq!(report.model.as_deref(), Some("gpt-5.5"));
    assert_eq!(report.version.as_deref(), Some("0.134.0"));
}

/// An RFC 3339 UTC timestamp of a Unix ms time, without a date crate.
fn chrono_free_iso(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86400), secs.rem_euclid(86400));
    // The civil date of a day count since 1970-01-01 (400-year eras of 146097 days).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

fn registry_file(status: &str, updated_ms: i64, proc_start: &str) -> Vec<u8> {
    json!({"pid": AGENT_PID, "sessionId": "5f0c91a2-bbbb", "cwd": "/p", "status": status,
           "procStart": proc_start, "updatedAt": updated_ms, "statusUpdatedAt": updated_ms})
    .to_string()
    .into_bytes()
}

#[test]
fn a_registry_file_older_than_the_last_hook_does_not_undo_it() {
    let mut sim = Sim::new();
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "x"})));
    let busy_at = sim.now.unix_ms;
    sim.advance(500);
    sim.hook(claude_event("Stop", json!({})));
    assert_eq!(sim.name(), "done");
    // Claude has not rewritten its file since the turn started.
    let contents = registry_file("busy", busy_at, "7");
    let out = sim.tracker.on_event(
        sim.now,
        StructuredEvent::ClaudeRegistry { pid: AGENT_PID, contents: Some(contents) },
    );
    sim.take(out);
    assert_eq!(sim.name(), "done");
    assert_eq!(
        sim.tracker.report().unwrap().agent_session_id.as_deref(),
        Some("5f0c91a2-bbbb"),
        "its metadata still counts"
    );
}

#[test]
fn a_registry_file_of_a_reused_pid_is_not_ours() {
    let mut sim = Sim::new();
    let contents = registry_file("busy", sim.now.unix_ms, "999");
    let out = sim.tracker.on_event(
        sim.now,
        StructuredEvent::ClaudeRegistry { pid: AGENT_PID, contents: Some(contents) },
    );
    sim.take(out);
    assert_eq!(sim.name(), "starting");
    assert_eq!(sim.tracker.report().unwrap().agent_session_id, None);
    let contents = registry_file("busy", sim.now.unix_ms, "7");
    let out = sim.tracker.on_event(
        sim.now,
        StructuredEvent::ClaudeRegistry { pid: AGENT_PID, contents: Some(contents) },
    );
    sim.take(out);
    assert_eq!(sim.name(), "working", "the file of this very process counts");
}

#[test]
fn s41_two_agents_in_one_cwd_each_keep_their_own_id() {
    // Two sessions, two Claude processes in the same directory; each tracker reads only its
    // own pid's registry file and takes ids from hooks whose ancestry holds its pid.
    let mut a = Sim::new();
    let other_pid = AGENT_PID + 1;
    let other = json!({"pid": other_pid, "sessionId": "bbbbbbbb-other", "cwd": "/home/u/proj", "status": "busy"});
    let out = a.tracker.on_event(
        a.now,
        StructuredEvent::ClaudeRegistry {
            pid: other_pid,
            contents: Some(other.to_string().into_bytes()),
        },
    );
    a.take(out);
    assert_eq!(
        a.tracker.report().unwrap().agent_session_id,
        None,
        "another process's file is not read as ours"
    );
    // A hook of the other agent that reached this session by a wrong TSM_SESSION: its id is
    // not verified, since its ancestry does not hold this agent.
    let envelope = HookEnvelope {
        payload: claude_event(
            "SessionStart",
            json!({"source": "startup", "session_id": "bbbbbbbb-other"}),
        )
        .to_string()
        .into_bytes(),
        sent_unix_ms: a.now.unix_ms,
        ancestry: vec![other_pid, 1],
        env_session: Some("api".into()),
        args: vec![],
    };
    let out = a
        .tracker
        .on_event(a.now, StructuredEvent::Hook { source: EventSource::ClaudeHook, envelope });
    a.take(out);
    let report = a.tracker.report().unwrap();
    assert!(!report.agent_session_id_verified);
    assert_eq!(report.resume_cmd, None, "an unverified id never makes a resume command");
    // Its own hook verifies its own id.
    a.hook(claude_event(
        "SessionStart",
        json!({"source": "startup", "session_id": "aaaaaaaa-mine"}),
    ));
    let report = a.tracker.report().unwrap();
    assert_eq!(report.agent_session_id.as_deref(), Some("aaaaaaaa-mine"));
    assert!(report.agent_session_id_verified);
}

fn composer_with(text: &str) -> Vec<String> {
    let mut rows = vec!["⏺ Hello.".to_string(), String::new()];
    rows.push("────────────────────────────────────────".into());
    rows.push(format!("❯\u{a0}{text}"));
    rows.push("────────────────────────────────────────".into());
    rows.push("  ? for shortcuts".into());
    rows
}

// Regressions found in review: each of these failed before its fix.

#[test]
fn an_older_event_answers_no_newer_dialog() {
    let mut sim = Sim::new();
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "x"})));
    let t0 = sim.now.unix_ms;
    sim.advance(1000);
    sim.hook(claude_event(
        "PermissionRequest",
        json!({"tool_name": "WebFetch", "tool_input": {"url": "https://x"}}),
    ));
    assert_eq!(sim.name(), "needs_approval");
    // async PostToolUse of an earlier tool, sent before the PermissionRequest
    sim.hook_sent_at(claude_event("PostToolUse", json!({"tool_name": "Read"})), t0 + 500);
    assert_eq!(sim.name(), "needs_approval");
}

#[test]
fn a_failure_ends_with_new_work_on_screen() {
    let mut sim = Sim::new();
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "x"})));
    sim.advance(100);
    sim.hook(claude_event("StopFailure", json!({"error": "rate_limit"})));
    assert_eq!(sim.name(), "errored");
    sim.advance(100);
    sim.hook(claude_event("SessionStart", json!({"source": "clear"})));
    show(&mut sim, &idle_screen());
    sim.advance(3000);
    show(&mut sim, &working_screen(1));
    sim.advance(1200);
    assert_eq!(sim.name(), "working");
}

#[test]
fn typing_after_an_interrupt_does_not_reopen_the_turn() {
    let mut sim = turn_interrupted_with_escape();
    sim.advance(50);
    show(&mut sim, &idle_screen());
    sim.advance(500);
    assert_eq!(sim.name(), "idle");
    sim.input(b"h");
    show(&mut sim, &composer_with("h"));
    assert_eq!(sim.name(), "idle");
}

#[test]
fn a_nested_agent_of_another_kind_only_counts_as_a_subagent() {
    let mut sim = Sim::new();
    sim.hook(claude_event("SessionStart", json!({"source": "startup"})));
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "x"})));
    let before = sim.tracker.report().unwrap();
    // a nested `codex exec` run by Claude's Bash tool: its notify reaches the session
    let envelope = HookEnvelope {
        payload: vec![],
        sent_unix_ms: sim.now.unix_ms,
        ancestry: vec![9999, 9998, AGENT_PID, 100],
        env_session: Some("api".into()),
        args: vec![json!({"type": "agent-turn-complete", "thread-id": "t1"}).to_string()],
    };
    let out = sim
        .tracker
        .on_event(sim.now, StructuredEvent::Hook { source: EventSource::CodexNotify, envelope });
    assert!(!out.iter().any(|o| matches!(o, Output::KindChanged(_))), "the primary stays");
    let after = sim.tracker.report().unwrap();
    assert_eq!(after.state, before.state);
    assert_eq!(after.agent_session_id, before.agent_session_id);
    assert_eq!(after.kind, before.kind);
}

#[test]
fn a_late_event_after_exit_makes_no_new_agent() {
    let mut sim = Sim::new();
    sim.agent_exits();
    assert_eq!(sim.name(), "exited");
    sim.advance(100);
    sim.hook(claude_event("SessionEnd", json!({"reason": "prompt_input_exit"})));
    sim.agent_exits(); // the next process check finds it gone again
    sim.advance(5000);
    assert_eq!(sim.name(), "exited");
}

#[test]
fn yolo_answers_the_same_question_again_in_a_later_turn() {
    let mut sim = yolo_sim_with_fresh_dialog();
    sim.advance(400);
    assert_eq!(sim.sent.len(), 1);
    show(&mut sim, &working_screen(5));
    sim.advance(3000);
    show(&mut sim, &done_screen());
    sim.advance(3000);
    show(&mut sim, &working_screen(1));
    sim.advance(500);
    show(&mut sim, &approval_screen());
    sim.advance(400);
    assert_eq!(sim.sent.len(), 2);
}

#[test]
fn a_new_transcript_after_clear_is_followed() {
    let mut sim = Sim::new();
    sim.hook(claude_event("SessionStart", json!({"source": "startup"})));
    let facts = claude_facts();
    let out = sim.tracker.on_process(sim.now, &facts);
    let first = wanted_tail(&out).expect("the first transcript").0;
    assert!(first.ends_with("5f0c91a2.jsonl"));
    sim.hook(claude_event("SessionStart", json!({"source": "clear", "session_id": "new-id", "transcript_path": "/home/u/.claude/projects/-home-u-proj/new-id.jsonl"})));
    let out = sim.tracker.on_process(sim.now, &facts);
    let (path, from) = wanted_tail(&out).expect("the new transcript");
    assert!(path.ends_with("new-id.jsonl"), "{path:?}");
    assert_eq!(from, 0);
    assert_eq!(sim.tracker.report().unwrap().agent_session_id.as_deref(), Some("new-id"));
}

#[test]
fn a_lagging_transcript_prompt_does_not_clear_a_failure() {
    let mut sim = Sim::new();
    sim.hook(claude_event("SessionStart", json!({"source": "startup"})));
    let facts = claude_facts();
    let out = sim.tracker.on_process(sim.now, &facts);
    sim.take(out);
    let path = std::path::PathBuf::from("/home/u/.claude/projects/-home-u-proj/5f0c91a2.jsonl");
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "x"})));
    let prompt_at = sim.now.unix_ms;
    sim.advance(200);
    sim.hook(claude_event("StopFailure", json!({"error": "rate_limit"})));
    assert_eq!(sim.name(), "errored");
    let line = json!({"type": "user", "sessionId": "5f0c91a2", "timestamp": chrono_free_iso(prompt_at + 10), "message": {"role": "user", "content": "x"}});
    let out = sim.tracker.on_event(
        sim.now,
        StructuredEvent::FileBytes { path, from: 0, bytes: format!("{line}\n").into_bytes() },
    );
    sim.take(out);
    assert_eq!(sim.name(), "errored");
}

#[test]
fn an_env_only_hook_does_not_displace_a_verified_id() {
    let mut sim = Sim::new();
    sim.hook(claude_event(
        "SessionStart",
        json!({"source": "startup", "session_id": "aaaaaaaa-mine"}),
    ));
    let r = sim.tracker.report().unwrap();
    assert!(r.agent_session_id_verified, "the agent's own hook");
    let envelope = HookEnvelope {
        payload: claude_event(
            "UserPromptSubmit",
            json!({"session_id": "bbbbbbbb-other", "prompt": "x"}),
        )
        .to_string()
        .into_bytes(),
        sent_unix_ms: sim.now.unix_ms,
        ancestry: vec![7777, 1],
        env_session: Some("api".into()),
        args: vec![],
    };
    let out = sim
        .tracker
        .on_event(sim.now, StructuredEvent::Hook { source: EventSource::ClaudeHook, envelope });
    sim.take(out);
    let r = sim.tracker.report().unwrap();
    assert_eq!(r.agent_session_id.as_deref(), Some("aaaaaaaa-mine"));
}

#[test]
fn the_banner_read_again_is_no_news() {
    let mut sim = Sim::new();
    let mut rows = vec![
        " ▐▛███▜▌   Claude Code v2.1.0".to_string(),
        "▝▜█████▛▘  Opus 4.6 · Claude Max".to_string(),
        String::new(),
    ];
    rows.extend(idle_screen());
    show(&mut sim, &rows);
    let a = sim.tracker.report().unwrap();
    sim.advance(100);
    show(&mut sim, &rows);
    let b = sim.tracker.report().unwrap();
    assert_eq!(a.version.as_deref(), Some("2.1.0"));
    assert_eq!(a.updated_at_ms, b.updated_at_ms, "the same banner changes nothing");
    for _ in 0..40 {
        sim.advance(100);
        show(&mut sim, &rows);
    }
    let screens = sim.tracker.trace().filter(|o| o.source == Source::Screen).count();
    assert_eq!(screens, 1, "one observation for the banner, not one per evaluation");
    // same statusline twice
    let st = json!({"session_id": "s1", "model": {"id": "claude-opus-4-6"}, "cost": {"total_cost_usd": 0.1}});
    let env = |ms| HookEnvelope {
        payload: st.to_string().into_bytes(),
        sent_unix_ms: ms,
        ancestry: vec![AGENT_PID],
        env_session: None,
        args: vec![],
    };
    sim.tracker.on_event(
        sim.now,
        StructuredEvent::Hook {
            source: EventSource::ClaudeStatusline,
            envelope: env(sim.now.unix_ms),
        },
    );
    let c = sim.tracker.report().unwrap().updated_at_ms;
    sim.advance(300);
    sim.tracker.on_event(
        sim.now,
        StructuredEvent::Hook {
            source: EventSource::ClaudeStatusline,
            envelope: env(sim.now.unix_ms),
        },
    );
    let d = sim.tracker.report().unwrap().updated_at_ms;
    assert_eq!(c, d, "the same statusline again changes nothing");
}

#[test]
fn an_interrupted_turn_under_an_old_summary_ends_idle() {
    let mut sim = Sim::new();
    show(&mut sim, &idle_screen());
    sim.advance(2000);
    sim.input(b"first\r");
    show(&mut sim, &working_screen(0));
    sim.advance(1000);
    show(&mut sim, &done_screen());
    sim.advance(400);
    assert_eq!(sim.done(), Some(true));
    sim.input(b"second\r");
    let mut rows = vec![
        "⏺ All tests pass.".to_string(),
        String::new(),
        "✻ Worked for 2m 46s".to_string(),
        String::new(),
        "> second".to_string(),
        String::new(),
        "✢ Combobulating… (3s · ↓ 120 tokens · esc to interrupt)".to_string(),
        String::new(),
    ];
    rows.extend(COMPOSER.iter().map(|s| s.to_string()));
    show(&mut sim, &rows);
    sim.advance(100);
    assert_eq!(sim.name(), "working");
    sim.advance(2000);
    sim.input(b"\x1b");
    sim.advance(50);
    let mut rows = vec![
        "⏺ All tests pass.".to_string(),
        String::new(),
        "✻ Worked for 2m 46s".to_string(),
        String::new(),
        "> second".to_string(),
        "  ⎿  Interrupted · What should Claude do instead?".to_string(),
        String::new(),
    ];
    rows.extend(COMPOSER.iter().map(|s| s.to_string()));
    show(&mut sim, &rows);
    sim.advance(2000);
    assert_eq!(sim.name(), "idle");
}

#[test]
fn a_second_dialog_right_after_the_first_has_its_own_since() {
    let mut sim = Sim::new();
    sim.hook(claude_event("UserPromptSubmit", json!({"prompt": "x"})));
    show(&mut sim, &working_screen(1));
    sim.advance(500);
    show(&mut sim, &approval_screen());
    sim.advance(3000);
    sim.input(b"\r");
    sim.advance(40);
    let b: Vec<String> =
        approval_screen().into_iter().map(|r| r.replace("npm test", "cargo build")).collect();
    show(&mut sim, &b);
    sim.advance(500);
    let r = sim.tracker.report().unwrap();
    assert!(r.since_ms >= r.last_input_ms.unwrap());
}

#[test]
fn a_detached_codex_with_focus_reporting_is_told_it_has_no_focus() {
    let now = Stamp { mono_ms: 10, unix_ms: 1_767_200_000_000 };
    let mut tracker = Tracker::new(Arc::new(Rules::builtin()), AgentEnv::default(), now);
    let focus = |outputs: &[Output]| -> Vec<Vec<u8>> {
        outputs
            .iter()
            .filter_map(|o| match o {
                Output::Send { bytes, why: SendWhy::FocusReport } => Some(bytes.clone()),
                _ => None,
            })
            .collect()
    };
    // Codex turned the mode on before the tracker knew it was Codex.
    assert!(focus(&tracker.on_pty_bytes(now, b"\x1b[?1004h")).is_empty(), "not an agent yet");
    let facts = ProcessFacts {
        session_child: 100,
        foreground_pgid: Some(300),
        procs: vec![Proc {
            pid: 300,
            ppid: 100,
            pgid: 300,
            argv: vec!["codex".into()],
            ..Proc::default()
        }],
        exited: vec![],
    };
    tracker.on_process(now, &facts);
    assert_eq!(focus(&tracker.on_focus_reporting(true)), vec![b"\x1b[O".to_vec()]);
    assert!(focus(&tracker.on_focus_reporting(true)).is_empty(), "said once");
    assert_eq!(focus(&tracker.on_client(now, ClientEvent::Attached)), vec![b"\x1b[I".to_vec()]);
    assert_eq!(focus(&tracker.on_client(now, ClientEvent::Detached)), vec![b"\x1b[O".to_vec()]);
}

#[test]
fn focus_reports_are_never_sent_for_claude() {
    let mut sim = Sim::new();
    let out = sim.tracker.on_pty_bytes(sim.now, b"\x1b[?1004h");
    assert!(!out.iter().any(|o| matches!(o, Output::Send { .. })));
    let out = sim.tracker.on_client(sim.now, ClientEvent::Attached);
    assert!(!out.iter().any(|o| matches!(o, Output::Send { .. })));
}
