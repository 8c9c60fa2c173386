//! The snapshot: VT bytes that restore a [`TerminalModel`] on a fresh terminal of its size.
//!
//! The order, one function per part:
//!
//! 1. [`preamble`]: begin a synchronized update, put the client terminal in a known state
//!    without RIS (which wipes the scrollback in several terminals): primary screen, SGR reset,
//!    no hyperlink, full scroll region, origin/insert/newline modes off, autowrap on, ASCII
//!    charsets, hidden cursor, home, clear the screen (ED 0 from home: ED 2 makes some terminals, alacritty among them,
//!    push the screen into the scrollback).
//! 2. [`draw_primary`]: the primary scrollback lines, oldest first, then the primary screen,
//!    as one stream of rows: the first rows scroll off the top into the terminal's own
//!    scrollback. A soft-wrapped row is printed to its last column and continues on the next
//!    row, so the wrap (and the terminal's reflow) survives.
//! 3. If the alternate screen is active: the primary cursor (position, pen, charsets, kitty
//!    keyboard stack), `CSI ? 1049 h`, then [`draw_rows`] of the alternate screen. A later
//!    `CSI ? 1049 l` from the program reveals the right primary screen.
//! 4. [`finish`]: the saved cursor (DECSC), scroll region, origin mode, cursor position
//!    (including a pending wrap), modes, kitty keyboard flags, modifyOtherKeys, cursor style,
//!    pen, charsets, title stack and title (OSC 2), cwd (OSC 7), cursor visibility, end of
//!    the update.
//! 5. The unfinished end of the stream (see `tail.rs`).
//!
//! Cells are printed as they are stored: DEC line drawing characters as the Unicode
//! characters the charset mapped them to, wide characters once (the terminal adds the
//! spacer), combining marks after their base. Cell states that printing alone cannot make
//! (a wide character whose spacer was erased, a spacer without its character, a tab cell)
//! are made with ECH and HT fix-ups.

use alacritty_terminal::grid::{Cursor, Dimensions, Grid, Row};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::TermMode;
use alacritty_terminal::term::cell::{Cell, Flags, Hyperlink};
use alacritty_terminal::vte::ansi::{
    CharsetIndex, Color, CursorShape, KeyboardModes, NamedColor, StandardCharset,
};

use crate::model::TerminalModel;
use crate::tracker::{kitty_flags, primary_grid, topmost};

/// Flags that are attributes of the pen (SGR), as opposed to the cell's layout.
pub(crate) const STYLE_FLAGS: Flags = Flags::INVERSE
    .union(Flags::BOLD)
    .union(Flags::ITALIC)
    .union(Flags::ALL_UNDERLINES)
    .union(Flags::DIM)
    .union(Flags::HIDDEN)
    .union(Flags::STRIKEOUT);

/// Titles of the XTWINOPS title stack a snapshot pushes again, the most recent ones.
const MAX_TITLE_STACK_RESTORED: usize = 64;

/// A character two cells wide, printed where a spacer must be made and then erased.
const DUMMY_WIDE: char = '\u{3000}';

impl TerminalModel {
    /// Writes VT bytes that restore this model on a fresh terminal of the same size.
    ///
    /// Scrollback lines come first, so they land in the terminal's own scrollback; then the
    /// screen (the primary one under the alternate one, if a program uses it), the modes,
    /// charsets, scroll region, title, cwd and the cursor. See the
    /// [crate docs](crate#the-terminal-model) for what is restored.
    ///
    /// Usable at any time, even after a chunk that ended in the middle of an escape sequence
    /// or of a UTF-8 character: the snapshot is of the screen, and it ends with those
    /// unfinished bytes (up to 4 KiB), so the client's terminal completes the sequence from
    /// the live bytes that follow, as the model does.
    pub fn snapshot_into(&self, out: &mut Vec<u8>) {
        // Room for a cell a byte and some attributes, so the buffer grows once at most.
        let grid = self.term.grid();
        let rows = self.primary().history_size() + 2 * grid.screen_lines();
        out.reserve(rows * (grid.columns() + grid.columns() / 2) + 256);
        let mut w = Writer::new(out);
        let term = &self.term;
        let tracker = &self.tracker;
        let mode = *term.mode();
        let alt = mode.contains(TermMode::ALT_SCREEN);
        preamble(&mut w);
        if !alt && !tracker.kitty_stack_inactive.is_empty() {
            // alacritty keeps the alternate screen's kitty keyboard stack after the program
            // left it, and gives it back on the next switch: visit the alternate screen to
            // push it. First, while the switch's side effect (the saved cursor becomes the
            // cursor, now home with the default pen) is the state of a fresh terminal.
            w.out.extend_from_slice(b"\x1b[?1049h");
            push_kitty_stack(&mut w, &tracker.kitty_stack_inactive);
            w.out.extend_from_slice(b"\x1b[?1049l");
        }
        let primary = primary_grid(term, tracker);
        draw_primary(&mut w, primary);
        if alt {
            // The primary cursor, as the program will find it after `CSI ? 1049 l`.
            place_cursor(&mut w, primary, &primary.cursor, 0, (0, primary.screen_lines()), false);
            w.set_pen(&primary.cursor.template);
            designate_charsets(&mut w, &primary.cursor.charsets_array());
            push_kitty_stack(&mut w, &tracker.kitty_stack_inactive);
            // `CSI ? 1049 h` keeps the pen, and clears the alternate screen with its
            // background: clear it again in the default colours.
            w.out.extend_from_slice(b"\x1b[?1049h");
            // The alternate cursor starts with the primary one's charsets: ASCII to draw.
            designate_charsets(&mut w, &[StandardCharset::Ascii; 4]);
            w.set_pen(&Cell::default());
            w.out.extend_from_slice(b"\x1b[H\x1b[J");
            draw_screen(&mut w, term.grid(), 0);
        }
        finish(&mut w, self);
        // The unfinished escape sequence or character the stream ended in, so the client's
        // parser is where the model's is when the live bytes complete it.
        w.out.extend_from_slice(self.tail.bytes());
    }
}

