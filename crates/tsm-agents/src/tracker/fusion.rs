//! The fusion rules F1–F7 (spec/agents.md §4.2), in order: the first that applies decides
//! the state, and its source is kept for display.

use super::*;

impl Tracker {
    /// Runs the fusion rules and applies the result.
    pub(super) fn decide(&mut self, now: Stamp, out: &mut Vec<Output>) {
        self.resolve_dialog_by_screen(now);
        let Some(record) = &self.record else { return };
        let (state, source, confidence) = self.fuse(record, now);
        let dialog_on_screen = self.screen.dialog().map(|hit| hit.fingerprint);
        let record = self.record.as_mut().expect("checked above");
        let state = match state {
            // A finished turn is unseen unless somebody watches as it finishes.
            AgentState::Done { .. } => match &record.state {
                AgentState::Done { unseen } => AgentState::Done { unseen: *unseen },
                _ => AgentState::Done { unseen: self.clients == 0 },
            },
            other => other,
        };
        // The screen ended a turn the structured sources still call working (an interrupt
        // without Stop): only a newer event may reopen it.
        if matches!(source, Source::Screen | Source::Timer)
            && matches!(state, AgentState::Idle | AgentState::Done { .. })
            && matches!(
                record.structured.as_ref().map(|o| &o.state),
                Some(AgentState::Working { .. })
            )
        {
            record.structured = None;
        }
        // Another dialog right after the last one (other rows on screen, or another tool)
        // is a new state with its own `since`.
        let dialog =
            matches!(state, AgentState::NeedsApproval { .. } | AgentState::NeedsInput { .. });
        let new_dialog = dialog
            && (state != record.state
                || dialog_on_screen.is_some_and(|f| record.dialog_fingerprint != Some(f)));
        if dialog {
            record.dialog_fingerprint = dialog_on_screen.or(record.dialog_fingerprint);
        }
        if state != record.state || new_dialog {
            let same = state.same_kind(&record.state) && !new_dialog;
            let from = std::mem::replace(&mut record.state, state.clone());
            if !same {
                record.since = now;
            }
            record.source = source;
            record.confidence = confidence;
            out.push(Output::StateChanged { from, to: state, source, at: now });
        }
    }

    /// F3 (b), (c), (d): a structured dialog opinion answered on screen.
    fn resolve_dialog_by_screen(&mut self, now: Stamp) {
        let t = *self.rules.timing();
        let no_dialog_for = self.screen.no_dialog_since.map(|since| now.since(since));
        let screen_changed_after_input =
            self.last_input.is_some_and(|input| self.screen.changed_at > input);
        let busy = self.screen.busy();
        let Some(record) = self.record.as_mut() else { return };
        let Some(dialog) = &record.dialog else { return };
        let gone_long_enough = no_dialog_for.is_some_and(|ms| ms >= t.dialog_gone);
        let answered_on_screen = dialog.screen_showed && gone_long_enough;
        let answered_by_input =
            dialog.input_after && screen_changed_after_input && gone_long_enough;
        let never_shown_and_busy =
            !dialog.screen_showed && now.since(dialog.at) >= t.dialog_confirm && busy;
        if answered_on_screen || answered_by_input || never_shown_and_busy {
            resolve_dialog(record, now);
        }
    }

