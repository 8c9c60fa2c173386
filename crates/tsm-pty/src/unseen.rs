//! Text that scrolls out of the model before anyone can see it.
//!
//! A program that floods the terminal with lines (a build log, `cat` of a large file) writes
//! far more than the screen and its scrollback hold. Every one of those lines costs the
//! emulator its per-cell work, and most of them are gone again a few thousand lines later.
//! When the model is given a long run of output at once (the daemon catches it up in large
//! spans), the front of that run can be skipped exactly: only its colour changes are applied.
//!
//! # Why skipping is exact
//!
//! The skip applies only to *plain text*: printable characters (any byte from 0x80 up, which
//! vte either prints or ignores as C1), CR, LF, HT, BS, and SGR sequences
//! (`ESC [ 0-9 : ; m`). Within plain text nothing moves the cursor up, and printing, CR, LF,
//! HT and BS change only the grid, the cursor and the pending wrap; SGR changes only the
//! attributes new cells get, and is the one thing the skipped part must still apply (from its
//! last reset on).
//!
//! Take a model A that parses everything and a model B that skips the prefix up to `P`
//! (applying its SGRs), both with the scroll region covering the whole screen of `R` rows and
//! up to `S` lines of scrollback. The plain text after `P` must hold, in this order:
//!
//! 1. `R` line feeds: every LF moves the cursor down or, on the last row, scrolls; after
//!    `R - 1` of them both cursors are on the last row, whatever row they started on.
//! 2. A CR, at `Q`: both cursors are now in column 0 with no wrap pending. From here A and B
//!    have the same cursor and attributes and differ only in the rows they hold.
//! 3. `R + S + 1` line feeds: each scrolls, and after `R + S` scrolls every row that existed
//!    at `Q` (the screen and the scrollback) has left the scrollback. Both grids now hold only
//!    rows written after `Q`, the same way, and both scrollbacks are full.
//! 4. A printable character somewhere after `P`, so vte's "preceding character" (for `REP`)
//!    is the same.
//!
//! The model checks the rest before it skips: the parser between sequences with nothing held
//! back, and the scroll region the whole screen (tracker.rs). The property test in
//! `model.rs` compares a skipping model with one that parses every byte, cell by cell.

/// The fewest bytes worth checking: a skip needs thousands of lines, and smaller runs are
/// parsed whole without the scan.
const MIN_RUN_BYTES: usize = 16 * 1024;

/// How long the front of `bytes` is that can be skipped (only its SGR sequences applied)
/// without changing what a screen of `lines` rows with `scrollback` lines of history shows
/// after all of `bytes`. 0 when nothing can be skipped.
///
/// The caller guarantees that `bytes` starts between sequences and that the scroll region
/// is the whole screen.
pub(crate) fn skippable_prefix(bytes: &[u8], lines: usize, scrollback: usize) -> usize {
    if bytes.len() < MIN_RUN_BYTES {
        return 0;
    }
    let run = &bytes[..plain_prefix(bytes)];
    // Walking back from the end of the plain run: steps 3, 2 and 1 of the module docs.
    let Some(after_cr) = nth_lf_from_end(run, run.len(), lines + scrollback + 1) else {
        return 0;
    };
    let Some(cr) = memchr::memrchr(b'\r', &run[..after_cr]) else { return 0 };
    let Some(start) = nth_lf_from_end(run, cr, lines) else { return 0 };
    // Step 4: something is printed after the start.
    if !prints(&run[start..]) {
        return 0;
    }
    start
}

/// The length of the longest prefix of `bytes` that is plain text (module docs), ending
/// between sequences.
fn plain_prefix(bytes: &[u8]) -> usize {
    let allowed = &bytes[..first_not_allowed(bytes)];
    // Every ESC in it must start a complete SGR sequence.
    memchr::memchr_iter(0x1b, allowed)
        .find(|&esc| sgr_len(&allowed[esc..]).is_none())
        .unwrap_or(allowed.len())
}

/// The index of the first byte that is neither printable nor CR, LF, HT, BS or ESC (or the
/// length): a pass without branches per byte, which the compiler vectorizes.
fn first_not_allowed(bytes: &[u8]) -> usize {
    const CHUNK: usize = 32;
    let not_allowed =
        |b: u8| (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x08 | 0x1b)) || b == 0x7f;
    let mut at = 0;
    for chunk in bytes.chunks_exact(CHUNK) {
        if chunk.iter().fold(false, |any, &b| any | not_allowed(b)) {
            break;
        }
        at += CHUNK;
    }
    at + bytes[at..].iter().position(|&b| not_allowed(b)).unwrap_or(bytes.len() - at)
}

/// Whether plain text prints a character.
fn prints(plain: &[u8]) -> bool {
    let mut i = 0;
    while i < plain.len() {
        match plain[i] {
            0x1b => i += sgr_len(&plain[i..]).unwrap_or(1),
            0x20..=0x7e | 0x80..=0xff => return true,
            _ => i += 1,
        }
    }
    false
}

/// The length of the SGR sequence at the start of `bytes` (`ESC [ 0-9 : ; m`), if there is
/// a complete one.
fn sgr_len(bytes: &[u8]) -> Option<usize> {
    if bytes.get(1) != Some(&b'[') {
        return None;
    }
    let params = bytes[2..].iter().take_while(|b| matches!(b, b'0'..=b'9' | b':' | b';')).count();
    (bytes.get(2 + params) == Some(&b'm')).then_some(3 + params)
}