/// Step 1: a known state, without RIS.
fn preamble(w: &mut Writer<'_>) {
    w.out.extend_from_slice(
        b"\x1b[?2026h\x1b[?1049l\x1b[0m\x1b]8;;\x1b\\\x1b[r\x1b[?6l\x1b[?7h\x1b[4l\x1b[20l\
          \x1b(B\x1b)B\x0f\x1b[?25l\x1b[H\x1b[J",
    );
    w.pen = Pen::default();
}

/// Step 2: scrollback and screen of the primary grid, as one stream from its oldest line.
fn draw_primary(w: &mut Writer<'_>, grid: &Grid<Cell>) {
    draw_screen(w, grid, topmost(grid).0);
}

/// Draws lines `from..` to the bottom of the screen of `grid`, then gives the bottom row
/// its soft wrap if it has one.
fn draw_screen(w: &mut Writer<'_>, grid: &Grid<Cell>, from: i32) {
    let lines = grid.screen_lines();
    draw_rows(w, grid, from, lines as i32);
    let bottom = Line(lines as i32 - 1);
    if lines >= 3 && grid[bottom][Column(grid.columns() - 1)].flags.contains(Flags::WRAPLINE) {
        wrap_bottom_row(w, grid);
    }
}

/// Gives the bottom row of the screen its soft-wrap flag, which only a wrap into a next row
/// can set: in a scroll region of the last two rows, wrap the bottom row into a dummy row
/// (the region scrolls up, without touching the scrollback since it does not start at the
/// top), scroll the region back down, and draw the row above again.
fn wrap_bottom_row(w: &mut Writer<'_>, grid: &Grid<Cell>) {
    let lines = grid.screen_lines();
    let cols = grid.columns();
    let (above, bottom) = (lines - 2, lines - 1);
    w.set_pen(&Cell::default());
    // Region: the last two rows (1-based `lines-1 ; lines`); DECSTBM moves the cursor home.
    w.out.extend_from_slice(b"\x1b[");
    w.num(lines - 1);
    w.out.push(b';');
    w.num(lines);
    w.out.push(b'r');
    let last = &grid[Line(bottom as i32)][Column(cols - 1)];
    if last.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER) {
        w.cup(bottom, cols - 1);
        w.set_pen(last);
        w.print(DUMMY_WIDE);
    } else {
        reprint_last_cell(w, grid, Line(bottom as i32), bottom);
        w.set_pen(&Cell::default());
        w.print(' ');
    }
    // The region scrolled up: the bottom row (now wrapped) is one row up. Scroll it back.
    w.set_pen(&Cell::default());
    w.out.extend_from_slice(b"\x1b[T");
    // The row above is blank now: draw it again. If it wraps into the bottom row, the wrap
    // prints the bottom row's first cell again, which is harmless, except after a leading
    // spacer: printing a wide character over one in column 0 clears the leading spacer just
    // made. Then the first cells are erased before and drawn again after, as many as keep
    // wide characters whole (printing a wide character over an old spacer erases it).
    let row_above = Line(above as i32);
    let bottom_line = Line(bottom as i32);
    let above_last = &grid[row_above][Column(cols - 1)];
    let above_wraps = above_last.flags.contains(Flags::WRAPLINE);
    let leading = above_wraps && above_last.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER);
    let first = &grid[bottom_line][Column(0)];
    let mut erased = 2;
    if grid[bottom_line][Column(1)].flags.contains(Flags::WIDE_CHAR) {
        erased = 3;
    }
    let erase = leading && erased < cols;
    if erase {
        w.cup(bottom, 0);
        w.out.extend_from_slice(b"\x1b[");
        w.num(erased);
        w.out.push(b'X');
    }
    w.cup(above, 0);
    if above_wraps {
        draw_cells(w, grid, row_above, if leading { cols - 1 } else { cols });
        if leading && (!first.flags.contains(Flags::WIDE_CHAR) || !same_pen(first, above_last)) {
            w.set_pen(above_last);
            w.print(DUMMY_WIDE);
            w.set_pen(&Cell::default());
            w.out.extend_from_slice(b"\r\x1b[2X");
            if erase {
                draw_cells(w, grid, bottom_line, erased);
            }
        } else {
            w.print_cell(first);
            if erase {
                let mut fixes = Vec::new();
                draw_cells_from(w, grid, bottom_line, 2, erased, &mut fixes);
            }
        }
    } else {
        draw_cells(w, grid, row_above, content_end(grid, row_above));
    }
    w.out.extend_from_slice(b"\x1b[r");
}

