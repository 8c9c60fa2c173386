//! Writes the synthetic screen fixtures under `fixtures/screens/` (`spec/agents.md` §8):
//!
//! ```text
//! cargo run -p tsm-agents --example make_fixtures
//! ```
//!
//! Each case is a `.tsmrec` (provenance `synthetic`) drawn the way a TUI draws: the first
//! frame clears the screen, later frames rewrite only the rows that changed, each row placed
//! with CUP, erased with EL and coloured with SGR, the cursor put back at the end; Claude's
//! frames are wrapped in synchronized-output brackets, full-screen agents use the alternate
//! screen. Next to it, `<case>.expect.toml` holds the checkpoints `tests/screens.rs` checks:
//!
//! ```toml
//! [[at]]
//! t = 160                              # after every entry up to this time
//! state = "needs_approval"             # the top hit's state, or "none"
//! rule = "claude.approval.bash"        # optional: the top hit's rule id
//! tool = "Bash"                        # optional: the top hit's tool ("" for none)
//! detail = "npm test"                  # optional: the top hit's detail ("" for none)
//! setup = "trust"                      # optional: a setup hit's dialog (SetupKind name)
//! also = ["claude.approval.proceed"]   # optional: more rule ids that must be among the hits
//! meta = { version = "2.1.173" }       # optional: fields the meta rules must find
//! ```
//!
//! The markers are the exact strings of §5; the layouts around them are plausible, not
//! recorded. Edit this file and rerun it rather than editing the fixtures; the run replaces
//! every `.tsmrec` and `.expect.toml` under `fixtures/screens/`.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use tsm_agents::tsmrec::{Header, Provenance, Recording};

/// Milliseconds between frames.
const STEP_MS: u64 = 80;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/screens");
    let mut fixtures = Vec::new();
    claude(&mut fixtures);
    codex(&mut fixtures);
    gemini(&mut fixtures);
    aider(&mut fixtures);
    opencode(&mut fixtures);
    for agent in ["claude", "codex", "gemini", "aider", "opencode"] {
        let dir = root.join(agent);
        fs::create_dir_all(&dir)?;
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(".tsmrec") || name.ends_with(".expect.toml") {
                fs::remove_file(&path)?;
            }
        }
    }
    for f in &fixtures {
        let base: PathBuf = root.join(f.agent).join(f.name);
        fs::write(base.with_extension("tsmrec"), f.rec.to_jsonl())?;
        fs::write(base.with_extension("expect.toml"), &f.expect)?;
    }
    println!("wrote {} fixtures under {}", fixtures.len(), root.display());
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Drawing.

/// The escape sequence of a markup code: `{o}` Claude's orange, `{d}` dim, `{b}` bold,
/// `{g}` green, `{r}` red, `{c}` cyan, `{y}` yellow, `{m}` magenta, `{i}` inverse, `{G}` a
/// grey background, `{/}` reset.
fn sgr(code: char) -> Option<&'static str> {
    Some(match code {
        'o' => "\x1b[38;5;174m",
        'd' => "\x1b[2m",
        'b' => "\x1b[1m",
        'g' => "\x1b[32m",
        'r' => "\x1b[31m",
        'c' => "\x1b[36m",
        'y' => "\x1b[33m",
        'm' => "\x1b[35m",
        'i' => "\x1b[7m",
        'G' => "\x1b[48;5;236m",
        '/' => "\x1b[0m",
        _ => return None,
    })
}

/// A row from markup, cut to `cols` visible characters, ending with an SGR reset.
fn draw_row(markup: &str, cols: usize) -> String {
    let mut out = String::new();
    let mut visible = 0;
    let mut chars = markup.chars();
    while let Some(c) = chars.next() {
        if c == '{' {
            let mut ahead = chars.clone();
            if let (Some(code), Some('}')) = (ahead.next(), ahead.next()) {
                if let Some(seq) = sgr(code) {
                    out.push_str(seq);
                    chars = ahead;
                    continue;
                }
            }
        }
        if visible < cols {
            out.push(c);
            visible += 1;
        }
    }
    out.push_str("\x1b[0m");
    out
}

/// A checkpoint of an `.expect.toml`.
#[derive(Default)]
struct Check {
    state: &'static str,
    rule: Option<&'static str>,
    tool: Option<&'static str>,
    detail: Option<&'static str>,
    setup: Option<&'static str>,
    also: Vec<&'static str>,
    meta: Vec<(&'static str, &'static str)>,
}

fn check(state: &'static str, rule: &'static str) -> Check {
    Check { state, rule: (!rule.is_empty()).then_some(rule), ..Check::default() }
}

impl Check {
    fn tool(mut self, tool: &'static str) -> Check {
        self.tool = Some(tool);
        self
    }

    fn detail(mut self, detail: &'static str) -> Check {
        self.detail = Some(detail);
        self
    }

    fn setup(mut self, kind: &'static str) -> Check {
        self.setup = Some(kind);
        self
    }

    fn also(mut self, ids: &[&'static str]) -> Check {
        self.also.extend_from_slice(ids);
        self
    }

    fn meta(mut self, field: &'static str, value: &'static str) -> Check {
        self.meta.push((field, value));
        self
    }
}

/// One fixture being drawn.
struct Fixture {
    agent: &'static str,
    name: &'static str,
    cols: usize,
    rows: usize,
    /// Claude draws each frame inside a synchronized update.
    sync: bool,
    rec: Recording,
    /// The rows drawn last, as escape sequences.
    drawn: Vec<String>,
    /// The time of the last entry.
    t: u64,
    expect: String,
}

impl Fixture {
    fn new(agent: &'static str, name: &'static str, cols: u16, rows: u16, note: &str) -> Fixture {
        let mut header = Header::new(agent, cols, rows, Provenance::Synthetic);
        header.note = note.to_string();
        header.agent_version = match agent {
            "claude" => Some("2.1.173".into()),
            "codex" => Some("0.134.0".into()),
            _ => None,
        };
        Fixture {
            agent,
            name,
            cols: usize::from(cols),
            rows: usize::from(rows),
            sync: agent == "claude",
            rec: Recording::new(header),
            drawn: Vec::new(),
            t: 0,
            expect: format!(
                "# {agent}/{name}: {note}\n# Generated by examples/make_fixtures.rs; edit that, not this.\n"
            ),
        }
    }

    /// Switches to the alternate screen (a full-screen renderer).
    fn alt(mut self) -> Fixture {
        self.rec.out(0, b"\x1b[?1049h\x1b[H\x1b[2J");
        self
    }

    /// Draws a frame `STEP_MS` after the last entry: `lines` (markup) from the top, the
    /// top ones scrolled away if there are more than the screen's rows, the cursor at
    /// (`line` of `lines`, `col`).
    fn frame(&mut self, lines: &[String], cursor: (usize, usize)) -> &mut Fixture {
        let t = if self.rec.entries.is_empty() { 0 } else { self.t + STEP_MS };
        let dropped = lines.len().saturating_sub(self.rows);
        let rows: Vec<String> = (0..self.rows)
            .map(|r| lines.get(dropped + r).map_or_else(String::new, |l| draw_row(l, self.cols)))
            .collect();
        let mut out = String::new();
        if self.sync {
            out.push_str("\x1b[?2026h");
        }
        out.push_str("\x1b[?25l");
        if self.drawn.is_empty() {
            out.push_str("\x1b[H\x1b[2J");
        }
        for (r, row) in rows.iter().enumerate() {
            let before = self.drawn.get(r).map_or("", String::as_str);
            if row != before && !(self.drawn.is_empty() && row == "\x1b[0m") {
                write!(out, "\x1b[{};1H\x1b[2K{row}", r + 1).expect("a String takes writes");
            }
        }
        let line = cursor.0.saturating_sub(dropped).min(self.rows - 1);
        write!(out, "\x1b[{};{}H\x1b[?25h", line + 1, cursor.1 + 1).expect("a String takes writes");
        if self.sync {
            out.push_str("\x1b[?2026l");
        }
        self.rec.out(t, out);
        self.drawn = rows;
        self.t = t;
        self
    }

    /// Writes text as a program printing lines does (`\n` becomes `\r\n`), after the last entry.
    fn print(&mut self, text: &str) -> &mut Fixture {
        let t = if self.rec.entries.is_empty() { 0 } else { self.t + STEP_MS };
        self.rec.out(t, text.replace('\n', "\r\n"));
        self.drawn.clear();
        self.t = t;
        self
    }

