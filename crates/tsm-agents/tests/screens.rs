//! The screen fixtures (`spec/agents.md` §8, §9.1, §9.2) and user overrides (§3.4).
//!
//! Every `fixtures/screens/<agent>/<case>.tsmrec` is replayed through `tsm-pty`'s terminal
//! model at its recorded size; at each checkpoint of `<case>.expect.toml` the agent's
//! built-in rules must give the expected top hit. The fixtures are written by
//! `examples/make_fixtures.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::sync::LazyLock;

use proptest::prelude::*;
use serde::Deserialize;
use tsm_agents::tsmrec::{self, EntryKind, Recording};
use tsm_agents::{AgentKind, AgentRules, RuleError, RuleState, Rules, ScreenEval};
use tsm_pty::{ScreenText, TerminalModel, WindowSize};

mod support;
use support::view;

/// An `.expect.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    at: Vec<Checkpoint>,
}

/// One `[[at]]` checkpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Checkpoint {
    /// After every entry up to this time.
    t: u64,
    /// The top hit's state name, or `none`.
    state: String,
    /// The top hit's rule id.
    rule: Option<String>,
    /// The top hit's tool; `""` for none.
    tool: Option<String>,
    /// The top hit's detail; `""` for none.
    detail: Option<String>,
    /// A setup hit's dialog.
    setup: Option<String>,
    /// Rule ids that must be among the hits.
    #[serde(default)]
    also: Vec<String>,
    /// Fields the meta rules must find.
    #[serde(default)]
    meta: BTreeMap<String, String>,
}

/// A fixture, read.
struct Case {
    /// `<agent>/<case>`.
    name: String,
    rec: Recording,
    expect: Expect,
}

impl Case {
    fn kind(&self) -> AgentKind {
        AgentKind::from_name(&self.rec.header.agent)
    }

    fn version(&self) -> Option<semver::Version> {
        self.rec.header.agent_version.as_deref().and_then(|v| semver::Version::parse(v).ok())
    }

    /// The program output of each checkpoint's stretch: after the previous checkpoint, up to
    /// and including its time.
    fn segments(&self) -> Vec<Vec<u8>> {
        let mut from = 0;
        self.expect
            .at
            .iter()
            .map(|at| {
                let mut bytes = Vec::new();
                for entry in &self.rec.entries[from..] {
                    if entry.t > at.t {
                        break;
                    }
                    from += 1;
                    if let EntryKind::Out(out) = &entry.kind {
                        bytes.extend_from_slice(out);
                    }
                }
                bytes
            })
            .collect()
    }

    /// The screen at each checkpoint, the output fed in the given chunks per checkpoint.
    fn screens(&self, chunked: &[Vec<&[u8]>]) -> Vec<ScreenText> {
        let size = WindowSize::new(self.rec.header.rows, self.rec.header.cols);
        let mut model = TerminalModel::new(size, 0);
        chunked
            .iter()
            .map(|chunks| {
                for chunk in chunks {
                    model.advance(chunk);
                }
                model.screen_text()
            })
            .collect()
    }

    /// The screen at each checkpoint, each entry fed as one chunk.
    fn screens_by_entry(&self) -> Vec<ScreenText> {
        let segments = self.segments();
        self.screens(&segments.iter().map(|s| vec![s.as_slice()]).collect::<Vec<_>>())
    }
}

/// Every screen fixture, in name order.
static CASES: LazyLock<Vec<Case>> = LazyLock::new(|| {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/screens");
    let mut cases = Vec::new();
    for agent in fs::read_dir(&root).expect("fixtures/screens exists") {
        let dir = agent.expect("a directory entry").path();
        for file in fs::read_dir(&dir).expect("an agent's fixture directory") {
            let path = file.expect("a directory entry").path();
            let Some(stem) = path.file_name().and_then(|n| n.to_str()?.strip_suffix(".tsmrec"))
            else {
                continue;
            };
            let name =
                format!("{}/{stem}", dir.file_name().and_then(|n| n.to_str()).unwrap_or("?"));
            let text = fs::read_to_string(&path).expect("a readable fixture");
            let rec = tsmrec::parse(&text).unwrap_or_else(|e| panic!("{name}.tsmrec: {e}"));
            let expect_path = dir.join(format!("{stem}.expect.toml"));
            let expect_text = fs::read_to_string(&expect_path)
                .unwrap_or_else(|e| panic!("{name}.expect.toml: {e}"));
            let expect: Expect =
                toml::from_str(&expect_text).unwrap_or_else(|e| panic!("{name}.expect.toml: {e}"));
            assert!(!expect.at.is_empty(), "{name}: no checkpoints");
            assert_eq!(rec.header.agent, name.split('/').next().unwrap_or(""), "{name}: agent");
            cases.push(Case { name, rec, expect });
        }
    }
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    cases
});

