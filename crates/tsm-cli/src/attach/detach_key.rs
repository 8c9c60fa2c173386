//! Finding the detach key (Ctrl-\) in what the user types.
//!
//! The attached client reads stdin in chunks and passes each one to
//! [`DetachKeyScanner::scan`]. The scanner drops every detach key from the chunk and
//! says whether one was pressed; everything else is forwarded to the session
//! unchanged (spec/cli.md, "The attached client": only the key itself is dropped, not
//! the rest of the chunk, which fixes the Go client's habit of discarding the whole
//! chunk).
//!
//! Ctrl-\ reaches us in one of three encodings:
//!
//! | encoding | bytes |
//! | --- | --- |
//! | legacy (raw mode) | `1C` |
//! | kitty keyboard protocol (also xterm's `formatOtherKeys: 1`) | `ESC [ 92 ; 5 u` |
//! | xterm modifyOtherKeys | `ESC [ 27 ; 5 ; 92 ~` |
//!
//! The CSI forms are matched with some latitude, because the daemon's snapshot may
//! have re-enabled a keyboard protocol the inner program asked for:
//!
//! - the modifier is accepted whenever it means Ctrl and nothing but lock keys:
//!   `(value - 1) & !(CAPS_LOCK | NUM_LOCK) == CTRL` (so `5`, `69`, `133` and `197`);
//! - kitty alternate-key sub-fields after the key code (`92:124`) and a trailing
//!   associated-text field (`;…`) are ignored;
//! - kitty's event type decides what happens: none, `:1` (press) and `:2` (repeat)
//!   detach; `:3` (release) is dropped from the input but does not detach, so a
//!   press and its release never count twice and the release never leaks into the
//!   session as a stray sequence.
//!
//! # Order of effects
//!
//! [`Scan::forward`] holds the bytes before the key *and* after it, in order. The
//! caller sends them as Input first and then, if [`Scan::detach`] is set, the Detach
//! frame, so nothing the user typed before the key is lost.
//!
//! # Sequences split across reads
//!
//! A CSI form may arrive split over two reads. The scanner keeps the unfinished tail
//! of a chunk back (at most [`MAX_PENDING_BYTES`]) when it is a proper prefix of a
//! detach sequence *and* already reads `ESC [` plus at least one digit: such an
//! unfinished CSI is never a whole key on its own, and the terminal sends its end at
//! once, so holding it costs no latency. A lone trailing `ESC` or `ESC [` is
//! forwarded at once instead: it is far more likely the Escape key or Alt-[ than the
//! first bytes of a split Ctrl-\, and holding it would delay Escape until the next
//! key press (the tmux `escape-time` problem). The trade-off: a detach sequence split
//! right after its `ESC` or `ESC [` is not recognised and reaches the session as a
//! key press. [`DetachKeyScanner::flush_pending`] hands back what is held, for the
//! end of input.

use std::ffi::OsStr;

/// The legacy encoding of Ctrl-\ (ASCII FS).
const CTRL_BACKSLASH: u8 = 0x1C;

/// The escape byte that starts every CSI sequence.
const ESC: u8 = 0x1B;

/// The key code of `\` in the CSI forms.
const BACKSLASH_CODE: &[u8] = b"92";

/// The first parameter of xterm's modifyOtherKeys form, `CSI 27 ; mods ; key ~`.
const MODIFY_OTHER_KEYS_CODE: &[u8] = b"27";

/// The modifier values meaning Ctrl and nothing but lock keys. A CSI modifier is 1
/// plus a bit set (shift 1, alt 2, ctrl 4, super 8, hyper 16, meta 32, caps lock 64,
/// num lock 128), so these are the values `v` with `(v - 1) & !(64 | 128) == 4`.
const CTRL_MODIFIERS: [&[u8]; 4] = [b"5", b"69", b"133", b"197"];

/// The kitty event types: press, repeat and release.
const EVENT_TYPES: [&[u8]; 3] = [b"1", b"2", b"3"];