/// Draws lines `from..to` of `grid` from the cursor's row downwards, starting at column 0 of
/// the current row. Rows are separated by CR LF (which scrolls at the bottom), or by the
/// wrap of a soft-wrapped row.
pub(crate) fn draw_rows(w: &mut Writer<'_>, grid: &Grid<Cell>, from: i32, to: i32) {
    let cols = grid.columns();
    let mut continued = false;
    let mut fixes_above: Vec<Fix> = Vec::new();
    for line in from..to {
        let row = &grid[Line(line)];
        let last = &row[Column(cols - 1)];
        let wraps = line + 1 < to && last.flags.contains(Flags::WRAPLINE);
        let mut end = if wraps { cols } else { content_end(grid, Line(line)) };
        if continued {
            // A wrap at the bottom scrolls, and the new row is filled with the background of
            // the pen at that moment (this row's first cell): print the whole row then.
            let default_bg = Color::Named(NamedColor::Background);
            end = if row[Column(0)].bg == default_bg { end.max(1) } else { cols };
        }
        let leading = wraps && last.flags.contains(Flags::LEADING_WIDE_CHAR_SPACER);
        if leading {
            end = cols - 1;
        }
        let mut fixes = Vec::new();
        if !fixes_above.is_empty() {
            // Fix-ups of the last column of the row above, now that it has wrapped into this
            // one (doing them earlier would have cancelled the pending wrap).
            let first = if row[Column(0)].flags.contains(Flags::WIDE_CHAR) { 2 } else { 1 };
            let first = first.min(end);
            draw_cells_from(w, grid, Line(line), 0, first, &mut fixes);
            w.out.extend_from_slice(b"\x1b[A");
            apply_fixes(w, grid, Line(line - 1), &fixes_above);
            w.out.extend_from_slice(b"\x1b[B");
            w.cha(first);
            draw_cells_from(w, grid, Line(line), first, end, &mut fixes);
            fixes_above.clear();
        } else {
            draw_cells_from(w, grid, Line(line), 0, end, &mut fixes);
        }
        if leading && last.c == '\t' {
            fixes.push(Fix::Tab(cols - 1));
        }
        if !fixes.is_empty() {
            if !wraps {
                apply_fixes(w, grid, Line(line), &fixes);
            } else if grid.screen_lines() > 1 {
                fixes_above = fixes;
            }
        }
        if leading {
            let next = &grid[Line(line + 1)][Column(0)];
            if !next.flags.contains(Flags::WIDE_CHAR) || !same_pen(next, last) {
                // A leading spacer whose wide character is gone (or that has other attributes,
                // as reflow makes them): make one with a dummy wide character in the spacer's
                // pen, and erase the dummy on the next row.
                w.set_pen(last);
                w.print(DUMMY_WIDE);
                w.set_pen(&Cell::default());
                w.out.extend_from_slice(b"\r\x1b[2K");
            }
        }
        continued = wraps;
        if !wraps && line + 1 < to {
            w.newline();
        }
    }
}

/// A fix-up of the last column of a row, done after the cursor has left it (by a wrap).
#[derive(Clone, Copy, Debug)]
enum Fix {
    /// Mark the cell in this column as a tab (HT there).
    Tab(usize),
    /// A spacer was made in this column with a dummy wide character: erase the dummy and
    /// put the cell before back.
    RestoreBefore(usize),
}

/// Applies fix-ups to `line`, which is the cursor's row.
fn apply_fixes(w: &mut Writer<'_>, grid: &Grid<Cell>, line: Line, fixes: &[Fix]) {
    for &fix in fixes {
        match fix {
            Fix::Tab(col) => {
                w.cha(col);
                w.out.push(b'\t');
            }
            Fix::RestoreBefore(col) => restore_before(w, &grid[line], col),
        }
    }
}

/// After a dummy wide character made the spacer in `col`: erases the dummy in `col - 1`
/// (ECH leaves the spacer alone) and puts that cell back.
fn restore_before(w: &mut Writer<'_>, row: &Row<Cell>, col: usize) {
    w.cha(col - 1);
    let before = &row[Column(col - 1)];
    w.set_pen(before);
    w.out.extend_from_slice(b"\x1b[X");
    // Two spacers in a row: the first one's wide character is printed again, which makes it
    // a spacer without touching this one.
    reprint_cell(w, row, col - 1);
}

/// Prints the cell at `col` again where it stands, the cursor being there: a spacer by
/// printing its wide character again, a cell a tab started on with its tab mark.
fn reprint_cell(w: &mut Writer<'_>, row: &Row<Cell>, col: usize) {
    let cell = &row[Column(col)];
    if cell.flags.contains(Flags::WIDE_CHAR_SPACER) {
        if col >= 1 && row[Column(col - 1)].flags.contains(Flags::WIDE_CHAR) {
            w.cha(col - 1);
            w.print_cell(&row[Column(col - 1)]);
        }
    } else if !is_erased(cell) {
        w.print_cell(cell);
        if cell.c == '\t' {
            w.cha(col);
            w.out.push(b'\t');
        }
    }
}

/// Whether two cells have the same pen (SGR attributes and hyperlink).
fn same_pen(a: &Cell, b: &Cell) -> bool {
    a.fg == b.fg
        && a.bg == b.bg
        && a.flags & STYLE_FLAGS == b.flags & STYLE_FLAGS
        && a.underline_color() == b.underline_color()
        && a.hyperlink() == b.hyperlink()
}

/// Index after the last cell of a row that is not a plain blank.
fn content_end(grid: &Grid<Cell>, line: Line) -> usize {
    let row = &grid[line];
    (0..grid.columns()).rev().find(|&col| !is_plain_blank(&row[Column(col)])).map_or(0, |c| c + 1)
}

/// Whether a cell is what an untouched cell is (a blank in the default colours).
pub(crate) fn is_plain_blank(cell: &Cell) -> bool {
    cell.c == ' '
        && cell.flags.is_empty()
        && cell.fg == Color::Named(NamedColor::Foreground)
        && cell.bg == Color::Named(NamedColor::Background)
        && cell.extra.as_ref().is_none_or(|_| {
            cell.zerowidth().is_none_or(<[char]>::is_empty)
                && cell.underline_color().is_none()
                && cell.hyperlink().is_none()
        })
}

/// Prints cells `0..end` of a row; the cursor is at column 0 of the row. Fix-ups of the last
/// column are done at once.
fn draw_cells(w: &mut Writer<'_>, grid: &Grid<Cell>, line: Line, end: usize) {
    let mut fixes = Vec::new();
    draw_cells_from(w, grid, line, 0, end, &mut fixes);
    apply_fixes(w, grid, line, &fixes);
}

