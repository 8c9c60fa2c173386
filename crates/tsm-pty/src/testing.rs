//! Test helpers: compare two models cell by cell (feature `testing`).
//!
//! The snapshot's proof is a round trip: feed bytes into model A, feed A's snapshot into a
//! fresh model B of the same size, and [`differences`] lists what B does not have of A.
//!
//! ```
//! use tsm_pty::testing::{differences, round_trip};
//! use tsm_pty::{TerminalModel, WindowSize};
//!
//! let mut a = TerminalModel::new(WindowSize::new(5, 20), 100);
//! a.advance("\x1b[1;4:3;38;5;196mwide: 世界\x1b[0m e\u{301}".as_bytes());
//! let b = round_trip(&a);
//! assert!(differences(&a, &b).is_empty(), "{:#?}", differences(&a, &b));
//! ```

use std::fmt::Write;

use alacritty_terminal::grid::{Cursor, Dimensions, Grid};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::TermMode;
use alacritty_terminal::term::cell::{Cell, Flags};

use crate::TerminalModel;
use crate::tracker::kitty_flags;

/// The most differences [`differences`] lists before it stops looking.
const MAX_DIFFERENCES: usize = 60;

/// Feeds `model`'s snapshot into a fresh model of the same size and scrollback limit.
pub fn round_trip(model: &TerminalModel) -> TerminalModel {
    let mut snapshot = Vec::new();
    model.snapshot_into(&mut snapshot);
    let mut copy = TerminalModel::new(model.size(), model.tracker.scrollback_limit);
    copy.advance(&snapshot);
    copy
}

/// How many bytes at the start of `bytes` [`TerminalModel::advance`] would skip (apply only
/// their colour changes, because they scroll out unseen) if given `bytes` now. For tests that
/// must know the skip happened.
pub fn unseen_prefix(model: &TerminalModel, bytes: &[u8]) -> usize {
    if model.may_skip() { model.unseen_prefix(bytes) } else { 0 }
}

/// What differs between two models, one line each (at most 60): cells (character, combining
/// marks, colours, flags including the underline style, underline colour, hyperlink) of both
/// screens and of the scrollback, cursors (position, pending wrap, pen, charsets) and saved
/// cursors, modes, kitty keyboard flags and stacks, scroll region, title, cwd, cursor style.
///
/// Empty when `b` restores `a`.
pub fn differences(a: &TerminalModel, b: &TerminalModel) -> Vec<String> {
    let mut d = Vec::new();
    let (ta, tb) = (&a.tracker, &b.tracker);
    let (ma, mb) = (*a.term.mode(), *b.term.mode());
    // Modes, except vi mode (never set here).
    let mask = !TermMode::VI;
    if ma & mask != mb & mask {
        d.push(format!("modes: {:?} != {:?}", ma & mask, mb & mask));
    }
    if kitty_flags(ma) != kitty_flags(mb) {
        d.push(format!("kitty flags: {} != {}", kitty_flags(ma), kitty_flags(mb)));
    }
    macro_rules! same {
        ($what:literal, $x:expr, $y:expr) => {
            if $x != $y {
                d.push(format!(concat!($what, ": {:?} != {:?}"), $x, $y));
            }
        };
    }
    same!("scroll region", (ta.scroll_top, ta.scroll_bottom), (tb.scroll_top, tb.scroll_bottom));
    same!("active charset", ta.active_charset, tb.active_charset);
    // A title never set and an empty one look the same (no sequence sets "none").
    let title = |t: &Option<String>| t.clone().unwrap_or_default();
    same!("title", title(&ta.title), title(&tb.title));
    let titles =
        |t: &crate::tracker::Tracker| t.title_stack().iter().map(title).collect::<Vec<_>>();
    same!("title stack", titles(ta), titles(tb));
    same!("cwd", ta.cwd, tb.cwd);
    same!("kitty stack", ta.kitty_stack, tb.kitty_stack);
    same!("kitty stack (inactive screen)", ta.kitty_stack_inactive, tb.kitty_stack_inactive);
    same!("mouse x10", ta.mouse_x10, tb.mouse_x10);
    same!("mouse urxvt", ta.mouse_urxvt, tb.mouse_urxvt);
    same!("mouse sgr pixels", ta.mouse_sgr_pixels, tb.mouse_sgr_pixels);
    same!("modifyOtherKeys", ta.modify_other_keys, tb.modify_other_keys);
    same!("cursor style chosen", ta.cursor_style_set, tb.cursor_style_set);
    same!("cursor style", a.term.cursor_style(), b.term.cursor_style());
    // Under the alternate screen the primary screen's DECSC slot is the cursor at the switch
    // (`CSI ? 1049 h` sets it): a snapshot cannot set it apart (see the crate docs).
    let alt = a.alt_screen() && b.alt_screen();
    // In origin mode with the cursor outside the scroll region (only DECRC gets it there), the
    // saved cursor is restored only when LF or RI can carry the cursor from it to the cursor
    // without scrolling (see the crate docs).
    let line = a.term.grid().cursor.point.line.0 as usize;
    let stray = a.term.mode().contains(TermMode::ORIGIN)
        && !(ta.scroll_top..ta.scroll_bottom).contains(&line);
    compare_grid(&mut d, "primary", a.primary(), b.primary(), !alt && !stray);
    if alt {
        compare_grid(&mut d, "alternate", a.term.grid(), b.term.grid(), !stray);
    }
    d.truncate(MAX_DIFFERENCES);
    d
}