/// The kitty event type of a key release, which is dropped without detaching.
const EVENT_RELEASE: &[u8] = b"3";

/// The longest detach sequence recognised, which bounds the bytes kept back between
/// reads. The longest form we expect, `ESC [ 92 : 124 : 92 ; 197 : 2 u`, is 18
/// bytes; 32 leaves room for an associated-text field. Anything longer is not the
/// detach key, whether it arrives whole or split.
pub(crate) const MAX_PENDING_BYTES: usize = 32;

/// The value of `TSM_DETACH_KEY` that disables the detach key.
const DISABLED_VALUE: &str = "none";

/// Whether the detach key is active, as configured by `TSM_DETACH_KEY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DetachKey {
    /// `false` when `TSM_DETACH_KEY=none`: every byte then goes to the session.
    pub(crate) enabled: bool,
}

impl DetachKey {
    /// Reads `TSM_DETACH_KEY` from the process environment.
    pub(crate) fn from_env() -> DetachKey {
        DetachKey::from_env_value(std::env::var_os("TSM_DETACH_KEY").as_deref())
    }

    /// Builds the setting from the value of `TSM_DETACH_KEY` (`None` when unset).
    ///
    /// `none` (in any case, surrounding blanks ignored) disables the key; anything
    /// else, including an empty value, keeps Ctrl-\.
    pub(crate) fn from_env_value(value: Option<&OsStr>) -> DetachKey {
        let disabled = value
            .and_then(OsStr::to_str)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case(DISABLED_VALUE));
        DetachKey { enabled: !disabled }
    }
}

impl Default for DetachKey {
    /// Ctrl-\ enabled.
    fn default() -> DetachKey {
        DetachKey { enabled: true }
    }
}

/// What one chunk of stdin holds once the detach keys are taken out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Scan {
    /// The bytes to send to the session as Input, in order: everything except the
    /// detach keys (and kitty release events of the key), minus an unfinished
    /// sequence kept back for the next chunk. Send these before acting on `detach`.
    pub(crate) forward: Vec<u8>,
    /// Whether the chunk held a detach key press (or repeat).
    pub(crate) detach: bool,
}

/// Finds the detach key in successive chunks of stdin (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct DetachKeyScanner {
    /// The configuration this scanner follows.
    key: DetachKey,
    /// The unfinished tail of the previous chunk: always `ESC [` plus at least one
    /// digit, a proper prefix of some detach sequence, at most [`MAX_PENDING_BYTES`]
    /// long. Empty when nothing is held (and always empty when disabled).
    pending: Vec<u8>,
}

/// What the bytes at an `ESC` turn out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    /// A whole detach sequence of `len` bytes; `detach` is false for a key release.
    Key { len: usize, detach: bool },
    /// The bytes end while still a proper prefix of a detach sequence.
    Incomplete,
    /// Not a detach sequence.
    No,
}

impl DetachKeyScanner {
    /// A scanner with nothing pending.
    pub(crate) fn new(key: DetachKey) -> DetachKeyScanner {
        DetachKeyScanner { key, pending: Vec::new() }
    }

    /// Takes the detach keys out of `chunk` (see the module docs for what is held
    /// back between calls and the order in which to act on the result).
    pub(crate) fn scan(&mut self, chunk: &[u8]) -> Scan {
        if !self.key.enabled {
            return Scan { forward: chunk.to_vec(), detach: false };
        }
        let joined;
        let input: &[u8] = if self.pending.is_empty() {
            chunk
        } else {
            let mut bytes = std::mem::take(&mut self.pending);
            bytes.extend_from_slice(chunk);
            joined = bytes;
            &joined
        };

        let mut scan = Scan { forward: Vec::with_capacity(input.len()), detach: false };
        let mut rest = input;
        while let Some(at) = rest.iter().position(|&b| b == CTRL_BACKSLASH || b == ESC) {
            scan.forward.extend_from_slice(&rest[..at]);
            rest = &rest[at..];
            if rest[0] == CTRL_BACKSLASH {
                scan.detach = true;
                rest = &rest[1..];
                continue;
            }
            match match_sequence(rest) {
                Match::Key { len, detach } => {
                    scan.detach |= detach;
                    rest = &rest[len..];
                }
                // `ESC [ digit` at least (see the module docs on lone `ESC` / `ESC [`);
                // never longer than `MAX_PENDING_BYTES`, which the parser enforces.
                Match::Incomplete if rest.len() >= 3 => {
                    self.pending.extend_from_slice(rest);
                    rest = &[];
                }
                Match::Incomplete => {
                    scan.forward.extend_from_slice(rest);
                    rest = &[];
                }
                Match::No => {
                    scan.forward.push(ESC);
                    rest = &rest[1..];
                }
            }
        }
        scan.forward.extend_from_slice(rest);
        scan
    }

