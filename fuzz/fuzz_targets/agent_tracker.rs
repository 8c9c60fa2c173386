//! The agent tracker on arbitrary input: the first byte picks the input kind, the rest is
//! the input. PTY bytes, AgentEvent envelopes, hook payloads of every source, registry
//! files and transcript bytes never panic, and the report always serializes.
#![no_main]

use std::sync::{Arc, LazyLock};

use libfuzzer_sys::fuzz_target;
use tsm_agents::events::{EventSource, HookEnvelope};
use tsm_agents::process::{Proc, ProcessFacts};
use tsm_agents::{AgentEnv, Rules, ScreenView, Stamp, StructuredEvent, Tracker};

static RULES: LazyLock<Arc<Rules>> = LazyLock::new(|| Arc::new(Rules::builtin()));

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else { return };
    let now = Stamp { mono_ms: 1000, unix_ms: 1_767_000_000_000 };
    let mut tracker = Tracker::new(RULES.clone(), AgentEnv::default(), now);
    let agent = ["claude", "codex", "gemini", "aider", "opencode"][usize::from(selector >> 5) % 5];
    let facts = ProcessFacts {
        session_child: 10,
        foreground_pgid: Some(10),
        procs: vec![Proc { pid: 10, ppid: 1, pgid: 10, argv: vec![agent.into()], ..Proc::default() }],
        exited: vec![],
    };
    tracker.on_process(now, &facts);
    match selector % 5 {
        0 => {
            tracker.on_pty_bytes(now, input);
        }
        1 => {
            if let Ok((source, envelope)) = tsm_agents::decode_envelope(input) {
                tracker.on_event(now, StructuredEvent::Hook { source, envelope });
            }
        }
        2 => {
            let source = EventSource::ALL[usize::from(selector >> 3) % EventSource::ALL.len()];
            let envelope = HookEnvelope {
                payload: input.to_vec(),
                sent_unix_ms: now.unix_ms,
                ancestry: vec![10],
                env_session: None,
                args: vec![String::from_utf8_lossy(input).into_owned()],
            };
            tracker.on_event(now, StructuredEvent::Hook { source, envelope });
        }
        3 => {
            tracker.on_event(now, StructuredEvent::ClaudeRegistry { pid: 10, contents: Some(input.to_vec()) });
        }
        _ => {
            // Text as screen rows.
            let text = String::from_utf8_lossy(input);
            let rows: Vec<String> = text.split('\n').take(60).map(str::to_owned).collect();
            let wrapped = vec![false; rows.len()];
            let view = ScreenView {
                rows: &rows,
                wrapped: &wrapped,
                cursor_row: u16::from(selector),
                cursor_col: 0,
                cols: 80,
                alt_screen: false,
                title: None,
            };
            tracker.on_screen(now, &view);
        }
    }
    let later = Stamp { mono_ms: now.mono_ms + 5000, unix_ms: now.unix_ms + 5000 };
    tracker.tick(later);
    if let Some(report) = tracker.report() {
        serde_json::to_string(&report).expect("a report serializes");
    }
});
