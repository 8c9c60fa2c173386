//! VT: the characters with SGR attributes and OSC 8 hyperlinks.

use alacritty_terminal::term::cell::Cell;

use super::{LogicalLine, is_spacer};
use crate::snapshot::{Pen, Writer};

/// Appends each line with its attributes, reset at the end of the line, and a `\n`.
pub(super) fn render(lines: &[LogicalLine<'_>], out: &mut Vec<u8>) {
    let mut w = Writer::new(out);
    for line in lines {
        for cell in line.cells() {
            if !is_spacer(cell) {
                w.print_cell(cell);
            }
        }
        if w.pen != Pen::default() {
            w.set_pen(&Cell::default());
        }
        w.out.push(b'\n');
    }
}
