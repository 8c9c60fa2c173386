//! [`StreamTail`]: the bytes at the end of the stream that vte has not finished with.
//!
//! A snapshot is the screen after every byte advanced so far, but the stream can stop in the
//! middle of an escape sequence or of a UTF-8 character (a PTY read ends anywhere). The
//! daemon resumes the client's live stream right after the snapshot, so the rest of that
//! sequence arrives without its beginning, and the client's terminal would print it as text.
//! The model keeps the unfinished bytes, and the snapshot ends with them: the client's parser
//! is then where the model's is, and the live bytes complete the sequence.
//!
//! Finding them is cheap: an ESC always restarts the parser, so only the bytes after the last
//! ESC of a chunk are parsed (by the small state machine below, which follows vte's
//! transitions closely enough to tell complete from incomplete), and a sequence that spans
//! chunks is followed only until it ends.
//!
//! The same tail fixes a vte 0.15 bug: when a chunk ends inside a UTF-8 character and the next
//! chunk completes it, vte drops the character after it (`advance_partial_utf8` counts bytes it
//! did not use as consumed). An incomplete UTF-8 character at the end of a chunk in the ground
//! state is therefore held back from vte and given to it with the next chunk.

/// Longest unfinished sequence kept for the snapshot (a longer one, such as a large OSC 52 or
/// DCS payload, is not replayed: the client then sees its remainder as text).
const MAX_TAIL_BYTES: usize = 4096;

/// Where vte's parser is, as far as telling a finished sequence goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum State {
    /// Between sequences.
    #[default]
    Ground,
    /// After ESC.
    Escape,
    /// After ESC and intermediate bytes.
    EscapeIntermediate,
    /// In a CSI sequence, before its final byte.
    Csi,
    /// In an OSC string (ends with BEL or ESC).
    Osc,
    /// In a DCS, SOS, PM or APC string (ends with ESC).
    String,
}

/// The unfinished end of the stream.
#[derive(Debug, Default)]
pub(crate) struct StreamTail {
    /// Bytes since the start of the unfinished sequence, or the incomplete UTF-8 character
    /// held back from vte; empty when the stream ended cleanly.
    bytes: Vec<u8>,
    /// The parser state after `bytes`.
    state: State,
    /// Length of the incomplete UTF-8 character at the end of `bytes` that vte has not seen
    /// (only in the ground state).
    held: usize,
    /// The unfinished sequence outgrew [`MAX_TAIL_BYTES`]; it is followed but not kept.
    overflow: bool,
}

impl StreamTail {
    /// The bytes a snapshot must end with (empty if the sequence was too long to keep).
    pub(crate) fn bytes(&self) -> &[u8] {
        if self.overflow { &[] } else { &self.bytes }
    }

    /// Whether the stream ended between sequences with no UTF-8 character held back.
    pub(crate) fn is_clean(&self) -> bool {
        self.state == State::Ground && self.held == 0
    }

    /// Takes the held-back UTF-8 bytes, which must go to vte before the next chunk.
    pub(crate) fn take_held(&mut self) -> Vec<u8> {
        if self.held == 0 {
            return Vec::new();
        }
        self.held = 0;
        self.state = State::Ground;
        std::mem::take(&mut self.bytes)
    }

    /// Follows `chunk`; returns how many bytes at its end vte must not see yet.
    pub(crate) fn feed(&mut self, chunk: &[u8]) -> usize {
        let mut ground_from = 0;
        if self.state != State::Ground {
            // A sequence from an earlier chunk: follow it until it ends.
            match self.run(chunk) {
                Some(end) => {
                    self.clear();
                    ground_from = end;
                }
                None => {
                    self.keep(chunk);
                    return 0;
                }
            }
        }
        let rest = &chunk[ground_from..];
        if let Some(esc) = rest.iter().rposition(|&b| b == 0x1b) {
            let from = ground_from + esc;
            self.state = State::Escape;
            match self.run(&chunk[from + 1..]) {
                Some(end) => ground_from = from + 1 + end,
                None => {
                    // `run` left the state where the chunk ends.
                    let state = self.state;
                    self.clear();
                    self.state = state;
                    self.keep(&chunk[from..]);
                    return 0;
                }
            }
        }
        self.clear();
        let held = incomplete_utf8_suffix(&chunk[ground_from..]);
        if held > 0 {
            self.bytes.extend_from_slice(&chunk[chunk.len() - held..]);
            self.held = held;
        }
        held
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.state = State::Ground;
        self.held = 0;
        self.overflow = false;
    }

