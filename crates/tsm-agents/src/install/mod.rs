//! `tsm hooks install|uninstall`: pure edits of the agents' settings files
//! (`spec/agents.md` §5.1.2, §5.2.2, §5.3).
//!
//! Each function takes the old text of the file (empty when the file is missing) and the
//! saved [`HooksState`], and returns an [`Edit`]: the new text, one human line per change,
//! and the new state. The caller reads and writes the files, makes the backup and finds the
//! agent's version; nothing here touches a file, a process or the clock.
//!
//! | agent | file | what we add |
//! | --- | --- | --- |
//! | Claude Code | `settings.json` | a matcher group per event running `<tsm> hook claude`; `statusLine` runs `<tsm> statusline` |
//! | Codex | `config.toml` | `notify = ["<tsm>", "hook", "codex"]`, chaining an older `notify` after `--` |
//! | Gemini CLI | `settings.json` | a matcher group per event running `<tsm> hook gemini` |
//!
//! Decisions the spec leaves open:
//!
//! - **Markers.** A handler is ours when its command's program (first shell word) is the
//!   running `tsm` or has the basename `tsm`, and the command ends with ` hook claude`
//!   (` hook gemini`). A statusLine is ours when its program is `tsm` and the next word is
//!   `statusline` (or the Go tsm's `claude-statusline`). So a tsm that moved keeps being
//!   recognised, and an install never adds a second handler. Uninstall is not told the
//!   binary's path and goes by the basename `tsm` alone.
//! - **No matcher.** Our groups carry no `matcher` key. An absent matcher matches every tool
//!   and is ignored by events without matchers, it is what Gemini documents, and it cannot
//!   be the invalid matcher that makes some Claude versions drop the whole file.
//! - **Formatting.** JSON files are written back with two-space indentation and a trailing
//!   newline (`serde_json`'s pretty printer), keys in their order. A file already in that form
//!   comes back byte for byte after install then uninstall; any other formatting (tabs,
//!   four spaces, `\u00e9` escapes, `1e3`) is normalised by the first change. An edit that
//!   changes nothing returns the old text untouched.
//! - **Round trips.** Uninstall removes only what install added: our handlers, then the
//!   groups and events that removal left empty, then `hooks` itself when it was absent before
//!   install ([`ClaudeState::hooks_key_added`]). Empty groups or events of the user's own
//!   stay, except an event that was an empty list before install: it leaves with our group
//!   (the agents read a missing event and an empty one alike). The state after an
//!   uninstall is the default for that agent.

mod claude;
mod codex;
mod gemini;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use claude::{
    CLAUDE_ASYNC_EVENTS, CLAUDE_CORE_EVENTS, CLAUDE_EXTENDED_EVENTS, CLAUDE_HOOK_TIMEOUT_SECS,
    VERIFIED_EXTENDED_HOOKS, claude_hook_events, claude_install, claude_uninstall,
};
pub use codex::{codex_install, codex_uninstall};
pub use gemini::{
    GEMINI_EVENTS, GEMINI_HOOK_TIMEOUT_MS, GEMINI_HOOKS_ON_BY_DEFAULT, gemini_install,
    gemini_uninstall,
};

/// The result of one install or uninstall: what to write, what to tell the user, what to
/// remember.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    /// The new text of the file; the old text, untouched, when `changes` is empty.
    pub text: String,
    /// One line per change, for people (`hooks.Stop: added /usr/bin/tsm hook claude`).
    pub changes: Vec<String>,
    /// The state to save in `hooks-state.json` (all agents; only this agent's part differs).
    pub state: HooksState,
}

/// What uninstall needs to undo an install: the contents of
/// `$XDG_CONFIG_HOME/tsm/hooks-state.json`. Missing parts deserialize as their defaults.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HooksState {
    /// Claude Code's `settings.json`.
    pub claude: ClaudeState,
    /// Codex's `config.toml`.
    pub codex: CodexState,
    /// Gemini CLI's `settings.json`.
    pub gemini: GeminiState,
}

/// What install changed in Claude Code's settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ClaudeState {
    /// The file had no `hooks` key before install: uninstall removes it once it is empty.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hooks_key_added: bool,
    /// The `statusLine` before install; `None` when unknown (no install recorded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_line: Option<StatusLineBefore>,
}

/// The `statusLine` of Claude's settings before install.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "was", content = "value", rename_all = "snake_case")]
pub enum StatusLineBefore {
    /// There was none: uninstall removes ours.
    Absent,
    /// It already ran tsm: uninstall leaves it.
    Ours,
    /// The user's own, saved whole: uninstall puts it back.
    Other(Value),
}

/// What install changed in Codex's `config.toml`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CodexState {
    /// The `notify` argv ours replaced (and chains after `--`); uninstall restores it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved_notify: Option<Vec<String>>,
}

