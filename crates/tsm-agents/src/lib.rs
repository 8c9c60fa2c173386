//! Detection of AI coding agents in a terminal session, and of what they are doing.
//!
//! `tsm-agents` is a sans-IO state machine: it opens no files or sockets, starts no
//! threads and reads no clock. The caller feeds it PTY bytes, rendered screens, process
//! facts, structured events (hooks, statusline, registry files) and the time, and reads
//! back one fused state per session with the source that decided it.
//!
//! The contract is `spec/agents.md` of the tsm repository.

pub mod rules;
pub mod screen;
pub mod tsmrec;
pub mod types;

pub use rules::{AgentRules, MetaField, ProcessMatch, RuleError, Rules, Timing, YoloSpec};
pub use screen::{Hit, RuleState, ScreenEval, ScreenView};
pub use types::{
    Activity, AgentKind, AgentState, Claim, Confidence, Context, ErrorKind, Hint, InputKind,
    MetaDelta, Observation, SetupKind, Source, Stamp, Tokens, one_line,
};
