//! Writes the whole-session recordings of `fixtures/sessions/`: a Claude Code 2.x session,
//! 120x40, drawn with cursor addressing as its TUI draws it, that works, asks to run a
//! Bash command, waits for the answer (`in`), works again and finishes its turn. The
//! `_hooks` variant also carries the hook events Claude sends on the way.
//!
//! `codex_approval` is the same turn in Codex's TUI, answered with `y`. `claude_registry`
//! is a Claude turn without hooks, with the registry file and transcript Claude writes.
//!
//! `cargo run -p tsm-agents --example make_sessions` rewrites the files.

use serde_json::json;
use tsm_agents::tsmrec::{EntryKind, EventEntry, Header, Provenance, Recording};

const ROWS: u16 = 40;
const COLS: u16 = 120;

/// Moves to `row` (1-based), erases it and writes `text`.
fn line(row: u16, text: &str) -> String {
    format!("\x1b[{row};1H\x1b[2K{text}")
}

fn rule() -> String {
    "─".repeat(COLS as usize)
}

/// The composer at the bottom, empty, with the cursor in it.
fn composer() -> String {
    let mut s = line(ROWS - 3, &format!("\x1b[2m{}\x1b[0m", rule()));
    s += &line(ROWS - 2, "❯\u{a0}");
    s += &line(ROWS - 1, &format!("\x1b[2m{}\x1b[0m", rule()));
    s += &line(ROWS, "  \x1b[2m? for shortcuts\x1b[0m");
    s += &format!("\x1b[{};3H", ROWS - 2);
    s
}

fn spinner(glyph: &str, secs: u32) -> String {
    line(
        ROWS - 5,
        &format!(
            "\x1b[38;5;174m{glyph}\x1b[0m Combobulating… ({secs}s · ↓ {} tokens · esc to interrupt)",
            40 * secs + 12
        ),
    )
}

fn hook(name: &str, extra: serde_json::Value) -> EntryKind {
    let mut payload = json!({
        "session_id": "5f0c91a2-7d3e-4c1b-9a55-0123456789ab",
        "transcript_path": "~/.claude/projects/-home-u-proj/5f0c91a2-7d3e-4c1b-9a55-0123456789ab.jsonl",
        "cwd": "/home/u/proj",
        "hook_event_name": name,
        "permission_mode": "default",
    });
    if let (Some(target), Some(extra)) = (payload.as_object_mut(), extra.as_object()) {
        target.extend(extra.clone());
    }
    EntryKind::Event(EventEntry { source: "claude_hook".into(), payload })
}

