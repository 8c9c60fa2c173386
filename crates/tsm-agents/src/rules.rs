//! Screen rules as data: the rule tables of `spec/agents.md` §3.4, built in and overridden.
//!
//! The built-in tables are `rules/<agent>.toml` in this crate, compiled in with `include_str!`.
//! [`Rules::with_overrides`] lays the user's `agents.toml` over them. Each agent's table is
//! compiled into an [`AgentRules`], whose [`evaluate`](AgentRules::evaluate) (in `screen.rs`)
//! matches a [`ScreenView`](crate::screen::ScreenView).
//!
//! # The format
//!
//! ```toml
//! disable = ["claude.idle.composer"]    # rule ids to remove, of any agent
//!
//! [timing]                              # §4.3, all in ms; missing keys keep their default
//! idle_debounce = 2000
//!
//! [agent.claude]
//! process = { argv0 = ["claude"], argv_contains = ["/claude-code/"] }
//! region_rows = 30
//! composer = { rule = "re:^─{8,}$", prompt = "❯" }
//! spinner_glyphs = "✳✽✶✻✢·⠀-⣿"
//!
//! [[agent.claude.rule]]
//! id = "claude.approval.proceed"
//! state = "needs_approval"
//! any = ["Do you want to proceed?"]
//! with = ["re:^\\s*❯\\s*1\\. Yes"]
//! not_below = ["re:^❯\\s*$"]
//! max_from_bottom = 20
//!
//! [[agent.claude.meta]]
//! id = "claude.meta.version"
//! field = "version"
//! any = ["re:Claude Code v(?P<version>\\d+\\.\\d+\\.\\d+)"]
//! ```
//!
//! A rule has the keys of §3.4 (`id`, `state`, `any`, `with`, `not_below`, `max_from_bottom`,
//! `skip_prefixes`, `exclude_composer`, `confidence`, `versions`, `yolo`) and four optional
//! keys of ours:
//!
//! - `setup = "trust"`: the [`SetupKind`] of a `setup` rule (by [`SetupKind::from_name`]);
//!   without it a setup hit reports `SetupKind::Other(<rule id>)`.
//! - `input = "question" | "elicitation" | "dialog"`: the [`InputKind`] of a `needs_input`
//!   rule; without it, `dialog`.
//! - `tool = "Edit"`, `detail = "plan"`: the tool and detail a hit reports when no named group
//!   (`tool`, `detail`, `file`) of its patterns gives them.
//!
//! # Decisions
//!
//! - **Versions.** A rule with `versions` applies when the agent's version is unknown, and is
//!   skipped when the version is known and does not meet the requirement. A screen read before
//!   the version is known is better judged by too many rules than by none.
//! - **Errors in the user's file.** A file that is not TOML, or whose top level or
//!   `[agent.<name>]` keys are unknown or of the wrong type, changes nothing: the built-ins
//!   stay in force and the error is returned. A single bad rule (unknown key, bad value, a
//!   pattern that does not compile) is left out and reported; the built-in rule of the same
//!   id, if any, stays in force, and the rest of the file applies. A bad `[timing]` or
//!   agent-level value is reported and that value keeps its previous setting.
//! - **Overrides.** A rule whose id the agent already has replaces it in place (so it keeps
//!   its position in file order); a new id is appended to the agent's rules. Agent-level keys
//!   given in the user's file replace the built-in ones. `disable` removes rules and meta rules
//!   of every agent after the overrides are applied; an id no agent has is reported.
//! - **`yolo`** is refused on rules whose state is not `needs_approval`, and needs both
//!   `keys` and `selected`.
//! - **Pattern normalisation.** U+00A0 becomes a space and U+2019 becomes `'` in the pattern
//!   text (literals and regex sources alike), as on the screen; a regex escape such as
//!   `\x{A0}` is not rewritten and so never matches.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use regex::Regex;
use semver::VersionReq;
use serde::Deserialize;
use toml::Spanned;

use crate::screen::RuleState;
use crate::types::{AgentKind, Confidence, InputKind, SetupKind};

/// The built-in tables, in the order agents are listed.
const BUILTIN: [(&str, &str); 5] = [
    ("claude", include_str!("../rules/claude.toml")),
    ("codex", include_str!("../rules/codex.toml")),
    ("gemini", include_str!("../rules/gemini.toml")),
    ("aider", include_str!("../rules/aider.toml")),
    ("opencode", include_str!("../rules/opencode.toml")),
];

/// Rows searched when a table does not say (`region_rows`).
const DEFAULT_REGION_ROWS: usize = 30;

/// The screen rules of every agent, and the timing constants of §4.3.
///
/// ```
/// use tsm_agents::{AgentKind, Rules};
///
/// let (rules, errors) = Rules::with_overrides("disable = [\"claude.idle.composer\"]");
/// assert!(errors.is_empty());
/// let claude = rules.agent(&AgentKind::Claude).unwrap();
/// assert!(claude.rule_ids().all(|id| id != "claude.idle.composer"));
/// assert_eq!(rules.timing().idle_debounce, 1500);
/// ```
#[derive(Debug)]
pub struct Rules {
    /// One entry per agent, built-ins first (claude, codex, gemini, aider, opencode), then the
    /// user's new agents in name order.
    agents: Vec<AgentRules>,
    /// The timing constants.
    timing: Timing,
}

impl Rules {
    /// The built-in tables (`crates/tsm-agents/rules/<agent>.toml`) with the default timing.
    pub fn builtin() -> Rules {
        let mut errors = Vec::new();
        let defs = builtin_defs(&mut errors);
        debug_assert!(errors.is_empty(), "built-in rule tables: {errors:?}");
        Rules::from_defs(defs, Timing::default())
    }

