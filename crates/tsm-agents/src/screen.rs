//! Screen rule matching (`spec/agents.md` §3.4) and the spinner-stripped hash (§4.4).
//!
//! [`AgentRules::evaluate`] reads a [`ScreenView`] and returns a [`ScreenEval`]: every rule
//! that hit, best first, the hash that says whether the screen changed in a way that counts,
//! and the metadata the meta rules found.
//!
//! # How a screen is matched
//!
//! - **Region.** Rules search the `region_rows` rows ending at the cursor row or at the last
//!   non-blank row, whichever is further down.
//! - **Normalisation.** U+00A0 becomes a space and U+2019 becomes `'`, in rows and patterns.
//! - **Patterns.** A plain pattern is a substring of a row; `re:` starts a regex applied to one
//!   row. Every literal, and the longest literal each regex provably requires, go into one
//!   Aho-Corasick automaton per agent: one pass over a row finds them all, and a regex runs
//!   only on rows that hold its required literal.
//! - **A rule's hit** is the lowest row of the region that matches one of its `any` patterns,
//!   leaving out rows that start (after blanks) with one of its `skip_prefixes` and, with
//!   `exclude_composer`, the composer's rows (those between the last two rows matching the
//!   agent's composer rule). The hit stands if it lies within the last `max_from_bottom` rows
//!   of the region, no row under it matches a `not_below` pattern, and each `with` pattern
//!   matches some row of the region. A higher row matching `any` could not do better: it
//!   would be further from the bottom and have more rows under it.
//! - **Details.** Named groups `tool`, `detail` and `file` (as the detail when there is no
//!   `detail`) of the `any` pattern that hit, then of the `with` patterns (on the lowest row
//!   each matches), then the rule's static `tool` and `detail`, fill the hit. On `background`
//!   hits the groups `shells` and `agents` give the counts.
//! - **Priority.** `setup` > `needs_approval` = `needs_input` (the lower hit wins) >
//!   `errored` > `working` > `background` > `done` > `idle`; within a state, file order.
//!   Between approval and input, the state whose first rule in file order hit lower comes
//!   first, with all its hits; two rules of one state that see one dialog thus keep file
//!   order (the specific rule before the generic one), whichever row each hit.
//! - **Meta rules** run on the whole screen with soft-wrapped rows joined, and the lowest
//!   match of the first rule of a field (in file order) gives the field. The value is the
//!   group named after the field, else the whole match.
//! - **Yolo.** `yolo_selected` says whether the rule's `selected` pattern matches a row from
//!   the hit row down to the region's bottom.
//!
//! # The hash
//!
//! [`ScreenEval::hash`] covers the region's rows and the cursor position after removing the
//! agent's spinner glyphs (each replaced by a blank) and, on the rows where a `working` rule
//! hit, turning each run of digits into `0`. A glyph that also serves as punctuation is
//! removed only at a row's first non-blank position: ASCII punctuation, U+00A1 to U+00BF (`·`),
//! General Punctuation (`•`, `…`) and Geometric Shapes (`◦`, `△`). Trailing blanks are not
//! hashed. The hash is FNV-1a, so it is the same across builds and runs.

use std::borrow::Cow;
use std::cmp::Reverse;
use std::ops::Range;

use serde::Deserialize;

use crate::rules::{AgentRules, MetaField, Pattern, PatternTable, YoloSpec};
use crate::types::{Confidence, InputKind, SetupKind};

/// What screen rules read: the visible screen of a session (§3.2).
#[derive(Debug, Clone, Copy)]
pub struct ScreenView<'a> {
    /// The visible rows, top to bottom, trailing blanks trimmed, a wide character once.
    pub rows: &'a [String],
    /// `wrapped[i]`: row `i` continues on row `i + 1` (soft wrap). Missing entries are false.
    pub wrapped: &'a [bool],
    /// The cursor's row, 0-based.
    pub cursor_row: u16,
    /// The cursor's column, 0-based.
    pub cursor_col: u16,
    /// The screen's width in cells.
    pub cols: u16,
    /// Whether the alternate screen is active.
    pub alt_screen: bool,
    /// The window title, if any.
    pub title: Option<&'a str>,
}

