//! Stripping escape sequences from a session's output, for `tail` and `run` (spec/cli.md:
//! "ANSI stripped unless --vt"). Stateful, so sequences split across reads are removed too.

/// Where the stripper is inside an escape sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// Plain text.
    #[default]
    Text,
    /// After ESC.
    Escape,
    /// Inside `ESC [`, until a final byte.
    Csi,
    /// Inside an OSC, DCS, APC, PM or SOS string, until BEL or `ESC \`.
    String,
    /// After ESC inside a string (maybe the start of `ESC \`).
    StringEscape,
    /// After `ESC (`, `ESC )` and the like: one more byte belongs to the sequence.
    Charset,
}

/// Removes escape sequences and control characters other than newline and tab; carriage
/// returns are dropped so `\r\n` becomes `\n`.
#[derive(Debug, Default)]
pub(crate) struct AnsiStripper {
    state: State,
}

impl AnsiStripper {
    /// A stripper in plain-text state.
    pub(crate) fn new() -> AnsiStripper {
        AnsiStripper::default()
    }

    /// Appends the text of `chunk` to `out`.
    pub(crate) fn strip(&mut self, chunk: &[u8], out: &mut Vec<u8>) {
        for &byte in chunk {
            self.state = match (self.state, byte) {
                (State::Text, 0x1b) => State::Escape,
                (State::Text, b'\n' | b'\t') => {
                    out.push(byte);
                    State::Text
                }
                (State::Text, 0..=0x1f | 0x7f) => State::Text,
                (State::Text, _) => {
                    out.push(byte);
                    State::Text
                }
                (State::Escape, b'[') => State::Csi,
                (State::Escape, b']' | b'P' | b'_' | b'^' | b'X') => State::String,
                (State::Escape, b'(' | b')' | b'*' | b'+' | b'#' | b'%' | b' ') => State::Charset,
                (State::Escape, _) => State::Text,
                (State::Csi, 0x40..=0x7e) => State::Text,
                (State::Csi, _) => State::Csi,
                (State::String, 0x07) => State::Text,
                (State::String, 0x1b) => State::StringEscape,
                (State::String, _) => State::String,
                (State::StringEscape, b'\\') => State::Text,
                (State::StringEscape, _) => State::String,
                (State::Charset, _) => State::Text,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::AnsiStripper;

    fn strip_in_pieces(input: &[u8], piece: usize) -> String {
        let mut stripper = AnsiStripper::new();
        let mut out = Vec::new();
        for chunk in input.chunks(piece) {
            stripper.strip(chunk, &mut out);
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn removes_sequences_however_they_are_split() {
        let input = "\x1b[1;31mred\x1b[0m plain\r\n\x1b]0;title\x07next\x1b]8;;http://x\x1b\\link\x1b(0q\x1b(B \u{e9}\tend\n";
        for piece in 1..input.len() {
            assert_eq!(
                strip_in_pieces(input.as_bytes(), piece),
                "red plain\nnextlinkq \u{e9}\tend\n"
            );
        }
    }
}
