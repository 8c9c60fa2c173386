//! The local switch: `tsm attach OTHER` run inside a session moves the outer client.
//!
//! Attach does not nest. Inside a session (`TSM_SESSION` set), `tsm attach OTHER`
//! prints [`switch_sequence`] to its stdout instead. The bytes flow through the
//! session's PTY and the daemon to every attached client, whose [`SwitchFilter`]
//! takes the sequence out of the Output stream and reports the target; the client
//! then leaves and attaches to `OTHER` (the Go tsm's `switch.go`, reference §3.4).
//!
//! The sequence is an OSC the terminal would ignore anyway:
//! `ESC ] 633 ; TSM_ATTACH= <target> BEL`. Where the Go filter differs, this one:
//!
//! - also accepts ST (`ESC \`) as the terminator;
//! - bounds what it holds back: an introducer never followed by a terminator no longer
//!   swallows the rest of the output. The held bytes are released as ordinary output
//!   once the target would exceed [`MAX_TARGET_BYTES`], or on a byte no session name
//!   holds (a control character, including an `ESC` that does not start ST);
//! - ignores an empty target and a target that is not UTF-8 (the sequence is still
//!   dropped): attach creates missing sessions, so a mangled name must not become a
//!   new session.
//!
//! Only the introducer's bytes, then the target's, are ever held back, so a prefix of
//! another OSC 633 (VS Code's shell integration uses `ESC ] 633 ; A` and friends) is
//! released as soon as it diverges, usually within the same chunk.

/// The bytes that open a switch sequence: `ESC ] 633 ; TSM_ATTACH=`. `ESC` occurs only
/// at index 0, which the filter relies on when it releases a failed prefix.
const INTRODUCER: &[u8] = b"\x1b]633;TSM_ATTACH=";

/// The escape byte: the start of the introducer and of ST.
const ESC: u8 = 0x1B;

/// BEL, the usual OSC terminator.
const BEL: u8 = 0x07;

/// The second byte of ST (`ESC \`), the standard OSC terminator.
const ST_FINAL: u8 = b'\\';

/// The longest target held back before the sequence is given up as ordinary output.
/// Session names are at most 106 bytes (a socket path fits `sun_path`'s 108 bytes),
/// so 256 leaves room while bounding the hold-back to under 300 bytes.
pub(crate) const MAX_TARGET_BYTES: usize = 256;

/// The bytes that ask an attached client to switch to `target`: `ESC ] 633 ;
/// TSM_ATTACH=<target> BEL`, as the Go tsm writes them.
pub(crate) fn switch_sequence(target: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(INTRODUCER.len() + target.len() + 1);
    bytes.extend_from_slice(INTRODUCER);
    bytes.extend_from_slice(target.as_bytes());
    bytes.push(BEL);
    bytes
}

/// Where the filter is inside a candidate sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Matching the introducer: `pending` is a proper prefix of it (empty when
    /// nothing is held).
    Introducer,
    /// The introducer is complete; `pending` holds it and the target so far.
    Target,
    /// The target was followed by `ESC`; `pending` ends with it, awaiting `\`.
    StEscape,
}

/// Takes switch sequences out of a session's output (see the module docs).
#[derive(Debug, Clone)]
pub(crate) struct SwitchFilter {
    /// The bytes of an unfinished candidate sequence, kept from earlier chunks. At
    /// most `INTRODUCER.len() + MAX_TARGET_BYTES + 1` bytes.
    pending: Vec<u8>,
    /// What `pending` holds.
    state: State,
}

impl Default for SwitchFilter {
    fn default() -> SwitchFilter {
        SwitchFilter::new()
    }
}

impl SwitchFilter {
    /// A filter holding nothing.
    pub(crate) fn new() -> SwitchFilter {
        SwitchFilter { pending: Vec::new(), state: State::Introducer }
    }

