//! `tsm hooks install|uninstall claude|codex|gemini [--dry-run]` on scratch settings files
//! (spec/agents.md §5.1.2, §5.2.2, §5.3): the user's own settings survive, backups are
//! made, a second install writes nothing, uninstall gives the original bytes back.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::{Run, TestDir, tsm_bin};

/// A user's Claude settings in the two-space form tsm writes back byte for byte.
const CLAUDE_SETTINGS: &str = r#"{
  "model": "opus",
  "hooks": {
    "Stop": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "notify-send 'Claude is done'"
          }
        ]
      }
    ],
    "PreToolUse": [
      {
        "matcher": "Bash",
        "hooks": [
          {
            "type": "command",
            "command": "~/bin/guard.sh",
            "timeout": 30
          }
        ]
      }
    ]
  },
  "statusLine": {
    "type": "command",
    "command": "~/bin/line.sh --user 'it''s me'",
    "padding": 0
  },
  "enabledPlugins": {
    "x@y": true
  }
}
"#;

/// A user's Codex config with comments and a notify of their own.
const CODEX_CONFIG: &str = r#"# My Codex settings.
model = "gpt-5.5" # fast enough

# Desktop notification at the end of a turn.
notify = ["notify-send", "Codex"]

[tui]
notifications = true # keep
"#;

/// A user's Gemini settings with a hook of their own.
const GEMINI_SETTINGS: &str = r#"{
  "hooks": {
    "AfterTool": [
      {
        "matcher": "write_file",
        "hooks": [
          {
            "type": "command",
            "command": "~/bin/fmt.sh",
            "name": "fmt"
          }
        ]
      }
    ]
  },
  "ui": {
    "theme": "GitHub"
  }
}
"#;

/// A scratch home where `tsm hooks` finds its files, and a PATH with no agents on it.
struct Scratch {
    dir: TestDir,
    bin: PathBuf,
    claude_dir: PathBuf,
    codex_dir: PathBuf,
    config_dir: PathBuf,
}

impl Scratch {
    fn new() -> Scratch {
        let dir = TestDir::new();
        let bin = dir.root().join("bin");
        fs::create_dir(&bin).expect("bin dir");
        let claude_dir = dir.root().join("claude");
        let codex_dir = dir.root().join("codex");
        let config_dir = dir.root().join("config");
        Scratch { dir, bin, claude_dir, codex_dir, config_dir }
    }

    fn claude_settings(&self) -> PathBuf {
        self.claude_dir.join("settings.json")
    }

    fn codex_config(&self) -> PathBuf {
        self.codex_dir.join("config.toml")
    }

    fn gemini_settings(&self) -> PathBuf {
        self.dir.home().join(".gemini/settings.json")
    }

    fn state_file(&self) -> PathBuf {
        self.config_dir.join("tsm/hooks-state.json")
    }

    /// Runs `tsm hooks ARGS` with the scratch environment.
    fn hooks(&self, args: &[&str]) -> Run {
        let mut cmd = self.dir.tsm();
        cmd.env("PATH", &self.bin)
            .env("XDG_CONFIG_HOME", &self.config_dir)
            .env("CLAUDE_CONFIG_DIR", &self.claude_dir)
            .env("CODEX_HOME", &self.codex_dir)
            .arg("hooks")
            .args(args);
        self.dir.run_command(cmd, &format!("tsm hooks {}", args.join(" ")))
    }

    /// `tsm hooks ARGS`, which must succeed; its stdout.
    #[track_caller]
    fn ok(&self, args: &[&str]) -> String {
        let run = self.hooks(args);
        assert_eq!(run.code(), Some(0), "tsm hooks {}: {run:?}", args.join(" "));
        run.stdout
    }

    /// Puts a file in place, creating its directory.
    fn write(&self, path: &Path, text: &str) {
        fs::create_dir_all(path.parent().expect("parent")).expect("settings dir");
        fs::write(path, text).expect("write settings");
    }
}

/// The backups of `path`, oldest name first.
fn backups(path: &Path) -> Vec<PathBuf> {
    let prefix = format!("{}.tsm-backup-", path.file_name().unwrap().to_string_lossy());
    let mut found: Vec<PathBuf> = fs::read_dir(path.parent().unwrap())
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Leftover temp files of the atomic writes in the directory of `path`.
fn temp_files(path: &Path) -> Vec<String> {
    fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains("tsm-tmp"))
        .collect()
}

