//! The whole daemon with an agent in it (spec/agents.md §9.8): `tsm-fake-agent` replays a
//! recorded Claude Code session as the session's program, under the name `claude`; the
//! tests follow `tsm agents --json --watch` and check each state against the fake agent's
//! timing log.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::{TestDir, WAIT, tsm_bin};

/// How late a state may be reported, from the daemon reading the change (§1.2).
const FRESH_MS: u64 = 500;

fn fake_agent_bin() -> PathBuf {
    let bin = Path::new(tsm_bin()).with_file_name("tsm-fake-agent");
    assert!(
        bin.exists(),
        "{} is missing: build it with `cargo build -p tsm-fake-agent`",
        bin.display()
    );
    bin
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tsm-agents/fixtures/sessions").join(name)
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// `tsm agents --json --watch`, each report with the wall time it was read at.
struct Watch {
    child: Child,
    lines: mpsc::Receiver<(u64, Value)>,
    seen: Vec<(u64, Value)>,
}

impl Watch {
    fn start(dir: &TestDir) -> Watch {
        let mut cmd = dir.tsm();
        cmd.args(["agents", "--json", "--watch"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn tsm agents --watch");
        let stdout = child.stdout.take().expect("piped");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if let Ok(value) = serde_json::from_str::<Value>(&line)
                    && tx.send((now_ms(), value)).is_err()
                {
                    return;
                }
            }
        });
        Watch { child, lines, seen: Vec::new() }
    }

    /// Waits for a report in `state`; returns the wall time it was read at.
    #[track_caller]
    fn wait_state(&mut self, dir: &TestDir, state: &str) -> (u64, Value) {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            if let Some(found) = self.seen.iter().find(|(_, r)| r["state"] == state) {
                return found.clone();
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => {
                    let states: Vec<String> =
                        self.seen.iter().map(|(t, r)| format!("{t}:{}", r["state"])).collect();
                    dir.diag().fail(&format!("no `{state}` report; seen: {states:?}"))
                }
            }
        }
    }

    /// Forgets what was seen (the next wait looks at new reports only).
    fn clear(&mut self) {
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        self.seen.clear();
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The wall time at which the fake agent played the entry at recording time `t`.
#[track_caller]
fn played_at(dir: &TestDir, log: &Path, t: u64) -> u64 {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["t"] == t && v["kind"] == "out")
        .find_map(|v| v["wall_ms"].as_u64())
        .unwrap_or_else(|| dir.diag().fail(&format!("the fake agent did not play t={t}: {text}")))
}

/// Starts the recording as session `name`'s program, named after the recording's agent
/// (`claude_…` or `codex_…`), and gives it the recorded size with a headless client that
/// then detaches.
fn start_agent(dir: &TestDir, name: &str, recording: &str) -> PathBuf {
    let bin_dir = dir.home().join("bin");
    std::fs::create_dir_all(&bin_dir).unwrap();
    let agent = recording.split('_').next().expect("agent_case.tsmrec");
    let program = bin_dir.join(agent);
    if !program.exists() {
        std::os::unix::fs::symlink(fake_agent_bin(), &program).unwrap();
    }
    let log = dir.home().join(format!("{name}.fake-agent.log"));
    let mut cmd = dir.tsm();
    cmd.env("TSM_FAKE_AGENT_LOG", &log).env("TSM_BIN", tsm_bin()).args(["new", name, "--"]);
    cmd.arg(&program).arg(fixture(recording)).args(["--wait-input", "--size-wait", "5000"]);
    let run = dir.run_command(cmd, "tsm new (fake agent)");
    assert!(run.status.success(), "tsm new failed: {}", run.stderr);
    let mut client = dir.client(name);
    client.init(40, 120);
    client.send(3, b""); // Detach
    log
}

fn agents_json(dir: &TestDir) -> Vec<Value> {
    serde_json::from_str(&dir.ok(&["agents", "--json"])).expect("tsm agents --json prints JSON")
}

