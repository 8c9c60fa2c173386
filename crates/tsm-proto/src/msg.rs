//! Typed payloads above the raw frames (spec/wire.md, "Tags", "Our History options").
//!
//! Each type parses leniently where the spec says peers send shorter or longer shapes, and
//! encodes exactly what the Go tsm sends, so both kinds of peer understand us.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::{LabelError, PayloadError};
use crate::tag::Tag;

/// A terminal size: the payload of Resize and Init.
///
/// Four bytes (rows u16 LE, cols u16 LE), as the Go tsm sends; zmx's eight-byte shape adds
/// xpixel and ypixel. Longer payloads are accepted and the rest ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Size {
    /// Rows (lines).
    pub rows: u16,
    /// Columns.
    pub cols: u16,
    /// Width in pixels, 0 when unknown.
    pub xpixel: u16,
    /// Height in pixels, 0 when unknown.
    pub ypixel: u16,
}

impl Size {
    /// A size in cells, pixels unknown.
    pub const fn new(rows: u16, cols: u16) -> Size {
        Size { rows, cols, xpixel: 0, ypixel: 0 }
    }

    /// Parses a Resize or Init payload of 4 or more bytes.
    ///
    /// # Errors
    ///
    /// [`PayloadError::TooShort`] under 4 bytes (the Go daemon ignores such a frame).
    pub fn parse(payload: &[u8]) -> Result<Size, PayloadError> {
        if payload.len() < 4 {
            return Err(PayloadError::TooShort { tag: Tag::Resize, len: payload.len(), min: 4 });
        }
        let word = |at: usize| u16::from_le_bytes([payload[at], payload[at + 1]]);
        let (xpixel, ypixel) = if payload.len() >= 8 { (word(4), word(6)) } else { (0, 0) };
        Ok(Size { rows: word(0), cols: word(2), xpixel, ypixel })
    }

    /// Appends the payload: 4 bytes when the pixel size is unknown (what the Go tsm
    /// sends), else 8.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.rows.to_le_bytes());
        out.extend_from_slice(&self.cols.to_le_bytes());
        if self.xpixel != 0 || self.ypixel != 0 {
            out.extend_from_slice(&self.xpixel.to_le_bytes());
            out.extend_from_slice(&self.ypixel.to_le_bytes());
        }
    }

    /// The payload as a new vector; see [`Size::encode_into`].
    pub fn to_payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8);
        self.encode_into(&mut out);
        out
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}", self.cols, self.rows)
    }
}

/// The text format of a History reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HistoryFormat {
    /// The Go tsm's request (empty payload): the styled visible screen.
    Preview,
    /// 0: text only, no escape sequences.
    Plain,
    /// 1: escape sequences that replay the history in a terminal.
    Vt,
    /// 2: a styled HTML page.
    Html,
}

/// A History request: the format and our options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct HistoryRequest {
    /// The reply's format.
    pub format: HistoryFormat,
    /// Only the last this many lines; 0 means all.
    pub lines: u32,
    /// Only the visible screen, no scrollback.
    pub screen_only: bool,
}

/// Bit 0 of the History flags byte: the visible screen only.
const HISTORY_FLAG_SCREEN_ONLY: u8 = 0b1;

impl HistoryRequest {
    /// A request for everything in `format`.
    pub const fn new(format: HistoryFormat) -> HistoryRequest {
        HistoryRequest { format, lines: 0, screen_only: false }
    }

    /// Parses a History request: empty = the Go tsm's preview; else a format byte,
    /// optionally a u32 LE line limit, optionally a flags byte. Older peers send less; both
    /// shorter forms mean "everything".
    ///
    /// # Errors
    ///
    /// [`PayloadError::UnknownHistoryFormat`] for a format byte above 2.
    pub fn parse(payload: &[u8]) -> Result<HistoryRequest, PayloadError> {
        let Some(&format_byte) = payload.first() else {
            return Ok(HistoryRequest::new(HistoryFormat::Preview));
        };
        let format = match format_byte {
            0 => HistoryFormat::Plain,
            1 => HistoryFormat::Vt,
            2 => HistoryFormat::Html,
            other => return Err(PayloadError::UnknownHistoryFormat(other)),
        };
        let lines = match payload.get(1..5) {
            Some(bytes) => u32::from_le_bytes(bytes.try_into().expect("4 bytes")),
            None => 0,
        };
        let flags = payload.get(5).copied().unwrap_or(0);
        Ok(HistoryRequest { format, lines, screen_only: flags & HISTORY_FLAG_SCREEN_ONLY != 0 })
    }