    /// The built-ins overlaid with the user's `agents.toml`: a rule with a built-in id
    /// replaces it, `disable` removes rules, new ids add rules, and a new `[agent.<name>]`
    /// defines `AgentKind::Other(name)`. Errors are returned and the built-ins stay in force
    /// (see the module docs for what is left out on each kind of error).
    pub fn with_overrides(user_toml: &str) -> (Rules, Vec<RuleError>) {
        let mut errors = Vec::new();
        let mut defs = builtin_defs(&mut Vec::new());
        let mut timing = Timing::default();
        if let Some(file) = parse_file(user_toml, &mut errors) {
            file.timing.apply(&mut timing);
            for patch in file.agents {
                apply_patch(&mut defs, patch);
            }
            for (id, line) in file.disable {
                let mut found = false;
                for def in &mut defs {
                    let (rules, meta) = (def.rules.len(), def.meta.len());
                    def.rules.retain(|r| r.id != id);
                    def.meta.retain(|m| m.id != id);
                    found |= rules != def.rules.len() || meta != def.meta.len();
                }
                if !found {
                    errors.push(RuleError::UnknownId { id, line });
                }
            }
        }
        (Rules::from_defs(defs, timing), errors)
    }

    /// The rules of one agent, if it has a table.
    pub fn agent(&self, kind: &AgentKind) -> Option<&AgentRules> {
        self.agents.iter().find(|a| &a.kind == kind)
    }

    /// Every agent's rules, built-ins first.
    pub fn agents(&self) -> impl Iterator<Item = &AgentRules> {
        self.agents.iter()
    }

    /// The timing constants (§4.3).
    pub fn timing(&self) -> &Timing {
        &self.timing
    }

    fn from_defs(defs: Vec<AgentDef>, timing: Timing) -> Rules {
        Rules { agents: defs.into_iter().map(AgentRules::compile).collect(), timing }
    }
}

/// The timing constants of `spec/agents.md` §4.3, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Trailing delay before a screen evaluation.
    pub screen_settle: u64,
    /// Evaluate at least this often while output flows.
    pub screen_max_interval: u64,
    /// Quiet screen before idle-by-absence (F5, F6).
    pub idle_debounce: u64,
    /// The same after a positive hint (summary row, OSC 9, BEL, title done glyph, interrupt key).
    pub attention_debounce: u64,
    /// A dialog absent this long counts as answered (F3).
    pub dialog_gone: u64,
    /// Window for the screen to show a structured dialog (F3 d).
    pub dialog_confirm: u64,
    /// Screen busy this long before it overrides a structured `Done`/`Idle`.
    pub busy_override: u64,
    /// A secondary record without events is dropped after this long (§6.2).
    pub secondary_expiry: u64,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            screen_settle: 50,
            screen_max_interval: 100,
            idle_debounce: 1500,
            attention_debounce: 300,
            dialog_gone: 200,
            dialog_confirm: 1500,
            busy_override: 1000,
            secondary_expiry: 10_000,
        }
    }
}

/// How an agent's process is recognised (§5): by argv, never by `comm`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessMatch {
    /// Basenames of `argv[0]` (or, under an interpreter, of an argument) that are the agent.
    #[serde(default)]
    pub argv0: Vec<String>,
    /// Substrings of an interpreter's argument that make it the agent (`/claude-code/`).
    #[serde(default)]
    pub argv_contains: Vec<String>,
}

/// A metadata field a meta rule fills (§3.4, §4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MetaField {
    /// The agent's version.
    Version,
    /// The model.
    Model,
    /// The agent session id.
    SessionId,
    /// The session's cost in USD.
    CostUsd,
}

impl MetaField {
    /// The field's name, which is also the regex group the value is taken from.
    pub fn name(self) -> &'static str {
        match self {
            MetaField::Version => "version",
            MetaField::Model => "model",
            MetaField::SessionId => "session_id",
            MetaField::CostUsd => "cost_usd",
        }
    }
}

/// A rule's auto-approval entry (§7.2): what to send, and what must be selected first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YoloSpec {
    /// The keys to send (`"\r"`, `"y"`, `"y\r"`).
    pub keys: String,
    /// The pattern that shows the pointer on the plain "yes, once" option.
    pub selected: String,
}

/// One agent's rule table: parsed and checked when read, compiled on its first evaluation.
#[derive(Debug)]
pub struct AgentRules {
    /// Which agent.
    pub(crate) kind: AgentKind,
    /// The table as parsed.
    pub(crate) def: AgentDef,
    /// The matching tables, built on first use.
    tables: OnceLock<Tables>,
}

/// An agent's patterns, ready to match.
#[derive(Debug)]
pub(crate) struct Tables {
    /// Patterns matched on the region's rows (rule patterns, the composer rule).
    pub(crate) rows: PatternTable,
    /// Patterns matched on wrap-joined rows (meta rules).
    pub(crate) joined: PatternTable,
    /// The composer rule's index in `rows`.
    pub(crate) composer: Option<usize>,
    /// The rules, in file order, with their patterns as indices into `rows`.
    pub(crate) rules: Vec<CompiledRule>,
    /// The meta rules, in file order, with their patterns as indices into `joined`.
    pub(crate) meta: Vec<Vec<usize>>,
}

impl AgentRules {
    /// The agent these rules are for.
    pub fn kind(&self) -> &AgentKind {
        &self.kind
    }

    /// How the agent's process is recognised.
    pub fn process(&self) -> &ProcessMatch {
        &self.def.process
    }

