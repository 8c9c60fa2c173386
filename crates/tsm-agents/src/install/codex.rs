//! Codex's `config.toml` (`spec/agents.md` §5.2.2): our `notify` command.
//!
//! Only `notify` is installed. §5.2.2 adds `hooks.json` entries (and `[features]
//! codex_hooks`) only for Codex versions the recorder verified, and none is verified yet;
//! so nothing here writes `hooks.json`, and Codex shows no `Hooks need review` screen after
//! an install. The edit goes through `toml_edit`, so comments, blank lines and the order of
//! keys and tables stay as they were.

use toml_edit::{Array, DocumentMut, Item, Value};

use super::{CodexState, Edit, HooksState, InstallError, is_tsm_program};

/// Sets `notify` in Codex's `config.toml` (`old`, empty when missing) to
/// `["<tsm>", "hook", "codex"]`; a `notify` of the user's own is kept after `--`, so Codex
/// still runs it (`tsm hook codex` appends the payload), and saved for uninstall. A second
/// install changes nothing.
///
/// # Errors
///
/// When `old` is not TOML, or its `notify` is not an array of strings.
pub fn codex_install(old: &str, tsm: &str, state: &HooksState) -> Result<Edit, InstallError> {
    let mut doc = parse(old)?;
    let mut state = state.clone();
    let mut changes = Vec::new();
    let mut argv = vec![tsm.to_owned(), "hook".to_owned(), "codex".to_owned()];
    match doc.get_mut("notify") {
        None => {
            doc.insert("notify", toml_edit::value(to_array(&argv)));
            changes.push(format!("notify: set to {}", show(&argv)));
        }
        Some(item) => {
            let old_argv = argv_of(item).ok_or(InstallError::NotifyNotArgv)?;
            if !is_tsm_notify(&old_argv, tsm) {
                argv.push("--".to_owned());
                argv.extend(old_argv.iter().cloned());
                replace_value(item, &argv);
                changes.push(format!("notify: set to {}, which runs the old one", show(&argv)));
                state.codex.saved_notify = Some(old_argv);
            }
        }
    }
    let text = if changes.is_empty() { old.to_owned() } else { doc.to_string() };
    Ok(Edit { text, changes, state })
}

/// Removes our `notify` from Codex's `config.toml`, putting back the user's (saved in
/// `state`, else the argv after our `--`), or removing the key.
///
/// # Errors
///
/// When `old` is not TOML.
pub fn codex_uninstall(old: &str, state: &HooksState) -> Result<Edit, InstallError> {
    let mut doc = parse(old)?;
    let mut changes = Vec::new();
    let ours = doc.get("notify").and_then(argv_of).filter(|argv| is_tsm_notify(argv, "tsm"));
    if let Some(argv) = ours {
        let chained = match argv.get(3..) {
            Some([dash, rest @ ..]) if dash == "--" && !rest.is_empty() => Some(rest.to_vec()),
            _ => None,
        };
        match state.codex.saved_notify.clone().or(chained) {
            Some(old_argv) => {
                if let Some(item) = doc.get_mut("notify") {
                    replace_value(item, &old_argv);
                }
                changes.push(format!("notify: restored {}", show(&old_argv)));
            }
            None => {
                doc.remove("notify");
                changes.push("notify: removed".to_owned());
            }
        }
    }
    let text = if changes.is_empty() { old.to_owned() } else { doc.to_string() };
    let mut state = state.clone();
    state.codex = CodexState::default();
    Ok(Edit { text, changes, state })
}

fn parse(old: &str) -> Result<DocumentMut, InstallError> {
    old.parse::<DocumentMut>().map_err(|source| InstallError::InvalidToml { source })
}

/// The strings of an array-of-strings item.
fn argv_of(item: &Item) -> Option<Vec<String>> {
    item.as_array()?.iter().map(|v| v.as_str().map(str::to_owned)).collect()
}

/// Whether `argv` runs `tsm hook codex` (`tsm`: the running binary).
fn is_tsm_notify(argv: &[String], tsm: &str) -> bool {
    matches!(argv, [program, hook, codex, ..]
        if is_tsm_program(program, tsm) && hook == "hook" && codex == "codex")
}

fn to_array(argv: &[String]) -> Array {
    argv.iter().map(String::as_str).collect()
}

/// Replaces an item's value with `argv`, keeping the comments and spaces around it.
fn replace_value(item: &mut Item, argv: &[String]) {
    let decor = item.as_value().map(|v| v.decor().clone());
    let mut value = Value::Array(to_array(argv));
    if let Some(decor) = decor {
        *value.decor_mut() = decor;
    }
    *item = Item::Value(value);
}