/// Prints cells `start..end` of a row; the cursor is at column `start` of the row. Fix-ups
/// that would move the cursor out of the last column go to `fixes`.
fn draw_cells_from(
    w: &mut Writer<'_>,
    grid: &Grid<Cell>,
    line: Line,
    start: usize,
    end: usize,
    fixes: &mut Vec<Fix>,
) {
    let cols = grid.columns();
    let row = &grid[line];
    let mut col = start;
    while col < end {
        let cell = &row[Column(col)];
        if cell.flags.contains(Flags::WIDE_CHAR) {
            if col + 1 >= cols {
                // A wide character in the last column (insert mode pushed it there): print it
                // one column to the left and push it right with ICH, then put back the cell
                // that ICH blanked.
                w.cha(col - 1);
                w.print_cell(cell);
                w.cha(col - 1);
                let before = &row[Column(col - 1)];
                w.set_pen(before);
                w.out.extend_from_slice(b"\x1b[@");
                if before.flags.contains(Flags::WIDE_CHAR_SPACER)
                    && col >= 2
                    && !row[Column(col - 2)].flags.contains(Flags::WIDE_CHAR)
                {
                    // The blanked cell was a spacer without its wide character: make it
                    // again with a dummy.
                    w.cha(col - 2);
                    w.set_pen(before);
                    w.print(DUMMY_WIDE);
                    restore_before(w, row, col - 1);
                } else {
                    reprint_cell(w, row, col - 1);
                }
                col += 1;
                continue;
            }
            w.print_cell(cell);
            let spacer = &row[Column(col + 1)];
            if spacer.flags.contains(Flags::WIDE_CHAR_SPACER) {
                if spacer.c == '\t' && col + 2 < cols {
                    // A tab over the spacer marked it (alacritty marks any blank it starts on).
                    w.cha(col + 1);
                    w.out.push(b'\t');
                    w.cha(col + 2);
                } else if spacer.c == '\t' {
                    fixes.push(Fix::Tab(col + 1));
                }
                col += 2;
            } else {
                // Its spacer was erased: erase it again (with that cell's background), then
                // print what is there.
                w.cha(col + 1);
                w.set_pen(&row[Column(col + 1)]);
                w.out.extend_from_slice(b"\x1b[X");
                col += 1;
            }
        } else if cell.flags.contains(Flags::WIDE_CHAR_SPACER) && col > 0 {
            // A spacer whose wide character was erased: print a dummy wide character before
            // it with the spacer's pen, then erase the dummy and put the cell before back.
            w.cha(col - 1);
            w.set_pen(cell);
            w.print(DUMMY_WIDE);
            if col + 1 == cols {
                fixes.push(Fix::RestoreBefore(col));
                if cell.c == '\t' {
                    fixes.push(Fix::Tab(col));
                }
            } else {
                restore_before(w, row, col);
                if cell.c == '\t' {
                    w.cha(col);
                    w.out.push(b'\t');
                }
                w.cha(col + 1);
            }
            col += 1;
        } else if cell.c == '\t' && col + 1 == cols {
            w.print_cell(cell);
            fixes.push(Fix::Tab(col));
            col += 1;
        } else if cell.c == '\t' {
            // HT marks the cell it starts from as a tab (alacritty keeps them for copying).
            w.print_cell(cell);
            w.cha(col);
            w.out.push(b'\t');
            w.cha(col + 1);
            col += 1;
        } else {
            w.print_cell(cell);
            col += 1;
            // The hot loop: a run of plain ASCII cells in the pen just set.
            if w.pen.underline_color.is_none() && w.pen.hyperlink.is_none() {
                let (fg, bg, flags) = (w.pen.fg, w.pen.bg, w.pen.flags);
                while col < end {
                    let next = &row[Column(col)];
                    let c = next.c;
                    if next.extra.is_some()
                        || next.flags != flags
                        || next.fg != fg
                        || next.bg != bg
                        || !(' '..='~').contains(&c)
                    {
                        break;
                    }
                    w.out.push(c as u8);
                    col += 1;
                }
            }
        }
    }
}

/// Whether a cell is exactly what ECH leaves with the cell's background.
fn is_erased(cell: &Cell) -> bool {
    is_plain_blank(&Cell { bg: Color::Named(NamedColor::Background), ..cell.clone() })
}

/// Moves the cursor to `cursor`'s point, with `scroll_top` subtracted (origin mode), and
/// recreates a pending wrap by printing the last cell again.
///
/// A pending wrap can sit on a row whose last cell printing would change (RI and LF keep a
/// pending wrap, DECSC saves one): a row that has wrapped since (printing clears the soft
/// wrap) or that ends in a leading spacer. Then the pending wrap is made on a nearby row
/// that prints safely and carried over with LF or RI, which keep it; `region` is the scroll
/// region the moves must not scroll, and in `origin` mode the row borrowed must be in it.
fn place_cursor(
    w: &mut Writer<'_>,
    grid: &Grid<Cell>,
    cursor: &Cursor<Cell>,
    scroll_top: usize,
    region: (usize, usize),
    origin: bool,
) {
    let line = cursor.point.line;
    let row = |line: usize| line.saturating_sub(scroll_top);
    let target = line.0 as usize;
    let last = grid.columns() - 1;
    // A pending wrap is only made by printing in the last column (alacritty can leave one
    // elsewhere after a resize; no sequence recreates that).
    if !(cursor.input_needs_wrap && cursor.point.column.0 == last) {
        w.cup(row(target), cursor.point.column.0);
        return;
    }
    if reprints_safely(grid, target) {
        reprint_last_cell(w, grid, line, row(target));
        return;
    }
    let lines = grid.screen_lines();
    let (top, bottom) = region;
    for distance in 1..lines {
        // From above with LF: no LF may start on the region's last row (it would scroll);
        // in origin mode the row borrowed is in the region (CUP cannot leave it).
        if let Some(from) = target.checked_sub(distance) {
            if (!origin || (top..bottom).contains(&from))
                && reprints_safely(grid, from)
                && (from..target).all(|x| x + 1 != bottom)
            {
                reprint_last_cell(w, grid, Line(from as i32), row(from));
                w.out.extend(std::iter::repeat_n(b'\n', distance));
                return;
            }
        }
        // From below with RI: no RI may start on the region's first row.
        let from = target + distance;
        if from < lines
            && (!origin || from < bottom)
            && reprints_safely(grid, from)
            && (target + 1..=from).all(|x| x != top)
        {
            reprint_last_cell(w, grid, Line(from as i32), row(from));
            for _ in 0..distance {
                w.out.extend_from_slice(b"\x1bM");
            }
            return;
        }
    }
    // No row to borrow: the pending wrap wins over the row's last cell.
    reprint_last_cell(w, grid, line, row(target));
}