/// The state a screen rule claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleState {
    /// A setup dialog (onboarding, login, trust, …).
    Setup,
    /// A tool approval dialog.
    NeedsApproval,
    /// A question or other dialog that is not an approval.
    NeedsInput,
    /// An error banner.
    Errored,
    /// A busy marker (spinner, `esc to interrupt`).
    Working,
    /// The turn is over but background work goes on.
    Background,
    /// A turn summary.
    Done,
    /// The idle prompt.
    Idle,
}

impl RuleState {
    /// The state's name in rule tables and fixtures (`needs_approval`, …).
    pub fn name(self) -> &'static str {
        match self {
            RuleState::Setup => "setup",
            RuleState::NeedsApproval => "needs_approval",
            RuleState::NeedsInput => "needs_input",
            RuleState::Errored => "errored",
            RuleState::Working => "working",
            RuleState::Background => "background",
            RuleState::Done => "done",
            RuleState::Idle => "idle",
        }
    }

    /// The rank of §3.4, 0 first; approval and input share one.
    fn rank(self) -> u8 {
        match self {
            RuleState::Setup => 0,
            RuleState::NeedsApproval | RuleState::NeedsInput => 1,
            RuleState::Errored => 2,
            RuleState::Working => 3,
            RuleState::Background => 4,
            RuleState::Done => 5,
            RuleState::Idle => 6,
        }
    }
}

/// One rule that hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The rule's id.
    pub rule_id: String,
    /// The state it claims.
    pub state: RuleState,
    /// The rule's confidence.
    pub confidence: Confidence,
    /// The tool, from a `tool` group or the rule.
    pub tool: Option<String>,
    /// The detail, from a `detail` or `file` group or the rule.
    pub detail: Option<String>,
    /// The index into the view's rows of the matching row.
    pub row: usize,
    /// For a `setup` hit, the dialog (`Other(<rule id>)` when the rule names none).
    pub setup: Option<SetupKind>,
    /// For a `needs_input` hit, the kind (`Dialog` when the rule names none).
    pub input: Option<InputKind>,
    /// The rule's auto-approval entry, if it has one: the keys to send.
    pub yolo: Option<YoloSpec>,
    /// Whether the yolo entry's `selected` pattern matched from the hit row down.
    pub yolo_selected: bool,
    /// A hash of the rows from the hit row to the region's bottom (the dialog's identity).
    pub fingerprint: u64,
}

/// What the rules made of one screen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScreenEval {
    /// Every hit, best first by the priority of §3.4.
    pub hits: Vec<Hit>,
    /// The spinner-stripped hash of §4.4.
    pub hash: u64,
    /// Metadata found by meta rules, one entry per field at most.
    pub meta: Vec<(MetaField, String)>,
    /// Background shells counted by `background` hits.
    pub background_shells: u32,
    /// Background agents counted by `background` hits.
    pub background_agents: u32,
}

impl ScreenEval {
    /// The best hit.
    pub fn top(&self) -> Option<&Hit> {
        self.hits.first()
    }

    /// The best hit claiming `state`.
    pub fn first(&self, state: RuleState) -> Option<&Hit> {
        self.hits.iter().find(|h| h.state == state)
    }

    /// Whether a busy marker (a `working` hit) is on screen.
    pub fn busy(&self) -> bool {
        self.first(RuleState::Working).is_some()
    }

    /// Whether the idle composer is on screen: an `idle` hit and no `working` hit.
    pub fn idle_composer(&self) -> bool {
        self.first(RuleState::Idle).is_some() && !self.busy()
    }
}