#[test]
fn replayed_claude_session_moves_through_its_states_in_time() {
    let dir = TestDir::new();
    let mut watch = Watch::start(&dir);
    let log = start_agent(&dir, "api", "claude_approval.tsmrec");

    let (_, working) = watch.wait_state(&dir, "working");
    assert_eq!(working["kind"], "claude");
    assert_eq!(working["session"], "api");
    assert_eq!(working["source"], "screen");

    let (seen_at, approval) = watch.wait_state(&dir, "needs_approval");
    let drawn_at = played_at(&dir, &log, 3000);
    assert!(
        seen_at.saturating_sub(drawn_at) <= FRESH_MS,
        "approval reported {} ms after the dialog",
        seen_at - drawn_at
    );
    assert_eq!(approval["display"], "approval");
    // A plain request right after the watcher saw it (the spec allows 500 ms) agrees.
    let now = agents_json(&dir);
    assert_eq!(now.len(), 1);
    assert_eq!(now[0]["state"], "needs_approval", "a plain `tsm agents --json` shows it too");
    let ls = dir.ok(&["ls"]);
    assert!(ls.contains("claude:approval"), "tsm ls shows the agent: {ls}");
    let table = dir.ok(&["agents"]);
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(
        header,
        ["SESSION", "AGENT", "STATE", "SINCE", "MODEL", "ID", "COST", "CTX", "SOURCE", "LAST"]
    );
    let row: Vec<&str> = lines.next().unwrap_or_default().split_whitespace().collect();
    assert_eq!(row[..3], ["api", "claude", "approval"], "{table}");
    assert_eq!(row[8], "screen", "{table}");

    watch.clear();
    let sent_at = now_ms();
    dir.ok(&["send", "api", "\r"]);
    let (left_at, after) = watch.wait_state(&dir, "working");
    assert!(
        left_at.saturating_sub(sent_at) <= FRESH_MS,
        "left approval {} ms after the answer",
        left_at - sent_at
    );
    assert_ne!(after["state"], "needs_approval");

    let wait = dir.ok(&["wait", "api", "--agent", "--timeout", "10"]);
    assert_eq!(wait, "api claude:done\n", "wait --agent returns for the finished turn");
    let (_, done) = watch.wait_state(&dir, "done");
    assert_eq!(done["unseen"], true);
    assert_eq!(done["display"], "done");
    let ls_json = dir.ls_json();
    assert_eq!(ls_json[0]["agent"]["display"], "done");

    let mut client = dir.client("api");
    client.init(40, 120);
    dir.wait_for("done to be seen on attach", || agents_json(&dir)[0]["display"] == "idle");
    client.send(3, b"");
}

#[test]
fn hook_events_reach_the_daemon_through_tsm_hook() {
    let dir = TestDir::new();
    let mut watch = Watch::start(&dir);
    let _log = start_agent(&dir, "hooked", "claude_approval_hooks.tsmrec");
    let (_, approval) = watch.wait_state(&dir, "needs_approval");
    dir.wait_for("the hook's detail", || {
        let report = &agents_json(&dir)[0];
        report["detail"]["tool"] == "Bash"
            && report["sources"].as_array().is_some_and(|s| s.contains(&"claude_hook".into()))
    });
    assert_eq!(approval["kind"], "claude");
    dir.ok(&["send", "hooked", "\r"]);
    let (_, done) = watch.wait_state(&dir, "done");
    let report = &agents_json(&dir)[0];
    assert_eq!(report["agent_session_id"], "5f0c91a2-7d3e-4c1b-9a55-0123456789ab");
    assert_eq!(report["last_message"], "All 12 tests pass.");
    assert_eq!(done["kind"], "claude");
}

#[test]
fn no_agent_in_a_plain_shell_and_wait_agent_says_so() {
    let dir = TestDir::new();
    dir.new_shell("plain");
    let mut client = dir.client("plain");
    client.init(24, 80);
    client.send_text("printf 'Do you want to proceed?\\n\\xe2\\x9d\\xaf 1. Yes\\n'\r");
    client.wait_output_contains("1. Yes");
    assert_eq!(agents_json(&dir), Vec::<Value>::new());
    let ls = dir.ls_json();
    assert_eq!(ls[0]["agent"], Value::Null);
    let run = dir.run(&["wait", "plain", "--agent", "--timeout", "1"]);
    assert_eq!(run.code(), Some(1));
    assert!(run.stderr.contains("no coding agent runs in it"), "{}", run.stderr);
}

#[test]
fn yolo_is_per_session_and_refuses_bad_values() {
    let dir = TestDir::new();
    dir.new_shell("y");
    let out = dir.ok(&["agents", "yolo", "y", "on"]);
    assert_eq!(out, "auto-approval on for session y\n");
    let run = dir.run(&["agents", "yolo", "y", "maybe"]);
    assert_eq!(run.code(), Some(2), "clap refuses the value");
    let mut client = dir.client("y");
    let reply = client.request(tsm_proto::Tag::AgentYolo, b"sure", tsm_proto::Tag::Ack);
    assert_eq!(reply, b"AgentYolo takes on or off");
}