fn session(with_hooks: bool) -> Recording {
    let mut header = Header::new("claude", COLS, ROWS, Provenance::Synthetic);
    header.agent_version = Some("2.1.173".into());
    header.note = "working -> Bash approval (answered with Enter) -> working -> done".into();
    let mut rec = Recording::new(header);
    let banner = line(1, "\x1b[38;5;174m✻\x1b[0m Welcome to \x1b[1mClaude Code\x1b[0m v2.1.173")
        + &line(2, "  /help for help, /status for your current setup")
        + &line(4, "  cwd: /home/u/proj");
    rec.out(0, format!("\x1b[?25l\x1b[2J{banner}{}\x1b[?25h", composer()));
    // The user's prompt goes into the transcript; the turn starts.
    if with_hooks {
        rec.push(600, hook("UserPromptSubmit", json!({"prompt": "run the tests"})));
    }
    rec.out(600, line(6, "\x1b[2m>\x1b[0m run the tests") + &spinner("✢", 0) + &composer());
    for (i, glyph) in ["✳", "✶", "✻", "✽"].iter().enumerate() {
        rec.out(
            1000 + 500 * i as u64,
            spinner(glyph, 1 + i as u32) + &format!("\x1b[{};3H", ROWS - 2),
        );
    }
    // The tool call and its approval dialog, replacing spinner and composer.
    if with_hooks {
        rec.push(3000, hook("PreToolUse", json!({"tool_name": "Bash", "tool_input": {"command": "npm test", "description": "Run the test suite"}})));
        rec.push(3000, hook("PermissionRequest", json!({"tool_name": "Bash", "tool_input": {"command": "npm test"}, "permission_suggestions": []})));
    }
    let mut dialog = line(8, "\x1b[32m⏺\x1b[0m \x1b[1mBash\x1b[0m(npm test)");
    for row in 26..=ROWS {
        dialog += &line(row, "");
    }
    let rows = [
        " \x1b[1mBash command\x1b[0m",
        "",
        "   npm test",
        "   Run the test suite",
        "",
        " Do you want to proceed?",
        " \x1b[36m❯ 1. Yes\x1b[0m",
        "   2. Yes, and don't ask again for npm test commands in /home/u/proj",
        "   3. No, and tell Claude what to do differently (esc)",
        "",
        " \x1b[2mEsc to cancel · Tab to amend\x1b[0m",
    ];
    for (i, text) in rows.iter().enumerate() {
        dialog += &line(28 + i as u16, text);
    }
    rec.out(3000, dialog + &format!("\x1b[{};4H", 34));
    rec.input(3100, "\r");
    // Answered: the tool runs, the turn goes on.
    if with_hooks {
        rec.push(
            3200,
            hook(
                "PostToolUse",
                json!({"tool_name": "Bash", "tool_response": {"stdout": "12 passing"}}),
            ),
        );
    }
    let mut resumed = String::new();
    for row in 26..=ROWS {
        resumed += &line(row, "");
    }
    resumed += &line(9, "  ⎿  12 passing (1s)");
    rec.out(3200, resumed + &spinner("✢", 4) + &composer());
    for (i, glyph) in ["✳", "✶"].iter().enumerate() {
        rec.out(
            3700 + 500 * i as u64,
            spinner(glyph, 5 + i as u32) + &format!("\x1b[{};3H", ROWS - 2),
        );
    }
    // The turn ends: answer, summary, idle composer.
    if with_hooks {
        rec.push(
            4700,
            hook(
                "Stop",
                json!({"stop_hook_active": false, "last_assistant_message": "All 12 tests pass."}),
            ),
        );
    }
    let done = line(11, "\x1b[32m⏺\x1b[0m All 12 tests pass.")
        + &line(ROWS - 5, "\x1b[38;5;174m✻\x1b[0m Worked for 4s");
    rec.out(4700, done + &composer());
    rec
}

/// The Codex composer and footer at the bottom, with the cursor in it.
fn codex_composer() -> String {
    let mut s = line(ROWS - 3, "\x1b[1m›\x1b[0m \x1b[2mAsk Codex to do anything\x1b[0m");
    s += &line(
        ROWS - 1,
        "  \x1b[2m? for shortcuts                                   100% context left\x1b[0m",
    );
    s += &format!("\x1b[{};3H", ROWS - 3);
    s
}

fn codex_status(bullet: &str, secs: u32) -> String {
    line(ROWS - 6, &format!("{bullet} \x1b[1mWorking\x1b[0m ({secs}s • esc to interrupt)"))
}

/// A Codex TUI session: works, asks to run a command, gets `y`, works, finishes, exits
/// with its resume line.
fn codex_session() -> Recording {
    let mut header = Header::new("codex", COLS, ROWS, Provenance::Synthetic);
    header.agent_version = Some("0.134.0".into());
    header.note = "working -> command approval (answered with y) -> working -> done".into();
    let mut rec = Recording::new(header);
    let banner = line(1, "╭──────────────────────────────────────────────╮")
        + &line(2, "│ >_ OpenAI Codex (v0.134.0)                   │")
        + &line(3, "│ model:     gpt-5.5 high   /model to change   │")
        + &line(4, "│ directory: ~/proj                            │")
        + &line(5, "╰──────────────────────────────────────────────╯");
    rec.out(0, format!("\x1b[2J{banner}{}", codex_composer()));
    rec.out(
        600,
        line(7, "\x1b[1m›\x1b[0m run the tests") + &codex_status("•", 0) + &codex_composer(),
    );
    for (i, bullet) in ["◦", "•", "◦"].iter().enumerate() {
        rec.out(1000 + 500 * i as u64, codex_status(bullet, 1 + i as u32) + &codex_composer());
    }
    let mut dialog = String::new();
    for row in 20..=ROWS {
        dialog += &line(row, "");
    }
    let rows = [
        "  Would you like to run the following command?",
        "",
        "  Reason: run the project's tests",
        "",
        "  $ npm test",
        "",
        "\x1b[36m› 1. Yes, proceed (y)\x1b[0m",
        "  2. Yes, and don't ask again for commands that start with `npm test` (p)",
        "  3. No, and tell Codex what to do differently (esc)",
        "",
        "  \x1b[2mPress enter to confirm or esc to cancel\x1b[0m",
    ];
    for (i, text) in rows.iter().enumerate() {
        dialog += &line(26 + i as u16, text);
    }
    rec.out(2800, dialog);
    rec.input(2900, "y");
    let mut resumed = String::new();
    for row in 20..=ROWS {
        resumed += &line(row, "");
    }
    resumed += &line(9, "• Ran npm test");
    resumed += &line(10, "  └ 12 passing (1s)");
    rec.out(3000, resumed + &codex_status("•", 4) + &codex_composer());
    rec.out(3500, codex_status("◦", 5) + &codex_composer());
    let done = line(ROWS - 6, "")
        + &line(12, "• All 12 tests pass.")
        + &line(14, &format!("─ Worked for 6s {}", "─".repeat(60)));
    rec.out(4000, done + &codex_composer());
    rec
}