    /// A fixture of one frame, `(lines, cursor)` as [`frame`](Self::frame) takes them, and
    /// one checkpoint.
    fn still(mut self, (lines, cursor): (Vec<String>, (usize, usize)), c: Check) -> Fixture {
        self.frame(&lines, cursor);
        self.expect(c);
        self
    }

    /// Adds a checkpoint at the time of the last entry.
    fn expect(&mut self, c: Check) -> &mut Fixture {
        let toml_str = |s: &str| format!("{s:?}");
        let mut text = format!("\n[[at]]\nt = {}\nstate = {}\n", self.t, toml_str(c.state));
        for (key, value) in
            [("rule", c.rule), ("tool", c.tool), ("detail", c.detail), ("setup", c.setup)]
        {
            if let Some(v) = value {
                writeln!(text, "{key} = {}", toml_str(v)).expect("a String takes writes");
            }
        }
        if !c.also.is_empty() {
            let ids: Vec<_> = c.also.iter().map(|s| toml_str(s)).collect();
            writeln!(text, "also = [{}]", ids.join(", ")).expect("a String takes writes");
        }
        if !c.meta.is_empty() {
            let fields: Vec<_> =
                c.meta.iter().map(|(k, v)| format!("{k} = {}", toml_str(v))).collect();
            writeln!(text, "meta = {{ {} }}", fields.join(", ")).expect("a String takes writes");
        }
        self.expect.push_str(&text);
        self
    }
}

fn lines(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

// ---------------------------------------------------------------------------------------
// Claude Code (§5.1.3): transcript, spinner row, composer between two rules, footer.

/// The dim rule above a Claude dialog, 80 columns wide.
const RULE_80: &str =
    "{d}────────────────────────────────────────────────────────────────────────────────{/}";

/// The same, 120 columns wide.
const RULE_120: &str = "{d}────────────────────────────────────────────────────────────────────────────────────────────────────────────────────────{/}";

const CLAUDE_BANNER: [&str; 4] = [
    " {o}▐▛███▜▌{/}   {b}Claude Code{/} v2.1.173",
    "{o}▝▜█████▛▘{/}  Opus 4.5 · API Usage Billing",
    "  {o}▘▘ ▝▝{/}    ~/proj",
    "",
];

const CLAUDE_TURN: [&str; 8] = [
    "{G}> run the tests and fix what fails{/}",
    "",
    "⏺ I'll run the test suite first.",
    "",
    "⏺ {b}Bash{/}(npm test)",
    "  ⎿  PASS src/app.test.ts",
    "     FAIL src/api.test.ts",
    "",
];

/// The composer: a rule, `❯` + no-break space + text, a rule, a footer.
fn claude_composer(cols: usize, text: &str, footer: &str) -> Vec<String> {
    let rule = format!("{{d}}{}{{/}}", "─".repeat(cols));
    vec![rule.clone(), format!("❯\u{a0}{text}"), rule, format!("  {{d}}{footer}{{/}}")]
}

/// Banner, turn, `middle`, then the composer; the cursor after the composer's text.
fn claude_screen(
    cols: usize,
    middle: &[String],
    text: &str,
    footer: &str,
) -> (Vec<String>, (usize, usize)) {
    let mut all = lines(&CLAUDE_BANNER);
    all.extend(lines(&CLAUDE_TURN));
    all.extend_from_slice(middle);
    let at = all.len() + 1;
    all.extend(claude_composer(cols, text, footer));
    (all, (at, 2 + text.chars().count()))
}

/// Banner, turn, then a dialog that replaced the composer; the cursor on the dialog's last row.
fn claude_dialog(dialog: &[&str]) -> (Vec<String>, (usize, usize)) {
    let mut all = lines(&CLAUDE_BANNER);
    all.extend(lines(&CLAUDE_TURN));
    all.extend(lines(dialog));
    let at = all.len() - 1;
    (all, (at, 0))
}

fn claude(out: &mut Vec<Fixture>) {
    claude_working(out);
    claude_approval(out);
    claude_input(out);
    claude_idle_done(out);
    claude_errors(out);
    claude_setup(out);
    claude_negatives(out);
}

fn claude_working(out: &mut Vec<Fixture>) {
    // (1) `esc to interrupt` in the spinner row (older), asterisk glyphs, 80 columns.
    let mut f = Fixture::new(
        "claude",
        "working-esc-in-spinner",
        80,
        24,
        "older spinner row with esc to interrupt, asterisk glyphs",
    );
    for (i, glyph) in ["✢", "✳", "✶", "✻", "✽", "·"].iter().enumerate() {
        let spinner = format!(
            "{{o}}{glyph} Combobulating…{{/}} {{d}}({}s · ↓ {} tokens · esc to interrupt){{/}}",
            3 + i,
            120 + 40 * i
        );
        let (screen, cursor) = claude_screen(80, &[spinner, String::new()], "", "");
        f.frame(&screen, cursor);
        let c = check("working", "claude.working.spinner")
            .detail("Combobulating")
            .also(&["claude.working.esc", "claude.idle.composer"]);
        f.expect(if i == 0 { c.meta("version", "2.1.173").meta("model", "Opus 4.5") } else { c });
    }
    out.push(f);

    // (1) `esc to interrupt` in the footer (newer), tokens only in the spinner row, 200 columns.
    let mut f = Fixture::new(
        "claude",
        "working-esc-in-footer",
        200,
        50,
        "newer layout: esc to interrupt in the footer",
    );
    for (i, glyph) in ["✻", "✽", "✶"].iter().enumerate() {
        let spinner = format!(
            "{{o}}{glyph} Synthesizing…{{/}} {{d}}({}s · ↓ 1.{}k tokens){{/}}",
            12 + i,
            2 + i
        );
        let footer = "⏵⏵ bypass permissions on (shift+tab to cycle) · esc to interrupt";
        let (screen, cursor) = claude_screen(200, &[spinner, String::new()], "", footer);
        f.frame(&screen, cursor);
        f.expect(
            check("working", "claude.working.spinner")
                .also(&["claude.working.tokens", "claude.working.esc"]),
        );
    }
    out.push(f);

    // (1) Older Braille spinner, 120 columns; the compacting row offers ctrl+c.
    let mut f = Fixture::new(
        "claude",
        "working-braille",
        120,
        40,
        "older Braille spinner; compacting with ctrl+c to interrupt",
    );
    for (i, glyph) in ["⠋", "⠙", "⠹", "⠸"].iter().enumerate() {
        let spinner = format!(
            "{{o}}{glyph} Thinking…{{/}} {{d}}({}s · ↑ 456 tokens · esc to interrupt){{/}}",
            10 + i
        );
        let (screen, cursor) = claude_screen(120, &[spinner, String::new()], "", "? for shortcuts");
        f.frame(&screen, cursor);
        f.expect(check("working", "claude.working.spinner"));
    }
    let spinner = "{o}✻ Compacting conversation…{/} {d}(ctrl+c to interrupt){/}".to_string();
    let (screen, cursor) = claude_screen(120, &[spinner, String::new()], "", "");
    f.frame(&screen, cursor);
    f.expect(check("working", "claude.working.ctrl_c"));
    out.push(f);

    // (2) The turn is over, two shells still run.
    let mut f =
        Fixture::new("claude", "background-shells", 120, 40, "Stop while background shells run");
    let middle = lines(&["{o}✻{/} Churned for 6m 24s · 2 shells still running", ""]);
    let (screen, cursor) =
        claude_screen(120, &middle, "", "? for shortcuts · 2 shells · ↓ to view");
    f.frame(&screen, cursor);
    f.expect(
        check("background", "claude.background.shells")
            .also(&["claude.done.summary", "claude.idle.composer"]),
    );
    out.push(f);

    let mut f =
        Fixture::new("claude", "background-agent", 80, 24, "waiting for a background agent");
    let middle = lines(&["{o}✻{/} Waiting for 1 background agent to finish", ""]);
    let (screen, cursor) = claude_screen(80, &middle, "", "? for shortcuts");
    f.frame(&screen, cursor);
    f.expect(check("background", "claude.background.agents"));
    out.push(f);
}

fn claude_approval(out: &mut Vec<Fixture>) {
    // (3) Bash, three options, straight apostrophe, `Esc to cancel · Tab to amend`, 80 columns.
    let frame = claude_dialog(&[
        RULE_80,
        " {b}Bash command{/}",
        "",
        "   npm test -- --runInBand",
        "   Run the failing test file alone",
        "",
        " Do you want to proceed?",
        " {c}❯ 1. Yes{/}",
        "   2. Yes, and don't ask again for npm test commands in /home/u/proj",
        "   3. No, and tell Claude what to do differently (esc)",
        "",
        " {d}Esc to cancel · Tab to amend{/}",
    ]);
    out.push(
        Fixture::new("claude", "approval-bash-3", 80, 30, "Bash approval, three options").still(
            frame,
            check("needs_approval", "claude.approval.bash")
                .tool("Bash")
                .also(&["claude.approval.proceed"]),
        ),
    );

    // (3) Bash, four options, curly apostrophe, the other footer, 120 columns.
    let frame = claude_dialog(&[
        RULE_120,
        " {b}Bash command{/}",
        "",
        "   rm -rf build && npm run build",
        "   This command requires approval",
        "",
        " Do you want to proceed?",
        " {c}❯\u{a0}1.\u{a0}Yes{/}",
        "   2. Yes, and don’t ask again for npm run build commands in /home/u/proj",
        "   3. Yes, and switch to auto mode",
        "   4. No",
        "",
        " {d}Enter to select · ↑/↓ to navigate · Esc to cancel{/}",
    ]);
    out.push(
        Fixture::new(
            "claude",
            "approval-bash-4-curly",
            120,
            40,
            "Bash approval, four options (2.1.296), curly apostrophe",
        )
        .still(frame, check("needs_approval", "claude.approval.bash").tool("Bash")),
    );

    // (3) Edit.
    let mut f = Fixture::new("claude", "approval-edit", 120, 40, "edit approval with a diff");
    let (screen, cursor) = claude_dialog(&[
        RULE_120,
        " {b}Edit file{/}",
        " {d}╭──────────────────────────────────────────────╮{/}",
        " {d}│{/} src/api.ts                                   {d}│{/}",
        " {d}│{/} {r}- const timeout = 10;{/}                        {d}│{/}",
        " {d}│{/} {g}+ const timeout = 30;{/}                        {d}│{/}",
        " {d}╰──────────────────────────────────────────────╯{/}",
        " Do you want to make this edit to api.ts?",
        " {c}❯ 1. Yes{/}",
        "   2. Yes, allow all edits during this session (shift+tab)",
        "   3. No, and tell Claude what to do differently (esc)",
    ]);
    f.frame(&screen, cursor);
    f.expect(check("needs_approval", "claude.approval.edit").tool("Edit").detail("api.ts"));
    out.push(f);

    let frame = claude_dialog(&[
        RULE_80,
        " {b}Create file{/}",
        "   hello.py",
        " Do you want to create hello.py?",
        " {c}❯ 1. Yes{/}",
        "   2. Yes, allow all edits during this session (shift+tab)",
        "   3. No, and tell Claude what to do differently (esc)",
    ]);
    out.push(Fixture::new("claude", "approval-create", 80, 30, "create-file approval").still(
        frame,
        check("needs_approval", "claude.approval.create").tool("Write").detail("hello.py"),
    ));

    // (3) WebFetch: "Do you want to allow …?"
    let frame = claude_dialog(&[
        RULE_80,
        " {b}Fetch{/}",
        "   https://docs.rs/regex",
        "   Claude wants to fetch content from docs.rs",
        "",
        " Do you want to allow Claude to fetch this content?",
        " {c}❯ 1. Yes{/}",
        "   2. Yes, and don't ask again for docs.rs",
        "   3. No, and tell Claude what to do differently (esc)",
    ]);
    out.push(Fixture::new("claude", "approval-webfetch", 80, 30, "WebFetch approval").still(
        frame,
        check("needs_approval", "claude.approval.allow").detail("Claude to fetch this content"),
    ));

    // (3) An MCP tool: the generic "Do you want to proceed?" without a Bash header.
    let frame = claude_dialog(&[
        RULE_120,
        " {b}Tool use{/}",
        "",
        "   github - create_issue(title: \"Flaky api test\") (MCP)",
        "",
        " Do you want to proceed?",
        " {c}❯ 1. Yes{/}",
        "   2. Yes, and don't ask again for github - create_issue commands in /home/u/proj",
        "   3. No, and tell Claude what to do differently (esc)",
    ]);
    out.push(
        Fixture::new("claude", "approval-mcp-tool", 120, 40, "MCP tool approval")
            .still(frame, check("needs_approval", "claude.approval.proceed").tool("")),
    );

    let mut f =
        Fixture::new("claude", "approval-mcp-server", 80, 30, "an MCP server asks to be allowed");
    let (screen, cursor) = claude_dialog(&[
        RULE_80,
        " {b}MCP server request{/}",
        "",
        " Allow this MCP server to open a browser window?",
        " {c}❯ 1. Allow{/}",
        "   2. Deny",
    ]);
    f.frame(&screen, cursor);
    f.expect(check("needs_approval", "claude.approval.mcp"));
    out.push(f);

    // (3) A menu ending `N. Deny (esc)`.
    let frame = claude_dialog(&[
        RULE_80,
        " {b}Read file{/}",
        "   Claude wants to read ~/.ssh/config",
        "",
        " {c}❯ 1. Allow once{/}",
        "   2. Allow for this session",
        "   3. Deny (esc)",
    ]);
    out.push(
        Fixture::new(
            "claude",
            "approval-deny-esc",
            80,
            30,
            "a permission menu ending in N. Deny (esc)",
        )
        .still(frame, check("needs_approval", "claude.approval.deny")),
    );

    // (3) Plan approval (2.1.276).
    let frame = claude_dialog(&[
        RULE_120,
        " {b}Ready to code?{/}",
        "",
        " Here is Claude's plan:",
        " {d}╭────────────────────────────────────────────╮{/}",
        " {d}│{/} 1. Raise the api timeout to 30 s            {d}│{/}",
        " {d}│{/} 2. Retry the flaky request once             {d}│{/}",
        " {d}╰────────────────────────────────────────────╯{/}",
        "",
        " Claude has written up a plan and is ready to execute. Would you like to proceed?",
        "",
        " {c}❯ 1. Yes, and use auto mode{/}",
        "   2. Yes, manually approve edits",
        "   3. Tell Claude what to change",
    ]);
    out.push(Fixture::new("claude", "approval-plan", 120, 40, "plan approval").still(
        frame,
        check("needs_approval", "claude.approval.plan").tool("ExitPlanMode").detail("plan"),
    ));

    // Full-screen renderer (2.1.330 default): the same dialog on the alternate screen.
    let mut f = Fixture::new(
        "claude",
        "approval-fullscreen",
        120,
        40,
        "Bash approval in the full-screen renderer",
    )
    .alt();
    let dialog = [
        RULE_120,
        " {b}Bash command{/}",
        "",
        "   git push origin main",
        "",
        " Do you want to proceed?",
        " {c}❯ 1. Yes{/}",
        "   2. No, and tell Claude what to do differently (esc)",
        "",
        " {d}Esc to cancel · Tab to amend{/}",
    ];
    let mut screen = lines(&CLAUDE_TURN);
    screen.resize(40 - dialog.len(), String::new());
    let pointer = screen.len() + 6;
    screen.extend(lines(&dialog));
    f.frame(&screen, (pointer, 0));
    f.expect(check("needs_approval", "claude.approval.bash").tool("Bash"));
    out.push(f);

    // A whole turn at 120 columns: typed prompt, working, approval, answered, done.
    let mut f = Fixture::new(
        "claude",
        "turn-with-approval",
        120,
        40,
        "prompt, work, Bash approval, answer, work, summary",
    );
    let mut screen = lines(&CLAUDE_BANNER);
    let composer_at = screen.len() + 1;
    screen.extend(claude_composer(120, "run the tests", "? for shortcuts"));
    f.frame(&screen, (composer_at, 15));
    f.expect(check("idle", "claude.idle.composer"));
    let spinner = "{o}✶ Musing…{/} {d}(2s · esc to interrupt){/}".to_string();
    let (screen, cursor) = claude_screen(120, &[spinner, String::new()], "", "");
    f.frame(&screen, cursor);
    f.expect(check("working", "claude.working.spinner"));
    let (screen, cursor) = claude_dialog(&[
        RULE_120,
        " {b}Bash command{/}",
        "",
        "   npm test -- api",
        "",
        " Do you want to proceed?",
        " {c}❯ 1. Yes{/}",
        "   2. Yes, and don't ask again for npm test commands in /home/u/proj",
        "   3. No, and tell Claude what to do differently (esc)",
        "",
        " {d}Esc to cancel · Tab to amend{/}",
    ]);
    f.frame(&screen, cursor);
    f.expect(check("needs_approval", "claude.approval.bash").tool("Bash"));
    let after = lines(&[
        "⏺ {b}Bash{/}(npm test -- api)",
        "  ⎿  PASS src/api.test.ts",
        "",
        "{o}✻ Musing…{/} {d}(9s · esc to interrupt){/}",
        "",
    ]);
    let (screen, cursor) = claude_screen(120, &after, "", "");
    f.frame(&screen, cursor);
    f.expect(check("working", "claude.working.spinner"));
    let done = lines(&[
        "⏺ {b}Bash{/}(npm test -- api)",
        "  ⎿  PASS src/api.test.ts",
        "",
        "⏺ All tests pass now.",
        "",
        "{o}✻{/} Worked for 2m 46s",
        "",
    ]);
    let (screen, cursor) = claude_screen(120, &done, "", "? for shortcuts");
    f.frame(&screen, cursor);
    f.expect(check("done", "claude.done.summary").also(&["claude.idle.composer"]));
    out.push(f);
}

fn claude_input(out: &mut Vec<Fixture>) {
    let frame = claude_dialog(&[
        RULE_80,
        " {i} ☐ Auth method {/}",
        "",
        " Which auth method should the API use?",
        "",
        " {c}❯ 1. JWT{/}",
        "      Stateless tokens, signed by the server",
        "   2. Sessions",
        "      Server-side sessions in Redis",
        "   3. Type something.",
        RULE_80,
        "   4. Chat about this",
        "",
        " {d}Enter to select · ↑/↓ to navigate · Esc to cancel{/}",
    ]);
    out.push(
        Fixture::new("claude", "question-single", 80, 30, "AskUserQuestion, one question")
            .still(frame, check("needs_input", "claude.input.question")),
    );

    let frame = claude_dialog(&[
        RULE_120,
        " ←  {i} ☐ Features {/}  ☐ Deploy  ✔ Submit  →",
        "",
        " Which features should the first release have?",
        "",
        " {c}❯ 1. [✔] Logging{/}",
        "   2. [ ] Metrics",
        "   3. [ ] Tracing",
        "   4. Type something.",
        "",
        " {d}Enter to select · Space to toggle · Tab to switch questions · Esc to cancel{/}",
    ]);
    out.push(
        Fixture::new(
            "claude",
            "question-multi",
            120,
            40,
            "AskUserQuestion, several questions, multi-select",
        )
        .still(frame, check("needs_input", "claude.input.question")),
    );

    let frame = claude_dialog(&[
        RULE_80,
        " ←  ☒ Features  ☒ Deploy  {i} ✔ Submit {/}  →",
        "",
        " Review your answers",
        "",
        "  ● Which features should the first release have?",
        "    → Logging",
        "  ● Where should it deploy?",
        "    → Fly.io",
        "",
        " Ready to submit your answers?",
        "",
        " {c}❯ 1. Submit answers{/}",
        "   2. Cancel",
    ]);
    out.push(
        Fixture::new("claude", "question-review", 80, 30, "AskUserQuestion review tab")
            .still(frame, check("needs_input", "claude.input.review")),
    );
}

fn claude_idle_done(out: &mut Vec<Fixture>) {
    // (5) Each footer.
    for (name, cols, rows, footer) in [
        ("idle-shortcuts", 80u16, 24u16, "? for shortcuts"),
        ("idle-manual-mode", 120, 40, "⏸ manual mode on · ? for shortcuts · ← for agents"),
        ("idle-auto-mode", 80, 24, "{c}⏵⏵ auto mode on{/} (shift+tab to cycle)"),
        ("idle-bypass", 200, 50, "{r}⏵⏵ bypass permissions on{/} (shift+tab to cycle)"),
    ] {
        out.push(Fixture::new("claude", name, cols, rows, "idle composer, empty").still(
            claude_screen(usize::from(cols), &[], "", footer),
            check("idle", "claude.idle.composer").meta("version", "2.1.173"),
        ));
    }

    let mut f = Fixture::new("claude", "idle-try", 80, 24, "idle composer with a suggestion");
    let mut screen = lines(&CLAUDE_BANNER);
    let at = screen.len() + 1;
    screen.extend(claude_composer(80, "{d}Try \"refactor src/api.ts\"{/}", ""));
    f.frame(&screen, (at, 2));
    f.expect(check("idle", "claude.idle.composer"));
    out.push(f);

    let mut f = Fixture::new(
        "claude",
        "idle-typing",
        80,
        24,
        "text typed into the composer, a key at a time",
    );
    for text in ["", "f", "fix", "fix the", "fix the failing test"] {
        let (screen, cursor) =
            claude_screen(80, &[], text, if text.is_empty() { "? for shortcuts" } else { "" });
        f.frame(&screen, cursor);
        f.expect(check("idle", "claude.idle.composer"));
    }
    out.push(f);

    // (6) Done: the turn summary above the idle composer.
    for (name, cols, rows, summary) in [
        ("done-worked", 120u16, 40u16, "Worked for 2m 46s"),
        ("done-cooked", 80, 24, "Cooked for 1s"),
    ] {
        let mut f =
            Fixture::new("claude", name, cols, rows, "turn summary above the idle composer");
        let middle = vec![
            "⏺ Fixed: the api test had a 10 s timeout.".to_string(),
            String::new(),
            format!("{{o}}✻{{/}} {summary}"),
            String::new(),
        ];
        let (screen, cursor) = claude_screen(usize::from(cols), &middle, "", "? for shortcuts");
        f.frame(&screen, cursor);
        f.expect(check("done", "claude.done.summary").also(&["claude.idle.composer"]));
        out.push(f);
    }
}

fn claude_errors(out: &mut Vec<Fixture>) {
    let cases: [(&str, u16, u16, &str, &str, &str); 5] = [
        (
            "error-401",
            120,
            40,
            "API error 401 on a ⏺ row with the JSON error",
            "⏺ {r}API Error: 401 {\"type\":\"error\",\"error\":{\"type\":\"authentication_error\"}} · Please run /login{/}",
            "claude.error.bullet",
        ),
        (
            "error-login",
            80,
            24,
            "invalid key, Please run /login, on a plain row",
            "  {r}Invalid API key · Please run /login{/}",
            "claude.error.banner",
        ),
        (
            "error-connection",
            80,
            24,
            "connection error",
            "⏺ {r}API Error (Connection error.) · Check your network{/}",
            "claude.error.bullet",
        ),
        (
            "error-rate-limit",
            80,
            24,
            "rate limit",
            "⏺ {r}API Error: Rate limit reached · try again in 2m{/}",
            "claude.error.bullet",
        ),
        (
            "error-socket",
            120,
            40,
            "socket closed, as a plain row",
            "  {r}socket connection closed unexpectedly{/}",
            "claude.error.banner",
        ),
    ];
    for (name, cols, rows, note, banner, rule) in cases {
        let frame = claude_screen(
            usize::from(cols),
            &[banner.to_string(), String::new()],
            "",
            "? for shortcuts",
        );
        out.push(
            Fixture::new("claude", name, cols, rows, note)
                .still(frame, check("errored", rule).also(&["claude.idle.composer"])),
        );
    }

    // (7) Negative: the assistant quotes the error in prose.
    let mut f = Fixture::new(
        "claude",
        "error-quoted-in-prose",
        80,
        24,
        "negative: prose quoting API Error: 401 is not an error",
    );
    let middle =
        lines(&["⏺ The log shows \"API Error: 401\" because the key expired; set a new one.", ""]);
    let (screen, cursor) = claude_screen(80, &middle, "", "? for shortcuts");
    f.frame(&screen, cursor);
    f.expect(check("idle", "claude.idle.composer"));
    out.push(f);
}

/// A setup screen: name, columns, rows, the screen's rows, the rule id, the setup kind.
type SetupCase = (&'static str, u16, u16, &'static [&'static str], &'static str, &'static str);

fn claude_setup(out: &mut Vec<Fixture>) {
    let cases: [SetupCase; 10] = [
        (
            "setup-theme",
            80,
            24,
            &[
                " {b}Let's get started.{/}",
                "",
                " Choose the text style that looks best with your terminal:",
                " {d}To change this later, run /theme{/}",
                "",
                " {c}❯ 1. Dark mode ✔{/}",
                "   2. Light mode",
                "   3. Dark mode (colorblind-friendly)",
            ],
            "claude.setup.theme",
            "theme",
        ),
        (
            "setup-login",
            80,
            24,
            &[
                " Claude Code can be used with your Claude subscription or billed based on API",
                " usage through your Console account.",
                "",
                " Select login method:",
                "",
                " {c}❯ 1. Claude account with subscription · Pro, Max, Team, or Enterprise{/}",
                "   2. Anthropic Console account · API usage billing",
            ],
            "claude.setup.login",
            "login",
        ),
        (
            "setup-login-code",
            80,
            24,
            &[
                " Browser didn't open? Use the url below to sign in:",
                "",
                " https://claude.ai/oauth/authorize?code=true&client_id=9d1c250a",
                "",
                " Paste code here if prompted >",
            ],
            "claude.setup.login",
            "login",
        ),
        (
            "setup-api-key",
            120,
            40,
            &[
                " {b}Detected a custom API key in your environment{/}",
                "",
                " ANTHROPIC_API_KEY: sk-ant-...xyz1",
                "",
                " Do you want to use this API key?",
                "",
                "   1. Yes",
                " {c}❯ 2. No (recommended){/}",
            ],
            "claude.setup.api_key",
            "api_key",
        ),
        (
            "setup-trust",
            80,
            24,
            &[
                " {b}Accessing workspace:{/}",
                "",
                " /home/u/proj",
                "",
                " Quick safety check: Is this a project you created or one you trust?",
                "",
                " {c}❯ 1. Yes, I trust this folder{/}",
                "   2. No, exit",
                "",
                " {d}Enter to confirm · Esc to cancel{/}",
            ],
            "claude.setup.trust",
            "trust",
        ),
        (
            "setup-trust-old",
            80,
            24,
            &[
                " {b}Do you trust the files in this folder?{/}",
                "",
                " /home/u/proj",
                "",
                " Claude Code may read files in this folder. Reading untrusted files may lead",
                " Claude Code to behave in unexpected ways.",
                "",
                " {c}❯ 1. Yes, proceed{/}",
                "   2. No, exit",
            ],
            "claude.setup.trust",
            "trust",
        ),
        (
            "setup-mcp",
            120,
            40,
            &[
                " {b}New MCP server found in .mcp.json: github{/}",
                "",
                " MCP servers may execute code or access system resources. All tool calls require approval.",
                "",
                " {c}❯ 1. Use this and all future MCP servers in this project{/}",
                "   2. Use this MCP server",
                "   3. Continue without using this MCP server",
            ],
            "claude.setup.mcp",
            "mcp_trust",
        ),
        (
            "setup-bypass",
            80,
            24,
            &[
                " {r}WARNING: Claude Code running in Bypass Permissions mode{/}",
                "",
                " In Bypass Permissions mode, Claude Code will not ask for your approval before",
                " running potentially dangerous commands.",
                "",
                "   1. No, exit",
                " {c}❯ 2. Yes, I accept{/}",
            ],
            "claude.setup.bypass",
            "bypass_warning",
        ),
        (
            "setup-offline",
            80,
            24,
            &[
                " {r}Unable to connect to Anthropic services{/}",
                "",
                " Failed to connect to api.anthropic.com: ERR_BAD_REQUEST",
                "",
                " Please check your internet connection and network settings.",
                "",
                "$",
            ],
            "claude.setup.offline",
            "offline",
        ),
        (
            "setup-settings-error",
            120,
            40,
            &[
                " {r}Settings Error{/}",
                "",
                " /home/u/.claude/settings.json",
                "  └ hooks",
                "    └ PermissionRequest: Invalid key in record",
                "",
                " Files with errors are skipped entirely, not just the invalid settings.",
                "",
                " {c}❯ 1. Exit and fix manually{/}",
                "   2. Continue without these settings",
            ],
            "claude.setup.settings_error",
            "settings_error",
        ),
    ];
    for (name, cols, rows, dialog, rule, kind) in cases {
        let mut f = Fixture::new("claude", name, cols, rows, "setup dialog");
        let screen = lines(dialog);
        let at = screen.len() - 1;
        f.frame(&screen, (at, 0));
        f.expect(check("setup", rule).setup(kind));
        out.push(f);
    }
}

fn claude_negatives(out: &mut Vec<Fixture>) {
    // (9) An answered approval dialog left above an idle composer.
    let mut f = Fixture::new(
        "claude",
        "negative-answered-dialog",
        120,
        40,
        "negative: the answered dialog's rows stay above the idle composer",
    );
    let middle = lines(&[
        " Do you want to proceed?",
        " {c}❯ 1. Yes{/}",
        "   2. Yes, and don't ask again for npm test commands in /home/u/proj",
        "   3. No, and tell Claude what to do differently (esc)",
        "",
        "⏺ {b}Bash{/}(npm test)",
        "  ⎿  PASS src/api.test.ts",
        "",
    ]);
    let (screen, cursor) = claude_screen(120, &middle, "", "? for shortcuts");
    f.frame(&screen, cursor);
    f.expect(check("idle", "claude.idle.composer"));
    out.push(f);

    // (9) "esc to interrupt" typed into the composer.
    out.push(
        Fixture::new(
            "claude",
            "negative-esc-typed",
            80,
            24,
            "negative: esc to interrupt typed into the composer is not work",
        )
        .still(
            claude_screen(80, &[], "what does esc to interrupt do?", ""),
            check("idle", "claude.idle.composer"),
        ),
    );

    // (9) Transcript text quoting a dialog.
    let mut f = Fixture::new(
        "claude",
        "negative-quoted-dialog",
        120,
        40,
        "negative: transcript rows quoting Do you want to proceed? and 1. Yes",
    );
    let middle = lines(&[
        "⏺ The prompt reads \"Do you want to proceed?\" and then \"❯ 1. Yes\".",
        "",
        "⏺ {b}Read{/}(docs/dialogs.md)",
        "  ⎿  Do you want to proceed?",
        "  ⎿  ❯ 1. Yes",
        "",
    ]);
    let (screen, cursor) = claude_screen(120, &middle, "Do you want to proceed? 1. Yes", "");
    f.frame(&screen, cursor);
    f.expect(check("idle", "claude.idle.composer"));
    out.push(f);

    // (9) A shell, not Claude, whose prompt is `❯`.
    let mut f = Fixture::new(
        "claude",
        "negative-shell-prompt",
        80,
        24,
        "negative: a shell printing ❯ has no composer",
    );
    f.print(
        "{g}~/proj{/} on main\n❯ ls\nCargo.toml  src\n\n{g}~/proj{/} on main\n❯ "
            .replace("{g}", "\x1b[32m")
            .replace("{/}", "\x1b[0m")
            .as_str(),
    );
    f.expect(check("none", ""));
    out.push(f);
}

// ---------------------------------------------------------------------------------------
// Codex CLI (§5.2.3): history, a status row about three rows above the composer `›`, footer.

const CODEX_BANNER: [&str; 7] = [
    "{d}╭──────────────────────────────────────────────╮{/}",
    "{d}│{/} >_ {b}OpenAI Codex{/} (v0.134.0)                    {d}│{/}",
    "{d}│{/}                                              {d}│{/}",
    "{d}│{/} model:     gpt-5.5 high   /model to change   {d}│{/}",
    "{d}│{/} directory: ~/proj                            {d}│{/}",
    "{d}╰──────────────────────────────────────────────╯{/}",
    "",
];

const CODEX_TURN: [&str; 5] =
    ["{b}›{/} fix the flaky api test", "", "• Ran npm test", "  └ 1 failed, 41 passed", ""];

/// Banner, turn, `middle`, composer and footer; the cursor after the composer's text.
fn codex_screen(middle: &[String], text: &str, footer: &str) -> (Vec<String>, (usize, usize)) {
    let mut all = lines(&CODEX_BANNER);
    all.extend(lines(&CODEX_TURN));
    all.extend_from_slice(middle);
    let at = all.len();
    let shown = if text.is_empty() { "{d}Ask Codex to do anything{/}" } else { text };
    all.push(format!("{{b}}›{{/}} {shown}"));
    all.push(String::new());
    all.push(format!("  {{d}}{footer}{{/}}"));
    (all, (at, 2 + text.chars().count()))
}

/// Banner, turn, then a bottom-pane dialog; the cursor on its last row.
fn codex_dialog(dialog: &[&str]) -> (Vec<String>, (usize, usize)) {
    let mut all = lines(&CODEX_BANNER);
    all.extend(lines(&CODEX_TURN));
    all.extend(lines(dialog));
    let at = all.len() - 1;
    (all, (at, 0))
}

fn codex(out: &mut Vec<Fixture>) {
    const FOOTER: &str =
        "? for shortcuts                                              100% context left";
    // (10) Working: bullet alternating, seconds.
    let mut f = Fixture::new("codex", "working", 80, 24, "status row, bullet alternating, seconds");
    for (i, bullet) in ["•", "◦", "•", "◦"].iter().enumerate() {
        let status =
            format!("{{b}}{bullet} Working{{/}} {{d}}({}s • esc to interrupt){{/}}", 7 + i);
        let (screen, cursor) = codex_screen(&[status, String::new()], "", FOOTER);
        f.frame(&screen, cursor);
        let c = check("working", "codex.working.status")
            .detail("Working")
            .also(&["codex.idle.composer"]);
        f.expect(if i == 0 { c.meta("version", "0.134.0").meta("model", "gpt-5.5") } else { c });
    }
    let status = "{b}• Working{/} {d}(11s • esc to interrupt){/}".to_string();
    let (screen, cursor) = codex_screen(
        &[status, String::new()],
        "",
        "Ctrl+L is disabled while a task is in progress",
    );
    f.frame(&screen, cursor);
    f.expect(check("working", "codex.working.status").also(&["codex.working.ctrl_l"]));
    out.push(f);

    // (10) Minutes and a background terminal, 120 columns.
    let mut f = Fixture::new(
        "codex",
        "working-minutes-background",
        120,
        40,
        "minutes, background-terminal suffix",
    );
    for secs in ["1m 02s", "1m 03s"] {
        let status = format!(
            "{{b}}◦ Planning the change{{/}} {{d}}({secs} • esc to interrupt) · 1 background terminal running · /ps to view · /stop to close{{/}}"
        );
        let (screen, cursor) = codex_screen(&[status, String::new()], "", FOOTER);
        f.frame(&screen, cursor);
        f.expect(
            check("working", "codex.working.status")
                .detail("Planning the change")
                .also(&["codex.background.terminals"]),
        );
    }
    out.push(f);

    // (10) The status row cut on a narrow pane.
    let mut f =
        Fixture::new("codex", "working-narrow", 40, 20, "narrow pane: the status row is cut");
    let status = "{b}• Working{/} {d}(12s • esc to…{/}".to_string();
    let (screen, cursor) = codex_screen(&[status, String::new()], "", "100% context left");
    f.frame(&screen, cursor);
    f.expect(check("working", "codex.working.status"));
    out.push(f);

    // (11) Command approval.
    let frame = codex_dialog(&[
        "  {b}Would you like to run the following command?{/}",
        "",
        "  Reason: run the api tests alone",
        "",
        "  {d}${/} npm test -- api",
        "",
        "{c}› 1. Yes, proceed (y){/}",
        "  2. Yes, and don't ask again for commands that start with `npm test` (p)",
        "  3. No, and tell Codex what to do differently (esc)",
        "",
        "  {d}Press enter to confirm or esc to cancel{/}",
    ]);
    out.push(Fixture::new("codex", "approval-command", 80, 30, "command approval").still(
        frame,
        check("needs_approval", "codex.approval.command").tool("shell").detail("npm test -- api"),
    ));

    let mut f = Fixture::new("codex", "approval-edits", 120, 40, "edit approval");
    let (screen, cursor) = codex_dialog(&[
        "  {b}Would you like to make the following edits?{/}",
        "",
        "  src/api.ts (+1 -1)",
        "    12 {r}-const timeout = 10;{/}",
        "    12 {g}+const timeout = 30;{/}",
        "",
        "{c}› 1. Yes, proceed (y){/}",
        "  2. Yes, and don't ask again for these files (a)",
        "  3. No, and tell Codex what to do differently (esc)",
        "",
        "  {d}Press enter to confirm or esc to cancel{/}",
    ]);
    f.frame(&screen, cursor);
    f.expect(check("needs_approval", "codex.approval.edits").tool("apply_patch"));
    out.push(f);

    out.push(
        Fixture::new(
            "codex",
            "approval-permissions",
            80,
            30,
            "grant-permissions approval (never auto-answered)",
        )
        .still(
            codex_dialog(&[
                "  {b}Would you like to grant these permissions?{/}",
                "",
                "  Environment: network access to registry.npmjs.org",
                "",
                "{c}› 1. Yes, grant for this session (y){/}",
                "  2. No, and tell Codex what to do differently (esc)",
                "",
                "  {d}Press enter to confirm or esc to cancel{/}",
            ]),
            check("needs_approval", "codex.approval.permissions"),
        ),
    );

    let mut f =
        Fixture::new("codex", "approval-legacy", 80, 24, "older build: Allow command? [y/n]");
    let (screen, cursor) = codex_dialog(&[
        "  {b}Allow command?{/}",
        "",
        "  $ make test",
        "",
        "  Yes (y)   No (n)   [y/n]",
    ]);
    f.frame(&screen, cursor);
    f.expect(check("needs_approval", "codex.approval.legacy").tool("shell"));
    out.push(f);

    // (12) A question, and a queued one.
    let frame = codex_dialog(&[
        "  {b}Codex needs your input{/}",
        "",
        "  Which database should the tests use?",
        "",
        "{c}› 1. SQLite in memory{/}",
        "  2. Postgres in Docker",
        "",
        "  {d}tab to add notes | enter to submit answer | esc to interrupt{/}",
    ]);
    out.push(
        Fixture::new("codex", "question", 120, 40, "a question from Codex")
            .still(frame, check("needs_input", "codex.input.question")),
    );

    let mut f =
        Fixture::new("codex", "question-queued", 80, 24, "a queued question under the composer");
    let (screen, cursor) = codex_screen(&[], "", "? 1 question · shift + ← to answer");
    f.frame(&screen, cursor);
    f.expect(check("needs_input", "codex.input.queued"));
    out.push(f);

    // (13) Idle, both footer styles.
    out.push(
        Fixture::new("codex", "idle-shortcuts", 80, 24, "idle composer, shortcuts footer").still(
            codex_screen(&[], "", FOOTER),
            check("idle", "codex.idle.composer")
                .meta("version", "0.134.0")
                .meta("model", "gpt-5.5"),
        ),
    );

    let mut f = Fixture::new(
        "codex",
        "idle-status-footer",
        120,
        40,
        "idle composer with typed text, status footer",
    );
    for text in ["", "add a retry", "add a retry to the api client"] {
        let (screen, cursor) = codex_screen(&[], text, "gpt-5.5 high · ~/proj · main · 88% left");
        f.frame(&screen, cursor);
        f.expect(check("idle", "codex.idle.composer"));
    }
    out.push(f);

    // (14) Done.
    let mut f = Fixture::new("codex", "done", 120, 40, "turn summary rule above the composer");
    let middle = lines(&[
        "• Raised the api timeout to 30 s; the test passes.",
        "",
        &format!("─ Worked for 2m 04s {}", "─".repeat(90)),
        "",
    ]);
    let (screen, cursor) = codex_screen(&middle, "", FOOTER);
    f.frame(&screen, cursor);
    f.expect(check("done", "codex.done.worked").also(&["codex.idle.composer"]));
    out.push(f);

    // (15) Usage limit.
    let mut f = Fixture::new("codex", "error-usage-limit", 80, 24, "■ usage-limit error");
    let middle = lines(&[
        "{r}■ You've hit your usage limit. Upgrade to Pro or try again in 4 hours.{/}",
        "",
    ]);
    let (screen, cursor) = codex_screen(&middle, "", FOOTER);
    f.frame(&screen, cursor);
    f.expect(check("errored", "codex.error.banner"));
    out.push(f);

    // (16) Setup.
    let setups: [(&str, u16, u16, &[&str], &str); 4] = [
        (
            "setup-trust",
            80,
            24,
            &[
                "> You are running Codex in /home/u/proj",
                "",
                "  Since this folder is version controlled, you may wish to allow Codex",
                "  to work in this folder without asking for approval.",
                "",
                "  Do you trust the contents of this directory?",
                "",
                "{c}› 1. Yes, continue{/}",
                "  2. No, quit",
                "",
                "  {d}Press enter to continue{/}",
            ],
            "codex.setup.trust",
        ),
        (
            "setup-trust-old",
            80,
            24,
            &[
                "  Do you trust the files in this folder?",
                "",
                "{c}› 1. Yes, allow Codex to work in this folder without asking for approval{/}",
                "  2. No, ask me to approve edits and commands",
            ],
            "codex.setup.trust",
        ),
        (
            "setup-login",
            80,
            24,
            &[
                "  {b}Welcome to Codex{/}, OpenAI's command-line coding agent",
                "",
                "  Sign in with ChatGPT to use Codex as part of your paid plan",
                "  or connect an API key for usage-based billing",
                "",
                "{c}› 1. Sign in with ChatGPT{/}",
                "  2. Provide your own API key",
                "",
                "  {d}Press enter to continue{/}",
            ],
            "codex.setup.login",
        ),
        (
            "setup-hooks-review",
            120,
            40,
            &[
                "  {b}Hooks need review{/}",
                "",
                "  /home/u/.codex/hooks.json defines 3 new hooks:",
                "    SessionStart   /usr/local/bin/tsm hook codex",
                "",
                "{c}› 1. Trust all and continue{/}",
                "  2. Continue without trusting (hooks won't run)",
                "",
                "  {d}Press enter to confirm or esc to go back{/}",
            ],
            "codex.setup.hooks",
        ),
    ];
    for (name, cols, rows, dialog, rule) in setups {
        let mut f = Fixture::new("codex", name, cols, rows, "setup screen");
        let screen = lines(dialog);
        let at = screen.len() - 1;
        f.frame(&screen, (at, 0));
        f.expect(check("setup", rule));
        out.push(f);
    }

    // (17) Exit lines, the resume command wrapped on a narrow pane.
    let mut f =
        Fixture::new("codex", "exit-lines-narrow", 60, 20, "exit lines; the session id wraps");
    let (screen, cursor) = codex_screen(&[], "", "100% context left");
    f.frame(&screen, cursor);
    f.expect(check("idle", "codex.idle.composer"));
    f.print("\x1b[H\x1b[2J\x1b[?25hToken usage: total=12,345 input=10,000 (+ 8,000 cached) output=2,345 (reasoning 1,024)\nTo continue this session, run codex resume 019e353a-1c2b-7d4e-8f90-123456789abc\n$ ");
    f.expect(check("none", "").meta("session_id", "019e353a-1c2b-7d4e-8f90-123456789abc"));
    out.push(f);

    // (18) `codex exec`: the header, then an error.
    let mut f = Fixture::new(
        "codex",
        "exec-header-error",
        120,
        40,
        "codex exec header with session id, then ERROR:",
    );
    f.print(concat!(
        "OpenAI Codex v0.134.0 (research preview)\n",
        "--------\n",
        "workdir: /home/u/proj\n",
        "model: gpt-5.5\n",
        "provider: openai\n",
        "approval: never\n",
        "sandbox: read-only\n",
        "reasoning effort: high\n",
        "session id: 019e353a-1c2b-7d4e-8f90-123456789abc\n",
        "--------\n",
        "user\n",
        "say hi\n",
    ));
    f.expect(
        check("none", "")
            .meta("session_id", "019e353a-1c2b-7d4e-8f90-123456789abc")
            .meta("version", "0.134.0")
            .meta("model", "gpt-5.5"),
    );
    f.print("ERROR: stream disconnected before completion: error sending request\n$ ");
    f.expect(check("errored", "codex.error.exec"));
    out.push(f);
}

// ---------------------------------------------------------------------------------------
// Gemini CLI (§5.3): history, a loading row, the input box, a status line.

const GEMINI_BANNER: [&str; 3] =
    ["{m}Tips for getting started:{/}", "1. Ask questions, edit files, or run commands.", ""];

fn gemini_input_box(cols: usize, text: &str) -> Vec<String> {
    let inner = cols - 4;
    let shown = if text.is_empty() {
        "{d}Type your message or @path/to/file{/}".to_string()
    } else {
        text.to_string()
    };
    let pad = inner.saturating_sub(2 + if text.is_empty() { 35 } else { text.chars().count() });
    vec![
        format!("{{c}}╭{}╮{{/}}", "─".repeat(inner + 2)),
        format!("{{c}}│{{/}} > {shown}{}{{c}}│{{/}}", " ".repeat(pad)),
        format!("{{c}}╰{}╯{{/}}", "─".repeat(inner + 2)),
        "~/proj (main*)        no sandbox (see /docs)        gemini-2.5-pro (100% context left)"
            .to_string(),
    ]
}

fn gemini_screen(cols: usize, middle: &[String], text: &str) -> (Vec<String>, (usize, usize)) {
    let mut all = lines(&GEMINI_BANNER);
    all.push("{d}> {/}fix the flaky api test".into());
    all.push(String::new());
    all.extend_from_slice(middle);
    let at = all.len() + 1;
    all.extend(gemini_input_box(cols, text));
    (all, (at, 4 + text.chars().count()))
}

fn gemini_confirmation(cols: usize, body: &[&str]) -> (Vec<String>, (usize, usize)) {
    let mut all = lines(&GEMINI_BANNER);
    all.push("{d}> {/}fix the flaky api test".into());
    all.push(String::new());
    let inner = cols - 4;
    all.push(format!("{{y}}╭{}╮{{/}}", "─".repeat(inner + 2)));
    for line in body {
        all.push(format!("{{y}}│{{/}} {line}"));
    }
    all.push(format!("{{y}}╰{}╯{{/}}", "─".repeat(inner + 2)));
    all.push(String::new());
    all.push("{m}⠏{/} Waiting for user confirmation...".into());
    let at = all.len() - 1;
    (all, (at, 0))
}

fn gemini(out: &mut Vec<Fixture>) {
    let mut f = Fixture::new("gemini", "working", 80, 24, "loading row with seconds");
    for (i, glyph) in ["⠋", "⠙", "⠹"].iter().enumerate() {
        let row =
            format!("{{m}}{glyph}{{/}} Counting electrons {{d}}(esc to cancel, {}s){{/}}", 3 + i);
        let (screen, cursor) = gemini_screen(80, &[row, String::new()], "");
        f.frame(&screen, cursor);
        f.expect(check("working", "gemini.working.status").also(&["gemini.idle.prompt"]));
    }
    out.push(f);

    let mut f = Fixture::new("gemini", "working-minutes", 120, 40, "loading row past a minute");
    let row = "{m}⠼{/} Reading the test logs {d}(esc to cancel, 1m 5s){/}".to_string();
    let (screen, cursor) = gemini_screen(120, &[row, String::new()], "");
    f.frame(&screen, cursor);
    f.expect(check("working", "gemini.working.status"));
    out.push(f);

    let confirmations: [(&str, u16, u16, &[&str], Check); 4] = [
        (
            "confirm-exec",
            80,
            30,
            &[
                "{b}?  Shell{/} npm test -- api",
                "",
                "   npm test -- api",
                "",
                "Allow execution of: 'npm'?",
                "",
                "{g}● 1. Yes, allow once{/}",
                "  2. Yes, allow always ...",
                "  3. No, suggest changes (esc)",
            ],
            check("needs_approval", "gemini.approval.exec")
                .tool("Shell")
                .detail("npm")
                .also(&["gemini.approval.waiting"]),
        ),
        (
            "confirm-edit",
            120,
            40,
            &[
                "{b}?  Edit{/} src/api.ts: const timeout = 10; => const timeout = 30;",
                "",
                "   12 {r}- const timeout = 10;{/}",
                "   12 {g}+ const timeout = 30;{/}",
                "",
                "Apply this change?",
                "",
                "{g}● 1. Yes, allow once{/}",
                "  2. Yes, allow always",
                "  3. Modify with external editor",
                "  4. No, suggest changes (esc)",
            ],
            check("needs_approval", "gemini.approval.edit").tool("Edit"),
        ),
        (
            "confirm-mcp-untrusted",
            120,
            40,
            &[
                "{b}?  create_issue{/} (github MCP Server)",
                "",
                "Allow execution of MCP tool \"create_issue\" from server \"github\"?",
                "",
                "{g}● 1. Yes, allow once{/}",
                "  2. No, suggest changes (esc)",
            ],
            check("needs_approval", "gemini.approval.mcp").tool("create_issue").detail("github"),
        ),
        (
            "confirm-info",
            80,
            30,
            &[
                "{b}?  WebFetch{/} Fetch https://docs.rs/regex",
                "",
                "URLs to fetch:",
                " - https://docs.rs/regex",
                "",
                "Do you want to proceed?",
                "",
                "{g}● 1. Yes, allow once{/}",
                "  2. Yes, allow always",
                "  3. No, suggest changes (esc)",
            ],
            check("needs_approval", "gemini.approval.info"),
        ),
    ];
    for (name, cols, rows, body, c) in confirmations {
        out.push(
            Fixture::new("gemini", name, cols, rows, "tool confirmation")
                .still(gemini_confirmation(usize::from(cols), body), c),
        );
    }

    let mut f = Fixture::new(
        "gemini",
        "waiting-only",
        80,
        24,
        "only the loading row says a confirmation waits",
    );
    let row = "{m}⠏{/} Waiting for user confirmation...".to_string();
    let mut screen = lines(&GEMINI_BANNER);
    screen.push(row);
    f.frame(&screen, (3, 0));
    f.expect(check("needs_approval", "gemini.approval.waiting"));
    out.push(f);

    let mut f = Fixture::new("gemini", "idle", 80, 24, "idle input box, then typed text");
    for text in ["", "add a retry"] {
        let (screen, cursor) = gemini_screen(80, &[], text);
        f.frame(&screen, cursor);
        f.expect(check("idle", "gemini.idle.prompt"));
    }
    out.push(f);

    let setups: [(&str, &[&str], &str); 2] = [
        (
            "setup-trust",
            &[
                "{y}╭──────────────────────────────────────────────────────────────────────────╮{/}",
                "{y}│{/} {b}Do you trust this folder?{/}",
                "{y}│{/}",
                "{y}│{/} Trusting a folder allows Gemini to execute commands it suggests.",
                "{y}│{/}",
                "{y}│{/} {g}● 1. Trust folder (proj){/}",
                "{y}│{/}   2. Trust parent folder (u)",
                "{y}│{/}   3. Don't trust",
                "{y}╰──────────────────────────────────────────────────────────────────────────╯{/}",
            ],
            "gemini.setup.trust",
        ),
        (
            "setup-auth",
            &[
                "Code Assist login required.",
                "Attempting to open authentication page in your browser.",
                "Otherwise navigate to:",
                "",
                "Please visit the following URL to authorize the application:",
                "",
                "https://accounts.google.com/o/oauth2/v2/auth?client_id=681255809395",
                "",
                "Enter the authorization code:",
            ],
            "gemini.setup.auth",
        ),
    ];
    for (name, body, rule) in setups {
        let mut f = Fixture::new("gemini", name, 80, 24, "setup dialog");
        let screen = lines(body);
        let at = screen.len() - 1;
        f.frame(&screen, (at, 0));
        f.expect(check("setup", rule));
        out.push(f);
    }

    let mut f =
        Fixture::new("gemini", "error-usage-limit", 80, 24, "usage limit above the input box");
    let middle = lines(&["{r}✕ Usage limit reached for gemini-2.5-pro.{/}", ""]);
    let (screen, cursor) = gemini_screen(80, &middle, "");
    f.frame(&screen, cursor);
    f.expect(check("errored", "gemini.error.usage").also(&["gemini.idle.prompt"]));
    out.push(f);
}

// ---------------------------------------------------------------------------------------
// Aider (§5.4): printed lines, questions and the prompt at the bottom.

const AIDER_BANNER: &str = concat!(
    "Aider v0.86.1\n",
    "Main model: anthropic/claude-sonnet-4 with diff edit format\n",
    "Git repo: .git with 42 files\n",
    "Repo-map: using 4096 tokens, auto refresh\n",
    "\n",
);

fn aider(out: &mut Vec<Fixture>) {
    let mut f = Fixture::new(
        "aider",
        "confirm-add-file",
        80,
        24,
        "add-file confirmation, then the prompt after the answer",
    );
    f.print(AIDER_BANNER);
    f.print("> fix the api timeout\n\nsrc/api.py\n\x1b[32mAdd file to the chat? (Y)es/(N)o/(D)on't ask again [Yes]: \x1b[0m");
    f.expect(check("needs_approval", "aider.approval.confirm").meta("version", "0.86.1"));
    f.print("y\n\nTokens: 12k sent, 1.2k received. Cost: $0.01 message, $0.05 session.\n> ");
    f.expect(
        check("idle", "aider.idle.prompt")
            .meta("cost_usd", "0.05")
            .meta("model", "anthropic/claude-sonnet-4"),
    );
    out.push(f);

    let mut f = Fixture::new(
        "aider",
        "confirm-shell-all",
        120,
        40,
        "shell-command confirmation with All and Skip all",
    );
    f.print(AIDER_BANNER);
    f.print("> run the tests\n\nnpm test -- api\n\x1b[32mRun shell command? (Y)es/(N)o/(A)ll/(S)kip all/(D)on't ask again [Yes]: \x1b[0m");
    f.expect(check("needs_approval", "aider.approval.confirm"));
    out.push(f);

    let mut f = Fixture::new("aider", "prompt-architect", 80, 24, "the architect-mode prompt");
    f.print(AIDER_BANNER);
    f.print("architect> ");
    f.expect(check("idle", "aider.idle.prompt"));
    out.push(f);
}

// ---------------------------------------------------------------------------------------
// OpenCode (§5.5): a full-screen TUI.

fn opencode_screen(cols: usize, body: &[&str], footer: &str) -> (Vec<String>, (usize, usize)) {
    let mut all = vec![format!(
        "{{b}}opencode{{/}} {{d}}v1.14.40{{/}}{}~/proj",
        " ".repeat(cols.saturating_sub(30))
    )];
    all.push(String::new());
    all.extend(lines(body));
    while all.len() < 20 {
        all.push(String::new());
    }
    all.push("{d}┃{/} {d}Ask anything… \"Fix a TODO in the codebase\"{/}".to_string());
    all.push(String::new());
    all.push(format!("{{d}}{footer}{{/}}"));
    let at = all.len() - 3;
    (all, (at, 2))
}

fn opencode(out: &mut Vec<Fixture>) {
    let mut f =
        Fixture::new("opencode", "busy", 120, 24, "busy: pulse glyphs, Thinking..., esc interrupt")
            .alt();
    for pulse in ["█", "▓", "▒", "░"] {
        let body = format!("{{c}}{pulse}{{/}} Thinking...");
        let (screen, cursor) = opencode_screen(
            120,
            &["{b}› fix the flaky api test{/}", "", &body],
            "esc interrupt                                 ctrl+p commands",
        );
        f.frame(&screen, cursor);
        f.expect(check("working", "opencode.working.status").also(&["opencode.idle.prompt"]));
    }
    out.push(f);

    let mut f = Fixture::new("opencode", "permission", 120, 30, "permission request").alt();
    let body = [
        "{b}› fix the flaky api test{/}",
        "",
        "{y}△ Permission required{/}",
        "  $ npm test -- api",
        "",
        "  {d}enter submit   esc dismiss{/}",
    ];
    let (screen, cursor) = opencode_screen(120, &body, "");
    f.frame(&screen, cursor);
    f.expect(check("needs_approval", "opencode.approval.permission"));
    out.push(f);

    let mut f = Fixture::new("opencode", "idle", 80, 24, "idle prompt").alt();
    let (screen, cursor) =
        opencode_screen(80, &[], "press enter to send                  ctrl+p commands");
    f.frame(&screen, cursor);
    f.expect(check("idle", "opencode.idle.prompt"));
    out.push(f);
}
