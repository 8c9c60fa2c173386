//! Metadata of an agent record, merged per field (§4.5): the highest-ranked source wins,
//! within a rank the newest.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::rules::MetaField;
use crate::types::{Context, MetaDelta, Source, Stamp, Tokens};

/// One field's value with the rank and time of the source that set it.
#[derive(Debug, Clone)]
struct Ranked<T> {
    value: T,
    rank: u8,
}

impl<T: PartialEq> Ranked<T> {
    /// Takes `value` unless a higher-ranked one is there; says whether anything changed.
    fn offer(slot: &mut Option<Ranked<T>>, value: Option<T>, rank: u8) -> bool {
        let Some(value) = value else { return false };
        match slot {
            Some(old) if old.rank > rank => false,
            Some(old) if old.rank == rank && old.value == value => false,
            _ => {
                *slot = Some(Ranked { value, rank });
                true
            }
        }
    }
}

/// Which ranking table a field follows.
#[derive(Debug, Clone, Copy)]
enum Field {
    SessionId,
    Model,
    Version,
    Usage,
    Cwd,
    Other,
}

/// Rank of a source for a field, higher wins (§4.5).
fn rank(field: Field, source: Source) -> u8 {
    use Source::*;
    match field {
        Field::SessionId => match source {
            ClaudeRegistry => 7,
            ClaudeHook | CodexHook | GeminiHook | CodexNotify => 6,
            ClaudeStatusline => 5,
            CodexRollout => 4,
            Screen => 1,
            ClaudeTranscript | GeminiChat => 2,
            _ => 0,
        },
        Field::Model => match source {
            ClaudeStatusline => 5,
            ClaudeHook | CodexHook | GeminiHook => 4,
            CodexRollout => 3,
            ClaudeTranscript | GeminiChat => 2,
            Process => 1,
            _ => 0,
        },
        Field::Version => match source {
            ClaudeRegistry => 4,
            ClaudeStatusline => 3,
            CodexRollout => 2,
            ClaudeTranscript => 1,
            _ => 0,
        },
        Field::Usage => match source {
            ClaudeStatusline => 3,
            CodexRollout => 2,
            ClaudeTranscript => 1,
            _ => 0,
        },
        Field::Cwd => match source {
            ClaudeRegistry => 2,
            ClaudeHook | CodexHook | GeminiHook => 1,
            _ => 0,
        },
        Field::Other => 0,
    }
}

/// An agent record's metadata.
#[derive(Debug, Clone, Default)]
pub(crate) struct Meta {
    version: Option<Ranked<String>>,
    model: Option<Ranked<String>>,
    permission_mode: Option<Ranked<String>>,
    agent_session_id: Option<Ranked<(String, bool)>>,
    previous_ids: Vec<String>,
    transcript_path: Option<Ranked<PathBuf>>,
    cwd: Option<Ranked<PathBuf>>,
    cost_usd: Option<Ranked<f64>>,
    tokens: Option<Ranked<Tokens>>,
    context: Option<Ranked<Context>>,
    last_prompt: Option<Ranked<String>>,
    last_message: Option<Ranked<String>>,
    updated_at: Stamp,
    sources: BTreeSet<Source>,
}

impl Meta {
    /// Merges a delta from `source`.
    /// Whether merging `delta` from `source` would change anything.
    pub(crate) fn would_change(&self, source: Source, delta: &MetaDelta) -> bool {
        self.clone().merge(source, Stamp::default(), delta)
    }

    /// Merges a delta from `source`; says whether anything changed.
    pub(crate) fn merge(&mut self, source: Source, at: Stamp, delta: &MetaDelta) -> bool {
        let r = |field| rank(field, source);
        let mut changed = false;
        changed |= Ranked::offer(&mut self.version, delta.version.clone(), r(Field::Version));
        changed |= Ranked::offer(&mut self.model, delta.model.clone(), r(Field::Model));
        changed |= Ranked::offer(
            &mut self.permission_mode,
            delta.permission_mode.clone(),
            r(Field::Other),
        );
        // An id the agent process did not confirm never replaces one it did (§6.1).
        let unverified_over_verified = delta.agent_session_id.as_ref().is_some_and(|(_, v)| !v)
            && self.agent_session_id.as_ref().is_some_and(|old| old.value.1);
        if !unverified_over_verified {
            if let Some((id, _)) = &delta.agent_session_id
                && let Some(old) = &self.agent_session_id
                && old.value.0 != *id
                && old.rank <= r(Field::SessionId)
                && !self.previous_ids.contains(&old.value.0)
            {
                self.previous_ids.push(old.value.0.clone());
            }
            changed |= Ranked::offer(
                &mut self.agent_session_id,
                delta.agent_session_id.clone(),
                r(Field::SessionId),
            );
        }
        changed |= Ranked::offer(
            &mut self.transcript_path,
            delta.transcript_path.clone(),
            r(Field::SessionId),
        );
        changed |= Ranked::offer(&mut self.cwd, delta.cwd.clone(), r(Field::Cwd));
        changed |= Ranked::offer(&mut self.cost_usd, delta.cost_usd, r(Field::Usage));
        changed |= Ranked::offer(&mut self.tokens, delta.tokens, r(Field::Usage));
        changed |= Ranked::offer(&mut self.context, delta.context, r(Field::Usage));
        changed |= Ranked::offer(&mut self.last_prompt, delta.last_prompt.clone(), r(Field::Other));
        changed |=
            Ranked::offer(&mut self.last_message, delta.last_message.clone(), r(Field::Other));
        if changed {
            self.updated_at = at;
            self.sources.insert(source);
        }
        changed
    }