static BUILTIN: LazyLock<Rules> = LazyLock::new(Rules::builtin);

fn agent_rules<'r>(rules: &'r Rules, case: &Case) -> &'r AgentRules {
    rules.agent(&case.kind()).unwrap_or_else(|| panic!("{}: no rules for the agent", case.name))
}

/// What is wrong with `eval` at `at`, if anything.
fn mismatches(at: &Checkpoint, eval: &ScreenEval) -> Vec<String> {
    let mut wrong = Vec::new();
    let top = eval.top();
    let state = top.map_or("none", |h| h.state.name());
    if state != at.state {
        wrong.push(format!("state {state}, expected {}", at.state));
    }
    let mut compare = |what: &str, expected: &Option<String>, got: Option<&str>| {
        if let Some(expected) = expected {
            let got = got.unwrap_or("");
            if got != expected {
                wrong.push(format!("{what} {got:?}, expected {expected:?}"));
            }
        }
    };
    compare("rule", &at.rule, top.map(|h| h.rule_id.as_str()));
    compare("tool", &at.tool, top.and_then(|h| h.tool.as_deref()));
    compare("detail", &at.detail, top.and_then(|h| h.detail.as_deref()));
    compare("setup", &at.setup, top.and_then(|h| h.setup.as_ref()).map(|s| s.name()));
    for id in &at.also {
        if !eval.hits.iter().any(|h| &h.rule_id == id) {
            wrong.push(format!("{id} is not among the hits"));
        }
    }
    for (field, value) in &at.meta {
        let got = eval.meta.iter().find(|(f, _)| f.name() == field).map(|(_, v)| v.as_str());
        if got != Some(value.as_str()) {
            wrong.push(format!("meta {field} {got:?}, expected {value:?}"));
        }
    }
    wrong
}

/// Prints a screen for a failure message.
fn show(text: &ScreenText) -> String {
    let mut out = String::new();
    for (i, row) in text.rows.iter().enumerate() {
        let wrap = if text.wrapped.get(i) == Some(&true) { "↩" } else { "" };
        out.push_str(&format!("{i:3}|{row}{wrap}\n"));
    }
    out.push_str(&format!("cursor {},{}\n", text.cursor_row, text.cursor_col));
    out
}

