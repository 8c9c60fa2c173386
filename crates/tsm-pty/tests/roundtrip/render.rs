//! The history renderers: plain text, VT and HTML, with their options.

use tsm_pty::{RenderFormat, RenderOptions, TerminalModel, WindowSize};

/// A 4x10 model with 5 lines in the scrollback and a soft-wrapped line on the screen.
fn model() -> TerminalModel {
    let mut model = TerminalModel::new(WindowSize::new(4, 10), 100);
    for i in 1..=5 {
        model.advance(format!("line {i}\r\n").as_bytes());
    }
    model.advance(b"\x1b[1;31mred\x1b[0m <b>&\r\n0123456789abc\r\n$ ");
    model
}

fn render(model: &TerminalModel, format: RenderFormat, lines: u32, screen_only: bool) -> String {
    String::from_utf8(model.render(format, RenderOptions { lines, screen_only })).unwrap()
}

#[test]
fn plain_history_is_scrollback_then_screen_with_wraps_joined() {
    let model = model();
    assert_eq!(model.scrollback_len(), 5);
    assert_eq!(
        render(&model, RenderFormat::Plain, 0, false),
        "line 1\nline 2\nline 3\nline 4\nline 5\nred <b>&\n0123456789abc\n$\n"
    );
}

#[test]
fn plain_screen_only_and_last_lines() {
    let model = model();
    assert_eq!(render(&model, RenderFormat::Plain, 0, true), "red <b>&\n0123456789abc\n$\n");
    assert_eq!(render(&model, RenderFormat::Plain, 2, false), "0123456789abc\n$\n");
    assert_eq!(render(&model, RenderFormat::Plain, 1, true), "$\n");
}

#[test]
fn blank_lines_at_the_end_are_dropped() {
    let mut model = TerminalModel::new(WindowSize::new(10, 20), 100);
    model.advance(b"only line");
    assert_eq!(render(&model, RenderFormat::Plain, 0, false), "only line\n");
    let empty = TerminalModel::new(WindowSize::new(10, 20), 100);
    assert_eq!(render(&empty, RenderFormat::Plain, 0, false), "");
}

#[test]
fn vt_history_keeps_colours_and_resets_at_each_line_end() {
    let model = model();
    let vt = render(&model, RenderFormat::Vt, 0, true);
    assert!(vt.contains("\x1b[0;1;31mred\x1b[0m <b>&\n"), "{vt:?}");
    assert!(vt.ends_with("\n0123456789abc\n$\n"), "{vt:?}");
}

#[test]
fn the_alternate_screen_follows_the_primary_scrollback() {
    let mut model = model();
    model.advance(b"\x1b[?1049h\x1b[Hfull screen");
    assert_eq!(render(&model, RenderFormat::Plain, 0, true), "full screen\n");
    let all = render(&model, RenderFormat::Plain, 0, false);
    assert!(all.starts_with("line 1\n"), "{all:?}");
    assert!(all.ends_with("line 5\nfull screen\n"), "{all:?}");
}

#[test]
fn wide_characters_and_combining_marks_appear_once() {
    let mut model = TerminalModel::new(WindowSize::new(2, 20), 0);
    model.advance("世界 e\u{301}".as_bytes());
    assert_eq!(render(&model, RenderFormat::Plain, 0, true), "世界 e\u{301}\n");
    assert_eq!(model.screen_rows(), ["世界 e\u{301}", ""]);
}

#[test]
fn html_escapes_text_and_styles_spans() {
    let mut model = TerminalModel::new(WindowSize::new(3, 40), 0);
    model.advance(b"\x1b[1;38;5;196mhot\x1b[0m <a&b> \x1b[7minv\x1b[0m \x1b]8;;https://x.test/?a=1&b=\"2\"\x1b\\link\x1b]8;;\x1b\\");
    let html = render(&model, RenderFormat::Html, 0, true);
    assert!(html.starts_with("<pre class=\"tsm-history\">"), "{html}");
    assert!(html.contains("<span style=\"color:#ff0000;font-weight:bold;\">hot</span>"), "{html}");
    assert!(html.contains(" &lt;a&amp;b&gt; "), "{html}");
    assert!(
        html.contains("<span style=\"color:#000000;background-color:#e5e5e5;\">inv</span>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://x.test/?a=1&amp;b=&quot;2&quot;\">link</a>"),
        "{html}"
    );
    assert!(html.ends_with("</pre>\n"), "{html}");
}