    /// Appends the payload: empty for [`HistoryFormat::Preview`], the format byte alone
    /// when there are no options (what zmx sends), else format, limit and flags.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let format_byte = match self.format {
            HistoryFormat::Preview => return,
            HistoryFormat::Plain => 0,
            HistoryFormat::Vt => 1,
            HistoryFormat::Html => 2,
        };
        out.push(format_byte);
        if self.lines != 0 || self.screen_only {
            out.extend_from_slice(&self.lines.to_le_bytes());
            out.push(if self.screen_only { HISTORY_FLAG_SCREEN_ONLY } else { 0 });
        }
    }

    /// The payload as a new vector; see [`HistoryRequest::encode_into`].
    pub fn to_payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(6);
        self.encode_into(&mut out);
        out
    }
}

/// The answer carried by an Ack: success, or the error text.
///
/// # Errors
///
/// The error text (lossily decoded) when the payload is not empty.
pub fn parse_ack(payload: &[u8]) -> Result<(), String> {
    if payload.is_empty() { Ok(()) } else { Err(String::from_utf8_lossy(payload).into_owned()) }
}

/// The exit code carried by a TaskComplete frame.
///
/// # Errors
///
/// [`PayloadError::TooShort`] for an empty payload.
pub fn parse_task_complete(payload: &[u8]) -> Result<u8, PayloadError> {
    payload.first().copied().ok_or(PayloadError::TooShort {
        tag: Tag::TaskComplete,
        len: 0,
        min: 1,
    })
}

/// The new name carried by a Rename frame, with surrounding white space trimmed as the Go
/// daemon does. Validate it with [`SessionName`](crate::SessionName) before using it.
///
/// # Errors
///
/// [`PayloadError::NotUtf8`] when the name is not UTF-8.
pub fn parse_rename(payload: &[u8]) -> Result<&str, PayloadError> {
    std::str::from_utf8(payload)
        .map(str::trim)
        .map_err(|_| PayloadError::NotUtf8 { tag: Tag::Rename })
}

/// A Write request: put `data` into the file at `path` through the session's shell.
///
/// Payload (zmx): path length (u32 LE), the path, then the file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteRequest<'a> {
    /// Where the file goes, as the session's shell resolves it.
    pub path: &'a [u8],
    /// The file's contents.
    pub data: &'a [u8],
}

impl<'a> WriteRequest<'a> {
    /// Parses a Write payload.
    ///
    /// # Errors
    ///
    /// [`PayloadError::TooShort`] under 4 bytes, [`PayloadError::WritePathTooLong`] when
    /// the path length runs past the payload.
    pub fn parse(payload: &'a [u8]) -> Result<WriteRequest<'a>, PayloadError> {
        let Some(len_bytes) = payload.get(..4) else {
            return Err(PayloadError::TooShort { tag: Tag::Write, len: payload.len(), min: 4 });
        };
        let path_len = u32::from_le_bytes(len_bytes.try_into().expect("4 bytes"));
        let rest = &payload[4..];
        match usize::try_from(path_len).ok().filter(|&n| n <= rest.len()) {
            Some(n) => Ok(WriteRequest { path: &rest[..n], data: &rest[n..] }),
            None => Err(PayloadError::WritePathTooLong { path_len, len: payload.len() }),
        }
    }

    /// Appends the payload.
    ///
    /// # Panics
    ///
    /// When the path is longer than `u32::MAX` bytes.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let path_len = u32::try_from(self.path.len()).expect("a path fits in u32");
        out.reserve(4 + self.path.len() + self.data.len());
        out.extend_from_slice(&path_len.to_le_bytes());
        out.extend_from_slice(self.path);
        out.extend_from_slice(self.data);
    }
}