/// The path tsm puts in the hook commands: its own, as the kernel reports it.
fn tsm_path() -> String {
    fs::canonicalize(tsm_bin()).unwrap().to_string_lossy().into_owned()
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// Every command of an event's handlers, in order.
fn commands(doc: &Value, event: &str) -> Vec<String> {
    doc["hooks"][event]
        .as_array()
        .unwrap_or_else(|| panic!("no hooks.{event} in {doc}"))
        .iter()
        .flat_map(|g| g["hooks"].as_array().unwrap().iter())
        .map(|h| h["command"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn claude_install_keeps_the_users_settings_and_uninstall_gives_the_bytes_back() {
    let s = Scratch::new();
    let settings = s.claude_settings();
    s.write(&settings, CLAUDE_SETTINGS);
    fs::set_permissions(&settings, fs::Permissions::from_mode(0o600)).unwrap();
    let tsm = tsm_path();

    let out = s.ok(&["install", "claude"]);
    assert!(out.starts_with(&format!("Updated {} (backup: ", settings.display())), "{out}");
    assert!(out.contains(&format!("  hooks.SessionStart: added {tsm} hook claude\n")), "{out}");
    assert!(out.ends_with("Restart running Claude sessions to pick up the hooks.\n"), "{out}");

    let doc = parse(&read(&settings));
    let original = parse(CLAUDE_SETTINGS);
    let ours = format!("{tsm} hook claude");
    assert_eq!(commands(&doc, "Stop"), ["notify-send 'Claude is done'".to_owned(), ours.clone()]);
    assert_eq!(commands(&doc, "PreToolUse"), ["~/bin/guard.sh".to_owned(), ours.clone()]);
    assert_eq!(doc["hooks"]["PreToolUse"][0], original["hooks"]["PreToolUse"][0]);
    assert_eq!(commands(&doc, "SessionEnd"), [ours]);
    assert_eq!(doc["enabledPlugins"], original["enabledPlugins"]);
    let keys: Vec<&String> = doc.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["model", "hooks", "statusLine", "enabledPlugins"]);
    assert_eq!(
        doc["statusLine"],
        json!({
            "type": "command",
            "command": format!(r#"{tsm} statusline --chain '~/bin/line.sh --user '\''it'\'''\''s me'\'''"#),
            "padding": 0,
        })
    );
    assert_eq!(fs::metadata(&settings).unwrap().permissions().mode() & 0o777, 0o600);
    assert!(temp_files(&settings).is_empty(), "{:?}", temp_files(&settings));

    let first_backups = backups(&settings);
    assert_eq!(first_backups.len(), 1, "{first_backups:?}");
    assert_eq!(read(&first_backups[0]), CLAUDE_SETTINGS);
    let state = parse(&read(&s.state_file()));
    assert_eq!(state["claude"]["status_line"]["value"], original["statusLine"], "{state}");

    // A second install changes nothing and makes no backup.
    let installed = read(&settings);
    let out = s.ok(&["install", "claude"]);
    assert_eq!(
        out,
        format!("tsm's hooks are already in {}; nothing changed\n", settings.display())
    );
    assert_eq!(read(&settings), installed);
    assert_eq!(backups(&settings), first_backups);

    let out = s.ok(&["uninstall", "claude"]);
    assert!(out.contains("  statusLine: restored the one tsm had replaced\n"), "{out}");
    assert_eq!(read(&settings), CLAUDE_SETTINGS);
    assert_eq!(fs::metadata(&settings).unwrap().permissions().mode() & 0o777, 0o600);
    let all_backups = backups(&settings);
    assert_eq!(all_backups.len(), 2, "{all_backups:?}");
    assert!(all_backups.iter().any(|b| read(b) == installed), "the uninstall's backup");
    assert_eq!(parse(&read(&s.state_file()))["claude"], json!({}));

    let out = s.ok(&["uninstall", "claude"]);
    assert_eq!(out, format!("No tsm hooks in {}; nothing changed\n", settings.display()));
    assert_eq!(backups(&settings).len(), 2);
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let s = Scratch::new();
    let settings = s.claude_settings();
    s.write(&settings, CLAUDE_SETTINGS);
    let run = s.hooks(&["install", "claude", "--dry-run"]);
    assert_eq!(run.code(), Some(0), "{run:?}");
    let path = settings.display().to_string();
    assert!(run.stdout.starts_with(&format!("--- {path}\n+++ {path}\n@@ -")), "{}", run.stdout);
    let tsm = tsm_path();
    assert!(run.stdout.contains(&format!("+            \"command\": \"{tsm} hook claude\",\n")));
    assert!(run.stdout.contains("-    \"command\": \"~/bin/line.sh --user 'it''s me'\",\n"));
    let context = "             \"command\": \"notify-send 'Claude is done'\"\n";
    assert!(run.stdout.contains(context), "context lines: {}", run.stdout);
    assert!(!run.stdout.contains("\"model\""), "only 3 lines of context: {}", run.stdout);
    assert_eq!(run.stderr, "Dry run: nothing written.\n");
    assert_eq!(read(&settings), CLAUDE_SETTINGS);
    assert!(backups(&settings).is_empty());
    assert!(!s.state_file().exists());

    // A missing file: the diff starts from /dev/null and nothing is created.
    let gemini = s.gemini_settings();
    let run = s.hooks(&["install", "gemini", "--dry-run"]);
    assert_eq!(run.code(), Some(0), "{run:?}");
    assert!(
        run.stdout.starts_with(&format!("--- /dev/null\n+++ {}\n@@ -0,0 +1,", gemini.display()))
    );
    assert!(!gemini.exists());
    assert!(!gemini.parent().unwrap().exists());
}

#[test]
fn install_creates_a_missing_file_and_its_directory() {
    let s = Scratch::new();
    let settings = s.claude_settings();
    let out = s.ok(&["install", "claude"]);
    assert!(out.starts_with(&format!("Created {}:\n", settings.display())), "{out}");
    let doc = parse(&read(&settings));
    assert_eq!(doc["statusLine"]["command"], format!("{} statusline", tsm_path()));
    assert!(backups(&settings).is_empty());
    s.ok(&["uninstall", "claude"]);
    assert_eq!(read(&settings), "{}\n");
}

#[test]
fn codex_install_chains_notify_keeps_comments_and_uninstall_restores_it() {
    let s = Scratch::new();
    let config = s.codex_config();
    s.write(&config, CODEX_CONFIG);
    let tsm = tsm_path();
    let out = s.ok(&["install", "codex"]);
    assert!(out.ends_with("Restart running Codex sessions to pick up the notify command.\n"));
    assert!(!out.contains("Hooks need review"), "{out}");
    let expected = CODEX_CONFIG.replace(
        r#"notify = ["notify-send", "Codex"]"#,
        &format!(r#"notify = ["{tsm}", "hook", "codex", "--", "notify-send", "Codex"]"#),
    );
    assert_eq!(read(&config), expected);
    assert_eq!(backups(&config).len(), 1);
    assert!(
        !s.codex_dir.join("hooks.json").exists(),
        "no Codex version is verified for hooks.json"
    );

    let out = s.ok(&["install", "codex"]);
    assert!(out.ends_with("nothing changed\n"), "{out}");
    assert_eq!(backups(&config).len(), 1);

    s.ok(&["uninstall", "codex"]);
    assert_eq!(read(&config), CODEX_CONFIG);
}

#[test]
fn gemini_install_and_uninstall_keep_the_users_hooks() {
    let s = Scratch::new();
    let settings = s.gemini_settings();
    s.write(&settings, GEMINI_SETTINGS);
    let tsm = tsm_path();
    let out = s.ok(&["install", "gemini"]);
    assert!(out.ends_with("Restart running Gemini CLI sessions to pick up the hooks.\n"));
    let doc = parse(&read(&settings));
    assert_eq!(
        commands(&doc, "AfterTool"),
        ["~/bin/fmt.sh".to_owned(), format!("{tsm} hook gemini")]
    );
    assert_eq!(doc["hooks"]["BeforeAgent"][0]["hooks"][0]["timeout"], 5000);
    assert_eq!(doc["hooks"].get("enabled"), None, "unknown version: no enabling flags");
    assert_eq!(doc.get("tools"), None);
    s.ok(&["uninstall", "gemini"]);
    assert_eq!(read(&settings), GEMINI_SETTINGS);
}

#[test]
fn a_bad_settings_file_is_refused_and_left_alone() {
    let s = Scratch::new();
    let settings = s.claude_settings();
    for text in ["{\"hooks\": [", "{\"hooks\": []}\n"] {
        s.write(&settings, text);
        let run = s.hooks(&["install", "claude"]);
        assert_eq!(run.code(), Some(1), "{run:?}");
        let prefix = format!(
            "Cannot install the Claude Code hooks in {} (left unchanged): ",
            settings.display()
        );
        assert!(run.stderr.starts_with(&prefix), "{}", run.stderr);
        assert_eq!(read(&settings), text);
        assert!(backups(&settings).is_empty());
    }
    let run = s.hooks(&["install", "claude"]);
    assert!(run.stderr.contains("`hooks` is not a JSON object"), "{}", run.stderr);
}

#[test]
fn a_symlinked_settings_file_is_edited_where_it_points() {
    let s = Scratch::new();
    let real = s.dir.root().join("dotfiles/claude-settings.json");
    s.write(&real, CLAUDE_SETTINGS);
    fs::create_dir_all(&s.claude_dir).unwrap();
    std::os::unix::fs::symlink(&real, s.claude_settings()).unwrap();
    s.ok(&["install", "claude"]);
    assert!(fs::symlink_metadata(s.claude_settings()).unwrap().file_type().is_symlink());
    assert!(read(&real).contains(" hook claude"));
    assert_eq!(backups(&real).len(), 1);
    s.ok(&["uninstall", "claude"]);
    assert_eq!(read(&real), CLAUDE_SETTINGS);
}

#[test]
fn a_claude_that_hangs_on_version_does_not_hold_up_install() {
    let s = Scratch::new();
    let fake = s.bin.join("claude");
    fs::write(&fake, "#!/bin/sh\nPATH=/usr/bin:/bin exec sleep 60\n").unwrap();
    fs::set_permissions(&fake, fs::Permissions::from_mode(0o755)).unwrap();
    let started = Instant::now();
    s.ok(&["install", "claude"]);
    // The version probe ran, and gave up after 2 s.
    let took = started.elapsed();
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(6), "took {took:?}");
    let doc = parse(&read(&s.claude_settings()));
    assert_eq!(doc["hooks"].as_object().unwrap().len(), 9, "unknown version: core events only");
}
