//! Skipping the lines of a flood that scroll out unseen changes nothing: a model given the
//! flood in one call (and skipping its front), or skipping it and parsing the rest later,
//! equals a model that parsed every byte.

use std::cell::Cell;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tsm_pty::testing::{differences, unseen_prefix};
use tsm_pty::{TerminalModel, WindowSize};

use super::{bytes, control, sgr, text};

/// Floods shorter than this are parsed whole (the skip's own threshold is 16 KiB).
const FLOOD_BYTES: usize = 20 * 1024;

/// Chunks below the skip's threshold: the reference model parses every byte.
const REFERENCE_CHUNK: usize = 4096;

/// One line of a flood: plain text (text, SGR, tabs, backspaces, bare CRs, C1 and invalid
/// UTF-8 bytes), ending with CRLF or a bare LF; with `shifts`, also charset shifts and VT,
/// which are not plain.
fn line(shifts: bool) -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        6 => text().prop_map(String::into_bytes),
        3 => sgr().prop_map(String::into_bytes),
        1 => Just(b"\t".to_vec()),
        1 => Just(b"\x08".to_vec()),
        1 => Just(b"\r".to_vec()),
        1 => Just("\u{85}\u{9b}".as_bytes().to_vec()),
        1 => Just(b"\x9b\xff\xe2".to_vec()),
        // Not plain: shifts to the G1 charset and back, and vertical tab.
        u32::from(shifts) => prop::sample::select(vec![&b"\x0e"[..], b"\x0f", b"\x1b)0\x0elqk\x0f", b"\x0b"])
            .prop_map(<[u8]>::to_vec),
    ];
    let end = prop_oneof![8 => Just(&b"\r\n"[..]), 2 => Just(&b"\n"[..])];
    (proptest::collection::vec(piece, 0..5), end)
        .prop_map(|(pieces, end)| [pieces.concat(), end.to_vec()].concat())
}

/// A flood: a first line (perhaps not plain), some lines repeated past [`FLOOD_BYTES`], then a few more, and
/// sometimes a control sequence (not plain text) somewhere in it.
fn flood() -> impl Strategy<Value = Vec<u8>> {
    let lines = proptest::collection::vec(line(false), 1..30);
    let extra = proptest::collection::vec(line(false), 0..60);
    let interruption = proptest::option::weighted(0.3, (any::<prop::sample::Index>(), control()));
    (line(true), lines, extra, interruption).prop_map(|(first, lines, extra, interruption)| {
        let mut flood = first;
        while flood.len() < FLOOD_BYTES {
            lines.iter().for_each(|line| flood.extend_from_slice(line));
        }
        extra.iter().for_each(|line| flood.extend_from_slice(line));
        if let Some((at, control)) = interruption {
            let at = at.index(flood.len());
            flood.splice(at..at, control.into_bytes());
        }
        flood
    })
}

#[test]
fn skipping_the_lines_that_scroll_out_unseen_changes_nothing() {
    let cases = (1u16..9, 2u16..40, 0usize..40, bytes(), flood());
    let mut runner = TestRunner::new(Config { cases: 96, ..Config::default() });
    let skipped = Cell::new(0);
    let result = runner.run(&cases, |(rows, cols, scrollback, before, flood)| {
        let size = WindowSize::new(rows, cols);
        let mut whole = TerminalModel::new(size, scrollback);
        let mut deferred = TerminalModel::new(size, scrollback);
        let mut parsed = TerminalModel::new(size, scrollback);
        // Whatever state the program left: cursor, scroll region, alternate screen...
        for model in [&mut whole, &mut deferred, &mut parsed] {
            model.advance(&before);
        }
        if unseen_prefix(&whole, &flood) > 0 {
            skipped.set(skipped.get() + 1);
        }
        // The flood twice: in one call each; skipped, with the rest parsed only after the
        // second flood was skipped too (the daemon's way); in small chunks, all parsed.
        whole.advance(&flood);
        whole.advance(&flood);
        let first = deferred.skip_unseen(&flood);
        let rest = [&flood[first..], &flood[..]].concat();
        let second = deferred.skip_unseen(&rest);
        deferred.advance(&rest[second..]);
        for chunk in flood.chunks(REFERENCE_CHUNK).chain(flood.chunks(REFERENCE_CHUNK)) {
            parsed.advance(chunk);
        }
        // REP repeats the last printed character: it must be the same one.
        for model in [&mut whole, &mut deferred, &mut parsed] {
            model.advance(b"\x1b[3b");
        }
        for (name, model) in [("one call", &whole), ("deferred", &deferred)] {
            let diff = differences(model, &parsed);
            prop_assert!(
                diff.is_empty(),
                "{name}: {}\nbefore: {:?}\nflood: {:?}",
                diff.join("\n"),
                String::from_utf8_lossy(&before),
                String::from_utf8_lossy(&flood)
            );
        }
        let replies = parsed.take_replies();
        prop_assert_eq!(whole.take_replies(), replies.clone());
        prop_assert_eq!(deferred.take_replies(), replies);
        Ok(())
    });
    if let Err(err) = result {
        panic!("{err}");
    }
    assert!(skipped.get() >= 32, "the skip happened in only {} of 96 cases", skipped.get());
}

#[test]
fn a_flood_in_one_call_keeps_the_last_lines_and_a_full_scrollback() {
    let mut model = TerminalModel::new(WindowSize::new(5, 40), 10);
    let flood: Vec<u8> = (0..2000)
        .flat_map(|i| format!("\x1b[3{}mline {i}\x1b[0m\r\n", i % 8).into_bytes())
        .collect();
    assert!(unseen_prefix(&model, &flood) > 0);
    model.advance(&flood);
    model.advance(b"$ ");
    assert_eq!(model.screen_rows(), ["line 1996", "line 1997", "line 1998", "line 1999", "$"]);
    assert_eq!(model.scrollback_len(), 10);
}