/// A session's labels: `key=value` metadata, kept sorted by key.
///
/// Keys and values use only `[A-Za-z0-9._-]` (so `k=v k=v` needs no quoting), keys are 1 to
/// 64 bytes, values at most 256, and the keys of built-in fields ([`RESERVED_LABEL_KEYS`])
/// cannot be set. On the wire (LabelSet, LabelData) labels are `k=v` separated by spaces;
/// in a LabelSet an empty value deletes the key.
///
/// ```
/// use tsm_proto::Labels;
///
/// let mut labels = Labels::new();
/// labels.apply(&Labels::parse_changes("project=api owner=ci")?);
/// labels.apply(&Labels::parse_changes("owner=")?); // an empty value deletes
/// assert_eq!(labels.to_string(), "project=api");
/// assert!(Labels::parse_changes("name=x").is_err()); // reserved
/// # Ok::<(), tsm_proto::LabelError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Labels {
    map: BTreeMap<String, String>,
}

/// Label keys that name built-in fields and cannot be set.
pub const RESERVED_LABEL_KEYS: &[&str] =
    &["name", "pid", "cmd", "cwd", "dir", "start_dir", "clients", "created", "state", "agent"];

/// The longest label key in bytes.
pub const MAX_LABEL_KEY_LEN: usize = 64;
/// The longest label value in bytes.
pub const MAX_LABEL_VALUE_LEN: usize = 256;

/// One change of a LabelSet: set `key` to `value`, or delete it when `value` is empty.
pub type LabelChange = (String, String);

impl Labels {
    /// No labels.
    pub fn new() -> Labels {
        Labels::default()
    }

    /// Parses the changes of a LabelSet payload or of `--label` arguments: `k=v` entries
    /// separated by white space; an empty value means "delete".
    ///
    /// # Errors
    ///
    /// The first broken rule, see [`LabelError`].
    pub fn parse_changes(text: &str) -> Result<Vec<LabelChange>, LabelError> {
        text.split_whitespace().map(parse_label_entry).collect()
    }

    /// Parses a LabelData payload (the daemon's own, already valid labels), leniently:
    /// entries without `=` or with bad characters are skipped.
    pub fn parse_data(text: &str) -> Labels {
        let map = text
            .split_whitespace()
            .filter_map(|entry| parse_label_entry(entry).ok())
            .filter(|(_, value)| !value.is_empty())
            .collect();
        Labels { map }
    }

    /// Applies changes: sets each key, or deletes it when the value is empty.
    pub fn apply(&mut self, changes: &[LabelChange]) {
        for (key, value) in changes {
            if value.is_empty() {
                self.map.remove(key);
            } else {
                self.map.insert(key.clone(), value.clone());
            }
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.map.get(key).map(String::as_str)
    }

    /// Deletes every label.
    pub fn clear(&mut self) {
        self.map.clear();
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The labels in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.map.iter().map(|(key, value)| (key.as_str(), value.as_str()))
    }
}

impl fmt::Display for Labels {
    /// `k=v k=v`, sorted by key: the LabelData payload.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (key, value)) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{key}={value}")?;
        }
        Ok(())
    }
}

fn parse_label_entry(entry: &str) -> Result<LabelChange, LabelError> {
    let (key, value) = entry.split_once('=').ok_or_else(|| LabelError::NoEquals(entry.into()))?;
    if key.is_empty() {
        return Err(LabelError::EmptyKey);
    }
    check_label_text(key, MAX_LABEL_KEY_LEN)?;
    check_label_text(value, MAX_LABEL_VALUE_LEN)?;
    if RESERVED_LABEL_KEYS.contains(&key) {
        return Err(LabelError::Reserved(key.into()));
    }
    Ok((key.into(), value.into()))
}