/// What install changed in Gemini CLI's settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct GeminiState {
    /// The file had no `hooks` key before install: uninstall removes it once it is empty.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hooks_key_added: bool,
    /// The enabling flags install set, in the order it set them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<SavedFlag>,
}

/// An enabling flag (`tools.enableHooks`, `hooks.enabled`) install set to `true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedFlag {
    /// The object holding the flag (`tools`, `hooks`).
    pub parent: String,
    /// The flag's key in it (`enableHooks`, `enabled`).
    pub key: String,
    /// Its value before install; `None` when it was absent.
    pub before: Option<Value>,
    /// The parent object did not exist before install.
    pub parent_added: bool,
}

/// Why a settings file cannot be edited. The file is then left as it is.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// The file is not JSON.
    #[error("not valid JSON")]
    InvalidJson {
        /// The parser's complaint, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// The file is JSON but its top level is not an object.
    #[error("the top level is not a JSON object")]
    TopLevelNotObject,
    /// A key that must hold an object holds something else.
    #[error("`{key}` is not a JSON object")]
    NotObject {
        /// The key (`hooks`, `tools`).
        key: String,
    },
    /// An event of `hooks` holds something other than a list of matcher groups.
    #[error("`hooks.{event}` is not an array")]
    EventNotArray {
        /// The event (`Stop`).
        event: String,
    },
    /// The file is not TOML.
    #[error("not valid TOML")]
    InvalidToml {
        /// The parser's complaint, with line and column.
        #[source]
        source: toml_edit::TomlError,
    },
    /// `notify` in Codex's `config.toml` is not an array of strings.
    #[error("`notify` is not an array of strings")]
    NotifyNotArgv,
}

/// The first `X.Y.Z` in `text` (`claude --version` prints `2.1.5 (Claude Code)`), if any.
pub fn first_version(text: &str) -> Option<semver::Version> {
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        if bytes[start].is_ascii_digit() && (start == 0 || !bytes[start - 1].is_ascii_digit()) {
            if let Some(version) = version_at(&text[start..]) {
                return Some(version);
            }
        }
        start += 1;
    }
    None
}

/// `X.Y.Z` at the start of `text`.
fn version_at(text: &str) -> Option<semver::Version> {
    let mut parts = [0u64; 3];
    let mut rest = text;
    for (i, part) in parts.iter_mut().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix('.')?;
        }
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        *part = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
    }
    Some(semver::Version::new(parts[0], parts[1], parts[2]))
}

/// `word` as one POSIX shell word: as it is when every character is safe, else in single
/// quotes.
pub(crate) fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "_./:=@%+,-".contains(c));
    if plain { word.to_owned() } else { single_quote(word) }
}

/// `text` in POSIX single quotes (a `'` becomes `'\''`).
pub(crate) fn single_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The words of a simple shell command: quotes and backslashes removed, no expansions;
/// `None` when a quote is not closed.
pub(crate) fn shell_words(command: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => word.push(c),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            '\n' => {}
                            c @ ('"' | '\\' | '$' | '`') => word.push(c),
                            c => {
                                word.push('\\');
                                word.push(c);
                            }
                        },
                        c => word.push(c),
                    }
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('\n') => {}
                    Some(c) => word.push(c),
                    None => word.push('\\'),
                }
            }
            ' ' | '\t' | '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Some(words)
}

/// Whether `program` (a command's first word) is tsm: the running binary, or any file
/// named `tsm`.
pub(crate) fn is_tsm_program(program: &str, tsm: &str) -> bool {
    program == tsm || program.rsplit('/').next() == Some("tsm")
}

/// Whether `command` is a tsm hook handler: its program is tsm and it ends with `suffix`
/// (` hook claude`).
pub(crate) fn is_tsm_hook_command(command: &str, tsm: &str, suffix: &str) -> bool {
    command.trim_end().ends_with(suffix)
        && shell_words(command)
            .and_then(|words| words.into_iter().next())
            .is_some_and(|program| is_tsm_program(&program, tsm))
}

/// Whether a hook handler object runs a tsm hook command.
fn is_tsm_handler(handler: &Value, tsm: &str, suffix: &str) -> bool {
    handler
        .get("command")
        .and_then(Value::as_str)
        .is_some_and(|command| is_tsm_hook_command(command, tsm, suffix))
}

/// A settings file as a JSON object: missing or blank is `{}`.
pub(crate) fn parse_settings(old: &str) -> Result<Map<String, Value>, InstallError> {
    if old.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(old) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(InstallError::TopLevelNotObject),
        Err(source) => Err(InstallError::InvalidJson { source }),
    }
}

/// The text to write: the old text when nothing changed, else the document with two-space
/// indentation and a trailing newline.
pub(crate) fn render_settings(old: &str, doc: Map<String, Value>, changes: &[String]) -> String {
    if changes.is_empty() {
        return old.to_owned();
    }
    let mut text = serde_json::to_string_pretty(&Value::Object(doc))
        .expect("a JSON value has string keys only, so it always serializes");
    text.push('\n');
    text
}

