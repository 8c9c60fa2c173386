//! spec/agents.md §9.9: one evaluation of a 200x50 screen against all Claude rules, in
//! release, stays under 1 ms. Three screens: busy (spinner and footer), a Bash approval
//! dialog, and the idle composer; each under a full transcript of long rows.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tsm_agents::{AgentKind, Rules, ScreenView};

/// The screen's size.
const ROWS: usize = 50;
const COLS: usize = 200;

/// A 200-column transcript row: prose with a few words the rules look for elsewhere.
fn transcript_row(i: usize) -> String {
    let text = match i % 4 {
        0 => format!("⏺ Step {i}: read the api module, the tests and the tokens of the config; nothing to proceed with yet."),
        1 => format!("  ⎿  src/api_{i}.ts: 120 lines, exports fetchItems, retry, timeout (esc to skip is not a marker)"),
        2 => "     The request waits 10 s before it gives up; the test expects 30 s, so it fails on slow CI runners.".to_string(),
        _ => String::new(),
    };
    let mut row = text;
    while row.chars().count() < COLS - 20 && !row.is_empty() {
        row.push_str(" and more words");
    }
    row
}

/// A screen: transcript rows, then `bottom`, to 50 rows.
fn screen(bottom: &[&str]) -> Vec<String> {
    let mut rows: Vec<String> = (0..ROWS - bottom.len()).map(transcript_row).collect();
    rows.extend(bottom.iter().map(|r| r.to_string()));
    rows
}

fn composer(text: &str, footer: &str) -> [String; 4] {
    let rule = "─".repeat(COLS);
    [rule.clone(), format!("❯\u{a0}{text}"), rule, format!("  {footer}")]
}

fn evaluate(c: &mut Criterion) {
    let rules = Rules::builtin();
    let claude = rules.agent(&AgentKind::Claude).expect("built-in Claude rules");
    let [r1, p, r2, f] =
        composer("", "⏵⏵ bypass permissions on (shift+tab to cycle) · esc to interrupt");
    let working = screen(&["✻ Synthesizing… (12s · ↓ 1.2k tokens)", "", &r1, &p, &r2, &f]);
    let approval = screen(&[
        &"─".repeat(COLS),
        " Bash command",
        "",
        "   npm test -- --runInBand",
        "",
        " Do you want to proceed?",
        " ❯ 1. Yes",
        "   2. Yes, and don't ask again for npm test commands in /home/u/proj",
        "   3. No, and tell Claude what to do differently (esc)",
        "",
        " Esc to cancel · Tab to amend",
    ]);
    let [r1, p, r2, f] = composer("fix the failing test", "? for shortcuts");
    let idle = screen(&["✻ Worked for 2m 46s", "", &r1, &p, &r2, &f]);
    let wrapped = vec![false; ROWS];
    let mut group = c.benchmark_group("agents/evaluate_claude_200x50");
    for (name, rows) in [("working", &working), ("approval", &approval), ("idle", &idle)] {
        let view = ScreenView {
            rows,
            wrapped: &wrapped,
            cursor_row: (ROWS - 3) as u16,
            cursor_col: 2,
            cols: COLS as u16,
            alt_screen: false,
            title: None,
        };
        assert!(claude.evaluate(&view, None).top().is_some(), "{name}: the screen hits a rule");
        group.bench_function(name, |b| b.iter(|| claude.evaluate(black_box(&view), None)));
    }
    group.finish();
}

/// The escape side channels scanned over B1's coloured log text in 64 KiB reads: the
/// per-byte cost detection adds to the daemon while an agent runs.
fn escape_scan(c: &mut Criterion) {
    let stream = tsm_benches::log_text(4 << 20);
    let mut group = c.benchmark_group("agents/escape_scan");
    group.throughput(criterion::Throughput::Bytes(stream.len() as u64));
    group.bench_function("log_text", |b| {
        b.iter(|| {
            let mut scanner = tsm_agents::escapes::EscapeScanner::new();
            stream.chunks(64 << 10).map(|chunk| scanner.scan(black_box(chunk)).len()).sum::<usize>()
        })
    });
    group.finish();
}

/// Compiling the built-in tables (every daemon does it once at start).
fn compile(c: &mut Criterion) {
    c.bench_function("agents/rules_builtin", |b| b.iter(Rules::builtin));
}

criterion_group!(benches, evaluate, escape_scan, compile);
criterion_main!(benches);