#[test]
fn every_screen_fixture_meets_its_checkpoints() {
    assert!(CASES.len() >= 50, "only {} screen fixtures", CASES.len());
    let mut failures = Vec::new();
    for case in CASES.iter() {
        let rules = agent_rules(&BUILTIN, case);
        let version = case.version();
        for (at, screen) in case.expect.at.iter().zip(case.screens_by_entry()) {
            let eval = rules.evaluate(&view(&screen), version.as_ref());
            let wrong = mismatches(at, &eval);
            if !wrong.is_empty() {
                let hits: Vec<_> = eval.hits.iter().map(|h| h.rule_id.as_str()).collect();
                failures.push(format!(
                    "{} at t={}: {}\nhits: {hits:?}, meta: {:?}\n{}",
                    case.name,
                    at.t,
                    wrong.join("; "),
                    eval.meta,
                    show(&screen)
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} checkpoint(s) failed:\n\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_builtin_rule_is_hit_by_a_fixture() {
    let screens: Vec<(&Case, Vec<ScreenText>)> =
        CASES.iter().map(|case| (case, case.screens_by_entry())).collect();
    let mut hit = BTreeSet::new();
    for (case, texts) in &screens {
        let rules = agent_rules(&BUILTIN, case);
        for text in texts {
            hit.extend(
                rules
                    .evaluate(&view(text), case.version().as_ref())
                    .hits
                    .into_iter()
                    .map(|h| h.rule_id),
            );
        }
    }
    // Meta rules leave no id in the evaluation: run each alone, with every other rule of its
    // agent disabled, and look for metadata.
    let mut missing = Vec::new();
    for agent in BUILTIN.agents() {
        let ids: Vec<&str> = agent.rule_ids().collect();
        for &id in ids.iter().filter(|id| !hit.contains(**id)) {
            let others: Vec<String> = ids
                .iter()
                .filter(|&&other| other != id)
                .map(|other| format!("{other:?}"))
                .collect();
            let (alone, errors) =
                Rules::with_overrides(&format!("disable = [{}]", others.join(", ")));
            assert_eq!(errors, []);
            let rules = alone.agent(agent.kind()).expect("the agent stays");
            let found = screens.iter().filter(|(case, _)| &case.kind() == agent.kind()).any(
                |(case, texts)| {
                    texts.iter().any(|text| {
                        let eval = rules.evaluate(&view(text), case.version().as_ref());
                        !eval.meta.is_empty() || !eval.hits.is_empty()
                    })
                },
            );
            if !found {
                missing.push(id.to_string());
            }
        }
    }
    assert!(missing.is_empty(), "built-in rules no fixture hits: {missing:?}");
}

/// Splits `bytes` at the given positions (taken modulo its length).
fn split_at<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    if bytes.is_empty() {
        return Vec::new();
    }
    let mut points: Vec<usize> = cuts.iter().map(|c| c % bytes.len()).collect();
    points.push(0);
    points.push(bytes.len());
    points.sort_unstable();
    points.dedup();
    points.windows(2).map(|w| &bytes[w[0]..w[1]]).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// §9.2: a recording split at random byte positions, inside UTF-8 characters and escape
    /// sequences too, gives the same screens and the same hits at every checkpoint.
    #[test]
    fn chunking_does_not_change_checkpoint_results(
        index in 0usize..1000,
        cuts in proptest::collection::vec(0usize..1_000_000, 1..40),
    ) {
        let case = &CASES[index % CASES.len()];
        let segments = case.segments();
        let per_segment = cuts.len().div_ceil(segments.len().max(1));
        let chunked: Vec<Vec<&[u8]>> = segments
            .iter()
            .enumerate()
            .map(|(i, s)| split_at(s, cuts.get(i * per_segment..).unwrap_or(&[])))
            .collect();
        let rules = agent_rules(&BUILTIN, case);
        let reference = case.screens_by_entry();
        for (whole, split) in reference.iter().zip(case.screens(&chunked)) {
            prop_assert_eq!(whole, &split, "{}", case.name);
            let a = rules.evaluate(&view(whole), case.version().as_ref());
            let b = rules.evaluate(&view(&split), case.version().as_ref());
            prop_assert_eq!(a, b, "{}", case.name);
        }
    }
}

/// A screen of plain rows with the cursor on the last.
fn plain(rows: &[&str]) -> ScreenText {
    ScreenText {
        rows: rows.iter().map(|r| r.to_string()).collect(),
        wrapped: vec![false; rows.len()],
        cursor_row: rows.len().saturating_sub(1) as u16,
        cursor_col: 0,
        cols: 80,
        alt_screen: false,
        title: None,
    }
}

fn top_rule(rules: &Rules, kind: &AgentKind, text: &ScreenText) -> Option<String> {
    rules.agent(kind)?.evaluate(&view(text), None).top().map(|h| h.rule_id.clone())
}

#[test]
fn a_user_rule_with_a_builtin_id_replaces_it_in_place() {
    let user = r#"
[[agent.claude.rule]]
id = "claude.idle.composer"
state = "idle"
any = ["re:^READY$"]
"#;
    let (rules, errors) = Rules::with_overrides(user);
    assert_eq!(errors, []);
    let before: Vec<_> = BUILTIN.agent(&AgentKind::Claude).unwrap().rule_ids().collect();
    let after: Vec<_> = rules.agent(&AgentKind::Claude).unwrap().rule_ids().collect();
    assert_eq!(before, after, "same ids, same order");
    let composer = plain(&["────────", "❯ ", "────────"]);
    assert_eq!(
        top_rule(&BUILTIN, &AgentKind::Claude, &composer).as_deref(),
        Some("claude.idle.composer")
    );
    assert_eq!(top_rule(&rules, &AgentKind::Claude, &composer), None);
    assert_eq!(
        top_rule(&rules, &AgentKind::Claude, &plain(&["READY"])).as_deref(),
        Some("claude.idle.composer")
    );
}

#[test]
fn disable_removes_rules_and_new_ids_add_rules() {
    let user = r#"
disable = ["claude.working.esc", "codex.meta.model"]

[[agent.claude.rule]]
id = "claude.working.custom"
state = "working"
any = ["Reticulating"]
"#;
    let (rules, errors) = Rules::with_overrides(user);
    assert_eq!(errors, []);
    let claude = rules.agent(&AgentKind::Claude).unwrap();
    assert!(!claude.rule_ids().any(|id| id == "claude.working.esc"));
    let ids: Vec<_> = claude.rule_ids().collect();
    let at = ids.iter().position(|&id| id == "claude.working.custom").expect("the new rule");
    assert_eq!(ids[at - 1], "claude.idle.composer", "new ids come after the built-in rules");
    assert!(!rules.agent(&AgentKind::Codex).unwrap().rule_ids().any(|id| id == "codex.meta.model"));
    let esc = plain(&["  esc to interrupt"]);
    assert_eq!(top_rule(&BUILTIN, &AgentKind::Claude, &esc).as_deref(), Some("claude.working.esc"));
    assert_eq!(top_rule(&rules, &AgentKind::Claude, &esc), None);
    assert_eq!(
        top_rule(&rules, &AgentKind::Claude, &plain(&["Reticulating"])).as_deref(),
        Some("claude.working.custom")
    );
}

#[test]
fn a_new_agent_table_defines_an_other_agent() {
    let user = r#"
[timing]
idle_debounce = 2500

[agent.copilot]
process = { argv0 = ["copilot"] }
region_rows = 10

[[agent.copilot.rule]]
id = "copilot.busy"
state = "working"
any = ["esc to interrupt", "ctrl+c to interrupt"]

[[agent.copilot.rule]]
id = "copilot.idle"
state = "idle"
any = ["How can I help"]
"#;
    let (rules, errors) = Rules::with_overrides(user);
    assert_eq!(errors, []);
    let kind = AgentKind::Other("copilot".into());
    let copilot = rules.agent(&kind).expect("the new agent");
    assert_eq!(copilot.process().argv0, ["copilot"]);
    assert_eq!(rules.agents().last().map(AgentRules::kind), Some(&kind));
    assert_eq!(rules.agents().count(), BUILTIN.agents().count() + 1);
    assert_eq!(rules.timing().idle_debounce, 2500);
    assert_eq!(rules.timing().dialog_gone, 200, "other timings keep their defaults");
    let eval = copilot.evaluate(&view(&plain(&["How can I help?", "  esc to interrupt"])), None);
    let ids: Vec<_> = eval.hits.iter().map(|h| (h.rule_id.as_str(), h.state)).collect();
    assert_eq!(ids, [("copilot.busy", RuleState::Working), ("copilot.idle", RuleState::Idle)]);
}

#[test]
fn a_bad_regex_is_reported_and_the_builtin_rule_stays() {
    let user = r#"
[[agent.claude.rule]]
id = "claude.approval.bash"
state = "needs_approval"
any = ["re:Do you want to (proceed"]

[[agent.claude.rule]]
id = "claude.idle.custom"
state = "idle"
any = ["READY"]
"#;
    let (rules, errors) = Rules::with_overrides(user);
    match &errors[..] {
        [RuleError::Pattern { id, line, pattern, .. }] => {
            assert_eq!(
                (id.as_str(), *line, pattern.as_str()),
                ("claude.approval.bash", 2, "re:Do you want to (proceed")
            );
        }
        other => panic!("expected one pattern error, got {other:?}"),
    }
    assert!(errors[0].to_string().contains("claude.approval.bash"), "{}", errors[0]);
    // The built-in rule still sees the fixture's dialog; the good rule of the file applies.
    let case = CASES.iter().find(|c| c.name == "claude/approval-bash-3").expect("the fixture");
    let screen = case.screens_by_entry().pop().expect("a checkpoint");
    let eval = rules.agent(&AgentKind::Claude).unwrap().evaluate(&view(&screen), None);
    let top = eval.top().expect("a hit");
    assert_eq!((top.rule_id.as_str(), top.tool.as_deref()), ("claude.approval.bash", Some("Bash")));
    assert_eq!(
        top_rule(&rules, &AgentKind::Claude, &plain(&["READY"])).as_deref(),
        Some("claude.idle.custom")
    );
}

#[test]
fn a_file_that_does_not_parse_leaves_the_builtins() {
    for bad in
        ["[agent.claude", "disable = 3", "[agent.claude]\nregion_rows = \"many\"", "[surprise]\n"]
    {
        let (rules, errors) = Rules::with_overrides(bad);
        assert!(matches!(errors[..], [RuleError::Syntax { .. }]), "{bad:?}: {errors:?}");
        let ids = |r: &Rules| {
            r.agents().flat_map(|a| a.rule_ids().map(str::to_string)).collect::<Vec<_>>()
        };
        assert_eq!(ids(&rules), ids(&BUILTIN), "{bad:?}");
    }
}