/// Places the saved cursor (full region, origin off) and saves it with DECSC, pen and
/// charsets included.
///
/// A pending wrap on a row whose last cell cannot be printed again (it wrapped since) and no
/// safe row to borrow (every row wrapped too: a long line): borrow another wrapped row, and
/// once the cursor is saved, give that row its wrap back by wrapping from it into
/// the next row again (printing the next row's first cell as it is).
fn save_cursor(w: &mut Writer<'_>, grid: &Grid<Cell>, saved: &Cursor<Cell>) {
    let lines = grid.screen_lines();
    let last = grid.columns() - 1;
    let target = saved.point.line.0 as usize;
    let pending = saved.input_needs_wrap && saved.point.column.0 == last;
    let safe_nearby = (0..lines).any(|q| reprints_safely(grid, q));
    let rewrappable = |q: usize| {
        let cell = &grid[Line(q as i32)][Column(last)];
        cell.flags & (Flags::WRAPLINE | Flags::LEADING_WIDE_CHAR_SPACER | Flags::WIDE_CHAR)
            == Flags::WRAPLINE
            && !cell.flags.contains(Flags::WIDE_CHAR_SPACER)
            && cell.c != '\t'
            && q + 1 < lines
            && !grid[Line(q as i32 + 1)][Column(0)].flags.contains(Flags::WIDE_CHAR_SPACER)
    };
    let borrowed = if pending && !reprints_safely(grid, target) && !safe_nearby {
        (1..lines)
            .flat_map(|d| [target.checked_sub(d), Some(target + d)])
            .flatten()
            .find(|&q| q < lines && rewrappable(q))
    } else {
        None
    };
    match borrowed {
        Some(q) => {
            // LF down or RI up to the saved row (the region is the whole screen here, and
            // neither move starts where it would scroll).
            reprint_last_cell(w, grid, Line(q as i32), q);
            if q < target {
                w.out.extend(std::iter::repeat_n(b'\n', target - q));
            } else {
                for _ in target..q {
                    w.out.extend_from_slice(b"\x1bM");
                }
            }
        }
        None => place_cursor(w, grid, saved, 0, (0, lines), false),
    }
    w.set_pen(&saved.template);
    let charsets = saved.charsets_array();
    designate_charsets(w, &charsets);
    w.out.extend_from_slice(b"\x1b7");
    if charsets != [StandardCharset::Ascii; 4] {
        // ASCII again for the prints below.
        designate_charsets(w, &[StandardCharset::Ascii; 4]);
    }
    if let Some(q) = borrowed {
        reprint_last_cell(w, grid, Line(q as i32), q);
        w.print_cell(&grid[Line(q as i32 + 1)][Column(0)]);
    }
}

/// Moves the cursor along its row to `cursor`'s column with CR and CUF (which leave the row
/// alone in origin mode), recreating a pending wrap by printing the last cell again.
fn move_along_row(w: &mut Writer<'_>, grid: &Grid<Cell>, cursor: &Cursor<Cell>) {
    let last = grid.columns() - 1;
    let row = &grid[cursor.point.line];
    let forward = |w: &mut Writer<'_>, col: usize| {
        w.out.push(b'\r');
        if col > 0 {
            w.out.extend_from_slice(b"\x1b[");
            w.num(col);
            w.out.push(b'C');
        }
    };
    let pending = cursor.input_needs_wrap && cursor.point.column.0 == last;
    if pending && reprints_safely(grid, cursor.point.line.0 as usize) {
        if row[Column(last)].flags.contains(Flags::WIDE_CHAR_SPACER) {
            forward(w, last - 1);
            w.out.extend_from_slice(b"\x1b[2X");
            w.print_cell(&row[Column(last - 1)]);
        } else {
            forward(w, last);
            w.print_cell(&row[Column(last)]);
        }
    } else {
        forward(w, cursor.point.column.0);
    }
}

/// Whether printing the last cell of screen row `line` again leaves the row as it is.
fn reprints_safely(grid: &Grid<Cell>, line: usize) -> bool {
    let row = &grid[Line(line as i32)];
    let last = grid.columns() - 1;
    let cell = &row[Column(last)];
    if cell.flags.intersects(Flags::WRAPLINE | Flags::LEADING_WIDE_CHAR_SPACER | Flags::WIDE_CHAR)
        || cell.c == '\t'
    {
        return false;
    }
    if cell.flags.contains(Flags::WIDE_CHAR_SPACER) {
        return last > 0 && row[Column(last - 1)].flags.contains(Flags::WIDE_CHAR);
    }
    true
}

/// Prints the last cell of `line` again at screen row `row` (a wide character from its first
/// column), which leaves the cursor in the last column with a pending wrap.
fn reprint_last_cell(w: &mut Writer<'_>, grid: &Grid<Cell>, line: Line, row: usize) {
    let last = grid.columns() - 1;
    let cell = &grid[line][Column(last)];
    if cell.flags.contains(Flags::WIDE_CHAR_SPACER)
        && last > 0
        && grid[line][Column(last - 1)].flags.contains(Flags::WIDE_CHAR)
    {
        // Erased first: printing a wide character over one in column 0 would clear the
        // leading spacer of the row above.
        w.cup(row, last - 1);
        w.out.extend_from_slice(b"\x1b[2X");
        w.print_cell(&grid[line][Column(last - 1)]);
    } else if cell.flags.intersects(Flags::WIDE_CHAR | Flags::LEADING_WIDE_CHAR_SPACER) {
        w.cup(row, last);
    } else {
        w.cup(row, last);
        w.print_cell(cell);
    }
}

