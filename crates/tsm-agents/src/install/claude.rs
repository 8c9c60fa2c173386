//! Claude Code's `settings.json` (`spec/agents.md` §5.1.2): our hook handlers and the
//! statusline.

use semver::Version;
use serde_json::{Map, Value, json};

use super::{
    ClaudeState, Edit, HooksState, InstallError, StatusLineBefore, add_hook_group, hooks_object,
    is_tsm_program, parse_settings, remove_tsm_handlers, render_settings, shell_word, shell_words,
    single_quote,
};

/// The first Claude Code version on which `record probe-hooks` (§8.4) verified the
/// [`CLAUDE_EXTENDED_EVENTS`] and the `async` key. `None`: no version is verified yet, so
/// every install writes the core events only, without `async`. Older versions drop the
/// user's whole settings file for an unknown event or key, so this stays `None` until a
/// recording proves a version safe.
pub const VERIFIED_EXTENDED_HOOKS: Option<Version> = None;

/// Events every Claude Code since mid-2025 knows: always installed.
pub const CLAUDE_CORE_EVENTS: [&str; 9] = [
    "SessionStart",
    "UserPromptSubmit",
    "PreToolUse",
    "PostToolUse",
    "Notification",
    "Stop",
    "SubagentStop",
    "PreCompact",
    "SessionEnd",
];

/// Events installed only at or above [`VERIFIED_EXTENDED_HOOKS`].
pub const CLAUDE_EXTENDED_EVENTS: [&str; 4] =
    ["PermissionRequest", "PostToolUseFailure", "StopFailure", "SubagentStart"];

/// Events whose handler gets `"async": true` where the version allows it: nothing waits
/// for their answer.
pub const CLAUDE_ASYNC_EVENTS: [&str; 5] =
    ["PreToolUse", "PostToolUse", "PostToolUseFailure", "Notification", "SubagentStop"];

/// Seconds Claude waits for `tsm hook claude`, which answers within 1 s in every case.
pub const CLAUDE_HOOK_TIMEOUT_SECS: u64 = 5;

/// The end of our handlers' command: the uninstall marker.
const SUFFIX: &str = " hook claude";

/// Adds our hook handlers and statusline to Claude Code's `settings.json` (`old`, empty when
/// missing). `version` is the installed Claude's, `None` when unknown; `tsm` is the absolute
/// path of the running binary. A second install changes nothing.
///
/// # Errors
///
/// When `old` is not JSON, not an object, or its `hooks` (or an event in it) has the wrong
/// type; the file must then be left alone.
pub fn claude_install(
    old: &str,
    version: Option<&Version>,
    tsm: &str,
    state: &HooksState,
) -> Result<Edit, InstallError> {
    install_with(old, version, VERIFIED_EXTENDED_HOOKS.as_ref(), tsm, state)
}

/// [`claude_install`] with the verified threshold as a parameter, so tests reach both sides.
fn install_with(
    old: &str,
    version: Option<&Version>,
    verified: Option<&Version>,
    tsm: &str,
    state: &HooksState,
) -> Result<Edit, InstallError> {
    let extended = matches!((version, verified), (Some(v), Some(min)) if v >= min);
    let mut doc = parse_settings(old)?;
    let mut state = state.clone();
    let mut changes = Vec::new();
    let command = format!("{} hook claude", shell_word(tsm));

    let mut hooks_added = false;
    let hooks = hooks_object(&mut doc, &mut hooks_added)?;
    let extra: &[&str] = if extended { &CLAUDE_EXTENDED_EVENTS } else { &[] };
    for &event in CLAUDE_CORE_EVENTS.iter().chain(extra) {
        let mut handler = json!({
            "type": "command",
            "command": command,
            "timeout": CLAUDE_HOOK_TIMEOUT_SECS,
        });
        if extended && CLAUDE_ASYNC_EVENTS.contains(&event) {
            handler["async"] = Value::Bool(true);
        }
        if add_hook_group(hooks, event, handler, tsm, SUFFIX)? {
            changes.push(format!("hooks.{event}: added {command}"));
        }
    }
    if hooks_added {
        state.claude.hooks_key_added = true;
    }

    install_status_line(&mut doc, tsm, &mut state.claude, &mut changes);
    Ok(Edit { text: render_settings(old, doc, &changes), changes, state })
}