    /// The composer's prompt (`❯` for Claude), if the table gives one.
    pub fn composer_prompt(&self) -> Option<&str> {
        self.def.prompt.as_deref()
    }

    /// The ids of the agent's rules and meta rules, in file order.
    pub fn rule_ids(&self) -> impl Iterator<Item = &str> {
        self.def
            .rules
            .iter()
            .map(|r| r.id.as_str())
            .chain(self.def.meta.iter().map(|m| m.id.as_str()))
    }

    /// The matching tables, built the first time they are needed.
    pub(crate) fn tables(&self) -> &Tables {
        self.tables.get_or_init(|| Tables::build(&self.def))
    }

    fn compile(def: AgentDef) -> AgentRules {
        AgentRules { kind: AgentKind::from_name(&def.name), def, tables: OnceLock::new() }
    }
}

impl Tables {
    fn build(def: &AgentDef) -> Tables {
        let mut rows = TableBuilder::default();
        let composer = def.composer.as_ref().map(|p| rows.add(p));
        let rules = def
            .rules
            .iter()
            .map(|r| CompiledRule {
                any: r.any.iter().map(|p| rows.add(p)).collect(),
                with: r.with.iter().map(|p| rows.add(p)).collect(),
                not_below: r.not_below.iter().map(|p| rows.add(p)).collect(),
                selected: r.yolo.as_ref().map(|y| rows.add(&y.1)),
            })
            .collect();
        let mut joined = TableBuilder::default();
        let meta = def.meta.iter().map(|m| m.any.iter().map(|p| joined.add(p)).collect()).collect();
        Tables { rows: rows.build(), joined: joined.build(), composer, rules, meta }
    }
}

