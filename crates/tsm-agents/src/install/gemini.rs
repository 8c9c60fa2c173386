//! Gemini CLI's `~/.gemini/settings.json` (`spec/agents.md` §5.3): our hook handlers, and
//! for old versions the flags that turn hooks on.

use semver::Version;
use serde_json::{Map, Value, json};

use super::{
    Edit, GeminiState, HooksState, InstallError, SavedFlag, add_hook_group, hooks_object,
    parse_settings, remove_tsm_handlers, render_settings, shell_word,
};

/// The first Gemini CLI with hooks on by default (v0.26.0, which announced hooks and turned
/// `hooksConfig.enabled` on). Below it hooks run only with `tools.enableHooks` and
/// `hooks.enabled` set, so install sets both; from it on, a boolean `hooks.enabled` is a
/// settings error (`Expected array, received boolean`), so install sets neither. An unknown
/// version counts as new: a missing flag costs the hooks, a wrong one the whole file.
pub const GEMINI_HOOKS_ON_BY_DEFAULT: Version = Version::new(0, 26, 0);

/// The events we subscribe to (not `BeforeModel`, `AfterModel`, `BeforeToolSelection`).
pub const GEMINI_EVENTS: [&str; 8] = [
    "SessionStart",
    "SessionEnd",
    "BeforeAgent",
    "AfterAgent",
    "BeforeTool",
    "AfterTool",
    "Notification",
    "PreCompress",
];

/// Milliseconds Gemini waits for `tsm hook gemini` (its timeouts are in ms, default 60000).
pub const GEMINI_HOOK_TIMEOUT_MS: u64 = 5000;

/// The end of our handlers' command: the uninstall marker.
const SUFFIX: &str = " hook gemini";

/// The flags old versions need, as (object, key).
const ENABLING_FLAGS: [(&str, &str); 2] = [("tools", "enableHooks"), ("hooks", "enabled")];

/// Adds our hook handlers to Gemini CLI's `settings.json` (`old`, empty when missing), and
/// for a `version` below [`GEMINI_HOOKS_ON_BY_DEFAULT`] the enabling flags. A second install
/// changes nothing.
///
/// # Errors
///
/// When `old` is not JSON, not an object, or `hooks`, `tools` or an event has the wrong type.
pub fn gemini_install(
    old: &str,
    version: Option<&Version>,
    tsm: &str,
    state: &HooksState,
) -> Result<Edit, InstallError> {
    let mut doc = parse_settings(old)?;
    let mut state = state.clone();
    let mut changes = Vec::new();
    let command = format!("{} hook gemini", shell_word(tsm));

    let mut hooks_added = false;
    let hooks = hooks_object(&mut doc, &mut hooks_added)?;
    for event in GEMINI_EVENTS {
        let handler = json!({
            "type": "command",
            "command": command,
            "name": "tsm",
            "timeout": GEMINI_HOOK_TIMEOUT_MS,
        });
        if add_hook_group(hooks, event, handler, tsm, SUFFIX)? {
            changes.push(format!("hooks.{event}: added {command}"));
        }
    }
    if hooks_added {
        state.gemini.hooks_key_added = true;
    }

    if version.is_some_and(|v| *v < GEMINI_HOOKS_ON_BY_DEFAULT) {
        for (parent, key) in ENABLING_FLAGS {
            set_flag(&mut doc, parent, key, &mut state.gemini, &mut changes)?;
        }
    }
    Ok(Edit { text: render_settings(old, doc, &changes), changes, state })
}