/// Sets `statusLine` to ours, chaining the user's command, and records what was there.
fn install_status_line(
    doc: &mut Map<String, Value>,
    tsm: &str,
    state: &mut ClaudeState,
    changes: &mut Vec<String>,
) {
    let ours = format!("{} statusline", shell_word(tsm));
    match doc.get_mut("statusLine") {
        None => {
            doc.insert("statusLine".to_owned(), json!({"type": "command", "command": ours}));
            changes.push(format!("statusLine: added {ours}"));
            state.status_line = Some(StatusLineBefore::Absent);
        }
        Some(line) if is_tsm_status_line(line, tsm) => {
            if state.status_line.is_none() {
                state.status_line = Some(StatusLineBefore::Ours);
            }
        }
        Some(line) => {
            let saved = line.clone();
            let old_command = line.get("command").and_then(Value::as_str).map(str::to_owned);
            match (line.as_object_mut(), old_command) {
                (Some(object), Some(old_command)) => {
                    let chained = format!("{ours} --chain {}", single_quote(&old_command));
                    object.insert("command".to_owned(), Value::String(chained));
                    changes.push(format!("statusLine: now {ours}, which runs {old_command}"));
                }
                _ => {
                    *line = json!({"type": "command", "command": ours});
                    changes.push(format!("statusLine: replaced by {ours} (saved the old one)"));
                }
            }
            state.status_line = Some(StatusLineBefore::Other(saved));
        }
    }
}

/// Removes our hook handlers and statusline from Claude Code's `settings.json`, restoring
/// the user's statusline from `state` (or from its `--chain`).
///
/// # Errors
///
/// When `old` is not JSON, not an object, or its `hooks` is not an object.
pub fn claude_uninstall(old: &str, state: &HooksState) -> Result<Edit, InstallError> {
    let mut doc = parse_settings(old)?;
    let mut changes = Vec::new();
    // The marker does not depend on the binary's path: any `tsm … hook claude` goes.
    let tsm = "tsm";
    if let Some(hooks) = doc.get_mut("hooks") {
        let Value::Object(hooks) = hooks else {
            return Err(InstallError::NotObject { key: "hooks".to_owned() });
        };
        let touched = remove_tsm_handlers(hooks, tsm, SUFFIX);
        for event in &touched {
            changes.push(format!("hooks.{event}: removed the tsm handler"));
        }
        if !touched.is_empty() && hooks.is_empty() && state.claude.hooks_key_added {
            doc.shift_remove("hooks");
            changes.push("hooks: removed (tsm had added it)".to_owned());
        }
    }

    let ours = doc.get("statusLine").filter(|line| is_tsm_status_line(line, tsm));
    let chained = ours.and_then(chained_command);
    match (ours.is_some(), &state.claude.status_line, chained) {
        (false, _, _) | (true, Some(StatusLineBefore::Ours), _) => {}
        (true, Some(StatusLineBefore::Other(saved)), _) => {
            doc.insert("statusLine".to_owned(), saved.clone());
            changes.push("statusLine: restored the one tsm had replaced".to_owned());
        }
        (true, _, Some(command)) => {
            doc["statusLine"]["command"] = Value::String(command.clone());
            changes.push(format!("statusLine: restored {command}"));
        }
        (true, _, None) => {
            doc.shift_remove("statusLine");
            changes.push("statusLine: removed".to_owned());
        }
    }

    let mut state = state.clone();
    state.claude = ClaudeState::default();
    Ok(Edit { text: render_settings(old, doc, &changes), changes, state })
}

/// The events of a Claude `settings.json` that hold a tsm handler, in file order (the yolo
/// `hook` mode needs `PermissionRequest` among them, §7.1).
///
/// # Errors
///
/// When `settings` is not JSON, not an object, or its `hooks` is not an object.
pub fn claude_hook_events(settings: &str) -> Result<Vec<String>, InstallError> {
    let doc = parse_settings(settings)?;
    let Some(hooks) = doc.get("hooks") else { return Ok(Vec::new()) };
    let Value::Object(hooks) = hooks else {
        return Err(InstallError::NotObject { key: "hooks".to_owned() });
    };
    // Removing from a copy reports exactly the events that hold a handler of ours.
    Ok(remove_tsm_handlers(&mut hooks.clone(), "tsm", SUFFIX))
}