/// Replaces U+00A0 with a space and U+2019 with `'`.
pub(crate) fn normalize(text: &str) -> Cow<'_, str> {
    if text.contains(['\u{a0}', '\u{2019}']) {
        Cow::Owned(text.replace('\u{a0}', " ").replace('\u{2019}', "'"))
    } else {
        Cow::Borrowed(text)
    }
}

/// 64-bit FNV-1a: stable across builds and runs.
pub(crate) struct Fnv(pub(crate) u64);

impl Fnv {
    pub(crate) fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn bytes(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn char(&mut self, c: char) {
        self.bytes(c.encode_utf8(&mut [0; 4]).as_bytes());
    }
}

/// Whether a spinner glyph also serves as punctuation (then it is removed only at a row's
/// first non-blank position).
fn is_punctuation_like(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c, '\u{a1}'..='\u{bf}' | '\u{2000}'..='\u{206f}' | '\u{25a0}'..='\u{25ff}')
}

/// The region's rows: `region_rows` rows ending at the cursor row or the last non-blank row,
/// whichever is further down. Empty when the view has no rows.
fn region(view: &ScreenView<'_>, region_rows: usize) -> Range<usize> {
    if view.rows.is_empty() {
        return 0..0;
    }
    let last_text = view.rows.iter().rposition(|r| !r.trim().is_empty()).unwrap_or(0);
    let cursor = usize::from(view.cursor_row).min(view.rows.len() - 1);
    let bottom = last_text.max(cursor) + 1;
    bottom.saturating_sub(region_rows.max(1))..bottom
}

/// Which patterns match which rows.
struct RowBits {
    bits: Vec<u64>,
    words: usize,
}