/// Sets `parent.key` to `true` unless it is already, recording what it was.
fn set_flag(
    doc: &mut Map<String, Value>,
    parent: &str,
    key: &str,
    state: &mut GeminiState,
    changes: &mut Vec<String>,
) -> Result<(), InstallError> {
    let parent_added = !doc.contains_key(parent);
    let Value::Object(object) = doc.entry(parent).or_insert_with(|| Value::Object(Map::new()))
    else {
        return Err(InstallError::NotObject { key: parent.to_owned() });
    };
    let before = object.get(key).cloned();
    if before == Some(Value::Bool(true)) {
        return Ok(());
    }
    object.insert(key.to_owned(), Value::Bool(true));
    changes.push(format!(
        "{parent}.{key}: set to true (Gemini CLI before {GEMINI_HOOKS_ON_BY_DEFAULT} needs it)"
    ));
    state.flags.push(SavedFlag {
        parent: parent.to_owned(),
        key: key.to_owned(),
        before,
        parent_added,
    });
    Ok(())
}

/// Removes our hook handlers from Gemini CLI's `settings.json`, and puts back the enabling
/// flags install set.
///
/// # Errors
///
/// When `old` is not JSON, not an object, or its `hooks` is not an object.
pub fn gemini_uninstall(old: &str, state: &HooksState) -> Result<Edit, InstallError> {
    let mut doc = parse_settings(old)?;
    let mut changes = Vec::new();
    let mut removed = false;
    if let Some(hooks) = doc.get_mut("hooks") {
        let Value::Object(hooks) = hooks else {
            return Err(InstallError::NotObject { key: "hooks".to_owned() });
        };
        for event in remove_tsm_handlers(hooks, "tsm", SUFFIX) {
            changes.push(format!("hooks.{event}: removed the tsm handler"));
            removed = true;
        }
    }

    for flag in state.gemini.flags.iter().rev() {
        let Some(Value::Object(object)) = doc.get_mut(&flag.parent) else { continue };
        if object.get(&flag.key) != Some(&Value::Bool(true)) {
            continue;
        }
        match &flag.before {
            Some(before) => {
                object.insert(flag.key.clone(), before.clone());
                changes.push(format!("{}.{}: restored {before}", flag.parent, flag.key));
            }
            None => {
                object.shift_remove(&flag.key);
                changes.push(format!("{}.{}: removed", flag.parent, flag.key));
            }
        }
        if flag.parent_added && object.is_empty() {
            doc.shift_remove(&flag.parent);
        }
    }

    let hooks_empty = doc.get("hooks").and_then(Value::as_object).is_some_and(Map::is_empty);
    if removed && hooks_empty && state.gemini.hooks_key_added {
        doc.shift_remove("hooks");
        changes.push("hooks: removed (tsm had added it)".to_owned());
    }

    let mut state = state.clone();
    state.gemini = GeminiState::default();
    Ok(Edit { text: render_settings(old, doc, &changes), changes, state })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TSM: &str = "/usr/local/bin/tsm";

    /// A user's settings in serde_json's pretty form, with a hook of their own.
    const USER: &str = r#"{
  "theme": "GitHub",
  "hooks": {
    "BeforeTool": [
      {
        "matcher": "run_shell_command",
        "hooks": [
          {
            "type": "command",
            "command": "~/bin/audit.sh",
            "name": "audit"
          }
        ]
      }
    ]
  },
  "general": {
    "vimMode": true
  }
}
"#;

    fn parse(text: &str) -> Value {
        serde_json::from_str(text).expect("valid JSON")
    }

    fn keys(value: &Value) -> Vec<&str> {
        value.as_object().expect("object").keys().map(String::as_str).collect()
    }

    #[test]
    fn install_adds_every_event_with_name_and_ms_timeout() {
        let edit = gemini_install("", None, TSM, &HooksState::default()).unwrap();
        let doc = parse(&edit.text);
        assert_eq!(keys(&doc), ["hooks"]);
        assert_eq!(keys(&doc["hooks"]), GEMINI_EVENTS);
        assert_eq!(
            doc["hooks"]["AfterAgent"],
            json!([{"hooks": [{"type": "command", "command": "/usr/local/bin/tsm hook gemini",
                               "name": "tsm", "timeout": 5000}]}])
        );
        assert!(edit.state.gemini.hooks_key_added);
        assert!(edit.state.gemini.flags.is_empty());
    }

    #[test]
    fn install_keeps_foreign_handlers_and_keys_and_is_idempotent() {
        let first = gemini_install(USER, None, TSM, &HooksState::default()).unwrap();
        let doc = parse(&first.text);
        assert_eq!(keys(&doc), ["theme", "hooks", "general"]);
        let before_tool = doc["hooks"]["BeforeTool"].as_array().unwrap();
        assert_eq!(before_tool.len(), 2);
        assert_eq!(before_tool[0], parse(USER)["hooks"]["BeforeTool"][0]);
        assert_eq!(before_tool[1]["hooks"][0]["name"], "tsm");
        let second = gemini_install(&first.text, None, TSM, &first.state).unwrap();
        assert_eq!(second.text, first.text);
        assert!(second.changes.is_empty(), "{:?}", second.changes);
        assert_eq!(second.state, first.state);
    }

    #[test]
    fn install_then_uninstall_gives_the_original_back() {
        for version in [None, Some(Version::new(0, 25, 9)), Some(Version::new(0, 30, 0))] {
            for original in
                [USER, "{}\n", "{\n  \"tools\": {\n    \"enableHooks\": false\n  }\n}\n"]
            {
                let edit = gemini_install(original, version.as_ref(), TSM, &HooksState::default())
                    .unwrap();
                let undone = gemini_uninstall(&edit.text, &edit.state).unwrap();
                assert_eq!(undone.text, original, "{version:?}");
                assert_eq!(undone.state, HooksState::default());
            }
        }
    }

    #[test]
    fn enabling_flags_only_below_the_default_on_version() {
        let flags = |version: Option<Version>| {
            let edit = gemini_install(USER, version.as_ref(), TSM, &HooksState::default()).unwrap();
            let doc = parse(&edit.text);
            (doc["tools"]["enableHooks"].clone(), doc["hooks"]["enabled"].clone())
        };
        assert_eq!(flags(Some(Version::new(0, 25, 0))), (json!(true), json!(true)));
        assert_eq!(flags(Some(Version::new(0, 26, 0))), (Value::Null, Value::Null));
        assert_eq!(flags(None), (Value::Null, Value::Null));

        let old = Version::new(0, 24, 1);
        let first = gemini_install(USER, Some(&old), TSM, &HooksState::default()).unwrap();
        assert_eq!(first.state.gemini.flags.len(), 2);
        let second = gemini_install(&first.text, Some(&old), TSM, &first.state).unwrap();
        assert!(second.changes.is_empty(), "{:?}", second.changes);
        assert_eq!(second.state, first.state);
    }

    #[test]
    fn invalid_json_and_bad_hooks_are_refused() {
        let state = HooksState::default();
        let err = gemini_install("{", None, TSM, &state).unwrap_err();
        assert!(matches!(err, InstallError::InvalidJson { .. }), "{err:?}");
        let err = gemini_install(r#"{"hooks": 1}"#, None, TSM, &state).unwrap_err();
        assert_eq!(err.to_string(), "`hooks` is not a JSON object");
        let err = gemini_install(r#"{"tools": []}"#, Some(&Version::new(0, 1, 0)), TSM, &state)
            .unwrap_err();
        assert_eq!(err.to_string(), "`tools` is not a JSON object");
    }

    #[test]
    fn uninstall_leaves_claude_handlers_and_foreign_ones() {
        let text = r#"{"hooks": {"BeforeAgent": [{"hooks": [
            {"command": "tsm hook claude"}, {"command": "tsm hook gemini"}]}]}}"#;
        let undone = gemini_uninstall(text, &HooksState::default()).unwrap();
        assert_eq!(
            parse(&undone.text)["hooks"],
            json!({"BeforeAgent": [{"hooks": [{"command": "tsm hook claude"}]}]})
        );
    }
}