    /// Appends `chunk` to `out` without the switch sequences in it, and returns the
    /// first target seen in this call.
    ///
    /// An unfinished sequence at the end of the chunk is held back and completed (or
    /// released) by the next call. Later sequences in the same chunk are dropped
    /// too; the caller is expected to stop relaying output once it has a target.
    pub(crate) fn filter(&mut self, chunk: &[u8], out: &mut Vec<u8>) -> Option<String> {
        let mut target = None;
        let mut rest = chunk;
        while !rest.is_empty() {
            if self.pending.is_empty() {
                // The fast path: copy everything up to the next ESC.
                match rest.iter().position(|&b| b == ESC) {
                    Some(at) => {
                        out.extend_from_slice(&rest[..at]);
                        rest = &rest[at..];
                    }
                    None => {
                        out.extend_from_slice(rest);
                        break;
                    }
                }
            }
            let byte = rest[0];
            match self.step(byte, out) {
                Step::Consumed => rest = &rest[1..],
                // The byte ended a failed candidate; look at it again from scratch.
                Step::Retry => {}
                Step::Complete(name) => {
                    rest = &rest[1..];
                    if target.is_none() {
                        target = name;
                    }
                }
            }
        }
        target
    }

    /// Whether bytes of an unfinished sequence are being held back (for tests; the
    /// client just calls [`SwitchFilter::take_pending`] when the output ends).
    #[cfg(test)]
    fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Hands back the held bytes as ordinary output and forgets them; for the end of
    /// the output stream.
    pub(crate) fn take_pending(&mut self) -> Vec<u8> {
        self.state = State::Introducer;
        std::mem::take(&mut self.pending)
    }

    /// Feeds one byte to the candidate held in `pending` (an empty `pending` means
    /// `byte` is `ESC`, the only byte that starts a candidate).
    fn step(&mut self, byte: u8, out: &mut Vec<u8>) -> Step {
        match self.state {
            State::Introducer => {
                if INTRODUCER.get(self.pending.len()) != Some(&byte) {
                    return self.release(byte, out);
                }
                self.pending.push(byte);
                if self.pending.len() == INTRODUCER.len() {
                    self.state = State::Target;
                }
                Step::Consumed
            }
            State::Target => match byte {
                BEL => Step::Complete(self.finish(self.pending.len())),
                ESC => {
                    self.pending.push(byte);
                    self.state = State::StEscape;
                    Step::Consumed
                }
                _ if byte.is_ascii_control()
                    || self.pending.len().saturating_sub(INTRODUCER.len()) >= MAX_TARGET_BYTES =>
                {
                    self.release(byte, out)
                }
                _ => {
                    self.pending.push(byte);
                    Step::Consumed
                }
            },
            State::StEscape => {
                if byte == ST_FINAL {
                    return Step::Complete(self.finish(self.pending.len().saturating_sub(1)));
                }
                // Not ST: release all but the ESC, which may open a new candidate.
                self.pending.pop();
                out.extend_from_slice(&self.pending);
                self.pending.clear();
                self.pending.push(ESC);
                self.state = State::Introducer;
                Step::Retry
            }
        }
    }

    /// Gives up the candidate that `byte` does not continue: its bytes become ordinary
    /// output and `byte` is to be looked at again. The introducer holds `ESC` only at
    /// index 0 and the target holds no `ESC`, so no later candidate can start inside
    /// the released bytes.
    fn release(&mut self, byte: u8, out: &mut Vec<u8>) -> Step {
        if self.pending.is_empty() {
            // No candidate to give up (only reachable if `byte` is not ESC, which the
            // caller never passes): copy the byte so the filter always moves on.
            out.push(byte);
            self.state = State::Introducer;
            return Step::Consumed;
        }
        out.extend_from_slice(&self.pending);
        self.pending.clear();
        self.state = State::Introducer;
        Step::Retry
    }

    /// Ends a complete sequence whose target is `pending[INTRODUCER.len()..end]`.
    fn finish(&mut self, end: usize) -> Option<String> {
        let name = self.pending.get(INTRODUCER.len()..end).unwrap_or_default();
        let name = std::str::from_utf8(name).ok().filter(|n| !n.is_empty()).map(str::to_owned);
        self.pending.clear();
        self.state = State::Introducer;
        name
    }
}