impl RowBits {
    fn new(table: &PatternTable, rows: &[Cow<'_, str>]) -> RowBits {
        let words = table.words();
        let mut bits = vec![0u64; rows.len() * words];
        let mut found = vec![false; table.needles.len()];
        if words > 0 {
            for (row, chunk) in rows.iter().zip(bits.chunks_mut(words)) {
                table.match_row(row, &mut found, chunk);
            }
        }
        RowBits { bits, words }
    }

    fn has(&self, row: usize, pattern: usize) -> bool {
        self.bits[row * self.words + pattern / 64] >> (pattern % 64) & 1 == 1
    }

    /// The lowest row in `rows` that `pattern` matches.
    fn lowest(&self, rows: Range<usize>, pattern: usize) -> Option<usize> {
        rows.rev().find(|&r| self.has(r, pattern))
    }
}

/// Values read from a hit's named groups.
#[derive(Default)]
struct Groups {
    tool: Option<String>,
    detail: Option<String>,
    file: Option<String>,
    shells: Option<u32>,
    agents: Option<u32>,
}

impl Groups {
    /// Fills the fields still empty from `pattern`'s groups on `row`.
    fn read(&mut self, pattern: &Pattern, row: &str) {
        let Pattern::Regex { re, groups: true, .. } = pattern else { return };
        let Some(caps) = re.get().captures(row) else { return };
        let text = |name: &str| caps.name(name).map(|m| m.as_str().trim().to_string());
        let count = |name: &str| caps.name(name).and_then(|m| m.as_str().parse().ok());
        self.tool = self.tool.take().or_else(|| text("tool"));
        self.detail = self.detail.take().or_else(|| text("detail"));
        self.file = self.file.take().or_else(|| text("file"));
        self.shells = self.shells.or_else(|| count("shells"));
        self.agents = self.agents.or_else(|| count("agents"));
    }
}

fn applies(req: Option<&semver::VersionReq>, version: Option<&semver::Version>) -> bool {
    match (req, version) {
        (Some(req), Some(version)) => req.matches(version),
        _ => true,
    }
}

impl AgentRules {
    /// Matches the screen against this agent's rules (see the [module docs](crate::screen)).
    ///
    /// `version` is the agent's version when known: a rule with a `versions` requirement is
    /// skipped when the version is known and does not meet it, and applies when it is unknown.
    pub fn evaluate(&self, view: &ScreenView<'_>, version: Option<&semver::Version>) -> ScreenEval {
        let span = region(view, self.def.region_rows);
        let top = span.start;
        let rows: Vec<Cow<'_, str>> = view.rows[span].iter().map(|r| normalize(r)).collect();
        let n = rows.len();
        let tables = self.tables();
        let bits = RowBits::new(&tables.rows, &rows);
        let composer = tables.composer.and_then(|p| {
            let mut lines = (0..n).rev().filter(|&r| bits.has(r, p));
            let last = lines.next()?;
            let before = lines.next()?;
            Some(before + 1..last)
        });
        let mut working_rows = vec![false; n];
        let mut hits = Vec::new();
        let (mut shells, mut agents) = (0, 0);
        for (order, (def, rule)) in self.def.rules.iter().zip(&tables.rules).enumerate() {
            if !applies(def.versions.as_ref(), version) {
                continue;
            }
            let searched = |r: usize| {
                let in_composer = composer.as_ref().is_some_and(|c| c.contains(&r));
                let skipped =
                    def.skip_prefixes.iter().any(|p| rows[r].trim_start().starts_with(p.as_str()));
                !(def.exclude_composer && in_composer || skipped)
            };
            let Some(row) =
                (0..n).rev().find(|&r| searched(r) && rule.any.iter().any(|&p| bits.has(r, p)))
            else {
                continue;
            };
            if def.max_from_bottom.is_some_and(|m| n - 1 - row >= m)
                || (row + 1..n).any(|r| rule.not_below.iter().any(|&p| bits.has(r, p)))
                || !rule.with.iter().all(|&p| bits.lowest(0..n, p).is_some())
            {
                continue;
            }
            let mut groups = Groups::default();
            if let Some(&p) = rule.any.iter().find(|&&p| bits.has(row, p)) {
                groups.read(&tables.rows.patterns[p], &rows[row]);
            }
            for &p in &rule.with {
                if let Some(r) = bits.lowest(0..n, p) {
                    groups.read(&tables.rows.patterns[p], &rows[r]);
                }
            }
            match def.state {
                RuleState::Working => working_rows[row] = true,
                RuleState::Background => {
                    shells = shells.max(groups.shells.unwrap_or(0));
                    agents = agents.max(groups.agents.unwrap_or(0));
                }
                _ => {}
            }
            let mut fingerprint = Fnv::new();
            for text in &rows[row..] {
                fingerprint.bytes(text.as_bytes());
                fingerprint.bytes(&[0xff]);
            }
            let hit = Hit {
                rule_id: def.id.clone(),
                state: def.state,
                confidence: def.confidence,
                tool: groups.tool.or_else(|| def.tool.clone()),
                detail: groups.detail.or(groups.file).or_else(|| def.detail.clone()),
                row: top + row,
                setup: (def.state == RuleState::Setup)
                    .then(|| def.setup.clone().unwrap_or_else(|| SetupKind::Other(def.id.clone()))),
                input: (def.state == RuleState::NeedsInput)
                    .then(|| def.input.unwrap_or(InputKind::Dialog)),
                yolo: def.yolo.as_ref().map(|(spec, _)| spec.clone()),
                yolo_selected: rule.selected.is_some_and(|p| bits.lowest(row..n, p).is_some()),
                fingerprint: fingerprint.0,
            };
            hits.push((order, hit));
        }
        // Between approval and input, the state whose first hit (in file order) is lower goes
        // first; otherwise, and within a state, file order.
        let first_row =
            |state: RuleState| hits.iter().find(|(_, h)| h.state == state).map(|(_, h)| h.row);
        let (approval, input) =
            (first_row(RuleState::NeedsApproval), first_row(RuleState::NeedsInput));
        hits.sort_by_key(|(order, hit)| {
            let lower = match hit.state {
                RuleState::NeedsApproval => Reverse(approval),
                RuleState::NeedsInput => Reverse(input),
                _ => Reverse(None),
            };
            (hit.state.rank(), lower, hit.state == RuleState::NeedsInput, *order)
        });
        ScreenEval {
            hits: hits.into_iter().map(|(_, hit)| hit).collect(),
            hash: self.hash(view, &rows, &working_rows),
            meta: self.meta(view, version),
            background_shells: shells,
            background_agents: agents,
        }
    }

