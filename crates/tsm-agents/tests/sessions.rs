//! Whole recorded sessions (`fixtures/sessions/`) through the tracker in virtual time, the
//! way the daemon drives it (§3.5): output into the terminal model and the escape scanner,
//! a screen evaluation 50 ms after the last chunk (at least every 100 ms while output
//! flows), timers at `next_deadline`, input and hook events at their times. The state
//! timeline must match, and must not depend on how the output is cut into reads (§9.2).

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use tsm_agents::events::{EventSource, HookEnvelope};
use tsm_agents::process::{Proc, ProcessFacts};
use tsm_agents::tracker::{AgentEnv, ClientEvent, StructuredEvent, Tracker};
use tsm_agents::tsmrec::{self, EntryKind, Recording};
use tsm_agents::{Rules, Stamp};
use tsm_pty::{TerminalModel, WindowSize};

mod support;
use support::view;

const SETTLE_MS: u64 = 50;
const MAX_INTERVAL_MS: u64 = 100;

fn recording(name: &str) -> Recording {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sessions").join(name);
    tsmrec::parse(&std::fs::read_to_string(&path).expect("fixture")).expect("valid .tsmrec")
}

/// The daemon, in virtual time.
struct Replay {
    tracker: Tracker,
    model: TerminalModel,
    now: u64,
    screen_due: Option<u64>,
    pending_since: Option<u64>,
    timeline: Vec<(u64, String)>,
}

impl Replay {
    fn new(rec: &Recording) -> Replay {
        let size = WindowSize::new(rec.header.rows, rec.header.cols);
        let mut replay = Replay {
            tracker: Tracker::new(Arc::new(Rules::builtin()), AgentEnv::default(), stamp(0)),
            model: TerminalModel::new(size, 0),
            now: 0,
            screen_due: None,
            pending_since: None,
            timeline: Vec::new(),
        };
        let facts = ProcessFacts {
            session_child: 10,
            foreground_pgid: Some(10),
            procs: vec![Proc {
                pid: 10,
                ppid: 1,
                pgid: 10,
                argv: vec![rec.header.agent.clone()],
                ..Proc::default()
            }],
            exited: vec![],
        };
        replay.tracker.on_process(stamp(0), &facts);
        replay.note();
        replay
    }

    fn note(&mut self) {
        if let Some(report) = self.tracker.report()
            && self.timeline.last().is_none_or(|(_, s)| *s != report.display)
        {
            self.timeline.push((self.now, report.display));
        }
    }

    /// Runs every screen evaluation and timer due up to `until`.
    fn run_until(&mut self, until: u64) {
        loop {
            let timer = self.tracker.next_deadline(stamp(self.now));
            let next = [self.screen_due, timer].into_iter().flatten().filter(|&t| t <= until).min();
            let Some(next) = next else { break };
            self.now = next.max(self.now);
            if self.screen_due.is_some_and(|due| due <= self.now) {
                self.screen_due = None;
                self.pending_since = None;
                let text = self.model.screen_text();
                self.tracker.on_screen(stamp(self.now), &view(&text));
            } else {
                self.tracker.tick(stamp(self.now));
            }
            self.note();
        }
        self.now = until;
    }

    fn output(&mut self, chunks: &[&[u8]]) {
        for chunk in chunks {
            self.model.advance(chunk);
            self.tracker.on_pty_bytes(stamp(self.now), chunk);
        }
        let first = *self.pending_since.get_or_insert(self.now);
        self.screen_due = Some((self.now + SETTLE_MS).min(first + MAX_INTERVAL_MS));
        self.note();
    }