/// A Claude session without hooks whose registry file and transcript tell the id, the
/// state and the usage: the files Claude writes on its own.
fn registry_session() -> Recording {
    use tsm_agents::tsmrec::FileEntry;
    const ID: &str = "0c5e8f31-2d4a-4b6c-8e9f-a1b2c3d4e5f6";
    let mut header = Header::new("claude", COLS, ROWS, Provenance::Synthetic);
    header.agent_version = Some("2.1.173".into());
    header.note = "no hooks: registry busy/idle and a transcript, with the screen".into();
    let mut rec = Recording::new(header);
    let registry = |status: &str, at: u64| {
        EntryKind::File(FileEntry {
            path: "~/.claude/sessions/{pid}.json".into(),
            json: Some(json!({
                "pid": "{pid}", "sessionId": ID, "cwd": "/home/u/proj", "startedAt": 1_767_000_000_000u64,
                "version": "2.1.173", "kind": "interactive", "entrypoint": "cli", "status": status,
                "updatedAt": 1_767_000_000_000u64 + at,
            })),
            ..FileEntry::default()
        })
    };
    let transcript = |line: serde_json::Value| {
        EntryKind::File(FileEntry {
            path: format!("~/.claude/projects/-home-u-proj/{ID}.jsonl"),
            text: Some(format!("{line}\n")),
            append: true,
            ..FileEntry::default()
        })
    };
    rec.push(0, registry("idle", 0));
    rec.out(0, format!("\x1b[2J{}{}", line(1, "✻ Welcome to Claude Code v2.1.173"), composer()));
    rec.push(600, registry("busy", 600));
    rec.push(600, transcript(json!({"type": "user", "sessionId": ID, "cwd": "/home/u/proj", "timestamp": "2026-01-01T00:00:00.600Z",
        "message": {"role": "user", "content": "say hello"}})));
    rec.out(600, line(6, "> say hello") + &spinner("✢", 0) + &composer());
    rec.out(1100, spinner("✳", 1) + &format!("\x1b[{};3H", ROWS - 2));
    rec.push(1600, transcript(json!({"type": "assistant", "sessionId": ID, "requestId": "req_1", "timestamp": "2026-01-01T00:00:01.600Z",
        "message": {"id": "msg_1", "model": "claude-opus-4-6", "stop_reason": "end_turn", "content": [{"type": "text", "text": "Hello!"}],
                    "usage": {"input_tokens": 1200, "output_tokens": 34, "cache_read_input_tokens": 800, "cache_creation_input_tokens": 0}}})));
    rec.push(1600, registry("idle", 1600));
    rec.out(1600, line(8, "⏺ Hello!") + &line(ROWS - 5, "✻ Worked for 1s") + &composer());
    rec
}

fn main() -> std::io::Result<()> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sessions");
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("claude_approval.tsmrec"), session(false).to_jsonl())?;
    std::fs::write(dir.join("claude_approval_hooks.tsmrec"), session(true).to_jsonl())?;
    std::fs::write(dir.join("codex_approval.tsmrec"), codex_session().to_jsonl())?;
    std::fs::write(dir.join("claude_registry.tsmrec"), registry_session().to_jsonl())?;
    Ok(())
}