    pub(crate) fn version(&self) -> Option<&str> {
        self.version.as_ref().map(|r| r.value.as_str())
    }
    pub(crate) fn model(&self) -> Option<&str> {
        self.model.as_ref().map(|r| r.value.as_str())
    }
    pub(crate) fn permission_mode(&self) -> Option<&str> {
        self.permission_mode.as_ref().map(|r| r.value.as_str())
    }
    pub(crate) fn agent_session_id(&self) -> Option<(&str, bool)> {
        self.agent_session_id.as_ref().map(|r| (r.value.0.as_str(), r.value.1))
    }
    pub(crate) fn transcript_path(&self) -> Option<&PathBuf> {
        self.transcript_path.as_ref().map(|r| &r.value)
    }
    pub(crate) fn cwd(&self) -> Option<&PathBuf> {
        self.cwd.as_ref().map(|r| &r.value)
    }
    pub(crate) fn cost_usd(&self) -> Option<f64> {
        self.cost_usd.as_ref().map(|r| r.value)
    }
    pub(crate) fn tokens(&self) -> Option<Tokens> {
        self.tokens.as_ref().map(|r| r.value)
    }
    pub(crate) fn context(&self) -> Option<Context> {
        self.context.as_ref().map(|r| r.value)
    }
    pub(crate) fn last_prompt(&self) -> Option<&str> {
        self.last_prompt.as_ref().map(|r| r.value.as_str())
    }
    pub(crate) fn last_message(&self) -> Option<&str> {
        self.last_message.as_ref().map(|r| r.value.as_str())
    }
    pub(crate) fn updated_at(&self) -> Stamp {
        self.updated_at
    }
    pub(crate) fn sources(&self) -> Vec<Source> {
        self.sources.iter().copied().collect()
    }
}

/// Puts a value a screen meta rule read into a delta.
pub(crate) fn apply_screen_field(delta: &mut MetaDelta, field: MetaField, value: String) {
    match field {
        MetaField::Version => delta.version = Some(value),
        MetaField::Model => delta.model = Some(value),
        // An id read from the agent's own exit line or exec header in its PTY is verified (§6.1).
        MetaField::SessionId => delta.agent_session_id = Some((value, true)),
        MetaField::CostUsd => delta.cost_usd = value.trim_start_matches('$').parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Stamp {
        Stamp { mono_ms: ms, unix_ms: ms as i64 }
    }

    #[test]
    fn higher_rank_wins_and_lower_fills_gaps() {
        let mut meta = Meta::default();
        meta.merge(
            Source::Process,
            at(1),
            &MetaDelta { model: Some("opus".into()), ..MetaDelta::default() },
        );
        assert_eq!(meta.model(), Some("opus"));
        meta.merge(
            Source::ClaudeStatusline,
            at(2),
            &MetaDelta { model: Some("claude-opus-4-6".into()), ..MetaDelta::default() },
        );
        meta.merge(
            Source::Process,
            at(3),
            &MetaDelta { model: Some("sonnet".into()), ..MetaDelta::default() },
        );
        assert_eq!(meta.model(), Some("claude-opus-4-6"));
        assert_eq!(meta.sources(), vec![Source::Process, Source::ClaudeStatusline]);
    }

    #[test]
    fn a_new_session_id_keeps_the_old_one() {
        let mut meta = Meta::default();
        let id = |s: &str| MetaDelta {
            agent_session_id: Some((s.into(), true)),
            ..MetaDelta::default()
        };
        meta.merge(Source::ClaudeHook, at(1), &id("a"));
        meta.merge(Source::ClaudeHook, at(2), &id("b"));
        assert_eq!(meta.agent_session_id(), Some(("b", true)));
        assert_eq!(meta.previous_ids, vec!["a".to_string()]);
        meta.merge(Source::Screen, at(3), &id("c"));
        assert_eq!(meta.agent_session_id(), Some(("b", true)));
    }
}