/// What one byte did to the candidate.
enum Step {
    /// The byte is part of the candidate (or was copied out).
    Consumed,
    /// The candidate was released; the byte has not been used yet.
    Retry,
    /// The byte ended a sequence, with its target if it is usable.
    Complete(Option<String>),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&[u8]]) -> (Vec<u8>, Option<String>) {
        let mut filter = SwitchFilter::new();
        let mut out = Vec::new();
        let mut target = None;
        for chunk in chunks {
            let seen = filter.filter(chunk, &mut out);
            if target.is_none() {
                target = seen;
            }
        }
        out.extend(filter.take_pending());
        (out, target)
    }

    fn with_st(target: &str) -> Vec<u8> {
        let mut seq = INTRODUCER.to_vec();
        seq.extend_from_slice(target.as_bytes());
        seq.extend_from_slice(b"\x1b\\");
        seq
    }

    #[test]
    fn switch_sequence_has_the_go_bytes() {
        let mut expected = vec![
            0x1B, 0x5D, 0x36, 0x33, 0x33, 0x3B, 0x54, 0x53, 0x4D, 0x5F, 0x41, 0x54, 0x54, 0x41,
            0x43, 0x48, 0x3D,
        ];
        expected.extend_from_slice(b"adib");
        expected.push(0x07);
        assert_eq!(switch_sequence("adib"), expected);
    }

    #[test]
    fn sequence_is_removed_and_target_reported() {
        let mut chunk = b"before".to_vec();
        chunk.extend(switch_sequence("adib"));
        chunk.extend_from_slice(b"after");
        let mut filter = SwitchFilter::new();
        let mut out = Vec::new();
        assert_eq!(filter.filter(&chunk, &mut out).as_deref(), Some("adib"));
        assert_eq!(out, b"beforeafter");
        assert!(!filter.has_pending());
    }

    #[test]
    fn st_terminates_too() {
        let mut chunk = b"x".to_vec();
        chunk.extend(with_st("work-2"));
        chunk.extend_from_slice(b"y");
        assert_eq!(run(&[&chunk]), (b"xy".to_vec(), Some("work-2".to_owned())));
    }

    #[test]
    fn a_split_at_any_position_gives_the_same_result() {
        for seq in [switch_sequence("adib"), with_st("näme two")] {
            let mut whole = b"before".to_vec();
            whole.extend_from_slice(&seq);
            whole.extend_from_slice(b"after");
            let target = std::str::from_utf8(&seq[INTRODUCER.len()..])
                .unwrap()
                .trim_end_matches(['\x07', '\\', '\x1b'])
                .to_owned();
            for cut in 0..=whole.len() {
                let (first, second) = whole.split_at(cut);
                let mut filter = SwitchFilter::new();
                let mut out = Vec::new();
                let one = filter.filter(first, &mut out);
                let two = filter.filter(second, &mut out);
                assert_eq!(out, b"beforeafter", "cut {cut}");
                assert_eq!(one.or(two).as_deref(), Some(target.as_str()), "cut {cut}");
                assert!(!filter.has_pending(), "cut {cut}");
            }
        }
    }

    #[test]
    fn go_split_after_ten_bytes() {
        let mut whole = b"before".to_vec();
        whole.extend(switch_sequence("adib"));
        whole.extend_from_slice(b"after");
        let mut filter = SwitchFilter::new();
        let mut out = Vec::new();
        assert_eq!(filter.filter(&whole[..16], &mut out), None);
        assert_eq!(out, b"before");
        out.clear();
        assert_eq!(filter.filter(&whole[16..], &mut out).as_deref(), Some("adib"));
        assert_eq!(out, b"after");
    }

    #[test]
    fn only_the_first_target_is_reported_but_all_sequences_are_dropped() {
        let mut chunk = switch_sequence("one");
        chunk.extend_from_slice(b"-");
        chunk.extend(switch_sequence("two"));
        assert_eq!(run(&[&chunk]), (b"-".to_vec(), Some("one".to_owned())));
    }

    #[test]
    fn unterminated_prefix_is_released_at_the_cap() {
        let mut first = b"a".to_vec();
        first.extend_from_slice(INTRODUCER);
        let body = vec![b'x'; 10_000];
        let mut filter = SwitchFilter::new();
        let mut out = Vec::new();
        assert_eq!(filter.filter(&first, &mut out), None);
        assert_eq!(out, b"a");
        assert_eq!(filter.filter(&body, &mut out), None);
        let mut expected = first.clone();
        expected.extend_from_slice(&body);
        assert_eq!(out, expected);
        assert!(!filter.has_pending());
    }

    #[test]
    fn a_target_at_the_cap_is_still_accepted() {
        let name = "n".repeat(MAX_TARGET_BYTES);
        assert_eq!(run(&[&switch_sequence(&name)]), (Vec::new(), Some(name)));
        let name = "n".repeat(MAX_TARGET_BYTES + 1);
        let seq = switch_sequence(&name);
        assert_eq!(run(&[&seq]), (seq.clone(), None));
    }

    #[test]
    fn unterminated_prefix_is_released_on_a_control_byte() {
        let mut chunk = INTRODUCER.to_vec();
        chunk.extend_from_slice(b"name\r\nprompt$ ");
        assert_eq!(run(&[&chunk[..20], &chunk[20..]]), (chunk.clone(), None));
    }

    #[test]
    fn an_escape_that_is_not_st_releases_and_may_start_a_new_sequence() {
        let mut chunk = INTRODUCER.to_vec();
        chunk.extend_from_slice(b"half");
        chunk.extend(switch_sequence("real"));
        let mut expected = INTRODUCER.to_vec();
        expected.extend_from_slice(b"half");
        assert_eq!(run(&[&chunk]), (expected, Some("real".to_owned())));

        let mut chunk = INTRODUCER.to_vec();
        chunk.extend_from_slice(b"x\x1b[0m");
        assert_eq!(run(&[&chunk]), (chunk.clone(), None));
    }

    #[test]
    fn other_osc_633_sequences_pass_through() {
        let chunk = b"\x1b]633;A\x07$ \x1b]633;B\x07ls\x1b]633;E;ls\x1b\\";
        assert_eq!(run(&[chunk]), (chunk.to_vec(), None));
        let mut filter = SwitchFilter::new();
        let mut out = Vec::new();
        filter.filter(b"\x1b]633;", &mut out);
        assert!(out.is_empty());
        filter.filter(b"A\x07", &mut out);
        assert_eq!(out, b"\x1b]633;A\x07");
    }

    #[test]
    fn empty_and_non_utf8_targets_are_dropped_without_switching() {
        assert_eq!(run(&[&switch_sequence("")]), (Vec::new(), None));
        let mut seq = INTRODUCER.to_vec();
        seq.extend_from_slice(b"\xff\xfe\x07ok");
        assert_eq!(run(&[&seq]), (b"ok".to_vec(), None));
    }

    #[test]
    fn take_pending_returns_held_bytes() {
        let mut filter = SwitchFilter::new();
        let mut out = Vec::new();
        filter.filter(b"ab\x1b]63", &mut out);
        assert_eq!(out, b"ab");
        assert!(filter.has_pending());
        assert_eq!(filter.take_pending(), b"\x1b]63");
        assert!(!filter.has_pending());
        filter.filter(b"3;TSM_ATTACH=x\x07", &mut out);
        assert_eq!(out, b"ab3;TSM_ATTACH=x\x07");
    }

    /// A small deterministic random-number generator (a 64-bit LCG) for the randomised tests.
    fn lcg(seed: u64) -> impl FnMut() -> usize {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        }
    }

    #[test]
    fn random_output_passes_through_byte_identical() {
        // Output rich in ESC and introducer bytes, but never a whole sequence: the
        // alphabet lacks `_`, so `TSM_ATTACH=` can never be completed.
        let alphabet = b"\x1b\x07\\]633;TSMATCH=ab\r\n\xc3\xa4";
        let mut next = lcg(0x9e37_79b9_7f4a_7c15);
        for _ in 0..2000 {
            let len = next() % 200;
            let bytes: Vec<u8> = (0..len).map(|_| alphabet[next() % alphabet.len()]).collect();
            let cut_a = next() % (len + 1);
            let cut_b = cut_a + next() % (len - cut_a + 1);
            let (out, target) = run(&[&bytes[..cut_a], &bytes[cut_a..cut_b], &bytes[cut_b..]]);
            assert_eq!(out, bytes);
            assert_eq!(target, None);
        }
    }

    #[test]
    fn random_output_around_a_sequence_keeps_everything_else() {
        let alphabet = b"\x1b\x07\\]633;TSM_ATCH=ab\r\n";
        let mut next = lcg(0x1234_5678_9abc_def0);
        for _ in 0..2000 {
            // Plain text (no ESC) around the sequence, so nothing else can match.
            let mut text = |n: usize| -> Vec<u8> {
                (0..n).map(|_| alphabet[1 + next() % (alphabet.len() - 1)]).collect()
            };
            let before = text(20);
            let after = text(20);
            let mut whole = before.clone();
            whole.extend(switch_sequence("target"));
            whole.extend_from_slice(&after);
            let cut = next() % (whole.len() + 1);
            let (out, target) = run(&[&whole[..cut], &whole[cut..]]);
            assert_eq!(out, [before, after].concat());
            assert_eq!(target.as_deref(), Some("target"));
        }
    }
}