fn compare_grid(d: &mut Vec<String>, name: &str, a: &Grid<Cell>, b: &Grid<Cell>, saved: bool) {
    if (a.screen_lines(), a.columns()) != (b.screen_lines(), b.columns()) {
        d.push(format!(
            "{name} size: {}x{} != {}x{}",
            a.screen_lines(),
            a.columns(),
            b.screen_lines(),
            b.columns()
        ));
        return;
    }
    if a.history_size() != b.history_size() {
        d.push(format!("{name} scrollback lines: {} != {}", a.history_size(), b.history_size()));
    }
    compare_cursor(d, &format!("{name} cursor"), a, &a.cursor, &b.cursor);
    if saved {
        compare_cursor(d, &format!("{name} saved cursor"), a, &a.saved_cursor, &b.saved_cursor);
    }
    let last = a.columns() - 1;
    let history = a.history_size().min(b.history_size()) as i32;
    let bottom = a.screen_lines() as i32 - 1;
    for line in -history..=bottom {
        for col in 0..a.columns() {
            if d.len() >= MAX_DIFFERENCES {
                return;
            }
            let (ca, cb) = (&a[Line(line)][Column(col)], &b[Line(line)][Column(col)]);
            // The soft-wrap and leading-spacer flags mean something in the last column only
            // (a resize without reflow leaves stale ones elsewhere), and on screens of fewer
            // than 3 rows the bottom row's soft wrap cannot be restored (see the crate docs).
            let (mut ca, mut cb) = (ca.clone(), cb.clone());
            if col != last {
                let stale = Flags::WRAPLINE | Flags::LEADING_WIDE_CHAR_SPACER;
                ca.flags.remove(stale);
                cb.flags.remove(stale);
            }
            if col == 0 {
                // A spacer in the first column (left by reflow) has no wide character to go
                // with; it shows as a blank.
                ca.flags.remove(Flags::WIDE_CHAR_SPACER);
                cb.flags.remove(Flags::WIDE_CHAR_SPACER);
            }
            if line == bottom && bottom < 2 {
                ca.flags.remove(Flags::WRAPLINE);
                cb.flags.remove(Flags::WRAPLINE);
            }
            let (ca, cb) = (&ca, &cb);
            if !same_cell(ca, cb) {
                d.push(format!("{name} line {line} col {col}: {} != {}", show(ca), show(cb)));
            }
        }
    }
}

/// Compares cursors. A pending wrap counts in the last column only (alacritty can leave one
/// elsewhere after a resize, which no sequence recreates; the next character wraps there).
fn compare_cursor(
    d: &mut Vec<String>,
    what: &str,
    grid: &Grid<Cell>,
    a: &Cursor<Cell>,
    b: &Cursor<Cell>,
) {
    let last = Column(grid.columns() - 1);
    let wrap = |c: &Cursor<Cell>| c.input_needs_wrap && c.point.column == last;
    if a.point != b.point || wrap(a) != wrap(b) {
        d.push(format!(
            "{what}: {:?} wrap {} != {:?} wrap {}",
            a.point, a.input_needs_wrap, b.point, b.input_needs_wrap
        ));
    }
    if !same_cell(&a.template, &b.template) {
        d.push(format!("{what} pen: {} != {}", show(&a.template), show(&b.template)));
    }
    if a.charsets != b.charsets {
        d.push(format!("{what} charsets: {:?} != {:?}", a.charsets, b.charsets));
    }
}

/// Cells equal in everything visible (an empty `extra` equals none). Combining marks on a
/// spacer cell (the second half of a wide character, or the placeholder left where a wide
/// character wrapped) are not compared: spacers are never drawn, so such marks show nowhere,
/// and no byte stream puts them on a fresh terminal's spacer the same way.
fn same_cell(a: &Cell, b: &Cell) -> bool {
    let spacer = Flags::WIDE_CHAR_SPACER | Flags::LEADING_WIDE_CHAR_SPACER;
    let marks_visible = !a.flags.intersects(spacer);
    a.c == b.c
        && a.fg == b.fg
        && a.bg == b.bg
        && a.flags == b.flags
        && (!marks_visible
            || a.zerowidth().unwrap_or_default() == b.zerowidth().unwrap_or_default())
        && a.underline_color() == b.underline_color()
        && same_link(a, b)
}

/// Hyperlinks equal in URI and id; ids alacritty generated (`<n>_alacritty`, from a global
/// counter) count as equal to each other.
fn same_link(a: &Cell, b: &Cell) -> bool {
    match (a.hyperlink(), b.hyperlink()) {
        (Some(x), Some(y)) => {
            let auto = |id: &str| id.ends_with("_alacritty");
            x.uri() == y.uri() && (x.id() == y.id() || (auto(x.id()) && auto(y.id())))
        }
        (x, y) => x.is_none() && y.is_none(),
    }
}

fn show(cell: &Cell) -> String {
    let mut s = format!("{:?}", cell.c);
    if let Some(zw) = cell.zerowidth().filter(|zw| !zw.is_empty()) {
        let _ = write!(s, "+{zw:?}");
    }
    let _ = write!(s, " fg {:?} bg {:?} {:?}", cell.fg, cell.bg, cell.flags);
    if let Some(ul) = cell.underline_color() {
        let _ = write!(s, " ul {ul:?}");
    }
    if let Some(link) = cell.hyperlink() {
        let _ = write!(s, " link {}={}", link.id(), link.uri());
    }
    s
}