    fn keep(&mut self, bytes: &[u8]) {
        if self.bytes.len() + bytes.len() > MAX_TAIL_BYTES {
            self.overflow = true;
            self.bytes.clear();
        } else if !self.overflow {
            self.bytes.extend_from_slice(bytes);
        }
    }

    /// Runs the state machine from `self.state` over `bytes`; returns the index after the
    /// byte that brought it back to the ground state, or `None` (state updated) if it did not.
    fn run(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut state = self.state;
        for (i, &b) in bytes.iter().enumerate() {
            state = step(state, b);
            if state == State::Ground {
                self.state = State::Ground;
                return Some(i + 1);
            }
        }
        self.state = state;
        None
    }
}

/// One byte of vte's state machine, reduced to what tells where a sequence ends.
fn step(state: State, b: u8) -> State {
    match b {
        // CAN and SUB abort any sequence; ESC starts a new one (ending a string).
        0x18 | 0x1a => return State::Ground,
        0x1b => return State::Escape,
        _ => {}
    }
    match state {
        State::Ground => State::Ground,
        State::Escape => match b {
            0x20..=0x2f => State::EscapeIntermediate,
            b'[' => State::Csi,
            b']' => State::Osc,
            b'P' | b'X' | b'^' | b'_' => State::String,
            0x30..=0x7e => State::Ground,
            _ => State::Escape,
        },
        State::EscapeIntermediate => match b {
            0x30..=0x7e => State::Ground,
            _ => State::EscapeIntermediate,
        },
        State::Csi => match b {
            0x40..=0x7e => State::Ground,
            _ => State::Csi,
        },
        State::Osc => match b {
            0x07 => State::Ground,
            _ => State::Osc,
        },
        State::String => State::String,
    }
}

/// Length of an incomplete UTF-8 character at the end of `bytes` (0 if there is none).
fn incomplete_utf8_suffix(bytes: &[u8]) -> usize {
    let n = bytes.len();
    for back in 1..=3.min(n) {
        let b = bytes[n - back];
        if b & 0xc0 == 0x80 {
            continue; // a continuation byte: look further back for the lead byte
        }
        let len = match b {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            0xf0..=0xf4 => 4,
            _ => return 0,
        };
        return if back < len { back } else { 0 };
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_complete_stream_leaves_no_tail() {
        let mut tail = StreamTail::default();
        assert_eq!(tail.feed(b"plain \x1b[31mred\x1b]0;t\x07 \xe4\xb8\x96"), 0);
        assert!(tail.bytes().is_empty());
    }

    #[test]
    fn an_unfinished_csi_is_kept_across_chunks_until_it_ends() {
        let mut tail = StreamTail::default();
        assert_eq!(tail.feed(b"text\x1b[3"), 0);
        assert_eq!(tail.bytes(), b"\x1b[3");
        assert_eq!(tail.feed(b"8;5"), 0);
        assert_eq!(tail.bytes(), b"\x1b[38;5");
        assert_eq!(tail.feed(b";1mmore"), 0);
        assert!(tail.bytes().is_empty());
    }

    #[test]
    fn an_osc_ends_with_bel_or_st() {
        let mut tail = StreamTail::default();
        tail.feed(b"\x1b]2;title");
        assert_eq!(tail.bytes(), b"\x1b]2;title");
        tail.feed(b" more\x1b");
        assert_eq!(tail.bytes(), b"\x1b]2;title more\x1b");
        tail.feed(b"\\");
        assert!(tail.bytes().is_empty());
    }

    #[test]
    fn an_incomplete_utf8_character_is_held_back() {
        let mut tail = StreamTail::default();
        assert_eq!(tail.feed(b"e\xcc"), 1);
        assert_eq!(tail.bytes(), b"\xcc");
        assert_eq!(tail.take_held(), b"\xcc");
        assert_eq!(tail.feed("\u{301}a".as_bytes()), 0);
        assert_eq!(tail.feed("世".as_bytes()[..2].as_ref()), 2);
    }

    #[test]
    fn can_aborts_a_sequence() {
        let mut tail = StreamTail::default();
        tail.feed(b"\x1b[12");
        tail.feed(b"\x18abc");
        assert!(tail.bytes().is_empty());
    }
}