    /// The fusion rules F1–F7 (§4.2), in order.
    fn fuse(&self, record: &Record, now: Stamp) -> (AgentState, Source, Confidence) {
        let t = self.rules.timing();
        let screen = &self.screen;
        // F1
        if let Some(code) = record.gone {
            return (AgentState::Exited { code }, Source::Process, Confidence::Exact);
        }
        // F2
        if let Some(hit) = screen.hit(RuleState::Setup) {
            let dialog = hit.setup.clone().unwrap_or_else(|| SetupKind::Other(hit.rule_id.clone()));
            return (AgentState::Setup { dialog }, Source::Screen, hit.confidence);
        }
        // F3
        if let Some(hit) = screen.dialog() {
            return (
                screen_dialog_state(hit, record.dialog.as_ref()),
                Source::Screen,
                hit.confidence,
            );
        }
        if let Some(dialog) = &record.dialog {
            return (dialog.state.clone(), dialog.source, Confidence::Exact);
        }
        // F4: a failure stands until the next turn, or until the screen shows work again.
        if let Some(failure) = &record.failure
            && screen.busy_since.is_none_or(|since| since <= failure.at)
        {
            return (failure.state.clone(), failure.source, Confidence::Exact);
        }
        let busy = screen.busy();
        if let Some(hit) = screen.hit(RuleState::Errored)
            && !busy
        {
            let text = hit.detail.clone().unwrap_or_default();
            let kind = ErrorKind::classify(&text);
            return (
                AgentState::Errored { kind, text: one_line(&text) },
                Source::Screen,
                hit.confidence,
            );
        }
        let quiet = now.since(screen.changed_at);
        let hinted = [self.attention_at, self.last_input.filter(|_| self.last_input_interrupt)]
            .into_iter()
            .flatten()
            // A hint shortly before the last change counts: Esc, then the composer redraws.
            .any(|at| at.mono_ms + t.idle_debounce >= screen.changed_at.mono_ms);
        let debounce = if hinted { t.attention_debounce } else { t.idle_debounce };
        let settled = screen.idle_composer() && !busy && quiet >= debounce;
        let screen_background =
            screen.eval.as_ref().map_or((0, 0), |e| (e.background_shells, e.background_agents));
        let activity = |tool: Option<String>| Activity {
            tool,
            spinner: screen.hit(RuleState::Working).and_then(|h| h.detail.clone()),
            subagents: record.subagents,
            background_shells: screen_background.0.max(record.background.shells),
            background_agents: screen_background.1.max(record.background.agents),
        };
        // F5
        if let Some(opinion) = &record.structured {
            match &opinion.state {
                AgentState::Working { activity: a } => {
                    let background = a.background_shells + a.background_agents > 0;
                    let background_clear =
                        background && screen.hit(RuleState::Background).is_none() && settled;
                    if !settled && !background_clear {
                        return (
                            AgentState::Working { activity: activity(a.tool.clone()) },
                            opinion.source,
                            Confidence::Exact,
                        );
                    }
                }
                AgentState::Done { .. } | AgentState::Idle => {
                    let busy_long =
                        screen.busy_since.is_some_and(|since| now.since(since) >= t.busy_override)
                            && screen.busy_since.is_some_and(|since| since > opinion.at);
                    if !busy_long {
                        return (opinion.state.clone(), opinion.source, Confidence::Exact);
                    }
                    return (
                        AgentState::Working { activity: activity(None) },
                        Source::Screen,
                        Confidence::High,
                    );
                }
                _ => {}
            }
        }
        // F6
        if let Some(hit) = screen.hit(RuleState::Working) {
            return (
                AgentState::Working { activity: activity(None) },
                Source::Screen,
                hit.confidence,
            );
        }
        if let Some(hit) = screen.hit(RuleState::Background) {
            return (
                AgentState::Working { activity: activity(None) },
                Source::Screen,
                hit.confidence,
            );
        }
        // A turn we saw working, not ended by an interrupt key, finished; anything else
        // (an interrupted turn, an old summary still on screen) is idle.
        let finished_turn =
            matches!(record.state, AgentState::Working { .. } | AgentState::Done { .. })
                && !(self.last_input_interrupt
                    && self.last_input.is_some_and(|at| at >= record.since));
        if screen.hit(RuleState::Done).is_some()
            && screen.idle_composer()
            && quiet >= t.attention_debounce
        {
            let state =
                if finished_turn { AgentState::Done { unseen: true } } else { AgentState::Idle };
            return (state, Source::Screen, Confidence::High);
        }
        if settled {
            let state =
                if finished_turn { AgentState::Done { unseen: true } } else { AgentState::Idle };
            return (state, Source::Screen, Confidence::High);
        }
        // F7
        if !screen.any_hit() && screen.eval.is_some() {
            if quiet < t.idle_debounce && screen.changed_at > record.since {
                return (
                    AgentState::Working { activity: activity(None) },
                    Source::Screen,
                    Confidence::Low,
                );
            }
            if quiet >= t.idle_debounce {
                return (AgentState::Idle, Source::Timer, Confidence::Low);
            }
        }
        // Nothing decides: keep the state, but never a dialog, an error or a setup screen
        // that is gone.
        match &record.state {
            AgentState::NeedsApproval { .. }
            | AgentState::NeedsInput { .. }
            | AgentState::Errored { .. } => {
                (AgentState::Working { activity: activity(None) }, Source::Screen, Confidence::Low)
            }
            AgentState::Setup { .. } if screen.idle_composer() => {
                (AgentState::Idle, Source::Screen, Confidence::Medium)
            }
            AgentState::Setup { .. } => (AgentState::Starting, Source::Screen, Confidence::Low),
            other => (other.clone(), record.source, record.confidence),
        }
    }

    pub(super) fn screen_agrees(&self, record: &Record) -> Option<bool> {
        let eval = self.screen.eval.as_ref()?;
        if record.source == Source::Screen || eval.hits.is_empty() {
            return Some(true).filter(|_| !eval.hits.is_empty());
        }
        let top = eval.top()?;
        let agrees = match top.state {
            RuleState::Setup => matches!(record.state, AgentState::Setup { .. }),
            RuleState::NeedsApproval => matches!(record.state, AgentState::NeedsApproval { .. }),
            RuleState::NeedsInput => matches!(record.state, AgentState::NeedsInput { .. }),
            RuleState::Errored => matches!(record.state, AgentState::Errored { .. }),
            RuleState::Working | RuleState::Background => {
                matches!(record.state, AgentState::Working { .. })
            }
            RuleState::Done | RuleState::Idle => {
                matches!(record.state, AgentState::Done { .. } | AgentState::Idle)
            }
        };
        Some(agrees)
    }
}

pub(super) fn resolve_dialog(record: &mut Record, at: Stamp) {
    if record.dialog.as_ref().is_some_and(|d| d.at > at) {
        return; // evidence older than the dialog answers nothing
    }
    if let Some(dialog) = record.dialog.take()
        && record.structured.as_ref().is_none_or(|s| s.at <= at)
    {
        record.structured = Some(Opinion {
            state: AgentState::Working { activity: Activity::default() },
            source: dialog.source,
            at,
        });
    }
}

/// The state a screen dialog shows, with a structured opinion's detail merged in.
fn screen_dialog_state(hit: &Hit, structured: Option<&DialogOpinion>) -> AgentState {
    match hit.state {
        RuleState::NeedsInput => {
            AgentState::NeedsInput { kind: hit.input.unwrap_or(InputKind::Dialog) }
        }
        _ => {
            let (s_tool, s_detail) = match structured.map(|d| &d.state) {
                Some(AgentState::NeedsApproval { tool, detail, .. }) => {
                    (tool.clone(), detail.clone())
                }
                _ => (None, None),
            };
            AgentState::NeedsApproval {
                tool: s_tool.or_else(|| hit.tool.clone()),
                detail: s_detail.or_else(|| hit.detail.clone()),
                options: Vec::new(),
            }
        }
    }
}