/// Whether a `statusLine` value runs `tsm statusline` (or the Go tsm's `claude-statusline`).
fn is_tsm_status_line(line: &Value, tsm: &str) -> bool {
    let Some(words) = line.get("command").and_then(Value::as_str).and_then(shell_words) else {
        return false;
    };
    matches!(words.as_slice(), [program, sub, ..]
        if is_tsm_program(program, tsm) && (sub == "statusline" || sub == "claude-statusline"))
}

/// The command a `tsm statusline --chain CMD` runs after itself.
fn chained_command(line: &Value) -> Option<String> {
    let words = shell_words(line.get("command")?.as_str()?)?;
    match words.as_slice() {
        [_, _, flag, command] if flag == "--chain" => Some(command.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TSM: &str = "/usr/local/bin/tsm";

    /// A user's settings in serde_json's pretty form, with hooks and a statusline of their own.
    const USER: &str = r#"{
  "model": "opus",
  "hooks": {
    "Stop": [
      {
        "hooks": [
          {
            "type": "command",
            "command": "notify-send done"
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
    "command": "echo 'it''s me' | cat",
    "padding": 0
  },
  "permissions": {
    "allow": [
      "Bash(ls)"
    ]
  }
}
"#;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).expect("valid JSON")
    }

    fn install(old: &str) -> Edit {
        claude_install(old, None, TSM, &HooksState::default()).expect("install")
    }

    fn keys(value: &Value) -> Vec<&str> {
        value.as_object().expect("object").keys().map(String::as_str).collect()
    }

    fn commands(doc: &Value, event: &str) -> Vec<String> {
        doc["hooks"][event]
            .as_array()
            .expect("event array")
            .iter()
            .flat_map(|g| g["hooks"].as_array().expect("hooks array").iter())
            .map(|h| h["command"].as_str().expect("command").to_owned())
            .collect()
    }

    #[test]
    fn install_into_a_missing_file_adds_core_events_and_statusline() {
        let edit = install("");
        let doc = parse(&edit.text);
        assert_eq!(keys(&doc), ["hooks", "statusLine"]);
        assert_eq!(keys(&doc["hooks"]), CLAUDE_CORE_EVENTS);
        assert_eq!(
            doc["hooks"]["Stop"],
            json!([{"hooks": [{"type": "command", "command": "/usr/local/bin/tsm hook claude", "timeout": 5}]}])
        );
        assert_eq!(
            doc["statusLine"],
            json!({"type": "command", "command": "/usr/local/bin/tsm statusline"})
        );
        assert!(edit.text.ends_with("}\n"));
        assert_eq!(edit.changes.len(), CLAUDE_CORE_EVENTS.len() + 1);
        assert!(edit.state.claude.hooks_key_added);
        assert_eq!(edit.state.claude.status_line, Some(StatusLineBefore::Absent));
        assert_eq!(
            claude_install("  \n", None, TSM, &HooksState::default()).unwrap().text,
            edit.text
        );
    }

    #[test]
    fn install_is_idempotent() {
        let first = install(USER);
        let second = claude_install(&first.text, None, TSM, &first.state).unwrap();
        assert_eq!(second.text, first.text);
        assert!(second.changes.is_empty(), "{:?}", second.changes);
        assert_eq!(second.state, first.state);
    }

    #[test]
    fn install_keeps_foreign_handlers_in_order_and_unknown_keys() {
        let edit = install(USER);
        let doc = parse(&edit.text);
        assert_eq!(keys(&doc), ["model", "hooks", "statusLine", "permissions"]);
        assert_eq!(doc["permissions"], parse(USER)["permissions"]);
        // The user's events come first, in their order, then ours.
        let events = keys(&doc["hooks"]);
        assert_eq!(&events[..2], ["Stop", "PreToolUse"]);
        assert_eq!(commands(&doc, "Stop"), ["notify-send done", "/usr/local/bin/tsm hook claude"]);
        assert_eq!(
            commands(&doc, "PreToolUse"),
            ["~/bin/guard.sh", "/usr/local/bin/tsm hook claude"]
        );
        assert_eq!(doc["hooks"]["PreToolUse"][0]["matcher"], "Bash");
        assert!(doc["hooks"]["PreToolUse"][1].get("matcher").is_none());
        assert!(!edit.state.claude.hooks_key_added);
    }

    #[test]
    fn install_chains_a_statusline_with_a_single_quote_and_uninstall_restores_it() {
        let edit = install(USER);
        let doc = parse(&edit.text);
        let command = doc["statusLine"]["command"].as_str().unwrap();
        assert_eq!(
            command,
            r#"/usr/local/bin/tsm statusline --chain 'echo '\''it'\'''\''s me'\'' | cat'"#
        );
        assert_eq!(
            shell_words(command).unwrap()[3],
            "echo 'it''s me' | cat",
            "the shell gets the old command back"
        );
        assert_eq!(keys(&doc["statusLine"]), ["type", "command", "padding"]);
        assert_eq!(
            edit.state.claude.status_line,
            Some(StatusLineBefore::Other(parse(USER)["statusLine"].clone()))
        );

        // From the saved state, and with the state lost, from --chain.
        for state in [edit.state.clone(), HooksState::default()] {
            let undone = claude_uninstall(&edit.text, &state).unwrap();
            assert_eq!(parse(&undone.text)["statusLine"], parse(USER)["statusLine"]);
        }
    }

    #[test]
    fn install_then_uninstall_gives_the_original_back() {
        for original in [USER, "", "{}\n", "{\n  \"hooks\": {}\n}\n"] {
            let edit = install(original);
            let undone = claude_uninstall(&edit.text, &edit.state).unwrap();
            if original.is_empty() {
                assert_eq!(undone.text, "{}\n");
            } else {
                assert_eq!(undone.text, original, "bytes of {original:?}");
                assert_eq!(parse(&undone.text), parse(original));
            }
            assert_eq!(undone.state, HooksState::default());
        }
    }

    #[test]
    fn install_then_uninstall_of_other_formatting_gives_an_equal_document() {
        let original = "{\"a\":1,\t\"hooks\":{\"Custom\":[]},\"statusLine\":{\"command\":\"x\"}}";
        let edit = install(original);
        let undone = claude_uninstall(&edit.text, &edit.state).unwrap();
        assert_eq!(parse(&undone.text), parse(original));
        assert_eq!(keys(&parse(&undone.text)), ["a", "hooks", "statusLine"]);
    }

    #[test]
    fn uninstall_leaves_a_statusline_that_was_ours_before_install() {
        let original =
            "{\n  \"statusLine\": {\n    \"command\": \"tsm claude-statusline\"\n  }\n}\n";
        let edit = install(original);
        assert_eq!(edit.state.claude.status_line, Some(StatusLineBefore::Ours));
        assert_eq!(parse(&edit.text)["statusLine"]["command"], "tsm claude-statusline");
        let undone = claude_uninstall(&edit.text, &edit.state).unwrap();
        assert_eq!(undone.text, original);
    }

    #[test]
    fn uninstall_of_a_file_without_our_hooks_changes_nothing() {
        let undone = claude_uninstall(USER, &HooksState::default()).unwrap();
        assert_eq!(undone.text, USER);
        assert!(undone.changes.is_empty());
        let undone = claude_uninstall("", &HooksState::default()).unwrap();
        assert_eq!(undone.text, "");
    }

    #[test]
    fn uninstall_finds_handlers_of_a_tsm_elsewhere_and_keeps_user_empties() {
        let text = r#"{"hooks": {"Stop": [{"hooks": [
            {"type": "command", "command": "/old/place/tsm hook claude"},
            {"type": "command", "command": "say done"}]}],
          "Notification": [{"hooks": [{"type": "command", "command": "'/a b/tsm' hook claude"}]}],
          "PreCompact": [], "PostToolUse": [{"hooks": []}]}}"#;
        let undone = claude_uninstall(text, &HooksState::default()).unwrap();
        let doc = parse(&undone.text);
        assert_eq!(
            doc["hooks"],
            json!({"Stop": [{"hooks": [{"type": "command", "command": "say done"}]}],
                   "PreCompact": [], "PostToolUse": [{"hooks": []}]})
        );
        assert_eq!(undone.changes.len(), 2, "{:?}", undone.changes);
    }

    #[test]
    fn invalid_json_is_refused() {
        for text in ["{", "{\"a\": 1,}", "// comment\n{}"] {
            let err = claude_install(text, None, TSM, &HooksState::default()).unwrap_err();
            assert!(matches!(err, InstallError::InvalidJson { .. }), "{text:?}: {err:?}");
            assert!(claude_uninstall(text, &HooksState::default()).is_err());
        }
        let err = claude_install("[1]", None, TSM, &HooksState::default()).unwrap_err();
        assert!(matches!(err, InstallError::TopLevelNotObject), "{err:?}");
    }

    #[test]
    fn hooks_that_are_not_an_object_are_refused() {
        for text in [r#"{"hooks": []}"#, r#"{"hooks": "x"}"#] {
            let err = claude_install(text, None, TSM, &HooksState::default()).unwrap_err();
            assert_eq!(err.to_string(), "`hooks` is not a JSON object");
            assert!(claude_uninstall(text, &HooksState::default()).is_err());
        }
        let err = claude_install(r#"{"hooks": {"Stop": {}}}"#, None, TSM, &HooksState::default())
            .unwrap_err();
        assert_eq!(err.to_string(), "`hooks.Stop` is not an array");
    }

    #[test]
    fn extended_events_and_async_only_at_or_above_the_verified_version() {
        let threshold = Version::new(2, 1, 300);
        let state = HooksState::default();
        let cases = [
            (None, Some(&threshold), false),
            (Some(Version::new(2, 1, 299)), Some(&threshold), false),
            (Some(Version::new(2, 1, 300)), Some(&threshold), true),
            (Some(Version::new(3, 0, 0)), Some(&threshold), true),
            (Some(Version::new(3, 0, 0)), None, false),
        ];
        for (version, verified, extended) in cases {
            let edit = install_with("", version.as_ref(), verified, TSM, &state).unwrap();
            let doc = parse(&edit.text);
            let events = keys(&doc["hooks"]);
            let expected: Vec<&str> = if extended {
                CLAUDE_CORE_EVENTS.iter().chain(&CLAUDE_EXTENDED_EVENTS).copied().collect()
            } else {
                CLAUDE_CORE_EVENTS.to_vec()
            };
            assert_eq!(events, expected, "{version:?}");
            for event in events {
                let handler = &doc["hooks"][event][0]["hooks"][0];
                let want_async = extended && CLAUDE_ASYNC_EVENTS.contains(&event);
                assert_eq!(handler.get("async") == Some(&json!(true)), want_async, "{event}");
                assert_eq!(handler["timeout"], 5);
            }
        }
        // The public function uses the constant: no version is verified yet.
        let edit = claude_install("", Some(&Version::new(99, 0, 0)), TSM, &state).unwrap();
        assert_eq!(keys(&parse(&edit.text)["hooks"]), CLAUDE_CORE_EVENTS);
    }

    #[test]
    fn a_tsm_path_with_spaces_is_quoted_and_still_recognised() {
        let tsm = "/opt/my tools/tsm";
        let edit = claude_install("", None, tsm, &HooksState::default()).unwrap();
        let doc = parse(&edit.text);
        assert_eq!(commands(&doc, "Stop"), ["'/opt/my tools/tsm' hook claude"]);
        let again = claude_install(&edit.text, None, tsm, &edit.state).unwrap();
        assert!(again.changes.is_empty());
        assert_eq!(claude_hook_events(&edit.text).unwrap(), CLAUDE_CORE_EVENTS);
        let undone = claude_uninstall(&edit.text, &edit.state).unwrap();
        assert_eq!(undone.text, "{}\n");
    }

    #[test]
    fn hook_events_lists_the_events_holding_ours() {
        assert_eq!(claude_hook_events(USER).unwrap(), Vec::<String>::new());
        let text =
            r#"{"hooks": {"PermissionRequest": [{"hooks": [{"command": "tsm hook claude"}]}]}}"#;
        assert_eq!(claude_hook_events(text).unwrap(), ["PermissionRequest"]);
    }

    #[test]
    fn a_statusline_without_a_command_is_saved_whole_and_restored() {
        let original = "{\n  \"statusLine\": \"odd\"\n}\n";
        let edit = install(original);
        assert_eq!(
            parse(&edit.text)["statusLine"],
            json!({"type": "command", "command": "/usr/local/bin/tsm statusline"})
        );
        let undone = claude_uninstall(&edit.text, &edit.state).unwrap();
        assert_eq!(undone.text, original);
    }
}