/// The `hooks` object of a settings document, created (and reported in `added`) when
/// missing.
pub(crate) fn hooks_object<'a>(
    doc: &'a mut Map<String, Value>,
    added: &mut bool,
) -> Result<&'a mut Map<String, Value>, InstallError> {
    *added = !doc.contains_key("hooks");
    match doc.entry("hooks").or_insert_with(|| Value::Object(Map::new())) {
        Value::Object(hooks) => Ok(hooks),
        _ => Err(InstallError::NotObject { key: "hooks".to_owned() }),
    }
}

/// Adds a matcher group `{"hooks": [handler]}` to `event` unless one of its groups already
/// holds a tsm handler (per `suffix`). Returns whether it added one.
pub(crate) fn add_hook_group(
    hooks: &mut Map<String, Value>,
    event: &str,
    handler: Value,
    tsm: &str,
    suffix: &str,
) -> Result<bool, InstallError> {
    let mut group = Map::new();
    group.insert("hooks".to_owned(), Value::Array(vec![handler]));
    match hooks.get_mut(event) {
        None => {
            hooks.insert(event.to_owned(), Value::Array(vec![Value::Object(group)]));
            Ok(true)
        }
        Some(Value::Array(groups)) => {
            let ours = groups.iter().any(|group| {
                group
                    .get("hooks")
                    .and_then(Value::as_array)
                    .is_some_and(|list| list.iter().any(|h| is_tsm_handler(h, tsm, suffix)))
            });
            if !ours {
                groups.push(Value::Object(group));
            }
            Ok(!ours)
        }
        Some(_) => Err(InstallError::EventNotArray { event: event.to_owned() }),
    }
}

/// Removes every tsm handler (per `suffix`) from every event, then the groups and events
/// that this left empty. Returns the events it removed handlers from, in file order.
pub(crate) fn remove_tsm_handlers(
    hooks: &mut Map<String, Value>,
    tsm: &str,
    suffix: &str,
) -> Vec<String> {
    let mut touched = Vec::new();
    hooks.retain(|event, value| {
        let Value::Array(groups) = value else { return true };
        let mut removed_any = false;
        groups.retain_mut(|group| {
            let Some(list) = group.get_mut("hooks").and_then(Value::as_array_mut) else {
                return true;
            };
            let len = list.len();
            list.retain(|h| !is_tsm_handler(h, tsm, suffix));
            if list.len() == len {
                return true;
            }
            removed_any = true;
            !list.is_empty()
        });
        if removed_any {
            touched.push(event.clone());
        }
        // Drop the event only when our removal emptied it.
        !(removed_any && groups.is_empty())
    });
    touched
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_version_takes_the_first_triple() {
        let v = |s: &str| first_version(s).map(|v| v.to_string());
        assert_eq!(v("2.1.5 (Claude Code)"), Some("2.1.5".into()));
        assert_eq!(v("gemini v0.26.0\n"), Some("0.26.0".into()));
        assert_eq!(v("build 12 of 1.2 then 3.4.5.6"), Some("3.4.5".into()));
        assert_eq!(v("no version"), None);
        assert_eq!(v("1.2"), None);
    }

    #[test]
    fn shell_words_undo_quoting() {
        let w = |s: &str| shell_words(s);
        assert_eq!(w("a 'b c' d"), Some(vec!["a".into(), "b c".into(), "d".into()]));
        assert_eq!(w(r#""x\"y" z\ w"#), Some(vec!["x\"y".into(), "z w".into()]));
        assert_eq!(w(r"'it'\''s'"), Some(vec!["it's".into()]));
        assert_eq!(w("''"), Some(vec![String::new()]));
        assert_eq!(w("'open"), None);
        for text in ["plain", "it's", "a b", "", "$HOME `x` \"q\""] {
            assert_eq!(w(&single_quote(text)), Some(vec![text.to_owned()]), "{text:?}");
            assert_eq!(w(&shell_word(text)), Some(vec![text.to_owned()]), "{text:?}");
        }
    }

    #[test]
    fn hook_markers_need_a_tsm_program_and_the_suffix() {
        let tsm = "/opt/my tools/tsm-dev";
        let ours = |c: &str| is_tsm_hook_command(c, tsm, " hook claude");
        assert!(ours("/usr/local/bin/tsm hook claude"));
        assert!(ours("tsm hook claude"));
        assert!(ours("'/opt/my tools/tsm-dev' hook claude"));
        assert!(!ours("/usr/bin/tsmx hook claude"));
        assert!(!ours("/usr/local/bin/tsm hook codex"));
        assert!(!ours("echo tsm hook claude"));
    }
}