/// Step 4: everything after the cells, on the active screen.
fn finish(w: &mut Writer<'_>, model: &TerminalModel) {
    let term = &model.term;
    let tracker = &model.tracker;
    let grid = term.grid();
    let mode = *term.mode();

    // The active screen's kitty keyboard stack (after `CSI ? 1049 h` the terminal's active
    // stack is the alternate screen's, empty so far).
    push_kitty_stack(w, &tracker.kitty_stack);
    let top_flags = tracker.kitty_stack.last().map_or(0, |m| m.bits());
    let flags = kitty_flags(mode);
    if flags != top_flags {
        w.out.extend_from_slice(b"\x1b[=");
        w.num(flags as usize);
        w.out.extend_from_slice(b";1u");
    }

    // The saved cursor (DECSC), the scroll region, origin mode, then the cursor (DECSTBM and
    // DECOM both move it home, and in origin mode CUP is relative to the region).
    let lines = grid.screen_lines();
    let region = |w: &mut Writer<'_>| {
        if !tracker.full_region(lines) {
            w.out.extend_from_slice(b"\x1b[");
            w.num(tracker.scroll_top + 1);
            w.out.push(b';');
            w.num(tracker.scroll_bottom);
            w.out.push(b'r');
        }
    };
    let saved = &grid.saved_cursor;
    let origin = mode.contains(TermMode::ORIGIN);
    let line = grid.cursor.point.line.0 as usize;
    if origin && !(tracker.scroll_top..tracker.scroll_bottom).contains(&line) {
        // In origin mode outside the region (DECRC put it there, then the program moved
        // along): CUP cannot reach it. Save the saved cursor, turn origin on, restore it with
        // DECRC, and move from there with moves that do not clamp to the region (LF or RI
        // down or up, CR and CUF along). If LF or RI would scroll, the saved cursor becomes
        // this position instead.
        let (top, bottom) = (tracker.scroll_top, tracker.scroll_bottom);
        let from = saved.point.line.0 as usize;
        let reachable = if from <= line {
            (from..line).all(|x| x + 1 != bottom)
        } else {
            (line + 1..=from).all(|x| x != top)
        };
        let start = if reachable { saved } else { &grid.cursor };
        place_cursor(w, grid, start, 0, (0, lines), false);
        w.set_pen(&saved.template);
        designate_charsets(w, &saved.charsets_array());
        w.out.extend_from_slice(b"\x1b7");
        region(w);
        w.out.extend_from_slice(b"\x1b[?6h\x1b8");
        if reachable {
            designate_charsets(w, &[StandardCharset::Ascii; 4]);
            if from <= line {
                w.out.extend(std::iter::repeat_n(b'\n', line - from));
            } else {
                for _ in line..from {
                    w.out.extend_from_slice(b"\x1bM");
                }
            }
            move_along_row(w, grid, &grid.cursor);
        }
    } else {
        if *saved != Cursor::default() {
            save_cursor(w, grid, saved);
        }
        region(w);
        if origin {
            w.out.extend_from_slice(b"\x1b[?6h");
        }
        let top = if origin { tracker.scroll_top } else { 0 };
        let region = (tracker.scroll_top, tracker.scroll_bottom);
        place_cursor(w, grid, &grid.cursor, top, region, origin);
    }

    // Modes. Insert mode comes after the reprint above, which it would shift.
    let mut set: Vec<u16> = Vec::new();
    let mut reset: Vec<u16> = Vec::new();
    let mut private = |on: bool, n: u16| if on { set.push(n) } else { reset.push(n) };
    private(mode.contains(TermMode::APP_CURSOR), 1);
    private(mode.contains(TermMode::LINE_WRAP), 7);
    private(tracker.mouse_x10, 9);
    private(mode.contains(TermMode::MOUSE_REPORT_CLICK), 1000);
    private(mode.contains(TermMode::MOUSE_DRAG), 1002);
    private(mode.contains(TermMode::MOUSE_MOTION), 1003);
    private(mode.contains(TermMode::FOCUS_IN_OUT), 1004);
    private(mode.contains(TermMode::UTF8_MOUSE), 1005);
    private(mode.contains(TermMode::SGR_MOUSE), 1006);
    private(tracker.mouse_urxvt, 1015);
    private(tracker.mouse_sgr_pixels, 1016);
    private(mode.contains(TermMode::BRACKETED_PASTE), 2004);
    // alacritty's defaults are on; only a program's "off" is worth telling a terminal.
    if !mode.contains(TermMode::ALTERNATE_SCROLL) {
        reset.push(1007);
    }
    if !mode.contains(TermMode::URGENCY_HINTS) {
        reset.push(1042);
    }
    w.private_modes(&reset, b'l');
    w.private_modes(&set, b'h');
    if mode.contains(TermMode::INSERT) {
        w.out.extend_from_slice(b"\x1b[4h");
    }
    if mode.contains(TermMode::LINE_FEED_NEW_LINE) {
        w.out.extend_from_slice(b"\x1b[20h");
    }
    w.out.extend_from_slice(if mode.contains(TermMode::APP_KEYPAD) { b"\x1b=" } else { b"\x1b>" });
    if tracker.modify_other_keys != 0 {
        w.out.extend_from_slice(b"\x1b[>4;");
        w.num(tracker.modify_other_keys as usize);
        w.out.push(b'm');
    }
    if tracker.cursor_style_set {
        let style = term.cursor_style();
        let steady = match style.shape {
            CursorShape::Underline => 4,
            CursorShape::Beam => 6,
            _ => 2,
        };
        w.out.extend_from_slice(b"\x1b[");
        w.num(steady - usize::from(style.blinking));
        w.out.extend_from_slice(b" q");
    } else {
        w.out.extend_from_slice(b"\x1b[0 q");
    }

    // The pen and the charsets the program's next output will use.
    w.set_pen(&grid.cursor.template);
    designate_charsets(w, &grid.cursor.charsets_array());
    if tracker.active_charset == CharsetIndex::G1 {
        w.out.push(0x0e);
    }

    // The title stack (XTWINOPS 22), then the title. A title never set is sent as empty.
    let stack = tracker.title_stack();
    for title in &stack[stack.len().saturating_sub(MAX_TITLE_STACK_RESTORED)..] {
        push_title(w, title.as_deref().unwrap_or(""));
        w.out.extend_from_slice(b"\x1b[22t");
    }
    if tracker.title.is_some() || !stack.is_empty() {
        push_title(w, tracker.title.as_deref().unwrap_or(""));
    }
    if let Some(url) = &tracker.cwd_url {
        w.out.extend_from_slice(b"\x1b]7;");
        w.out.extend_from_slice(url.as_bytes());
        w.out.extend_from_slice(b"\x1b\\");
    }
    if mode.contains(TermMode::SHOW_CURSOR) {
        w.out.extend_from_slice(b"\x1b[?25h");
    }
    w.out.extend_from_slice(b"\x1b[?2026l");
}