    /// Whether an unfinished sequence is being held back. Only tests ask: the client
    /// needs no timer (see the module docs), it just flushes when input ends.
    #[cfg(test)]
    fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Hands back the bytes held back from the last chunk, as ordinary input, and
    /// forgets them. Call it when input ends (or has paused) so nothing is lost.
    pub(crate) fn flush_pending(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.pending)
    }
}

/// A cursor over the bytes of a candidate sequence.
struct Cursor<'a> {
    /// The candidate, starting with `ESC`.
    bytes: &'a [u8],
    /// The next byte to read.
    pos: usize,
}

/// Why parsing a candidate sequence stopped early.
enum Stop {
    /// The bytes ran out.
    Incomplete,
    /// A byte did not fit.
    No,
}

impl From<Stop> for Match {
    fn from(stop: Stop) -> Match {
        match stop {
            Stop::Incomplete => Match::Incomplete,
            Stop::No => Match::No,
        }
    }
}

impl Cursor<'_> {
    /// The next byte without consuming it; a sequence may not grow past
    /// [`MAX_PENDING_BYTES`].
    fn peek(&self) -> Result<u8, Stop> {
        if self.pos >= MAX_PENDING_BYTES {
            return Err(Stop::No);
        }
        self.bytes.get(self.pos).copied().ok_or(Stop::Incomplete)
    }

    /// Consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> Result<bool, Stop> {
        let found = self.peek()? == byte;
        if found {
            self.pos += 1;
        }
        Ok(found)
    }

    /// Consumes `byte`, which must be next.
    fn expect(&mut self, byte: u8) -> Result<(), Stop> {
        if self.eat(byte)? { Ok(()) } else { Err(Stop::No) }
    }

    /// Consumes a run of digits, possibly empty.
    fn digits(&mut self) -> Result<&[u8], Stop> {
        let start = self.pos;
        while self.peek()?.is_ascii_digit() {
            self.pos += 1;
        }
        Ok(&self.bytes[start..self.pos])
    }

    /// Consumes a number spelled exactly as one of `allowed`, returning it. Fails as
    /// soon as the digits read cannot become one of them, so an unfinished number is
    /// only `Incomplete` while it can still match.
    fn one_of(&mut self, allowed: &[&'static [u8]]) -> Result<&'static [u8], Stop> {
        let start = self.pos;
        loop {
            let so_far = &self.bytes[start..self.pos];
            if !allowed.iter().any(|a| a.starts_with(so_far)) {
                return Err(Stop::No);
            }
            if !self.peek()?.is_ascii_digit() {
                return allowed.iter().find(|a| **a == so_far).copied().ok_or(Stop::No);
            }
            self.pos += 1;
        }
    }
}

/// Matches the detach sequences at the start of `bytes`, which starts with `ESC`.
fn match_sequence(bytes: &[u8]) -> Match {
    let mut cursor = Cursor { bytes, pos: 0 };
    match parse_sequence(&mut cursor) {
        Ok(detach) => Match::Key { len: cursor.pos, detach },
        Err(stop) => stop.into(),
    }
}

/// Parses `ESC [ 92 (:alt)* ; mods (:event)? (;text)? u` or
/// `ESC [ 27 ; mods ; 92 ~`; returns whether it detaches (false for a release).
fn parse_sequence(cursor: &mut Cursor<'_>) -> Result<bool, Stop> {
    cursor.expect(ESC)?;
    cursor.expect(b'[')?;
    if cursor.one_of(&[BACKSLASH_CODE, MODIFY_OTHER_KEYS_CODE])? == BACKSLASH_CODE {
        return parse_kitty_rest(cursor);
    }
    cursor.expect(b';')?;
    cursor.one_of(&CTRL_MODIFIERS)?;
    cursor.expect(b';')?;
    cursor.one_of(&[BACKSLASH_CODE])?;
    cursor.expect(b'~')?;
    Ok(true)
}

/// Parses what follows `ESC [ 92` in the kitty form.
fn parse_kitty_rest(cursor: &mut Cursor<'_>) -> Result<bool, Stop> {
    // Alternate keys (shifted, base layout): each may be empty, as in `92::92`.
    while cursor.eat(b':')? {
        cursor.digits()?;
    }
    cursor.expect(b';')?;
    cursor.one_of(&CTRL_MODIFIERS)?;
    let mut detach = true;
    if cursor.eat(b':')? {
        detach = cursor.one_of(&EVENT_TYPES)? != EVENT_RELEASE;
    }
    // Associated text: codepoints separated by colons.
    if cursor.eat(b';')? {
        while !cursor.digits()?.is_empty() || cursor.eat(b':')? {}
    }
    cursor.expect(b'u')?;
    Ok(detach)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scanner() -> DetachKeyScanner {
        DetachKeyScanner::new(DetachKey::default())
    }

    fn scan_once(chunk: &[u8]) -> Scan {
        scanner().scan(chunk)
    }

    #[test]
    fn ctrl_modifiers_are_exactly_ctrl_plus_lock_bits() {
        let expected: Vec<String> =
            (1u32..=1000).filter(|v| (v - 1) & !(64 | 128) == 4).map(|v| v.to_string()).collect();
        let listed: Vec<String> =
            CTRL_MODIFIERS.iter().map(|m| String::from_utf8_lossy(m).into_owned()).collect();
        assert_eq!(listed, expected);
    }

    fn detaches(bytes: &[u8], forward: &[u8]) {
        let scan = scan_once(bytes);
        assert!(scan.detach, "{bytes:?} should detach");
        assert_eq!(scan.forward, forward, "forwarded bytes of {bytes:?}");
    }

    fn passes_through(bytes: &[u8]) {
        let mut scanner = scanner();
        let scan = scanner.scan(bytes);
        assert!(!scan.detach, "{bytes:?} should not detach");
        assert_eq!(scan.forward, bytes, "{bytes:?} should be forwarded untouched");
        assert!(!scanner.has_pending());
    }

    #[test]
    fn raw_ctrl_backslash_alone_detaches_and_forwards_nothing() {
        detaches(b"\x1c", b"");
    }

    #[test]
    fn only_the_key_is_dropped_from_the_chunk() {
        detaches(b"ab\x1ccd", b"abcd");
    }

    #[test]
    fn every_key_in_a_chunk_is_dropped() {
        detaches(b"a\x1cb\x1b[92;5uc\x1b[27;5;92~d", b"abcd");
    }

    #[test]
    fn kitty_forms_detach() {
        for seq in [
            &b"\x1b[92;5u"[..],
            b"\x1b[92;69u",
            b"\x1b[92;133u",
            b"\x1b[92;197u",
            b"\x1b[92;5:1u",
            b"\x1b[92;5:2u",
            b"\x1b[92;197:2u",
            b"\x1b[92:124;5u",
            b"\x1b[92:124:92;5:1u",
            b"\x1b[92::92;5u",
            b"\x1b[92;5;28u",
        ] {
            detaches(seq, b"");
            let mut chunk = b"x".to_vec();
            chunk.extend_from_slice(seq);
            chunk.extend_from_slice(b"y");
            detaches(&chunk, b"xy");
        }
    }

    #[test]
    fn kitty_release_is_swallowed_without_detaching() {
        let scan = scan_once(b"a\x1b[92;5:3ub");
        assert_eq!(scan, Scan { forward: b"ab".to_vec(), detach: false });
        // A press followed by its release detaches once and leaks nothing.
        detaches(b"\x1b[92;5:1u\x1b[92;5:3u", b"");
    }

    #[test]
    fn modify_other_keys_forms_detach() {
        detaches(b"\x1b[27;5;92~", b"");
        detaches(b"\x1b[27;69;92~", b"");
        detaches(b"\x1b[27;133;92~", b"");
        detaches(b"q\x1b[27;197;92~w", b"qw");
    }

    #[test]
    fn other_keys_and_modifiers_pass_through() {
        for bytes in [
            &b"\x1b[92;6u"[..], // ctrl+shift
            b"\x1b[92;7u",      // ctrl+alt
            b"\x1b[92;13u",     // ctrl+super
            b"\x1b[92;1u",
            b"\x1b[92;0u",
            b"\x1b[92;4u",
            b"\x1b[92u",
            b"\x1b[93;5u",
            b"\x1b[920;5u",
            b"\x1b[9;5u",
            b"\x1b[A",
            b"\x1b[1;5A",
            b"hello",
            b"\x1b[27;5;93~",
            b"\x1b[27;6;92~",
            b"\x1b[27;5;92u",
            b"\x1b[27~",
            b"\x1b[92;5:4u",
            b"\x1b[92;5:u",
            b"\x1b[92;5x",
            b"\x1b",
            b"\x1b[",
            b"\x1bx",
            b"\x1b\x1b[A",
            b"\x1b[99999999999;5u",
        ] {
            passes_through(bytes);
        }
    }

    #[test]
    fn a_rejected_escape_does_not_hide_a_key_after_it() {
        detaches(b"\x1b\x1c", b"\x1b");
        detaches(b"\x1b[92\x1b[92;5u", b"\x1b[92");
    }

    #[test]
    fn sequences_split_across_chunks_are_found() {
        for seq in [&b"\x1b[92;5u"[..], b"\x1b[92;197:2u", b"\x1b[27;5;92~", b"\x1b[92:124;5u"] {
            // Splits after at least `ESC [ digit` are held back and joined.
            for cut in 3..seq.len() {
                let mut scanner = scanner();
                let mut first = b"ab".to_vec();
                first.extend_from_slice(&seq[..cut]);
                let mut second = seq[cut..].to_vec();
                second.extend_from_slice(b"cd");
                let one = scanner.scan(&first);
                assert_eq!(one, Scan { forward: b"ab".to_vec(), detach: false }, "cut {cut}");
                assert!(scanner.has_pending());
                let two = scanner.scan(&second);
                assert_eq!(two, Scan { forward: b"cd".to_vec(), detach: true }, "cut {cut}");
                assert!(!scanner.has_pending());
            }
        }
    }

    #[test]
    fn a_split_sequence_can_span_three_chunks() {
        let mut scanner = scanner();
        assert_eq!(scanner.scan(b"\x1b[9").forward, b"");
        assert_eq!(scanner.scan(b"2;1").forward, b"");
        assert_eq!(scanner.scan(b"97u!"), Scan { forward: b"!".to_vec(), detach: true });
    }

    #[test]
    fn a_split_non_key_is_released_whole() {
        let mut scanner = scanner();
        // `6` could still become `69` (ctrl + caps lock), so it is held.
        assert_eq!(scanner.scan(b"\x1b[92;6").forward, b"");
        assert_eq!(scanner.scan(b"u"), Scan { forward: b"\x1b[92;6u".to_vec(), detach: false });
        assert_eq!(scanner.scan(b"\x1b[92;").forward, b"");
        assert_eq!(scanner.scan(b"6u"), Scan { forward: b"\x1b[92;6u".to_vec(), detach: false });
        assert!(!scanner.has_pending());
    }

    #[test]
    fn lone_escape_and_csi_introducer_are_not_held() {
        let mut scanner = scanner();
        assert_eq!(scanner.scan(b"a\x1b").forward, b"a\x1b");
        assert!(!scanner.has_pending());
        assert_eq!(scanner.scan(b"\x1b[").forward, b"\x1b[");
        assert!(!scanner.has_pending());
    }

    #[test]
    fn non_detach_csi_prefixes_are_not_held() {
        let mut scanner = scanner();
        assert_eq!(scanner.scan(b"\x1b[1;5").forward, b"\x1b[1;5");
        assert_eq!(scanner.scan(b"\x1b[93").forward, b"\x1b[93");
        assert_eq!(scanner.scan(b"\x1b[92;7").forward, b"\x1b[92;7");
        assert_eq!(scanner.scan(b"\x1b[92;11").forward, b"\x1b[92;11");
        assert_eq!(scanner.scan(b"\x1b[92;5:4").forward, b"\x1b[92;5:4");
        assert_eq!(scanner.scan(b"\x1b[27;5;93").forward, b"\x1b[27;5;93");
        assert!(!scanner.has_pending());
    }

    #[test]
    fn flush_pending_returns_held_bytes_once() {
        let mut scanner = scanner();
        assert_eq!(scanner.scan(b"x\x1b[27;5").forward, b"x");
        assert_eq!(scanner.flush_pending(), b"\x1b[27;5");
        assert!(scanner.flush_pending().is_empty());
        assert_eq!(scanner.scan(b";92~"), Scan { forward: b";92~".to_vec(), detach: false });
    }

    #[test]
    fn pending_is_bounded() {
        let mut scanner = scanner();
        let mut long = b"\x1b[92;5;".to_vec();
        long.extend(std::iter::repeat_n(b':', 40));
        let scan = scanner.scan(&long);
        assert_eq!(scan.forward, long);
        assert!(!scanner.has_pending());
    }

    #[test]
    fn disabled_scanner_forwards_everything() {
        let mut scanner = DetachKeyScanner::new(DetachKey { enabled: false });
        for bytes in [&b"\x1c"[..], b"a\x1cb", b"\x1b[92;5u", b"\x1b[27;5;92~", b"\x1b[92;5"] {
            assert_eq!(scanner.scan(bytes), Scan { forward: bytes.to_vec(), detach: false });
            assert!(!scanner.has_pending());
        }
    }

    #[test]
    fn environment_value_none_disables() {
        let value = |v: &str| DetachKey::from_env_value(Some(OsStr::new(v))).enabled;
        assert!(DetachKey::from_env_value(None).enabled);
        assert!(value(""));
        assert!(value("ctrl-\\"));
        assert!(!value("none"));
        assert!(!value("NONE"));
        assert!(!value(" none\n"));
    }

    #[test]
    fn arbitrary_input_never_panics_and_only_drops_bytes() {
        // A small LCG over an alphabet rich in the bytes the parser cares about.
        let alphabet = b"\x1b\x1c[];:0123456789u~5297ab";
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..2000 {
            let mut scanner = scanner();
            let mut all_forwarded = Vec::new();
            let mut all_input = Vec::new();
            for _ in 0..4 {
                let mut chunk = Vec::new();
                for _ in 0..(state % 24) {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    chunk.push(alphabet[(state >> 33) as usize % alphabet.len()]);
                }
                all_input.extend_from_slice(&chunk);
                all_forwarded.extend(scanner.scan(&chunk).forward);
            }
            all_forwarded.extend(scanner.flush_pending());
            // The forwarded bytes are a subsequence of the input.
            let mut input = all_input.iter();
            assert!(
                all_forwarded.iter().all(|b| input.any(|i| i == b)),
                "{all_forwarded:?} is not a subsequence of {all_input:?}"
            );
        }
    }
}
