//! Detection of AI coding agents in a terminal session, and of what they are doing.
//!
//! `tsm-agents` is a sans-IO state machine: it opens no files or sockets, starts no
//! threads and reads no clock. The caller feeds a [`Tracker`] PTY bytes, rendered screens,
//! process facts, structured events (hooks, statusline, registry files), client events and
//! the time, and reads back one fused state per session with the source that decided it.
//! Every behaviour is therefore testable from recorded inputs in virtual time.
//!
//! The contract is `spec/agents.md` of the tsm repository. In short:
//!
//! - [`process`]: which process in the PTY's foreground group is the agent (argv, also under
//!   node, python, npx or a shell; the deepest match).
//! - [`screen`] and [`rules`]: screen rules as data (`rules/<agent>.toml`, overridable by the
//!   user's `agents.toml`), matched in one pass over the bottom region of the screen.
//! - [`escapes`]: titles, notification escapes, BEL and focus-report mode from raw bytes.
//! - [`events`]: hook, statusline, notify and registry payloads as observations.
//! - [`tracker`]: fuses all of it by the rules F1–F7 (exit, setup, dialogs, errors,
//!   structured activity, screen activity, nothing matches) with the timing of §4.3, and
//!   answers approval dialogs automatically only when asked to (§7).
//! - [`report`]: the JSON report `tsm agents --json` prints.
//! - [`install`]: pure transforms that add tsm's hooks to the agents' settings files.
//! - [`tsmrec`]: the recording format of the fixtures.
//!
//! # Example
//!
//! ```
//! use std::sync::Arc;
//! use tsm_agents::process::{Proc, ProcessFacts};
//! use tsm_agents::{AgentEnv, Rules, ScreenView, Stamp, Tracker};
//!
//! let now = Stamp { mono_ms: 0, unix_ms: 1_767_000_000_000 };
//! let mut tracker = Tracker::new(Arc::new(Rules::builtin()), AgentEnv::default(), now);
//! // The daemon found `claude` in front of the PTY.
//! let claude = Proc { pid: 42, ppid: 1, pgid: 42, argv: vec!["claude".into()], ..Proc::default() };
//! let facts = ProcessFacts { session_child: 42, foreground_pgid: Some(42), procs: vec![claude], exited: vec![] };
//! tracker.on_process(now, &facts);
//! // Its screen shows an approval dialog.
//! let rows: Vec<String> = [
//!     " Bash command", "   npm test", " Do you want to proceed?", " ❯ 1. Yes",
//!     "   2. Yes, and don't ask again for npm test commands", "   3. No (esc)",
//! ].map(String::from).to_vec();
//! let wrapped = vec![false; rows.len()];
//! let view = ScreenView { rows: &rows, wrapped: &wrapped, cursor_row: 3, cursor_col: 3, cols: 80, alt_screen: false, title: None };
//! tracker.on_screen(now.plus(50), &view);
//! let report = tracker.report().expect("claude is known");
//! assert_eq!((report.kind.name(), report.display.as_str()), ("claude", "approval"));
//! ```

pub mod escapes;
pub mod events;
pub mod install;
pub mod process;
pub mod report;
pub mod rules;
pub mod screen;
pub mod tracker;
pub mod tsmrec;
pub mod types;

mod meta;

pub use events::{
    EventError, EventFacts, EventSource, HookEnvelope, PermissionRequest, RegistryEntry,
    RolloutTail, TranscriptTail, decode_envelope, encode_envelope, interpret, parse_registry,
    registry_observations, statusline_line,
};
pub use install::{
    Edit, HooksState, InstallError, claude_install, claude_uninstall, codex_install,
    codex_uninstall, gemini_install, gemini_uninstall,
};
pub use report::AgentReport;
pub use rules::{AgentRules, MetaField, ProcessMatch, RuleError, Rules, Timing, YoloSpec};
pub use screen::{Hit, RuleState, ScreenEval, ScreenView};
pub use tracker::{AgentEnv, ClientEvent, Output, StructuredEvent, Tracker, Want};
pub use types::{
    Activity, AgentKind, AgentState, Claim, Confidence, Context, ErrorKind, Hint, InputKind,
    MetaDelta, Observation, SetupKind, Source, Stamp, Tokens, one_line,
};