fn check_label_text(text: &str, max: usize) -> Result<(), LabelError> {
    if let Some(bad) = text.chars().find(|&c| !(c.is_ascii_alphanumeric() || "._-".contains(c))) {
        return Err(LabelError::BadChar { text: text.into(), bad });
    }
    if text.len() > max {
        return Err(LabelError::TooLong { text: text.into(), max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_reads_four_and_eight_byte_shapes() {
        assert_eq!(Size::parse(&[24, 0, 80, 0]), Ok(Size::new(24, 80)));
        let zmx = Size::parse(&[24, 0, 80, 0, 0x80, 2, 0xe0, 1, 9, 9]).unwrap();
        assert_eq!(zmx, Size { rows: 24, cols: 80, xpixel: 640, ypixel: 480 });
        assert!(Size::parse(&[24, 0, 80]).is_err());
        assert_eq!(Size::new(40, 120).to_payload(), [40, 0, 120, 0]);
        assert_eq!(zmx.to_payload(), [24, 0, 80, 0, 0x80, 2, 0xe0, 1]);
    }

    #[test]
    fn history_request_shapes() {
        assert_eq!(HistoryRequest::parse(&[]).unwrap().format, HistoryFormat::Preview);
        assert_eq!(HistoryRequest::parse(&[2]).unwrap(), HistoryRequest::new(HistoryFormat::Html));
        let req = HistoryRequest::parse(&[0, 50, 0, 0, 0, 1]).unwrap();
        assert_eq!(
            req,
            HistoryRequest { format: HistoryFormat::Plain, lines: 50, screen_only: true }
        );
        assert_eq!(req.to_payload(), [0, 50, 0, 0, 0, 1]);
        assert_eq!(HistoryRequest::new(HistoryFormat::Vt).to_payload(), [1]);
        assert!(HistoryRequest::new(HistoryFormat::Preview).to_payload().is_empty());
        assert_eq!(HistoryRequest::parse(&[3]), Err(PayloadError::UnknownHistoryFormat(3)));
    }

    #[test]
    fn ack_and_task_complete() {
        assert_eq!(parse_ack(b""), Ok(()));
        assert_eq!(parse_ack(b"empty session name"), Err("empty session name".into()));
        assert_eq!(parse_task_complete(&[42]), Ok(42));
        assert!(parse_task_complete(&[]).is_err());
    }

    #[test]
    fn rename_trims_like_go() {
        assert_eq!(parse_rename(b"  new\n"), Ok("new"));
        assert!(parse_rename(&[0xff]).is_err());
    }

    #[test]
    fn write_request_round_trip_and_bounds() {
        let req = WriteRequest { path: b"/tmp/x", data: b"\x00\x01bin" };
        let mut payload = Vec::new();
        req.encode_into(&mut payload);
        assert_eq!(&payload[..4], &6u32.to_le_bytes());
        assert_eq!(WriteRequest::parse(&payload), Ok(req));
        assert!(WriteRequest::parse(&[9, 0, 0, 0, b'a']).is_err());
        assert!(WriteRequest::parse(&[0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(WriteRequest::parse(&[1]).is_err());
    }

    #[test]
    fn labels_validate_and_sort() {
        let mut labels = Labels::new();
        labels.apply(&Labels::parse_changes("z=1 a=2\tm=x.y-z_").unwrap());
        assert_eq!(labels.to_string(), "a=2 m=x.y-z_ z=1");
        assert_eq!(Labels::parse_data(&labels.to_string()), labels);
        labels.apply(&Labels::parse_changes("a=").unwrap());
        assert_eq!(labels.get("a"), None);
        assert_eq!(Labels::parse_changes("cmd=x"), Err(LabelError::Reserved("cmd".into())));
        assert!(matches!(
            Labels::parse_changes("k=a b=c/d"),
            Err(LabelError::BadChar { bad: '/', .. })
        ));
        assert_eq!(Labels::parse_changes("novalue"), Err(LabelError::NoEquals("novalue".into())));
        assert_eq!(Labels::parse_changes("=v"), Err(LabelError::EmptyKey));
        assert!(Labels::parse_changes(&format!("{}=1", "k".repeat(65))).is_err());
        assert!(Labels::parse_changes("").unwrap().is_empty());
    }
}
