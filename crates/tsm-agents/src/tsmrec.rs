//! The `.tsmrec` recording format of `spec/agents.md` §8.1: what an agent wrote to its
//! terminal, with timing, and the side channels around it.
//!
//! A recording is JSON lines: a header, then one entry per line, timed in milliseconds from
//! the start and in non-decreasing order.
//!
//! ```text
//! {"tsmrec":1,"agent":"claude","agent_version":"2.1.173","cols":120,"rows":40,"provenance":"recorded","note":"…"}
//! {"t":0,"out":"<base64 PTY output>"}
//! {"t":1530,"in":"\r"}
//! {"t":1600,"event":{"source":"claude_hook","payload":{…}}}
//! {"t":1700,"file":{"path":"~/.claude/sessions/{pid}.json","json":{…}}}
//! {"t":1800,"proc":{"argv":["claude"],"cwd":"~/proj"}}
//! {"t":9000,"exit":0}
//! ```
//!
//! [`parse`] reads one, [`Recording::to_jsonl`] writes one; the [`Recording`] methods
//! [`out`](Recording::out), [`input`](Recording::input) and [`push`](Recording::push) build
//! one (the fixture generator and tests do).
//!
//! ```
//! use tsm_agents::tsmrec::{self, Entry, EntryKind, Header, Provenance, Recording};
//!
//! let mut rec = Recording::new(Header::new("claude", 80, 24, Provenance::Synthetic));
//! rec.out(0, b"\x1b[2J\x1b[H\xe2\x9c\xbb Thinking\xe2\x80\xa6");
//! rec.input(500, "\r");
//! rec.push(900, EntryKind::Exit(0));
//! let text = rec.to_jsonl();
//! let back = tsmrec::parse(&text)?;
//! assert_eq!(back, rec);
//! assert_eq!(back.entries[1], Entry { t: 500, kind: EntryKind::In("\r".into()) });
//! # Ok::<(), tsmrec::TsmrecError>(())
//! ```
//!
//! Blank lines are skipped. Unknown header keys are an error, as are unknown entry kinds: a
//! new kind of entry comes with a new format version.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The format version this module reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// A whole recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// The first line.
    pub header: Header,
    /// The entries, in time order.
    pub entries: Vec<Entry>,
}

/// The first line of a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    /// The format version ([`FORMAT_VERSION`]).
    pub tsmrec: u32,
    /// The agent's kind name (`claude`, `codex`, …), or `none` for a program that is not one.
    pub agent: String,
    /// The agent's version, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_version: Option<String>,
    /// The terminal's width in cells.
    pub cols: u16,
    /// The terminal's height in cells.
    pub rows: u16,
    /// Where the recording comes from.
    pub provenance: Provenance,
    /// What the recording shows.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl Header {
    /// A version-1 header with no agent version and no note.
    pub fn new(agent: &str, cols: u16, rows: u16, provenance: Provenance) -> Header {
        Header {
            tsmrec: FORMAT_VERSION,
            agent: agent.to_string(),
            agent_version: None,
            cols,
            rows,
            provenance,
            note: String::new(),
        }
    }
}

/// Where a recording comes from (§8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// A real CLI, recorded.
    Recorded,
    /// Built from the spec's markers, drawn with cursor addressing as a TUI does.
    Synthetic,
    /// A recording changed by hand.
    Edited,
}

/// One timed entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Milliseconds since the start of the recording.
    pub t: u64,
    /// What happened.
    pub kind: EntryKind,
}

/// What an entry records.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    /// Bytes the program wrote to its terminal (`"out"`, base64 in the file).
    Out(Vec<u8>),
    /// Bytes the user typed (`"in"`, a JSON string). A replayer that waits for input waits
    /// for these; one that does not skips them.
    In(String),
    /// A structured event (`"event"`), delivered as the agent would (through `tsm hook`).
    Event(EventEntry),
    /// A file the agent writes or deletes (`"file"`).
    File(FileEntry),
    /// A process fact (`"proc"`).
    Proc(ProcEntry),
    /// The program exits with this code (`"exit"`).
    Exit(i32),
}

/// A structured event: `{"source": "claude_hook", "payload": {…}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventEntry {
    /// The AgentEvent source: `claude_hook`, `claude_statusline`, `codex_hook`, `codex_notify`,
    /// `gemini_hook` or `aider_notify`.
    pub source: String,
    /// The payload, as the agent sends it.
    pub payload: Value,
}