/// `OSC 2 ; title ST`, without the control characters that would end it early.
fn push_title(w: &mut Writer<'_>, title: &str) {
    w.out.extend_from_slice(b"\x1b]2;");
    push_osc_text(w.out, title);
    w.out.extend_from_slice(b"\x1b\\");
}

/// Designates G0 to G3.
fn designate_charsets(w: &mut Writer<'_>, charsets: &[StandardCharset; 4]) {
    for (i, charset) in charsets.iter().enumerate() {
        let final_byte = match charset {
            StandardCharset::Ascii => b'B',
            StandardCharset::SpecialCharacterAndLineDrawing => b'0',
        };
        w.out.extend_from_slice(&[0x1b, b"()*+"[i], final_byte]);
    }
}

/// Pushes a kitty keyboard stack, bottom first.
fn push_kitty_stack(w: &mut Writer<'_>, stack: &[KeyboardModes]) {
    for modes in stack {
        w.out.extend_from_slice(b"\x1b[>");
        w.num(modes.bits() as usize);
        w.out.push(b'u');
    }
}

/// The charsets of a cursor as an array (alacritty's `Charsets` only indexes).
trait CharsetsArray {
    fn charsets_array(&self) -> [StandardCharset; 4];
}

impl CharsetsArray for Cursor<Cell> {
    fn charsets_array(&self) -> [StandardCharset; 4] {
        [CharsetIndex::G0, CharsetIndex::G1, CharsetIndex::G2, CharsetIndex::G3]
            .map(|index| self.charsets[index])
    }
}

/// The attributes a terminal applies to what it prints: SGR state and hyperlink.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pen {
    pub(crate) fg: Color,
    pub(crate) bg: Color,
    pub(crate) flags: Flags,
    pub(crate) underline_color: Option<Color>,
    pub(crate) hyperlink: Option<Hyperlink>,
}

impl Default for Pen {
    fn default() -> Self {
        Pen {
            fg: Color::Named(NamedColor::Foreground),
            bg: Color::Named(NamedColor::Background),
            flags: Flags::empty(),
            underline_color: None,
            hyperlink: None,
        }
    }
}

/// Appends VT bytes to a buffer, knowing the pen the terminal has.
pub(crate) struct Writer<'a> {
    pub(crate) out: &'a mut Vec<u8>,
    /// The terminal's pen after the bytes written so far.
    pub(crate) pen: Pen,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(out: &'a mut Vec<u8>) -> Self {
        Writer { out, pen: Pen::default() }
    }

    /// Makes the terminal's pen the attributes of `cell`.
    #[inline(always)]
    pub(crate) fn set_pen(&mut self, cell: &Cell) {
        // The common case first: no extra attributes, and the pen already right.
        if cell.extra.is_none()
            && cell.fg == self.pen.fg
            && cell.bg == self.pen.bg
            && cell.flags & STYLE_FLAGS == self.pen.flags
            && self.pen.underline_color.is_none()
            && self.pen.hyperlink.is_none()
        {
            return;
        }
        self.change_pen(cell);
    }

    /// The pen differs, or may: compare everything and write what changed.
    #[inline(never)]
    fn change_pen(&mut self, cell: &Cell) {
        let flags = cell.flags & STYLE_FLAGS;
        let underline_color = cell.underline_color();
        if cell.fg != self.pen.fg
            || cell.bg != self.pen.bg
            || flags != self.pen.flags
            || underline_color != self.pen.underline_color
        {
            sgr(self.out, cell.fg, cell.bg, flags, underline_color);
            self.pen.fg = cell.fg;
            self.pen.bg = cell.bg;
            self.pen.flags = flags;
            self.pen.underline_color = underline_color;
        }
        let link = cell.extra.as_ref().and_then(|_| cell.hyperlink());
        if link != self.pen.hyperlink {
            match &link {
                Some(link) => {
                    self.out.extend_from_slice(b"\x1b]8;id=");
                    push_osc_text(self.out, link.id());
                    self.out.push(b';');
                    push_osc_text(self.out, link.uri());
                    self.out.extend_from_slice(b"\x1b\\");
                }
                None => self.out.extend_from_slice(b"\x1b]8;;\x1b\\"),
            }
            self.pen.hyperlink = link;
        }
    }

    /// Prints a cell (its character and combining marks) with its pen.
    #[inline]
    pub(crate) fn print_cell(&mut self, cell: &Cell) {
        self.set_pen(cell);
        let c = if cell.c == '\t' || cell.c.is_control() { ' ' } else { cell.c };
        self.print(c);
        if let Some(zerowidth) = cell.zerowidth() {
            for &c in zerowidth {
                self.print(c);
            }
        }
    }

    /// Prints one character with the current pen.
    #[inline(always)]
    pub(crate) fn print(&mut self, c: char) {
        if c.is_ascii() {
            self.out.push(c as u8);
            return;
        }
        let mut buf = [0; 4];
        self.out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }

    /// CR LF, with the background reset first (a scroll fills the new line with it).
    pub(crate) fn newline(&mut self) {
        if self.pen.bg != Color::Named(NamedColor::Background) {
            self.out.extend_from_slice(b"\x1b[49m");
            self.pen.bg = Color::Named(NamedColor::Background);
        }
        self.out.extend_from_slice(b"\r\n");
    }

    /// CUP to a 0-based row and column.
    fn cup(&mut self, row: usize, col: usize) {
        self.out.extend_from_slice(b"\x1b[");
        self.num(row + 1);
        self.out.push(b';');
        self.num(col + 1);
        self.out.push(b'H');
    }

    /// CHA to a 0-based column.
    fn cha(&mut self, col: usize) {
        self.out.extend_from_slice(b"\x1b[");
        self.num(col + 1);
        self.out.push(b'G');
    }

    /// `CSI ? a ; b ; ... h` (or `l`), nothing for an empty list.
    fn private_modes(&mut self, modes: &[u16], action: u8) {
        if modes.is_empty() {
            return;
        }
        self.out.extend_from_slice(b"\x1b[?");
        for (i, &m) in modes.iter().enumerate() {
            if i > 0 {
                self.out.push(b';');
            }
            self.num(m as usize);
        }
        self.out.push(action);
    }

    pub(crate) fn num(&mut self, n: usize) {
        push_num(self.out, n);
    }
}

