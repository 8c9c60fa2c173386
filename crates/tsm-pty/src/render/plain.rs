//! Plain text: the characters, no attributes.

use super::{LogicalLine, is_spacer};

/// Appends each line's text and a `\n`.
pub(super) fn render(lines: &[LogicalLine<'_>], out: &mut Vec<u8>) {
    let mut text = String::new();
    for line in lines {
        text.clear();
        for cell in line.cells() {
            if is_spacer(cell) {
                continue;
            }
            text.push(if cell.c == '\t' { ' ' } else { cell.c });
            if let Some(zerowidth) = cell.zerowidth() {
                text.extend(zerowidth);
            }
        }
        out.extend_from_slice(text.trim_end_matches(' ').as_bytes());
        out.push(b'\n');
    }
}