/// A file the agent writes: `{"path": "~/.claude/sessions/{pid}.json", "json": {…}}`.
///
/// `~` is the replayer's `$HOME` and `{pid}` its pid. Exactly one of `json` (the whole file,
/// as JSON), `text` (the whole file, or with `append` a piece added at its end) and
/// `delete: true` is given.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Where, with `~` and `{pid}` placeholders.
    pub path: String,
    /// The whole file as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<Value>,
    /// The file's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// `text` is added at the end of the file instead of replacing it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub append: bool,
    /// The file is deleted.
    #[serde(default, skip_serializing_if = "is_false")]
    pub delete: bool,
}

/// A process fact: `{"argv": ["claude"], "cwd": "~/proj"}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcEntry {
    /// The command line.
    pub argv: Vec<String>,
    /// The working directory, with a `~` placeholder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Why a recording could not be read. Lines are 1-based.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TsmrecError {
    /// There is no header line.
    #[error("the recording is empty")]
    Empty,
    /// A line is not a JSON object.
    #[error("line {line}: not a JSON object: {source}")]
    Json {
        /// Where.
        line: usize,
        /// The JSON parser's error.
        source: serde_json::Error,
    },
    /// The header does not have the fields of a version-1 header.
    #[error("line {line}: bad header: {source}")]
    Header {
        /// Where.
        line: usize,
        /// The fields' error.
        source: serde_json::Error,
    },
    /// The format version is not one this module reads.
    #[error("line {line}: format version {found}, this reader knows {FORMAT_VERSION}")]
    Version {
        /// Where.
        line: usize,
        /// The version found.
        found: u32,
    },
    /// An entry has no `t`, or one that is not a non-negative integer.
    #[error("line {line}: the entry has no time `t` in ms")]
    NoTime {
        /// Where.
        line: usize,
    },
    /// An entry is timed before the one before it.
    #[error("line {line}: time {t} is before the previous entry's {previous}")]
    TimeGoesBack {
        /// Where.
        line: usize,
        /// Its time.
        t: u64,
        /// The previous entry's time.
        previous: u64,
    },
    /// An entry has no kind, several, or an unknown one.
    #[error(
        "line {line}: an entry needs exactly one of out, in, event, file, proc, exit; found {keys:?}"
    )]
    Kind {
        /// Where.
        line: usize,
        /// The keys other than `t`.
        keys: Vec<String>,
    },
    /// An entry's value has the wrong shape.
    #[error("line {line}: bad {kind} entry: {reason}")]
    Value {
        /// Where.
        line: usize,
        /// The entry's kind (`out`, …).
        kind: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// Reads a recording.
///
/// # Errors
///
/// [`TsmrecError`], naming the line, when the text is not a version-1 recording: no header,
/// a line that is not a JSON object, a bad header, an entry without a time or with times
/// going back, an entry without exactly one known kind, or a kind's value of the wrong shape
/// (such as `out` that is not base64).
pub fn parse(text: &str) -> Result<Recording, TsmrecError> {
    let mut lines =
        text.lines().enumerate().map(|(i, l)| (i + 1, l)).filter(|(_, l)| !l.trim().is_empty());
    let (line, first) = lines.next().ok_or(TsmrecError::Empty)?;
    let header: Header =
        serde_json::from_str(first).map_err(|source| TsmrecError::Header { line, source })?;
    if header.tsmrec != FORMAT_VERSION {
        return Err(TsmrecError::Version { line, found: header.tsmrec });
    }
    let mut entries: Vec<Entry> = Vec::new();
    for (line, text) in lines {
        let entry = parse_entry(line, text)?;
        if let Some(previous) = entries.last().map(|e| e.t).filter(|&p| p > entry.t) {
            return Err(TsmrecError::TimeGoesBack { line, t: entry.t, previous });
        }
        entries.push(entry);
    }
    Ok(Recording { header, entries })
}

fn parse_entry(line: usize, text: &str) -> Result<Entry, TsmrecError> {
    let object: Map<String, Value> =
        serde_json::from_str(text).map_err(|source| TsmrecError::Json { line, source })?;
    let t = object.get("t").and_then(Value::as_u64).ok_or(TsmrecError::NoTime { line })?;
    let mut pairs = object.into_iter().filter(|(key, _)| key != "t");
    let (key, value) = match (pairs.next(), pairs.next()) {
        (Some(pair), None) => pair,
        (first, second) => {
            let keys = first.into_iter().chain(second).map(|(k, _)| k).chain(pairs.map(|(k, _)| k));
            return Err(TsmrecError::Kind { line, keys: keys.collect() });
        }
    };
    let bad = |kind: &'static str, reason: String| TsmrecError::Value { line, kind, reason };
    let kind = match key.as_str() {
        "out" => {
            let text = value.as_str().ok_or_else(|| bad("out", "not a string".into()))?;
            EntryKind::Out(BASE64.decode(text).map_err(|e| bad("out", e.to_string()))?)
        }
        "in" => match value {
            Value::String(s) => EntryKind::In(s),
            _ => return Err(bad("in", "not a string".into())),
        },
        "event" => EntryKind::Event(
            serde_json::from_value(value).map_err(|e| bad("event", e.to_string()))?,
        ),
        "file" => {
            let file: FileEntry =
                serde_json::from_value(value).map_err(|e| bad("file", e.to_string()))?;
            let given = usize::from(file.json.is_some())
                + usize::from(file.text.is_some())
                + usize::from(file.delete);
            if given != 1 || (file.append && file.text.is_none()) {
                return Err(bad(
                    "file",
                    "needs exactly one of json, text, delete (append only with text)".into(),
                ));
            }
            EntryKind::File(file)
        }
        "proc" => {
            EntryKind::Proc(serde_json::from_value(value).map_err(|e| bad("proc", e.to_string()))?)
        }
        "exit" => {
            let code = value.as_i64().and_then(|c| i32::try_from(c).ok());
            EntryKind::Exit(code.ok_or_else(|| bad("exit", "not a 32-bit integer".into()))?)
        }
        _ => return Err(TsmrecError::Kind { line, keys: vec![key] }),
    };
    Ok(Entry { t, kind })
}

impl Recording {
    /// A recording with no entries yet.
    pub fn new(header: Header) -> Recording {
        Recording { header, entries: Vec::new() }
    }

    /// Appends an entry. Times should not go back; [`parse`] refuses a file where they do.
    pub fn push(&mut self, t: u64, kind: EntryKind) {
        self.entries.push(Entry { t, kind });
    }

    /// Appends program output.
    pub fn out(&mut self, t: u64, bytes: impl AsRef<[u8]>) {
        self.push(t, EntryKind::Out(bytes.as_ref().to_vec()));
    }

    /// Appends user input.
    pub fn input(&mut self, t: u64, text: &str) {
        self.push(t, EntryKind::In(text.to_string()));
    }

    /// The program output up to and including time `t`, concatenated.
    pub fn output_until(&self, t: u64) -> Vec<u8> {
        let mut out = Vec::new();
        for entry in self.entries.iter().take_while(|e| e.t <= t) {
            if let EntryKind::Out(bytes) = &entry.kind {
                out.extend_from_slice(bytes);
            }
        }
        out
    }

    /// The recording as JSON lines, each ending in a newline; [`parse`] reads it back equal.
    pub fn to_jsonl(&self) -> String {
        let mut text = serde_json::to_string(&self.header).expect("a header serializes");
        text.push('\n');
        for entry in &self.entries {
            let (key, value) = match &entry.kind {
                EntryKind::Out(bytes) => ("out", Value::String(BASE64.encode(bytes))),
                EntryKind::In(s) => ("in", Value::String(s.clone())),
                EntryKind::Event(e) => {
                    ("event", serde_json::to_value(e).expect("an event serializes"))
                }
                EntryKind::File(f) => ("file", serde_json::to_value(f).expect("a file serializes")),
                EntryKind::Proc(p) => ("proc", serde_json::to_value(p).expect("a proc serializes")),
                EntryKind::Exit(code) => ("exit", Value::from(*code)),
            };
            let mut object = Map::new();
            object.insert("t".into(), Value::from(entry.t));
            object.insert(key.into(), value);
            text.push_str(&Value::Object(object).to_string());
            text.push('\n');
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        r#"{"tsmrec":1,"agent":"claude","cols":80,"rows":24,"provenance":"synthetic"}"#;

    fn error_of(entries: &str) -> String {
        parse(&format!("{HEADER}\n{entries}")).unwrap_err().to_string()
    }

    #[test]
    fn every_kind_round_trips() {
        let mut rec = Recording::new(Header {
            agent_version: Some("2.1.173".into()),
            note: "all kinds".into(),
            ..Header::new("claude", 120, 40, Provenance::Recorded)
        });
        rec.out(0, [0u8, 0xff, 0x1b, b'[']);
        rec.input(10, "fix it\r");
        let payload = serde_json::json!({"hook_event_name": "Stop", "n": [1, 2]});
        rec.push(20, EntryKind::Event(EventEntry { source: "claude_hook".into(), payload }));
        let json = Some(serde_json::json!({"pid": 1}));
        rec.push(
            30,
            EntryKind::File(FileEntry {
                path: "~/.claude/sessions/{pid}.json".into(),
                json,
                ..FileEntry::default()
            }),
        );
        let text = Some("{}\n".to_string());
        rec.push(
            30,
            EntryKind::File(FileEntry {
                path: "~/t.jsonl".into(),
                text,
                append: true,
                ..FileEntry::default()
            }),
        );
        rec.push(
            35,
            EntryKind::File(FileEntry { path: "~/x".into(), delete: true, ..FileEntry::default() }),
        );
        rec.push(
            40,
            EntryKind::Proc(ProcEntry { argv: vec!["claude".into()], cwd: Some("~/proj".into()) }),
        );
        rec.push(50, EntryKind::Exit(-1));
        let text = rec.to_jsonl();
        assert_eq!(text.lines().count(), 9);
        assert_eq!(parse(&text).unwrap(), rec);
        assert_eq!(rec.output_until(5), [0u8, 0xff, 0x1b, b'[']);
    }

    #[test]
    fn the_spec_example_parses() {
        let text = r#"{"tsmrec":1,"agent":"claude","agent_version":"2.1.173","cols":120,"rows":40,"provenance":"recorded","note":"…"}
{"t":0,"out":"aGk="}
{"t":1530,"in":"\r"}

{"t":1600,"event":{"source":"claude_hook","payload":{"a":1}}}
{"t":1700,"file":{"path":"~/.claude/sessions/{pid}.json","json":{"b":2}}}
{"t":1800,"proc":{"argv":["claude"],"cwd":"~/proj"}}
{"t":9000,"exit":0}
"#;
        let rec = parse(text).unwrap();
        assert_eq!(rec.entries.len(), 6);
        assert_eq!(rec.entries[0].kind, EntryKind::Out(b"hi".to_vec()));
        assert_eq!(rec.entries[5], Entry { t: 9000, kind: EntryKind::Exit(0) });
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        assert!(matches!(parse("\n \n"), Err(TsmrecError::Empty)));
        assert_eq!(
            parse(r#"{"tsmrec":2,"agent":"x","cols":1,"rows":1,"provenance":"edited"}"#)
                .unwrap_err()
                .to_string(),
            "line 1: format version 2, this reader knows 1"
        );
        assert!(
            parse(r#"{"tsmrec":1,"agent":"x","cols":1,"rows":1,"provenance":"made up"}"#)
                .unwrap_err()
                .to_string()
                .starts_with("line 1: bad header")
        );
        assert!(
            error_of("{\"t\":0,\"out\":\"aGk=\"}\n[1]").starts_with("line 3: not a JSON object")
        );
        assert_eq!(error_of(r#"{"out":"aGk="}"#), "line 2: the entry has no time `t` in ms");
        assert_eq!(
            error_of("{\"t\":5,\"exit\":0}\n{\"t\":4,\"exit\":0}"),
            "line 3: time 4 is before the previous entry's 5"
        );
        assert_eq!(
            error_of(r#"{"t":1,"out":"aGk=","in":"x"}"#),
            r#"line 2: an entry needs exactly one of out, in, event, file, proc, exit; found ["out", "in"]"#
        );
        assert!(error_of(r#"{"t":1,"sound":"beep"}"#).contains(r#"found ["sound"]"#));
        assert!(error_of(r#"{"t":1,"out":"!!"}"#).starts_with("line 2: bad out entry"));
        assert!(error_of(r#"{"t":1,"exit":1e99}"#).starts_with("line 2: bad exit entry"));
        assert!(error_of(r#"{"t":1,"file":{"path":"x"}}"#).starts_with("line 2: bad file entry"));
        assert!(
            error_of(r#"{"t":1,"proc":{"argv":"claude"}}"#).starts_with("line 2: bad proc entry")
        );
    }
}