/// Appends a decimal number.
pub(crate) fn push_num(out: &mut Vec<u8>, mut n: usize) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Appends text for an OSC string, without the control characters that would end it.
fn push_osc_text(out: &mut Vec<u8>, text: &str) {
    for c in text.chars().filter(|c| !c.is_control()) {
        let mut buf = [0; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
}

/// Appends one SGR sequence that sets exactly these attributes (starting from a reset).
pub(crate) fn sgr(out: &mut Vec<u8>, fg: Color, bg: Color, flags: Flags, ul: Option<Color>) {
    // Built on the stack and appended once: many tiny appends cost more than the bytes.
    let mut b = SgrBuf { bytes: [0; SGR_MAX], len: 0 };
    b.put(b"\x1b[0");
    let pairs: [(Flags, &[u8]); 11] = [
        (Flags::BOLD, b";1"),
        (Flags::DIM, b";2"),
        (Flags::ITALIC, b";3"),
        (Flags::UNDERLINE, b";4"),
        (Flags::DOUBLE_UNDERLINE, b";4:2"),
        (Flags::UNDERCURL, b";4:3"),
        (Flags::DOTTED_UNDERLINE, b";4:4"),
        (Flags::DASHED_UNDERLINE, b";4:5"),
        (Flags::INVERSE, b";7"),
        (Flags::HIDDEN, b";8"),
        (Flags::STRIKEOUT, b";9"),
    ];
    if !flags.is_empty() {
        for (flag, code) in pairs {
            if flags.contains(flag) {
                b.put(code);
            }
        }
    }
    sgr_color(&mut b, fg, 30, 90, 38);
    sgr_color(&mut b, bg, 40, 100, 48);
    if let Some(ul) = ul {
        let ul = match ul {
            Color::Named(named) if (named as usize) < 16 => Color::Indexed(named as u8),
            other => other,
        };
        sgr_color(&mut b, ul, 0, 0, 58);
    }
    b.put(b"m");
    out.extend_from_slice(&b.bytes[..b.len]);
}

/// Longest SGR sequence [`sgr`] writes: `ESC [ 0`, 11 flags, three true colours, `m`.
const SGR_MAX: usize = 3 + 11 * 4 + 3 * 17 + 1;

/// A stack buffer for one SGR sequence.
struct SgrBuf {
    bytes: [u8; SGR_MAX],
    len: usize,
}

impl SgrBuf {
    #[inline(always)]
    fn put(&mut self, bytes: &[u8]) {
        self.bytes[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    #[inline(always)]
    fn num(&mut self, n: usize) {
        if n < 10 {
            self.put(&[b'0' + n as u8]);
        } else if n < 100 {
            self.put(&[b'0' + (n / 10) as u8, b'0' + (n % 10) as u8]);
        } else {
            self.put(&[b'0' + (n / 100) as u8, b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8]);
        }
    }
}

/// Appends the SGR parameters of one colour (nothing for the default colours).
#[inline(always)]
fn sgr_color(b: &mut SgrBuf, color: Color, base: usize, bright: usize, extended: usize) {
    match color {
        Color::Named(named) => {
            let n = named as usize;
            if n < 8 && base != 0 {
                b.put(b";");
                b.num(base + n);
            } else if n < 16 && base != 0 {
                b.put(b";");
                b.num(bright + n - 8);
            }
        }
        Color::Indexed(i) => {
            b.put(b";");
            b.num(extended);
            b.put(b";5;");
            b.num(i as usize);
        }
        Color::Spec(rgb) => {
            b.put(b";");
            b.num(extended);
            b.put(b";2;");
            b.num(rgb.r as usize);
            b.put(b";");
            b.num(rgb.g as usize);
            b.put(b";");
            b.num(rgb.b as usize);
        }
    }
}
