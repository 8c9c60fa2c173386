//! Aider's notifications command (spec/agents.md §5.4): run when the model has finished
//! and aider waits for input. It carries no payload; whatever arrives is ignored.

use super::{EventError, EventFacts, Observations, check_len};
use crate::types::{AgentState, Hint, Source, Stamp};

/// An Aider notification: Done.
pub(super) fn notify(payload: &[u8], at: Stamp) -> Result<EventFacts, EventError> {
    check_len(payload.len())?;
    let mut obs = Observations::new(Source::AiderNotify, at);
    obs.hint(Hint::DialogGone);
    obs.state(AgentState::Done { unseen: true });
    Ok(EventFacts {
        observations: obs.into_vec(),
        event_name: Some("notification".to_owned()),
        ..EventFacts::default()
    })
}