/// Whether the SGR sequence at the start of `sgr` begins with a reset: its first parameter
/// is empty or zeros, with no subparameters.
fn starts_with_reset(sgr: &[u8]) -> bool {
    sgr[2..].iter().take_while(|&&b| b != b';' && b != b'm').all(|&b| b == b'0')
}

/// Index of the `n`-th LF counting back from `end` (exclusive) in `bytes`; `n` >= 1.
fn nth_lf_from_end(bytes: &[u8], end: usize, n: usize) -> Option<usize> {
    let mut found = memchr::memrchr_iter(b'\n', &bytes[..end]);
    found.nth(n.checked_sub(1)?)
}

/// The SGR sequences of a skipped plain-text run that still matter, in order: those from
/// the last one that starts with a reset (`ESC [ m`, `ESC [ 0 ; 1 m`...) on, since a reset
/// undoes everything SGR sets.
pub(crate) fn attribute_changes(skipped: &[u8]) -> impl Iterator<Item = &[u8]> {
    let last_reset = memchr::memrchr_iter(0x1b, skipped)
        .find(|&esc| sgr_len(&skipped[esc..]).is_some_and(|_| starts_with_reset(&skipped[esc..])));
    let mut rest = &skipped[last_reset.unwrap_or(0)..];
    std::iter::from_fn(move || {
        let esc = memchr::memchr(0x1b, rest)?;
        // A plain run's every ESC starts a complete SGR sequence.
        let len = sgr_len(&rest[esc..]).unwrap_or(1);
        let sequence = &rest[esc..esc + len];
        rest = &rest[esc + len..];
        Some(sequence)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` log lines of about 60 bytes with a colour change each.
    fn log(n: usize) -> Vec<u8> {
        (0..n)
            .flat_map(|i| {
                format!("\x1b[32mINFO\x1b[0m line {i:06} of the build log\r\n").into_bytes()
            })
            .collect()
    }

    #[test]
    fn a_long_run_of_log_lines_is_skipped_up_to_the_lines_that_stay() {
        let bytes = log(3000);
        let start = skippable_prefix(&bytes, 24, 1000);
        assert!(start > 0);
        // From the start on: 24 LFs, a CR, 1025 LFs; the start is an LF.
        assert_eq!(bytes[start], b'\n');
        let kept = bytes[start..].iter().filter(|&&b| b == b'\n').count();
        assert_eq!(kept, 24 + (24 + 1000 + 1), "R before the CR, R + S + 1 after it");
    }

    #[test]
    fn too_few_lines_skip_nothing() {
        let bytes = log(1000);
        assert_eq!(skippable_prefix(&bytes, 24, 1000), 0);
    }

    #[test]
    fn a_cursor_move_ends_the_plain_run() {
        let mut bytes = log(3000);
        // A CUP near the end: too few lines after it, and the scan stops there.
        let at = bytes.len() - 500 * 60;
        bytes.splice(at..at, b"\x1b[1;1H".iter().copied());
        let start = skippable_prefix(&bytes, 24, 1000);
        assert!(start > 0 && start < at);
        let kept = bytes[start..at].iter().filter(|&&b| b == b'\n').count();
        assert_eq!(kept, 24 + (24 + 1000 + 1), "counted back from the CUP, not the end");
    }

    #[test]
    fn a_run_that_prints_nothing_after_the_start_is_not_skipped() {
        // REP after it would repeat the `x`, which a skip would not have seen.
        let bytes = [b"x".to_vec(), b"\x1b[31m\r\n".repeat(3000)].concat();
        assert_eq!(skippable_prefix(&bytes, 24, 1000), 0);
    }

    #[test]
    fn no_carriage_return_no_skip() {
        let bytes: Vec<u8> = log(3000).into_iter().filter(|&b| b != b'\r').collect();
        assert_eq!(skippable_prefix(&bytes, 24, 1000), 0);
    }

    #[test]
    fn attribute_changes_start_at_the_last_reset() {
        let changes = |bytes: &'static [u8]| attribute_changes(bytes).collect::<Vec<_>>();
        assert_eq!(changes(b"a\x1b[1;31mb\x1b[4mc"), [&b"\x1b[1;31m"[..], b"\x1b[4m"]);
        assert_eq!(
            changes(b"\x1b[1m\x1b[0;3mb\x1b[38:2::1:2:3md"),
            [&b"\x1b[0;3m"[..], b"\x1b[38:2::1:2:3m"]
        );
        assert_eq!(changes(b"\x1b[1mx\x1b[mc\x1b[;4m\r\n"), [&b"\x1b[;4m"[..]]);
        assert_eq!(changes(b"\x1b[1mx\x1b[00m"), [&b"\x1b[00m"[..]]);
        assert_eq!(
            changes(b"\x1b[1mx\x1b[0:3m"),
            [&b"\x1b[1m"[..], b"\x1b[0:3m"],
            "0:3 is no reset"
        );
        assert_eq!(changes(b"\x1b[1mx\x1b[10m"), [&b"\x1b[1m"[..], b"\x1b[10m"]);
    }

    #[test]
    fn only_complete_sgr_sequences_are_plain() {
        assert_eq!(sgr_len(b"\x1b[31m"), Some(5));
        assert_eq!(sgr_len(b"\x1b[31"), None);
        assert_eq!(sgr_len(b"\x1b[>4;1m"), None, "modifyOtherKeys, not SGR");
        assert_eq!(sgr_len(b"\x1b[2J"), None);
        assert_eq!(sgr_len(b"\x1b]0;t\x07"), None);
    }
}
