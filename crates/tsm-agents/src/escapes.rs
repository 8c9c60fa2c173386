//! Escape side channels in the raw PTY bytes (§4.1 layer 2): window titles, notification
//! escapes (OSC 9, OSC 777, OSC 99), BEL outside an OSC, and the focus-report mode.
//!
//! A [`vte`] parser keeps its state across chunks, so a title or notification split over
//! several reads is seen once, whole. `OSC 9 ; 4 ; …` is a progress report, not a
//! notification.

use vte::{Params, Parser, Perform};

/// Something the side channels said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscapeEvent {
    /// The program set the window title (OSC 0 or 2).
    Title(String),
    /// A desktop notification (OSC 9, 777 or 99), with its text when it has one.
    Notification(String),
    /// A bell outside any escape sequence.
    Bell,
    /// Focus reporting turned on (`CSI ? 1004 h`) or off (`CSI ? 1004 l`).
    FocusReporting(bool),
}

/// Reads escape side channels from a byte stream, chunk by chunk.
pub struct EscapeScanner {
    parser: Parser,
    collector: Collector,
}

impl Default for EscapeScanner {
    fn default() -> Self {
        EscapeScanner::new()
    }
}

impl EscapeScanner {
    /// A scanner at the start of a stream.
    pub fn new() -> EscapeScanner {
        EscapeScanner { parser: Parser::new(), collector: Collector::default() }
    }

    /// Takes the next chunk of output and returns what it said, in order.
    pub fn scan(&mut self, chunk: &[u8]) -> Vec<EscapeEvent> {
        self.parser.advance(&mut self.collector, chunk);
        std::mem::take(&mut self.collector.events)
    }
}

#[derive(Default)]
struct Collector {
    events: Vec<EscapeEvent>,
}

impl Perform for Collector {
    fn execute(&mut self, byte: u8) {
        if byte == 0x07 {
            self.events.push(EscapeEvent::Bell);
        }
    }

    fn osc_dispatch(&mut self, params: &[&[u8]], _bell_terminated: bool) {
        let Some(code) = params.first() else { return };
        let text = |from: usize| {
            params
                .get(from..)
                .unwrap_or_default()
                .iter()
                .map(|p| String::from_utf8_lossy(p))
                .collect::<Vec<_>>()
                .join(";")
        };
        match *code {
            b"0" | b"2" => self.events.push(EscapeEvent::Title(text(1))),
            // OSC 9 ; 4 ; state ; progress is ConEmu's progress bar.
            b"9" if params.get(1).is_some_and(|p| *p == b"4") => {}
            b"9" => self.events.push(EscapeEvent::Notification(text(1))),
            // OSC 777 ; notify ; title ; body
            b"777" if params.get(1).is_some_and(|p| *p == b"notify") => {
                self.events.push(EscapeEvent::Notification(text(2)));
            }
            // OSC 99 ; metadata ; payload (kitty)
            b"99" => self.events.push(EscapeEvent::Notification(text(2))),
            _ => {}
        }
    }

    fn csi_dispatch(&mut self, params: &Params, intermediates: &[u8], ignore: bool, action: char) {
        if ignore || intermediates != b"?" || !matches!(action, 'h' | 'l') {
            return;
        }
        if params.iter().any(|p| p.first() == Some(&1004)) {
            self.events.push(EscapeEvent::FocusReporting(action == 'h'));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(chunks: &[&[u8]]) -> Vec<EscapeEvent> {
        let mut scanner = EscapeScanner::new();
        chunks.iter().flat_map(|c| scanner.scan(c)).collect()
    }

    #[test]
    fn title_split_across_reads_is_seen_once() {
        let events = scan_all(&[b"hello \x1b]0;\xe2\xa0", b"\x8b Claude", b" Code\x07 more"]);
        assert_eq!(events, vec![EscapeEvent::Title("\u{280b} Claude Code".into())]);
    }

    #[test]
    fn notifications_with_bel_and_st_terminators() {
        let events = scan_all(&[
            b"\x1b]9;Task done\x07",
            b"\x1b]777;notify;Codex;Approval requested\x1b\\",
            b"\x1b]99;i=1;Finished\x1b\\",
        ]);
        assert_eq!(
            events,
            vec![
                EscapeEvent::Notification("Task done".into()),
                EscapeEvent::Notification("Codex;Approval requested".into()),
                EscapeEvent::Notification("Finished".into()),
            ]
        );
    }

    #[test]
    fn progress_is_not_a_notification_and_osc_bel_is_not_a_bell() {
        assert!(
            scan_all(&[b"\x1b]9;4;1;50\x07", b"\x1b]2;title\x07"])
                .iter()
                .all(|e| matches!(e, EscapeEvent::Title(_)))
        );
    }

    #[test]
    fn a_bell_outside_an_escape_is_a_bell() {
        assert_eq!(scan_all(&[b"ding\x07"]), vec![EscapeEvent::Bell]);
    }

    #[test]
    fn focus_mode_on_and_off() {
        let events = scan_all(&[b"\x1b[?1004h", b"\x1b[?25l\x1b[?1004l"]);
        assert_eq!(
            events,
            vec![EscapeEvent::FocusReporting(true), EscapeEvent::FocusReporting(false)]
        );
    }

    #[test]
    fn every_split_gives_the_same_events() {
        let stream: &[u8] =
            b"a\x1b]0;\xe2\xa0\x8b busy\x07b\x07\x1b]9;done\x1b\\\x1b[?1004h\x1b]9;4;1;2\x07";
        let whole = scan_all(&[stream]);
        assert_eq!(whole.len(), 4);
        for cut in 0..stream.len() {
            assert_eq!(scan_all(&[&stream[..cut], &stream[cut..]]), whole, "cut at {cut}");
        }
    }
}