#[test]
fn doctor_reports_a_broken_agents_toml() {
    let dir = TestDir::new();
    let config = dir.home().join(".config/tsm");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(
        config.join("agents.toml"),
        "[[agent.claude.rule]]\nid = \"mine\"\nstate = \"working\"\nany = [\"re:(unclosed\"]\n",
    )
    .unwrap();
    let out = dir.ok(&["doctor"]);
    assert!(out.contains("has errors; the built-in rules stay in force"), "{out}");
    assert!(out.contains("mine"), "the error names the rule: {out}");
    std::fs::write(config.join("agents.toml"), "disable = [\"claude.idle.composer\"]\n").unwrap();
    let out = dir.ok(&["doctor"]);
    assert!(out.contains("agent rules: built in + "), "{out}");
}

#[test]
fn replayed_codex_session_is_answered_with_y() {
    let dir = TestDir::new();
    let mut watch = Watch::start(&dir);
    let log = start_agent(&dir, "cx", "codex_approval.tsmrec");
    let (_, working) = watch.wait_state(&dir, "working");
    assert_eq!(working["kind"], "codex");
    let (seen_at, approval) = watch.wait_state(&dir, "needs_approval");
    let drawn_at = played_at(&dir, &log, 2800);
    assert!(
        seen_at.saturating_sub(drawn_at) <= FRESH_MS,
        "approval reported {} ms after the dialog",
        seen_at - drawn_at
    );
    assert_eq!(approval["detail"]["text"], "npm test");
    assert!(dir.ok(&["ls"]).contains("codex:approval"));
    watch.clear();
    dir.ok(&["send", "cx", "y"]);
    watch.wait_state(&dir, "working");
    let (_, done) = watch.wait_state(&dir, "done");
    assert_eq!(done["kind"], "codex");
    assert_eq!(done["version"], "0.134.0", "read from the banner");
}

#[test]
fn yolo_answers_a_fresh_codex_command_dialog_once_and_logs_it() {
    let dir = TestDir::new();
    let mut watch = Watch::start(&dir);
    start_agent(&dir, "auto", "codex_approval.tsmrec");
    dir.ok(&["agents", "yolo", "auto", "on"]);
    watch.wait_state(&dir, "needs_approval");
    // Nobody answers: the daemon does, with the rule's keys.
    let (_, done) = watch.wait_state(&dir, "done");
    assert_eq!(done["yolo"]["enabled"], true);
    assert_eq!(done["yolo"]["answers"], 1);
    assert_eq!(done["yolo"]["mode"], "screen");
    let log =
        std::fs::read_to_string(dir.log_dir().join("auto.agents.log")).expect("the agents log");
    let answers: Vec<Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["yolo_answer"] == "screen")
        .collect();
    assert_eq!(answers.len(), 1, "{log}");
    assert_eq!(answers[0]["rule"], "codex.approval.command");
    assert_eq!(answers[0]["keys"], "y");
}

#[test]
fn registry_and_transcript_give_the_verified_id_and_usage_without_hooks() {
    let dir = TestDir::new();
    let mut watch = Watch::start(&dir);
    start_agent(&dir, "reg", "claude_registry.tsmrec");
    let (_, done) = watch.wait_state(&dir, "done");
    assert_eq!(done["kind"], "claude");
    dir.wait_for("the transcript's usage", || {
        let report = &agents_json(&dir)[0];
        report["tokens"]["output"] == 34
    });
    let report = &agents_json(&dir)[0];
    assert_eq!(report["agent_session_id"], "0c5e8f31-2d4a-4b6c-8e9f-a1b2c3d4e5f6");
    assert_eq!(
        report["agent_session_id_verified"], true,
        "the registry file of the agent's own pid"
    );
    assert_eq!(report["resume_cmd"], "claude --resume 0c5e8f31-2d4a-4b6c-8e9f-a1b2c3d4e5f6");
    assert_eq!(report["model"], "claude-opus-4-6");
    let sources = report["sources"].as_array().cloned().unwrap_or_default();
    for source in ["claude_registry", "claude_transcript", "process"] {
        assert!(sources.contains(&source.into()), "{source} in {sources:?}");
    }
}
