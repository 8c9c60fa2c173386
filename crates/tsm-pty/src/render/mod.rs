//! History renderers: plain text, VT and HTML, over the same rows of a [`TerminalModel`].
//!
//! The history is the primary screen's scrollback followed by the active screen (the
//! alternate one while a full-screen program runs). Soft-wrapped rows are joined into one
//! line, trailing blanks of each line and blank lines at the end are dropped, and
//! [`RenderOptions`] can keep only the visible screen or only the last lines.

mod html;
mod plain;
mod vt;

use alacritty_terminal::grid::{Dimensions, Grid};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::{Cell, Flags};

use crate::model::TerminalModel;
use crate::tracker::topmost;

/// The format of a rendered history (the History request's format byte).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RenderFormat {
    /// Text only, no escape sequences; lines end with `\n`.
    Plain,
    /// Text with SGR colours and attributes and OSC 8 hyperlinks, for a terminal or a pager;
    /// lines end with `\n`, every line starts from reset attributes.
    Vt,
    /// A `<pre>` element with inline-styled `<span>`s and `<a>` links.
    Html,
}

/// Which part of the history to render (the History request's options).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct RenderOptions {
    /// Keep only the last `lines` lines; 0 keeps all.
    pub lines: u32,
    /// Only the visible screen, no scrollback.
    pub screen_only: bool,
}

/// One output line: rows of one grid, each but the last soft-wrapped into the next.
pub(crate) struct LogicalLine<'a> {
    pub(crate) grid: &'a Grid<Cell>,
    pub(crate) rows: std::ops::Range<i32>,
}

impl LogicalLine<'_> {
    /// The cells of the line, in order, trailing plain blanks dropped.
    pub(crate) fn cells(&self) -> Vec<&Cell> {
        let cols = self.grid.columns();
        let mut cells: Vec<&Cell> = Vec::with_capacity(cols * self.rows.len());
        for line in self.rows.clone() {
            let row = &self.grid[Line(line)];
            cells.extend((0..cols).map(|c| &row[Column(c)]));
        }
        while cells.last().is_some_and(|c| crate::snapshot::is_plain_blank(c) || is_spacer(c)) {
            cells.pop();
        }
        cells
    }
}

/// Whether a cell only holds room for a wide character.
pub(crate) fn is_spacer(cell: &Cell) -> bool {
    cell.flags.intersects(Flags::WIDE_CHAR_SPACER | Flags::LEADING_WIDE_CHAR_SPACER)
}

/// The lines to render, oldest first.
fn lines(model: &TerminalModel, opts: RenderOptions) -> Vec<LogicalLine<'_>> {
    let mut out = Vec::new();
    let active = model.term.grid();
    let screen = active.screen_lines() as i32;
    if opts.screen_only {
        join(&mut out, active, 0, screen);
    } else if model.alt_screen() {
        let primary = model.primary();
        join(&mut out, primary, topmost(primary).0, 0);
        join(&mut out, active, 0, screen);
    } else {
        // The scrollback's last line may wrap into the screen: one range.
        join(&mut out, active, topmost(active).0, screen);
    }
    trim(out, opts)
}

/// Splits rows `from..to` of a grid into logical lines.
fn join<'a>(out: &mut Vec<LogicalLine<'a>>, grid: &'a Grid<Cell>, from: i32, to: i32) {
    let last_col = Column(grid.columns() - 1);
    let mut start = from;
    for line in from..to {
        let wraps = grid[Line(line)][last_col].flags.contains(Flags::WRAPLINE);
        if !wraps || line + 1 == to {
            out.push(LogicalLine { grid, rows: start..line + 1 });
            start = line + 1;
        }
    }
}

/// Drops blank lines at the end, then keeps the last `opts.lines`.
fn trim(mut lines: Vec<LogicalLine<'_>>, opts: RenderOptions) -> Vec<LogicalLine<'_>> {
    while lines.last().is_some_and(|l| l.cells().is_empty()) {
        lines.pop();
    }
    if opts.lines != 0 && lines.len() > opts.lines as usize {
        lines.drain(..lines.len() - opts.lines as usize);
    }
    lines
}

/// Renders a model's history.
pub(crate) fn render(model: &TerminalModel, format: RenderFormat, opts: RenderOptions) -> Vec<u8> {
    let lines = lines(model, opts);
    let mut out = Vec::new();
    match format {
        RenderFormat::Plain => plain::render(&lines, &mut out),
        RenderFormat::Vt => vt::render(&lines, &mut out),
        RenderFormat::Html => html::render(&lines, &mut out),
    }
    out
}
