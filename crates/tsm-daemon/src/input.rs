//! Which client input counts as the user typing, for the size-leader rule.
//!
//! Terminals send some bytes on their own: focus reports, mouse reports, and answers to
//! the program's queries (device attributes, cursor position, kitty keyboard flags, OSC
//! and DCS replies). Those do not make a client the leader; anything else does (keys,
//! pastes, modified keys in CSI u or `~` form).

/// Whether `bytes` contain anything a user typed, as opposed to what a terminal sends
/// by itself.
pub(crate) fn is_user_input(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != 0x1b {
            return true;
        }
        match bytes.get(i + 1) {
            Some(b'[') => match csi_len(&bytes[i + 2..]) {
                Some((len, automatic)) => {
                    if !automatic {
                        return true;
                    }
                    i += 2 + len;
                }
                None => return true,
            },
            Some(b']' | b'P' | b'_') => match string_len(&bytes[i + 2..]) {
                Some(len) => i += 2 + len,
                None => return false, // an unfinished reply
            },
            // A lone ESC or an Alt-modified key.
            _ => return true,
        }
    }
    false
}

/// Length of the CSI sequence at the start of `rest` (after `ESC [`) and whether it is one
/// a terminal sends by itself. `None` if it is not a complete sequence.
fn csi_len(rest: &[u8]) -> Option<(usize, bool)> {
    // X10 mouse report: `ESC [ M` and three raw bytes.
    if rest.first() == Some(&b'M') {
        return (rest.len() >= 4).then_some((4, true));
    }
    let end = rest.iter().position(|b| (0x40..=0x7e).contains(b))?;
    let params = &rest[..end];
    let automatic = match rest[end] {
        b'I' | b'O' => params.is_empty(),             // focus in / out
        b'M' | b'm' => params.first() == Some(&b'<'), // SGR mouse
        b'c' => matches!(params.first(), Some(b'?' | b'>')), // DA1 / DA2 replies
        b'R' => params.contains(&b';') && !params.starts_with(b"1;"), // cursor position
        b'u' => params.first() == Some(&b'?'),        // kitty flags reply
        b'y' => params.ends_with(b"$"),               // DECRPM
        _ => false,
    };
    Some((end + 1, automatic))
}

/// Length of an OSC/DCS/APC string after its introducer, through its terminator (BEL or
/// `ESC \`).
fn string_len(rest: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            0x07 => return Some(i + 1),
            0x1b if rest.get(i + 1) == Some(&b'\\') => return Some(i + 2),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::is_user_input;

    #[test]
    fn keys_and_pastes_are_user_input() {
        for bytes in [
            &b"a"[..],
            b"\r",
            b"\x7f",
            b"\x1b[A",
            b"\x1b[97;5u",
            b"\x1b[15~",
            b"\x1bx",
            b"\x1b",
            b"\x1b[200~hi\x1b[201~",
        ] {
            assert!(is_user_input(bytes), "{bytes:?}");
        }
    }

    #[test]
    fn terminal_reports_are_not() {
        for bytes in [
            &b"\x1b[I"[..],
            b"\x1b[O",
            b"\x1b[<0;10;5M\x1b[<0;10;5m",
            b"\x1b[M !!",
            b"\x1b[?62;22c",
            b"\x1b[>1;10;0c",
            b"\x1b[12;40R",
            b"\x1b[?1u",
            b"\x1b]11;rgb:0000/0000/0000\x07",
            b"\x1bP1$r0m\x1b\\",
            b"\x1b[?2004;1$y",
            b"",
        ] {
            assert!(!is_user_input(bytes), "{bytes:?}");
        }
    }

    #[test]
    fn a_key_after_a_report_is_user_input() {
        assert!(is_user_input(b"\x1b[I\x1b[Ax"));
    }
}