/// What is wrong with a rule table. Lines are 1-based lines of the TOML text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RuleError {
    /// The file is not TOML, or its top level or an `[agent.<name>]` table has the wrong shape.
    #[error("line {line}: {message}")]
    Syntax {
        /// Where.
        line: usize,
        /// The parser's message.
        message: String,
    },
    /// A `[timing]` value is wrong.
    #[error("line {line}: timing: {message}")]
    Timing {
        /// Where.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// An agent-level value (`spinner_glyphs`, …) is wrong.
    #[error("line {line}: agent {agent}: {message}")]
    Agent {
        /// The agent's name.
        agent: String,
        /// Where.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A rule has no `id`.
    #[error("line {line}: a rule of agent {agent} has no id")]
    MissingId {
        /// The agent's name.
        agent: String,
        /// Where the rule starts.
        line: usize,
    },
    /// A rule has an unknown key, a value of the wrong type, or a bad value.
    #[error("line {line}: rule {id}: {message}")]
    Rule {
        /// The rule's id.
        id: String,
        /// Where the rule starts.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A pattern does not compile.
    #[error("line {line}: rule {id}: pattern {pattern:?} does not compile: {message}")]
    Pattern {
        /// The rule's id (`agent.<name>.composer` for the composer rule).
        id: String,
        /// Where the rule starts.
        line: usize,
        /// The pattern as written.
        pattern: String,
        /// The regex compiler's message.
        message: String,
    },
    /// Two rules of one file have the same id; the second is left out.
    #[error("line {line}: rule id {id} is used twice in this file")]
    DuplicateId {
        /// The id.
        id: String,
        /// Where the second rule starts.
        line: usize,
    },
    /// `disable` names an id no agent has.
    #[error("line {line}: disable: no rule has the id {id}")]
    UnknownId {
        /// The id.
        id: String,
        /// The line of `disable`.
        line: usize,
    },
}

/// A pattern, compiled: a literal (a substring of a row) or a regex over one row.
#[derive(Debug, Clone)]
pub(crate) enum Pattern {
    /// A substring.
    Literal(String),
    /// A `re:` pattern.
    Regex {
        /// The regex, compiled when first matched.
        re: LazyRegex,
        /// A literal every match contains, used as a prefilter.
        required: Option<String>,
        /// Whether the regex has a group a hit reads (`tool`, `detail`, …).
        groups: bool,
    },
}

/// A regex checked when its table is read and compiled when first matched: a daemon compiles
/// only the tables of the agent it meets (compiling every table takes ~16 ms and memory).
#[derive(Debug, Clone)]
pub(crate) struct LazyRegex {
    source: String,
    compiled: OnceLock<Regex>,
}

impl LazyRegex {
    /// Checks `source`'s syntax (without compiling it).
    fn new(source: &str) -> Result<LazyRegex, String> {
        regex_syntax::Parser::new().parse(source).map_err(|e| e.to_string())?;
        Ok(LazyRegex { source: source.to_string(), compiled: OnceLock::new() })
    }

    /// The compiled regex. A pattern the syntax check passed but the compiler refuses (over
    /// its size limit) matches nothing.
    pub(crate) fn get(&self) -> &Regex {
        self.compiled.get_or_init(|| {
            Regex::new(&self.source)
                .unwrap_or_else(|_| Regex::new("[^\\s\\S]").expect("a regex that matches nothing"))
        })
    }

    /// Whether it has a named group.
    fn has_groups(&self) -> bool {
        self.source.contains("(?P<") || self.source.contains("(?<")
    }
}

impl Pattern {
    /// Reads `source` (`re:` for a regex), normalised like the screen; a regex is checked
    /// here and compiled on first use.
    fn compile(source: &str) -> Result<Pattern, String> {
        let source = crate::screen::normalize(source);
        match source.strip_prefix("re:") {
            Some(src) => {
                let re = LazyRegex::new(src)?;
                let groups = re.has_groups();
                Ok(Pattern::Regex { required: required_literal(src), re, groups })
            }
            None if source.is_empty() => Err("an empty pattern matches every row".into()),
            None => Ok(Pattern::Literal(source.into_owned())),
        }
    }
}

/// A pattern as written, with its compiled form.
#[derive(Debug, Clone)]
pub(crate) struct PatternDef {
    /// The text of the table (the key of the agent's pattern table).
    pub(crate) source: String,
    /// The compiled pattern.
    pub(crate) pattern: Pattern,
}

/// One rule, as parsed.
#[derive(Debug, Clone)]
pub(crate) struct RuleDef {
    pub(crate) id: String,
    pub(crate) state: RuleState,
    pub(crate) any: Vec<PatternDef>,
    pub(crate) with: Vec<PatternDef>,
    pub(crate) not_below: Vec<PatternDef>,
    pub(crate) max_from_bottom: Option<usize>,
    pub(crate) skip_prefixes: Vec<String>,
    pub(crate) exclude_composer: bool,
    pub(crate) confidence: Confidence,
    pub(crate) versions: Option<VersionReq>,
    /// The keys and the `selected` pattern.
    pub(crate) yolo: Option<(YoloSpec, PatternDef)>,
    pub(crate) setup: Option<SetupKind>,
    pub(crate) input: Option<InputKind>,
    pub(crate) tool: Option<String>,
    pub(crate) detail: Option<String>,
}

/// One meta rule, as parsed.
#[derive(Debug, Clone)]
pub(crate) struct MetaDef {
    pub(crate) id: String,
    pub(crate) field: MetaField,
    pub(crate) any: Vec<PatternDef>,
    pub(crate) versions: Option<VersionReq>,
}

/// One agent's table, as parsed.
#[derive(Debug, Clone)]
pub(crate) struct AgentDef {
    pub(crate) name: String,
    pub(crate) process: ProcessMatch,
    pub(crate) region_rows: usize,
    pub(crate) composer: Option<PatternDef>,
    pub(crate) prompt: Option<String>,
    /// Inclusive ranges of spinner glyphs.
    pub(crate) spinner: Vec<(char, char)>,
    pub(crate) rules: Vec<RuleDef>,
    pub(crate) meta: Vec<MetaDef>,
}

impl AgentDef {
    fn new(name: &str) -> AgentDef {
        AgentDef {
            name: name.to_string(),
            process: ProcessMatch::default(),
            region_rows: DEFAULT_REGION_ROWS,
            composer: None,
            prompt: None,
            spinner: Vec::new(),
            rules: Vec::new(),
            meta: Vec::new(),
        }
    }

    /// Whether `c` is one of the agent's spinner glyphs.
    pub(crate) fn is_spinner(&self, c: char) -> bool {
        self.spinner.iter().any(|&(lo, hi)| lo <= c && c <= hi)
    }
}

/// A rule's patterns as indices into the agent's row pattern table.
#[derive(Debug)]
pub(crate) struct CompiledRule {
    pub(crate) any: Vec<usize>,
    pub(crate) with: Vec<usize>,
    pub(crate) not_below: Vec<usize>,
    pub(crate) selected: Option<usize>,
}

/// Distinct patterns with one Aho-Corasick automaton for their literals and the required
/// literals of their regexes: one pass over a row finds every literal, and a regex runs only
/// on rows holding its required literal.
#[derive(Debug)]
pub(crate) struct PatternTable {
    pub(crate) patterns: Vec<Pattern>,
    /// The automaton over `needles`; `None` when there are none (or it could not be built,
    /// in which case `needles` are searched one by one).
    pub(crate) automaton: Option<AhoCorasick>,
    /// The strings the automaton finds.
    pub(crate) needles: Vec<String>,
    /// Per pattern, the index in `needles` of its literal or required literal.
    pub(crate) needle_of: Vec<Option<usize>>,
}

impl PatternTable {
    /// Sets in `found` (one flag per needle) the needles that occur in `row`.
    fn find_needles(&self, row: &str, found: &mut [bool]) {
        found.fill(false);
        match &self.automaton {
            Some(ac) => {
                for m in ac.find_overlapping_iter(row) {
                    found[m.pattern().as_usize()] = true;
                }
            }
            None => {
                for (flag, needle) in found.iter_mut().zip(&self.needles) {
                    *flag = row.contains(needle.as_str());
                }
            }
        }
    }

    /// Sets in `bits` (one bit per pattern) the patterns that match `row`; `found` is scratch
    /// space of one flag per needle.
    pub(crate) fn match_row(&self, row: &str, found: &mut [bool], bits: &mut [u64]) {
        self.find_needles(row, found);
        for (i, pattern) in self.patterns.iter().enumerate() {
            let present = self.needle_of[i].is_none_or(|n| found[n]);
            let hit = match pattern {
                Pattern::Literal(_) => present,
                Pattern::Regex { re, .. } => present && re.get().is_match(row),
            };
            if hit {
                bits[i / 64] |= 1 << (i % 64);
            }
        }
    }

    /// Words of a row's bit set.
    pub(crate) fn words(&self) -> usize {
        self.patterns.len().div_ceil(64)
    }
}

#[derive(Default)]
struct TableBuilder {
    index: BTreeMap<String, usize>,
    patterns: Vec<Pattern>,
}

impl TableBuilder {
    fn add(&mut self, def: &PatternDef) -> usize {
        if let Some(&i) = self.index.get(&def.source) {
            return i;
        }
        self.patterns.push(def.pattern.clone());
        self.index.insert(def.source.clone(), self.patterns.len() - 1);
        self.patterns.len() - 1
    }

    fn build(self) -> PatternTable {
        let mut needles: Vec<String> = Vec::new();
        let mut needle_of = Vec::with_capacity(self.patterns.len());
        for pattern in &self.patterns {
            let needle = match pattern {
                Pattern::Literal(s) => Some(s),
                Pattern::Regex { required, .. } => required.as_ref(),
            };
            needle_of.push(needle.map(|n| match needles.iter().position(|x| x == n) {
                Some(i) => i,
                None => {
                    needles.push(n.clone());
                    needles.len() - 1
                }
            }));
        }
        let automaton = if needles.is_empty() { None } else { AhoCorasick::new(&needles).ok() };
        PatternTable { patterns: self.patterns, automaton, needles, needle_of }
    }
}

/// The longest literal every match of `regex` must contain, if one is easy to prove: only
/// runs of plain characters outside groups and classes, in a regex without alternation or
/// flags, count; a character followed by a quantifier does not.
pub(crate) fn required_literal(regex: &str) -> Option<String> {
    // Alternation, and flags such as `(?i)` or `(?x)`, change what a run of characters means.
    let flags = regex.match_indices("(?").any(|(at, _)| {
        let rest = &regex[at + 2..];
        !(rest.starts_with("P<") || rest.starts_with('<') || rest.starts_with(':'))
    });
    if flags || regex.contains('|') {
        return None;
    }
    let chars: Vec<char> = regex.chars().collect();
    let mut best = String::new();
    let mut run = String::new();
    let mut depth = 0usize;
    let mut i = 0;
    let end_run = |run: &mut String, best: &mut String| {
        if run.len() > best.len() {
            *best = std::mem::take(run);
        }
        run.clear();
    };
    while i < chars.len() {
        let c = chars[i];
        // The literal character this token stands for, if any.
        let literal = match c {
            '\\' => {
                i += 1;
                match chars.get(i) {
                    Some(&e) if e.is_ascii_punctuation() => Some(e),
                    Some('x') => {
                        // \x{…} or \xHH: skip, no literal (kept simple).
                        if chars.get(i + 1) == Some(&'{') {
                            while i < chars.len() && chars[i] != '}' {
                                i += 1;
                            }
                        } else {
                            i += 2;
                        }
                        None
                    }
                    Some('p' | 'P') => {
                        if chars.get(i + 1) == Some(&'{') {
                            while i < chars.len() && chars[i] != '}' {
                                i += 1;
                            }
                        } else {
                            i += 1;
                        }
                        None
                    }
                    _ => None,
                }
            }
            '[' => {
                // Skip the class, minding escapes and nested classes.
                let mut nest = 0usize;
                i += 1;
                if chars.get(i) == Some(&'^') {
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    i += 1;
                }
                while i < chars.len() {
                    match chars[i] {
                        '\\' => i += 1,
                        '[' => nest += 1,
                        ']' if nest == 0 => break,
                        ']' => nest -= 1,
                        _ => {}
                    }
                    i += 1;
                }
                None
            }
            '(' => {
                depth += 1;
                None
            }
            ')' => {
                depth = depth.saturating_sub(1);
                None
            }
            '*' | '+' | '?' | '{' => {
                // The quantified atom is optional or repeated: drop it from the run.
                run.pop();
                if c == '{' {
                    while i < chars.len() && chars[i] != '}' {
                        i += 1;
                    }
                }
                end_run(&mut run, &mut best);
                i += 1;
                continue;
            }
            '.' | '^' | '$' => None,
            other => Some(other),
        };
        match literal {
            Some(l) if depth == 0 => {
                // A quantifier after this character applies to it alone; it is popped then.
                run.push(l);
            }
            _ => end_run(&mut run, &mut best),
        }
        i += 1;
    }
    end_run(&mut run, &mut best);
    (!best.is_empty()).then_some(best)
}

// ---------------------------------------------------------------------------------------
// Parsing.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    disable: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    timing: Option<Spanned<toml::Table>>,
    #[serde(default)]
    agent: BTreeMap<String, Spanned<RawAgent>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    process: Option<ProcessMatch>,
    region_rows: Option<usize>,
    composer: Option<RawComposer>,
    spinner_glyphs: Option<String>,
    /// Read by the daemon (§5.1.2), accepted here.
    #[allow(dead_code)]
    inject_settings: Option<bool>,
    #[serde(default)]
    rule: Vec<Spanned<toml::Table>>,
    #[serde(default)]
    meta: Vec<Spanned<toml::Table>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComposer {
    rule: String,
    prompt: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    /// Read beforehand (`rule_id`), so that errors can name it.
    #[allow(dead_code)]
    id: String,
    state: RuleState,
    any: Vec<String>,
    #[serde(default)]
    with: Vec<String>,
    #[serde(default)]
    not_below: Vec<String>,
    max_from_bottom: Option<usize>,
    #[serde(default)]
    skip_prefixes: Vec<String>,
    #[serde(default)]
    exclude_composer: bool,
    confidence: Option<Confidence>,
    versions: Option<String>,
    yolo: Option<RawYolo>,
    setup: Option<String>,
    input: Option<String>,
    tool: Option<String>,
    detail: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawYolo {
    keys: String,
    selected: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeta {
    /// Read beforehand (`rule_id`), so that errors can name it.
    #[allow(dead_code)]
    id: String,
    field: MetaField,
    any: Vec<String>,
    versions: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TimingPatch {
    screen_settle: Option<u64>,
    screen_max_interval: Option<u64>,
    idle_debounce: Option<u64>,
    attention_debounce: Option<u64>,
    dialog_gone: Option<u64>,
    dialog_confirm: Option<u64>,
    busy_override: Option<u64>,
    secondary_expiry: Option<u64>,
}

impl TimingPatch {
    fn apply(&self, timing: &mut Timing) {
        let set = |slot: &mut u64, value: Option<u64>| {
            if let Some(v) = value {
                *slot = v;
            }
        };
        set(&mut timing.screen_settle, self.screen_settle);
        set(&mut timing.screen_max_interval, self.screen_max_interval);
        set(&mut timing.idle_debounce, self.idle_debounce);
        set(&mut timing.attention_debounce, self.attention_debounce);
        set(&mut timing.dialog_gone, self.dialog_gone);
        set(&mut timing.dialog_confirm, self.dialog_confirm);
        set(&mut timing.busy_override, self.busy_override);
        set(&mut timing.secondary_expiry, self.secondary_expiry);
    }
}

/// An agent's table from one file: the keys it gives, and its valid rules.
struct AgentPatch {
    name: String,
    process: Option<ProcessMatch>,
    region_rows: Option<usize>,
    composer: Option<(PatternDef, Option<String>)>,
    spinner: Option<Vec<(char, char)>>,
    rules: Vec<RuleDef>,
    meta: Vec<MetaDef>,
}

/// A file, parsed: what it changes.
struct FilePatch {
    timing: TimingPatch,
    agents: Vec<AgentPatch>,
    /// Ids to disable, with the line of `disable`.
    disable: Vec<(String, usize)>,
}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes()[..at.min(text.len())].iter().filter(|&&b| b == b'\n').count() + 1
}

fn builtin_defs(errors: &mut Vec<RuleError>) -> Vec<AgentDef> {
    let mut defs = Vec::new();
    for (_, text) in BUILTIN {
        if let Some(file) = parse_file(text, errors) {
            for patch in file.agents {
                apply_patch(&mut defs, patch);
            }
        }
    }
    defs
}

fn apply_patch(defs: &mut Vec<AgentDef>, patch: AgentPatch) {
    let def = match defs.iter().position(|d| d.name == patch.name) {
        Some(i) => &mut defs[i],
        None => {
            defs.push(AgentDef::new(&patch.name));
            defs.last_mut().expect("just pushed")
        }
    };
    if let Some(process) = patch.process {
        def.process = process;
    }
    if let Some(rows) = patch.region_rows {
        def.region_rows = rows;
    }
    if let Some((rule, prompt)) = patch.composer {
        def.composer = Some(rule);
        def.prompt = prompt;
    }
    if let Some(spinner) = patch.spinner {
        def.spinner = spinner;
    }
    for rule in patch.rules {
        match def.rules.iter_mut().find(|r| r.id == rule.id) {
            Some(slot) => *slot = rule,
            None => def.rules.push(rule),
        }
    }
    for meta in patch.meta {
        match def.meta.iter_mut().find(|m| m.id == meta.id) {
            Some(slot) => *slot = meta,
            None => def.meta.push(meta),
        }
    }
}

/// Parses one file; `None` when nothing of it can be used.
fn parse_file(text: &str, errors: &mut Vec<RuleError>) -> Option<FilePatch> {
    let raw: RawFile = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            errors.push(RuleError::Syntax { line, message: e.message().to_string() });
            return None;
        }
    };
    let mut patch =
        FilePatch { timing: TimingPatch::default(), agents: Vec::new(), disable: Vec::new() };
    if let Some(timing) = raw.timing {
        let line = line_of(text, timing.span().start);
        match timing.into_inner().try_into::<TimingPatch>() {
            Ok(t) => patch.timing = t,
            Err(e) => errors.push(RuleError::Timing { line, message: e.message().to_string() }),
        }
    }
    if let Some(disable) = raw.disable {
        let line = line_of(text, disable.span().start);
        patch.disable = disable.into_inner().into_iter().map(|id| (id, line)).collect();
    }
    let mut seen = std::collections::BTreeSet::new();
    for (name, agent) in raw.agent {
        let line = line_of(text, agent.span().start);
        let agent = agent.into_inner();
        let mut out = AgentPatch {
            name: name.clone(),
            process: agent.process,
            region_rows: agent.region_rows,
            composer: None,
            spinner: None,
            rules: Vec::new(),
            meta: Vec::new(),
        };
        if let Some(composer) = agent.composer {
            match pattern_def(&composer.rule) {
                Ok(rule) => out.composer = Some((rule, composer.prompt)),
                Err(message) => errors.push(RuleError::Pattern {
                    id: format!("agent.{name}.composer"),
                    line,
                    pattern: composer.rule,
                    message,
                }),
            }
        }
        if let Some(glyphs) = agent.spinner_glyphs {
            match parse_glyphs(&glyphs) {
                Ok(ranges) => out.spinner = Some(ranges),
                Err(message) => {
                    errors.push(RuleError::Agent { agent: name.clone(), line, message })
                }
            }
        }
        for table in agent.rule {
            let line = line_of(text, table.span().start);
            if let Some(rule) = parse_rule(&name, line, table.into_inner(), errors) {
                if seen.insert(rule.id.clone()) {
                    out.rules.push(rule);
                } else {
                    errors.push(RuleError::DuplicateId { id: rule.id, line });
                }
            }
        }
        for table in agent.meta {
            let line = line_of(text, table.span().start);
            if let Some(meta) = parse_meta(&name, line, table.into_inner(), errors) {
                if seen.insert(meta.id.clone()) {
                    out.meta.push(meta);
                } else {
                    errors.push(RuleError::DuplicateId { id: meta.id, line });
                }
            }
        }
        patch.agents.push(out);
    }
    Some(patch)
}

fn pattern_def(source: &str) -> Result<PatternDef, String> {
    Ok(PatternDef { source: source.to_string(), pattern: Pattern::compile(source)? })
}

/// Compiles a list of patterns, reporting each that does not compile.
fn patterns(
    id: &str,
    line: usize,
    sources: &[String],
    errors: &mut Vec<RuleError>,
) -> Option<Vec<PatternDef>> {
    let mut out = Vec::with_capacity(sources.len());
    let mut ok = true;
    for source in sources {
        match pattern_def(source) {
            Ok(p) => out.push(p),
            Err(message) => {
                ok = false;
                errors.push(RuleError::Pattern {
                    id: id.to_string(),
                    line,
                    pattern: source.clone(),
                    message,
                });
            }
        }
    }
    ok.then_some(out)
}

/// The id of a rule table, or an error.
fn rule_id(agent: &str, line: usize, table: &toml::Table) -> Result<String, RuleError> {
    match table.get("id") {
        Some(toml::Value::String(id)) if !id.is_empty() => Ok(id.clone()),
        _ => Err(RuleError::MissingId { agent: agent.to_string(), line }),
    }
}

fn version_req(
    id: &str,
    line: usize,
    versions: Option<&str>,
) -> Result<Option<VersionReq>, RuleError> {
    versions
        .map(|v| {
            VersionReq::parse(v).map_err(|e| RuleError::Rule {
                id: id.to_string(),
                line,
                message: format!("versions {v:?}: {e}"),
            })
        })
        .transpose()
}

fn parse_rule(
    agent: &str,
    line: usize,
    table: toml::Table,
    errors: &mut Vec<RuleError>,
) -> Option<RuleDef> {
    let id = match rule_id(agent, line, &table) {
        Ok(id) => id,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let bad = |message: String| RuleError::Rule { id: id.clone(), line, message };
    let raw: RawRule = match table.try_into() {
        Ok(raw) => raw,
        Err(e) => {
            errors.push(bad(e.message().to_string()));
            return None;
        }
    };
    let mut problems = Vec::new();
    if raw.any.is_empty() {
        problems.push(bad("`any` is empty: the rule can never hit".into()));
    }
    if raw.yolo.is_some() && raw.state != RuleState::NeedsApproval {
        problems.push(bad("`yolo` is only allowed on needs_approval rules".into()));
    }
    let input = match raw.input.as_deref() {
        None => None,
        Some("question") => Some(InputKind::Question),
        Some("elicitation") => Some(InputKind::Elicitation),
        Some("dialog") => Some(InputKind::Dialog),
        Some(other) => {
            problems.push(bad(format!(
                "input {other:?}: expected \"question\", \"elicitation\" or \"dialog\""
            )));
            None
        }
    };
    let versions = version_req(&id, line, raw.versions.as_deref()).map_err(|e| problems.push(e));
    let any = patterns(&id, line, &raw.any, errors);
    let with = patterns(&id, line, &raw.with, errors);
    let not_below = patterns(&id, line, &raw.not_below, errors);
    let yolo = match raw.yolo {
        None => Some(None),
        Some(y) => match pattern_def(&y.selected) {
            Ok(p) => Some(Some((YoloSpec { keys: y.keys, selected: y.selected }, p))),
            Err(message) => {
                errors.push(RuleError::Pattern {
                    id: id.clone(),
                    line,
                    pattern: y.selected,
                    message,
                });
                None
            }
        },
    };
    let failed = !problems.is_empty();
    errors.extend(problems);
    let (Some(any), Some(with), Some(not_below), Some(yolo), Ok(versions), false) =
        (any, with, not_below, yolo, versions, failed)
    else {
        return None;
    };
    Some(RuleDef {
        state: raw.state,
        any,
        with,
        not_below,
        max_from_bottom: raw.max_from_bottom,
        skip_prefixes: raw
            .skip_prefixes
            .iter()
            .map(|p| crate::screen::normalize(p).into_owned())
            .collect(),
        exclude_composer: raw.exclude_composer,
        confidence: raw.confidence.unwrap_or(Confidence::High),
        versions,
        yolo,
        setup: raw.setup.as_deref().map(SetupKind::from_name),
        input,
        tool: raw.tool,
        detail: raw.detail,
        id,
    })
}

fn parse_meta(
    agent: &str,
    line: usize,
    table: toml::Table,
    errors: &mut Vec<RuleError>,
) -> Option<MetaDef> {
    let id = match rule_id(agent, line, &table) {
        Ok(id) => id,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let raw: RawMeta = match table.try_into() {
        Ok(raw) => raw,
        Err(e) => {
            errors.push(RuleError::Rule { id, line, message: e.message().to_string() });
            return None;
        }
    };
    let versions = match version_req(&id, line, raw.versions.as_deref()) {
        Ok(v) => v,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let any = patterns(&id, line, &raw.any, errors)?;
    if any.is_empty() {
        errors.push(RuleError::Rule { id, line, message: "`any` is empty".into() });
        return None;
    }
    Some(MetaDef { id, field: raw.field, any, versions })
}

/// Parses `spinner_glyphs`: characters, and ranges `a-b`.
fn parse_glyphs(text: &str) -> Result<Vec<(char, char)>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if i + 2 < chars.len() && chars[i + 1] == '-' {
            let (lo, hi) = (chars[i], chars[i + 2]);
            if lo > hi {
                return Err(format!("spinner_glyphs: range {lo}-{hi} is backwards"));
            }
            out.push((lo, hi));
            i += 3;
        } else {
            out.push((chars[i], chars[i]));
            i += 1;
        }
    }
    Ok(out)
}

impl fmt::Display for MetaField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_tables_have_no_errors() {
        let mut errors = Vec::new();
        let defs = builtin_defs(&mut errors);
        assert_eq!(errors, []);
        let names: Vec<_> = defs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["claude", "codex", "gemini", "aider", "opencode"]);
    }

    #[test]
    fn every_builtin_regex_compiles_and_tables_build_lazily() {
        let rules = Rules::builtin();
        for agent in rules.agents() {
            assert!(agent.tables.get().is_none(), "{}: nothing compiled before use", agent.kind);
            for pattern in
                agent.tables().rows.patterns.iter().chain(&agent.tables().joined.patterns)
            {
                if let Pattern::Regex { re, .. } = pattern {
                    assert!(
                        Regex::new(&re.source).is_ok(),
                        "{}: {} does not compile",
                        agent.kind,
                        re.source
                    );
                }
            }
        }
    }

    #[test]
    fn a_regex_with_bad_syntax_is_refused_when_read() {
        assert!(Pattern::compile("re:(unclosed").is_err());
        assert!(Pattern::compile("re:^\\s*❯ 1\\. Yes").is_ok());
    }

    #[test]
    fn builtin_rule_ids_are_unique_and_prefixed_by_their_agent() {
        let rules = Rules::builtin();
        let mut seen = std::collections::BTreeSet::new();
        for agent in rules.agents() {
            for id in agent.rule_ids() {
                assert!(id.starts_with(&format!("{}.", agent.kind().name())), "{id}");
                assert!(seen.insert(id.to_string()), "{id} twice");
            }
        }
    }

    #[test]
    fn required_literals_are_found_only_where_provable() {
        assert_eq!(required_literal(r"^\s*❯\s*1\. Yes").as_deref(), Some("1. Yes"));
        assert_eq!(required_literal(r"^─{8,}$"), None);
        assert_eq!(
            required_literal(r"Do you want to make this edit to (?P<detail>.+)\?").as_deref(),
            Some("Do you want to make this edit to ")
        );
        assert_eq!(required_literal(r"a|b"), None);
        assert_eq!(required_literal(r"(?i)abc"), None);
        assert_eq!(required_literal(r"colou?r").as_deref(), Some("colo"));
        assert_eq!(required_literal(r"[✳✽] \S+ing…").as_deref(), Some("ing…"));
        assert_eq!(required_literal(r"x{2}yz").as_deref(), Some("yz"));
        assert_eq!(required_literal(r"\x{2800}ab").as_deref(), Some("ab"));
    }

    #[test]
    fn spinner_glyph_ranges_parse() {
        assert_eq!(parse_glyphs("✳·⠀-⣿").unwrap(), [('✳', '✳'), ('·', '·'), ('⠀', '⣿')]);
        assert_eq!(parse_glyphs("-a").unwrap(), [('-', '-'), ('a', 'a')]);
        assert!(parse_glyphs("z-a").is_err());
    }

    #[test]
    fn errors_carry_the_line() {
        let (_, errors) = Rules::with_overrides("\n\n[agent.claude\n");
        assert!(matches!(errors[..], [RuleError::Syntax { line: 3, .. }]), "{errors:?}");
        let text =
            "[agent.x]\n\n[[agent.x.rule]]\nid = \"x.a\"\nstate = \"idle\"\nany = [\"re:(\"]\n";
        let (_, errors) = Rules::with_overrides(text);
        assert!(
            matches!(&errors[..], [RuleError::Pattern { line: 3, id, .. }] if id == "x.a"),
            "{errors:?}"
        );
    }

    #[test]
    fn bad_values_are_reported_and_the_rest_applies() {
        let text = r#"
disable = ["nobody.here"]
[timing]
idle_debounce = "soon"
[agent.claude]
spinner_glyphs = "z-a"
[[agent.claude.rule]]
state = "idle"
any = ["x"]
[[agent.claude.rule]]
id = "claude.x"
state = "sleeping"
any = ["x"]
[[agent.claude.rule]]
id = "claude.y"
state = "idle"
any = ["y"]
yolo = { keys = "y", selected = "y" }
[[agent.claude.rule]]
id = "claude.z"
state = "idle"
any = ["z"]
versions = "not a version"
[[agent.claude.rule]]
id = "claude.ok"
state = "idle"
any = ["ok"]
[[agent.claude.rule]]
id = "claude.ok"
state = "idle"
any = ["ok again"]
"#;
        let (rules, errors) = Rules::with_overrides(text);
        let kinds: Vec<_> = errors
            .iter()
            .map(|e| match e {
                RuleError::Syntax { .. } => "syntax",
                RuleError::Timing { .. } => "timing",
                RuleError::Agent { .. } => "agent",
                RuleError::MissingId { .. } => "missing",
                RuleError::Rule { .. } => "rule",
                RuleError::Pattern { .. } => "pattern",
                RuleError::DuplicateId { .. } => "duplicate",
                RuleError::UnknownId { .. } => "unknown",
            })
            .collect();
        assert_eq!(
            kinds,
            ["timing", "agent", "missing", "rule", "rule", "rule", "duplicate", "unknown"],
            "{errors:#?}"
        );
        let claude = rules.agent(&AgentKind::Claude).unwrap();
        let ids: Vec<_> = claude.rule_ids().collect();
        assert!(ids.contains(&"claude.ok"));
        assert!(!ids.contains(&"claude.x") && !ids.contains(&"claude.y"));
        assert_eq!(rules.timing().idle_debounce, 1500);
        assert!(claude.def.is_spinner('✻'), "built-in glyphs stay");
        for e in &errors {
            assert!(!e.to_string().is_empty());
        }
    }
}