    fn play(mut self, rec: &Recording, cut: &dyn Fn(&[u8]) -> Vec<usize>) -> Vec<(u64, String)> {
        for entry in &rec.entries {
            self.run_until(entry.t);
            match &entry.kind {
                EntryKind::Out(bytes) => {
                    let mut cuts = cut(bytes);
                    cuts.sort_unstable();
                    let mut chunks = Vec::new();
                    let mut from = 0;
                    for at in cuts.into_iter().chain([bytes.len()]) {
                        chunks.push(&bytes[from..at.max(from)]);
                        from = at.max(from);
                    }
                    self.output(&chunks);
                }
                EntryKind::In(text) => {
                    self.tracker
                        .on_client(stamp(self.now), ClientEvent::Input(text.as_bytes().to_vec()));
                }
                EntryKind::Event(event) => {
                    let source = EventSource::from_name(&event.source).expect("known source");
                    let envelope = HookEnvelope {
                        payload: event.payload.to_string().into_bytes(),
                        sent_unix_ms: stamp(self.now).unix_ms,
                        ancestry: vec![10],
                        env_session: Some("s".into()),
                        args: vec![],
                    };
                    self.tracker
                        .on_event(stamp(self.now), StructuredEvent::Hook { source, envelope });
                }
                EntryKind::File(_) | EntryKind::Proc(_) | EntryKind::Exit(_) => {}
            }
            self.note();
        }
        let end = self.now + 5000;
        self.run_until(end);
        self.timeline
    }
}

fn stamp(ms: u64) -> Stamp {
    Stamp { mono_ms: ms, unix_ms: 1_767_000_000_000 + ms as i64 }
}

fn whole(_: &[u8]) -> Vec<usize> {
    Vec::new()
}

/// The time the timeline first shows `display`.
fn first(timeline: &[(u64, String)], display: &str) -> u64 {
    timeline
        .iter()
        .find(|(_, d)| d == display)
        .unwrap_or_else(|| panic!("no {display} in {timeline:?}"))
        .0
}

#[test]
fn claude_approval_session_timeline() {
    let rec = recording("claude_approval.tsmrec");
    let timeline = Replay::new(&rec).play(&rec, &whole);
    let states: Vec<&str> = timeline.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(states, ["starting", "working", "approval", "working", "done"], "{timeline:?}");
    // Each change is reported within 500 ms of the bytes that show it.
    assert!(first(&timeline, "working") <= 600 + 500);
    assert!((3000..=3500).contains(&first(&timeline, "approval")), "{timeline:?}");
    let resumed = timeline.iter().filter(|(_, d)| d == "working").nth(1).expect("working again").0;
    assert!((3200..=3700).contains(&resumed), "{timeline:?}");
    assert!((4700..=5200).contains(&first(&timeline, "done")), "{timeline:?}");
}

#[test]
fn claude_session_with_hooks_timeline() {
    let rec = recording("claude_approval_hooks.tsmrec");
    let timeline = Replay::new(&rec).play(&rec, &whole);
    let states: Vec<&str> = timeline.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(states, ["starting", "working", "approval", "working", "done"], "{timeline:?}");
    assert_eq!(first(&timeline, "working"), 600, "the prompt hook is immediate");
    assert_eq!(first(&timeline, "approval"), 3000, "PermissionRequest is immediate");
    assert_eq!(first(&timeline, "done"), 4700, "Stop is immediate");
}

#[test]
fn codex_approval_session_timeline() {
    let rec = recording("codex_approval.tsmrec");
    let timeline = Replay::new(&rec).play(&rec, &whole);
    let states: Vec<&str> = timeline.iter().map(|(_, d)| d.as_str()).collect();
    assert_eq!(states, ["starting", "working", "approval", "working", "done"], "{timeline:?}");
    assert!((2800..=3300).contains(&first(&timeline, "approval")), "{timeline:?}");
    assert!((4000..=4500).contains(&first(&timeline, "done")), "{timeline:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn cutting_the_output_anywhere_gives_the_same_timeline(seed in any::<u64>()) {
        let rec = recording("claude_approval.tsmrec");
        let expected = Replay::new(&rec).play(&rec, &whole);
        let cut = move |bytes: &[u8]| -> Vec<usize> {
            // A small LCG picks up to 8 cut points per write, inside characters and
            // escape sequences alike.
            let mut state = seed ^ bytes.len() as u64;
            (0..8).map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 33) as usize % (bytes.len() + 1)
            }).collect()
        };
        let got = Replay::new(&rec).play(&rec, &cut);
        prop_assert_eq!(got, expected);
    }
}