    /// The spinner-stripped hash of the region's rows and the cursor.
    fn hash(&self, view: &ScreenView<'_>, rows: &[Cow<'_, str>], working_rows: &[bool]) -> u64 {
        let mut hash = Fnv::new();
        for (text, &working) in rows.iter().zip(working_rows) {
            let first = text.char_indices().find(|(_, c)| !c.is_whitespace()).map(|(i, _)| i);
            let (mut blanks, mut in_digits) = (0usize, false);
            for (i, c) in text.char_indices() {
                let mut c = c;
                if self.def.is_spinner(c) && (!is_punctuation_like(c) || Some(i) == first) {
                    c = ' ';
                }
                if working && c.is_ascii_digit() {
                    if in_digits {
                        continue;
                    }
                    in_digits = true;
                    c = '0';
                } else {
                    in_digits = false;
                }
                if c == ' ' {
                    blanks += 1;
                    continue;
                }
                for _ in 0..blanks {
                    hash.char(' ');
                }
                blanks = 0;
                hash.char(c);
            }
            hash.bytes(&[0xff]);
        }
        hash.bytes(&view.cursor_row.to_le_bytes());
        hash.bytes(&view.cursor_col.to_le_bytes());
        hash.0
    }

    /// Runs the meta rules on the wrap-joined rows of the whole screen.
    fn meta(
        &self,
        view: &ScreenView<'_>,
        version: Option<&semver::Version>,
    ) -> Vec<(MetaField, String)> {
        if self.def.meta.is_empty() {
            return Vec::new();
        }
        let mut joined: Vec<Cow<'_, str>> = Vec::new();
        let mut line = String::new();
        for (i, row) in view.rows.iter().enumerate() {
            line.push_str(row);
            if view.wrapped.get(i).copied().unwrap_or(false) && i + 1 < view.rows.len() {
                // Trailing blanks were trimmed; a wrapped row filled its width.
                let width = row.chars().count();
                line.extend(std::iter::repeat_n(' ', usize::from(view.cols).saturating_sub(width)));
                continue;
            }
            joined.push(Cow::Owned(normalize(&line).into_owned()));
            line.clear();
        }
        let tables = self.tables();
        let bits = RowBits::new(&tables.joined, &joined);
        let mut out: Vec<(MetaField, String)> = Vec::new();
        for (def, any) in self.def.meta.iter().zip(&tables.meta) {
            if out.iter().any(|(f, _)| *f == def.field) || !applies(def.versions.as_ref(), version)
            {
                continue;
            }
            let found = (0..joined.len()).rev().find_map(|r| {
                let p = *any.iter().find(|&&p| bits.has(r, p))?;
                Some((r, p))
            });
            let Some((r, p)) = found else { continue };
            let value = match &tables.joined.patterns[p] {
                Pattern::Literal(text) => Some(text.clone()),
                Pattern::Regex { re, .. } => re.get().captures(&joined[r]).map(|caps| {
                    caps.name(def.field.name())
                        .unwrap_or_else(|| caps.get(0).expect("group 0"))
                        .as_str()
                        .trim()
                        .to_string()
                }),
            };
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                out.push((def.field, value));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AgentKind, Rules};

    fn view(rows: &[String], cursor_row: u16) -> ScreenView<'_> {
        ScreenView {
            rows,
            wrapped: &[],
            cursor_row,
            cursor_col: 2,
            cols: 80,
            alt_screen: false,
            title: None,
        }
    }

