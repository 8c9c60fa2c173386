//! Screen auto-approval (§7.2): every condition holds, or nothing is sent.

use super::*;

impl Tracker {
    /// Screen auto-approval (§7.2): every condition, or nothing is sent.
    pub(super) fn maybe_answer(&mut self, now: Stamp, out: &mut Vec<Output>) {
        // A dialog gone for good is forgotten: the same question later is a new dialog.
        let gone_for = self.screen.no_dialog_since.map(|since| now.since(since));
        if gone_for.is_some_and(|ms| ms >= self.rules.timing().dialog_gone) {
            self.screen.first_seen.clear();
            self.yolo.answered.clear();
            self.yolo.stuck = false;
        }
        let Some(enabled_at) = self.yolo.enabled_at else { return };
        let Some(record) = &self.record else { return };
        if record.process.as_ref().is_some_and(AgentProcess::yolo_native) {
            return;
        }
        let Some(hit) = self.screen.dialog() else { return };
        if let Some(at) = self.yolo.answered.get(&hit.fingerprint) {
            if now.since(*at) >= YOLO_STUCK_MS && !self.yolo.stuck {
                self.yolo.stuck = true;
                out.push(Output::MetaChanged);
            }
            return;
        }
        let Some(yolo) = &hit.yolo else { return };
        let first_seen = self.screen.first_seen.get(&hit.fingerprint).copied();
        let fresh = first_seen.is_some_and(|seen| {
            seen > enabled_at && self.last_input.is_none_or(|input| seen > input)
        });
        let structured_agrees = record
            .dialog
            .as_ref()
            .is_none_or(|d| matches!(d.state, AgentState::NeedsApproval { .. }));
        let drawn = now.since(self.screen.changed_at) >= YOLO_SETTLE_MS;
        let sure = hit.state == RuleState::NeedsApproval
            && hit.confidence >= Confidence::High
            && hit.yolo_selected;
        if !(fresh
            && structured_agrees
            && drawn
            && sure
            && matches!(record.state, AgentState::NeedsApproval { .. }))
        {
            return;
        }
        self.yolo.answered.insert(hit.fingerprint, now);
        self.yolo.answers += 1;
        out.push(Output::Send {
            bytes: yolo.keys.as_bytes().to_vec(),
            why: SendWhy::Yolo(hit.rule_id.clone()),
        });
        out.push(Output::Log(serde_json::json!({
            "at_ms": now.unix_ms, "yolo_answer": "screen", "agent": record.kind.name(), "rule": hit.rule_id,
            "tool": hit.tool, "detail": hit.detail, "keys": yolo.keys,
            "agreeing_sources": record.dialog.as_ref().map(|d| d.source.name()),
        })));
        out.push(Output::MetaChanged);
    }
}

/// How long a dialog must be unchanged before an automatic answer (fully drawn).
pub(super) const YOLO_SETTLE_MS: u64 = 300;

/// A dialog still there this long after an answer is left to the user.
pub(super) const YOLO_STUCK_MS: u64 = 2000;
