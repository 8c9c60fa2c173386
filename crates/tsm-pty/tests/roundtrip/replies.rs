//! Answers to the program's terminal queries.

use tsm_pty::{DA1_REPLY, DA2_REPLY, TerminalModel, WindowSize};

#[test]
fn queries_get_the_documented_replies_in_order() {
    let mut model = TerminalModel::new(WindowSize::new(24, 80), 100);
    model.advance(b"hello\r\n  x\x1b[c\x1b[>c\x1b[6n\x1b[5n\x1b[?u\x1b[>5u\x1b[?u");
    let mut want = Vec::new();
    want.extend_from_slice(DA1_REPLY);
    want.extend_from_slice(DA2_REPLY);
    want.extend_from_slice(b"\x1b[2;4R\x1b[0n\x1b[?0u\x1b[?5u");
    assert_eq!(String::from_utf8_lossy(&model.take_replies()), String::from_utf8_lossy(&want));
    assert!(model.take_replies().is_empty(), "replies are cleared on take");
}

#[test]
fn da1_is_a_vt220_with_colour() {
    assert_eq!(DA1_REPLY, b"\x1b[?62;22c");
    assert_eq!(DA2_REPLY, b"\x1b[>1;10;0c");
}

#[test]
fn cursor_position_is_relative_to_the_scroll_region_in_origin_mode() {
    let mut model = TerminalModel::new(WindowSize::new(10, 20), 0);
    model.advance(b"\x1b[3;8r\x1b[?6h\x1b[2;5H\x1b[6n");
    assert_eq!(model.take_replies(), b"\x1b[2;5R");
}

#[test]
fn the_kitty_query_reports_the_current_flags() {
    let mut model = TerminalModel::new(WindowSize::new(10, 20), 0);
    model.advance(b"\x1b[>1u\x1b[=3;2u\x1b[?u\x1b[<u\x1b[?u");
    assert_eq!(model.take_replies(), b"\x1b[?3u\x1b[?0u");
}

#[test]
fn decrqm_reports_private_modes() {
    let mut model = TerminalModel::new(WindowSize::new(10, 20), 0);
    model.advance(b"\x1b[?2004h\x1b[?2004$p\x1b[?1000$p\x1b[?2026$p\x1b[?31337$p");
    assert_eq!(
        String::from_utf8_lossy(&model.take_replies()),
        "\x1b[?2004;1$y\x1b[?1000;2$y\x1b[?2026;2$y\x1b[?31337;0$y"
    );
}

#[test]
fn a_query_split_across_chunks_is_answered_once() {
    let mut model = TerminalModel::new(WindowSize::new(10, 20), 0);
    model.advance(b"\x1b[");
    assert!(model.take_replies().is_empty());
    model.advance(b"6n");
    assert_eq!(model.take_replies(), b"\x1b[1;1R");
}