    fn rows(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    fn custom(toml: &str) -> Rules {
        let (rules, errors) = Rules::with_overrides(toml);
        assert_eq!(errors, []);
        rules
    }

    const TEST_AGENT: &str = r##"
[agent.t]
region_rows = 5
composer = { rule = "re:^-{4,}$", prompt = ">" }
spinner_glyphs = "*·⠀-⣿"

[[agent.t.rule]]
id = "t.busy"
state = "working"
any = ["re:^\\s*[*·⠀-⣿] \\w+ing… \\((?P<detail>\\d+s)\\)", "esc to stop"]
exclude_composer = true
skip_prefixes = ["#"]

[[agent.t.rule]]
id = "t.ask"
state = "needs_approval"
any = ["re:Run (?P<tool>\\w+)\\?"]
with = ["re:^\\s*> 1\\. Yes"]
not_below = ["re:^>\\s*$"]
max_from_bottom = 4
yolo = { keys = "\r", selected = "re:^\\s*> 1\\. Yes\\s*$" }

[[agent.t.rule]]
id = "t.question"
state = "needs_input"
input = "question"
any = ["Pick one"]

[[agent.t.rule]]
id = "t.new"
state = "idle"
any = ["re:^>"]
versions = ">=2"

[[agent.t.meta]]
id = "t.version"
field = "version"
any = ["re:T v(?P<version>\\d+\\.\\d+)"]
"##;

    fn agent(rules: &Rules) -> &AgentRules {
        rules.agent(&AgentKind::Other("t".into())).unwrap()
    }

    #[test]
    fn the_region_ends_at_the_cursor_or_last_text_and_bounds_the_search() {
        let rules = custom(TEST_AGENT);
        // "esc to stop" is six rows above the bottom: outside the 5-row region.
        let screen = rows("esc to stop\na\nb\nc\nd\ne\n");
        assert!(agent(&rules).evaluate(&view(&screen, 0), None).hits.is_empty());
        // With the cursor below the text the region ends at the cursor.
        let screen = rows("esc to stop\na\nb\n\n\n\n\n");
        assert!(agent(&rules).evaluate(&view(&screen, 6), None).hits.is_empty());
        assert!(agent(&rules).evaluate(&view(&screen, 2), None).busy());
    }

    #[test]
    fn composer_rows_and_skipped_prefixes_are_not_searched() {
        let rules = custom(TEST_AGENT);
        let screen = rows("----\n> esc to stop\n----\n");
        assert!(!agent(&rules).evaluate(&view(&screen, 1), None).busy());
        let screen = rows("# esc to stop\n----\n>\n----\n");
        assert!(!agent(&rules).evaluate(&view(&screen, 2), None).busy());
        let screen = rows("  esc to stop\n----\n>\n----\n");
        assert!(agent(&rules).evaluate(&view(&screen, 2), None).busy());
    }

    #[test]
    fn not_below_with_and_max_from_bottom_void_hits() {
        let rules = custom(TEST_AGENT);
        let a = agent(&rules);
        let live = rows("x\nRun Bash?\n > 1. Yes\n   2. No\n");
        let eval = a.evaluate(&view(&live, 3), None);
        let hit = eval.top().unwrap();
        assert_eq!(
            (hit.rule_id.as_str(), hit.tool.as_deref(), hit.row),
            ("t.ask", Some("Bash"), 1)
        );
        assert!(hit.yolo_selected);
        assert_eq!(hit.yolo.as_ref().unwrap().keys, "\r");
        let answered = rows("Run Bash?\n > 1. Yes\n   2. No\n>\n");
        assert!(a.evaluate(&view(&answered, 3), None).first(RuleState::NeedsApproval).is_none());
        let no_options = rows("Run Bash?\n");
        assert!(a.evaluate(&view(&no_options, 0), None).hits.is_empty());
        let far = rows("Run Bash?\n > 1. Yes\na\nb\nc\n");
        assert!(a.evaluate(&view(&far, 4), None).hits.is_empty());
        let moved = rows("Run Bash?\n   1. Yes\n > 2. No\n");
        let eval = a.evaluate(&view(&moved, 2), None);
        assert!(eval.hits.is_empty(), "with fails without the pointer on 1: {eval:?}");
    }

    #[test]
    fn priority_puts_the_lower_of_approval_and_input_first() {
        let rules = custom(TEST_AGENT);
        let a = agent(&rules);
        let screen = rows("Run Bash?\n > 1. Yes\nPick one\n");
        let eval = a.evaluate(&view(&screen, 2), None);
        let ids: Vec<_> = eval.hits.iter().map(|h| h.rule_id.as_str()).collect();
        assert_eq!(ids, ["t.question", "t.ask"]);
        assert_eq!(eval.top().unwrap().input, Some(InputKind::Question));
        let screen = rows("Pick one\nRun Bash?\n > 1. Yes\n");
        let eval = a.evaluate(&view(&screen, 2), None);
        assert_eq!(eval.top().unwrap().rule_id, "t.ask");
    }

    #[test]
    fn versions_apply_when_unknown_or_met() {
        let rules = custom(TEST_AGENT);
        let a = agent(&rules);
        let screen = rows("> hello\n");
        let idle =
            |v: Option<semver::Version>| a.evaluate(&view(&screen, 0), v.as_ref()).idle_composer();
        assert!(idle(None));
        assert!(idle(Some(semver::Version::new(2, 1, 0))));
        assert!(!idle(Some(semver::Version::new(1, 9, 0))));
    }

    #[test]
    fn the_hash_ignores_spinners_and_timers_but_not_typing() {
        let rules = custom(TEST_AGENT);
        let a = agent(&rules);
        let hash = |text: &str| a.evaluate(&view(&rows(text), 0), None).hash;
        let base = hash("⠋ Thinking… (3s)\n·  note · here\n");
        assert_eq!(base, hash("⠙ Thinking… (14s)\n   note · here\n"));
        assert_eq!(base, hash("* Thinking… (9s)\n·  note · here\n"));
        assert_ne!(base, hash("⠋ Thinking… (3s)\n·  note   here\n"), "mid-row · is text");
        assert_ne!(base, hash("⠋ Thinking… (3s)\n·  note · here!\n"));
        // Digits count on rows no working rule hit.
        assert_ne!(hash("> 12\n"), hash("> 13\n"));
    }

    #[test]
    fn curly_apostrophes_and_no_break_spaces_match_plain_patterns() {
        let rules = custom(
            "[agent.t]\n[[agent.t.rule]]\nid = \"t.a\"\nstate = \"needs_approval\"\nany = [\"don't ask\"]\n",
        );
        let screen = rows("2.\u{a0}Yes, and don\u{2019}t ask again\n");
        assert!(agent(&rules).evaluate(&view(&screen, 0), None).top().is_some());
    }

    #[test]
    fn meta_rules_read_wrap_joined_rows() {
        let rules = custom(TEST_AGENT);
        let screen = vec!["x".repeat(8) + " T", "v1.25 ok".to_string()];
        let mut v = view(&screen, 1);
        v.cols = 11;
        v.wrapped = &[true, false];
        let eval = agent(&rules).evaluate(&v, None);
        assert_eq!(eval.meta, [(MetaField::Version, "1.25".to_string())]);
    }

    #[test]
    fn an_empty_or_odd_view_gives_no_hits_and_no_panic() {
        let rules = Rules::builtin();
        for a in rules.agents() {
            let empty: Vec<String> = Vec::new();
            assert!(a.evaluate(&view(&empty, 40), None).hits.is_empty());
            let one = rows("❯ \n");
            let _ = a.evaluate(&view(&one, 999), None);
        }
    }
}