/// `["a", "b"]`, for the change lines.
fn show(argv: &[String]) -> String {
    to_array(argv).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TSM: &str = "/usr/local/bin/tsm";

    const CONFIG: &str = r#"# Codex settings
model = "gpt-5.5" # the default model

# Tell me when a turn ends.
notify = ["notify-send", "Codex"] # desktop

[tui]
notifications = true
"#;

    fn notify(text: &str) -> Option<Vec<String>> {
        text.parse::<DocumentMut>().unwrap().get("notify").and_then(argv_of)
    }

    #[test]
    fn install_into_a_missing_file_sets_notify() {
        let edit = codex_install("", TSM, &HooksState::default()).unwrap();
        assert_eq!(edit.text, "notify = [\"/usr/local/bin/tsm\", \"hook\", \"codex\"]\n");
        assert_eq!(edit.state, HooksState::default());
        let undone = codex_uninstall(&edit.text, &edit.state).unwrap();
        assert_eq!(undone.text, "");
    }

    #[test]
    fn install_before_the_first_table_keeps_comments() {
        let text = "# mine\nmodel = \"o3\"\n\n# tables\n[tui]\nnotifications = true\n";
        let edit = codex_install(text, TSM, &HooksState::default()).unwrap();
        assert_eq!(
            edit.text,
            "# mine\nmodel = \"o3\"\nnotify = [\"/usr/local/bin/tsm\", \"hook\", \"codex\"]\n\n# tables\n[tui]\nnotifications = true\n"
        );
        let undone = codex_uninstall(&edit.text, &edit.state).unwrap();
        assert_eq!(undone.text, text);
    }

    #[test]
    fn an_existing_notify_is_chained_kept_in_place_and_restored() {
        let edit = codex_install(CONFIG, TSM, &HooksState::default()).unwrap();
        assert_eq!(
            edit.text,
            CONFIG.replace(
                r#"notify = ["notify-send", "Codex"]"#,
                r#"notify = ["/usr/local/bin/tsm", "hook", "codex", "--", "notify-send", "Codex"]"#
            )
        );
        assert_eq!(
            edit.state.codex.saved_notify,
            Some(vec!["notify-send".to_owned(), "Codex".to_owned()])
        );
        // From the saved state, and with the state lost, from the argv after `--`.
        for state in [edit.state.clone(), HooksState::default()] {
            let undone = codex_uninstall(&edit.text, &state).unwrap();
            assert_eq!(undone.text, CONFIG);
            assert_eq!(undone.state, HooksState::default());
        }
    }

    #[test]
    fn install_is_idempotent() {
        for original in ["", CONFIG] {
            let first = codex_install(original, TSM, &HooksState::default()).unwrap();
            let second = codex_install(&first.text, TSM, &first.state).unwrap();
            assert_eq!(second.text, first.text);
            assert!(second.changes.is_empty(), "{:?}", second.changes);
            assert_eq!(second.state, first.state);
        }
    }

    #[test]
    fn a_notify_of_tsm_elsewhere_counts_as_ours() {
        let text = "notify = [\"/old/tsm\", \"hook\", \"codex\"]\n";
        let edit = codex_install(text, TSM, &HooksState::default()).unwrap();
        assert!(edit.changes.is_empty());
        let undone = codex_uninstall(text, &HooksState::default()).unwrap();
        assert_eq!(undone.text, "");
    }

    #[test]
    fn uninstall_leaves_a_foreign_notify_alone() {
        let undone = codex_uninstall(CONFIG, &HooksState::default()).unwrap();
        assert_eq!(undone.text, CONFIG);
        assert!(undone.changes.is_empty());
        assert_eq!(notify(CONFIG).unwrap(), ["notify-send", "Codex"]);
    }

    #[test]
    fn bad_toml_and_bad_notify_are_refused() {
        let err = codex_install("model = ", TSM, &HooksState::default()).unwrap_err();
        assert!(matches!(err, InstallError::InvalidToml { .. }), "{err:?}");
        for text in ["notify = \"notify-send\"\n", "notify = [1]\n", "[notify]\nx = 1\n"] {
            let err = codex_install(text, TSM, &HooksState::default()).unwrap_err();
            assert!(matches!(err, InstallError::NotifyNotArgv), "{text:?}: {err:?}");
        }
    }
}
