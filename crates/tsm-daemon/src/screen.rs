//! The daemon's screen: `tsm-pty`'s terminal model, following the ring. It gives a
//! re-attaching client its screen back, answers the program's terminal queries while no
//! client is attached, and renders History replies.
//!
//! # The model follows the ring
//!
//! Output goes into the ring at once (clients are written from there); the model reads it
//! from the ring when someone needs the screen (an attach, a resync, History, Info, agent
//! detection, a resize), when the session is detached (so queries are answered at once),
//! [`QUIET`] after output stops, and before it would fall [`lag_limit`] behind. So a keystroke's
//! echo reaches the client before the model parses it. During a flood the model looks at
//! large spans, skips the lines that scroll out unseen (`TerminalModel::skip_unseen`) and
//! defers the rest, so it parses the lines that stay only once the flood ends.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use tsm_proto::{HistoryFormat, HistoryRequest, Size};
use tsm_pty::{
    DEFAULT_SCROLLBACK_LINES, RenderFormat, RenderOptions, ScreenText, TerminalModel, WindowSize,
};
use tsm_scrollback::{Offset, Writer};

/// How long after the last output the model catches up on its own. Long enough that a
/// daemon kept off the CPU for a moment during a flood does not take it for a pause (the
/// spans would get short and skip nothing); short enough that an attach after output
/// rarely waits for the model.
pub(crate) const QUIET: Duration = Duration::from_millis(50);

/// The screen model of the session.
pub(crate) struct Screen {
    model: TerminalModel,
    /// The ring offset up to which the model has read.
    seen: Offset,
    /// When the model catches up if nothing needs it sooner.
    due: Option<Instant>,
}

/// How far the model may lag behind the ring's head: far enough for floods to be skipped
/// in large spans, close enough that the ring still holds what the model has not read
/// when the next PTY read arrives.
fn lag_limit(capacity: usize) -> u64 {
    (capacity as u64 / 4) * 3
}

impl Screen {
    /// A screen of `size` keeping the default scrollback.
    pub(crate) fn new(size: Size) -> Screen {
        Screen {
            model: TerminalModel::new(window(size), DEFAULT_SCROLLBACK_LINES),
            seen: Offset(0),
            due: None,
        }
    }

    /// Records program output: into the ring now, into the model now or later.
    pub(crate) fn record(&mut self, ring: &mut Writer, output: &[u8]) {
        let limit = lag_limit(ring.capacity());
        if output.len() as u64 > limit {
            // A ring too small to hold this read for the model: it reads everything before
            // it, then the read itself.
            self.catch_up(ring);
            ring.write(output);
            self.model.advance(output);
            self.seen = ring.head();
            return;
        }
        if self.lag(ring) + output.len() as u64 > limit {
            self.make_room(ring, limit);
        }
        ring.write(output);
    }

    /// Bytes in the ring the model has not read.
    pub(crate) fn lag(&self, ring: &Writer) -> u64 {
        ring.head().get() - self.seen.get()
    }

    /// Makes the model lag less than half the bound: it skips the lines that scroll out
    /// unseen, and parses everything only if that was not enough (output that is not plain
    /// lines). During a flood the lines that stay are so parsed only once it ends.
    fn make_room(&mut self, ring: &Writer, limit: u64) {
        let unread = self.unread(ring);
        let skipped = self.model.skip_unseen(&unread);
        self.seen = Offset(self.seen.get() + skipped as u64);
        if self.lag(ring) > limit / 2 {
            self.catch_up(ring);
        }
    }

    /// Reads what the ring has that the model has not, in one call so a flood's unseen
    /// lines are skipped.
    pub(crate) fn catch_up(&mut self, ring: &Writer) {
        self.due = None;
        let unread = self.unread(ring);
        self.model.advance(&unread);
        self.seen = ring.head();
    }

    /// The output the model has not read, in one piece (joined when it wraps around the
    /// ring's end, once a lap).
    fn unread<'a>(&mut self, ring: &'a Writer) -> Cow<'a, [u8]> {
        let (first, second) = match ring.slices(self.seen, ring.head()) {
            Ok(slices) => slices,
            Err(lagged) => {
                // Unreachable by `record`'s bound; the model can only go on from the tail.
                tracing::warn!(%lagged, "the screen model fell behind the ring");
                self.seen = ring.tail();
                ring.slices(self.seen, ring.head()).unwrap_or_default()
            }
        };
        if second.is_empty() { Cow::Borrowed(first) } else { Cow::Owned([first, second].concat()) }
    }

    /// Asks for a catch-up [`QUIET`] after now, unless output comes first.
    pub(crate) fn catch_up_later(&mut self, now: Instant) {
        self.due = Some(now + QUIET);
    }

    /// When the model catches up on its own, if it has something to read.
    pub(crate) fn due(&self) -> Option<Instant> {
        self.due
    }

    /// Takes a new size. The model must have read everything first (the output so far was
    /// written at the old size).
    pub(crate) fn resize(&mut self, size: Size) {
        self.model.resize(window(size));
    }

    /// Bytes that repaint a fresh terminal of the current size: scrollback first, then the
    /// screen with its modes, cursor and title.
    pub(crate) fn snapshot_into(&self, out: &mut Vec<u8>) {
        self.model.snapshot_into(out);
    }

    /// Answers to terminal queries the program sent since the last call.
    pub(crate) fn take_replies(&mut self) -> Vec<u8> {
        self.model.take_replies()
    }

    /// The visible screen as text, for the agent screen rules.
    pub(crate) fn view(&self) -> ScreenText {
        self.model.screen_text()
    }

    /// Whether the program asked for focus reports.
    pub(crate) fn focus_reporting(&self) -> bool {
        self.model.focus_reporting()
    }

    /// The directory the program last announced (OSC 7).
    pub(crate) fn cwd(&self) -> Option<&str> {
        self.model.cwd()
    }

    /// A History reply. The Go tsm's request (no format) gets the styled visible screen.
    pub(crate) fn history(&self, request: &HistoryRequest) -> Vec<u8> {
        let (format, screen_only) = match request.format {
            HistoryFormat::Preview => (RenderFormat::Vt, true),
            HistoryFormat::Plain => (RenderFormat::Plain, request.screen_only),
            HistoryFormat::Vt => (RenderFormat::Vt, request.screen_only),
            HistoryFormat::Html => (RenderFormat::Html, request.screen_only),
        };
        self.model.render(format, RenderOptions { lines: request.lines, screen_only })
    }
}

fn window(size: Size) -> WindowSize {
    WindowSize { rows: size.rows, cols: size.cols, xpixel: size.xpixel, ypixel: size.ypixel }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The screen following the ring ends where a model fed every read directly does, for
    /// any ring size (even one smaller than a read) and any chunking, and never lags past
    /// the bound.
    #[test]
    fn the_model_following_the_ring_sees_every_byte() {
        for capacity in [16, 1024, 64 * 1024, 1024 * 1024] {
            follow(capacity, 3000);
        }
    }

    /// A flood longer than the ring: the model makes room by skipping the lines that scroll
    /// out unseen, parsing the rest only at the end, and still ends on the same screen.
    #[test]
    fn during_a_flood_the_model_skips_and_defers() {
        let skips = follow(256 * 1024, 30_000);
        assert!(skips > 0, "the model never made room by skipping");
    }

    /// Output deferred by a skip is read before a read too large for the ring overwrites it.
    #[test]
    fn a_read_larger_than_a_small_ring_comes_after_what_was_deferred() {
        let size = Size { rows: 10, cols: 40, xpixel: 0, ypixel: 0 };
        // 60 KB of 6-byte lines: more than the 48 KiB a 64 KiB ring lets the model lag, so it
        // makes room by skipping and leaves about 2000 lines unread.
        let short: Vec<u8> =
            (0..10_000).flat_map(|i| format!("{:04}\r\n", i % 10_000).into_bytes()).collect();
        // Then a read larger than that bound, with too few lines to push those out of the
        // scrollback: they must be read before it overwrites them.
        let large: Vec<u8> =
            (0..100).flat_map(|_| [[b'x'; 490].as_slice(), b"\r\n"].concat()).collect();
        let mut ring = Writer::new(64 * 1024);
        let mut screen = Screen::new(size);
        let mut direct = TerminalModel::new(window(size), DEFAULT_SCROLLBACK_LINES);
        for chunk in short.chunks(1000) {
            screen.record(&mut ring, chunk);
            direct.advance(chunk);
        }
        assert!(screen.lag(&ring) > 0, "the test needs output left unread");
        screen.record(&mut ring, &large);
        direct.advance(&large);
        screen.catch_up(&ring);
        let (mut followed, mut fed) = (Vec::new(), Vec::new());
        screen.snapshot_into(&mut followed);
        direct.snapshot_into(&mut fed);
        assert!(followed == fed, "the screens differ");
    }

    /// Records `lines` coloured lines in reads of varying sizes into a ring of `capacity`
    /// and compares the screen with a model fed directly. Returns how often the model made
    /// room by skipping while leaving output unread.
    fn follow(capacity: usize, lines: usize) -> usize {
        let size = Size { rows: 10, cols: 40, xpixel: 0, ypixel: 0 };
        let text: String =
            (0..lines).map(|i| format!("\x1b[3{}mline {i}\x1b[0m\r\n", i % 8)).collect();
        let mut ring = Writer::new(capacity);
        let mut screen = Screen::new(size);
        let mut direct = TerminalModel::new(window(size), DEFAULT_SCROLLBACK_LINES);
        let (mut rest, mut read, mut skips) = (text.as_bytes(), 1, 0);
        while !rest.is_empty() {
            let (now, later) = rest.split_at(read.min(rest.len()));
            let before = screen.lag(&ring);
            screen.record(&mut ring, now);
            direct.advance(now);
            let after = screen.lag(&ring);
            assert!(after <= lag_limit(capacity), "ring of {capacity}");
            if after < before + now.len() as u64 && after > now.len() as u64 {
                skips += 1;
            }
            rest = later;
            read = (read * 7 + 3) % 5000 + 1;
        }
        screen.catch_up(&ring);
        assert_eq!(screen.lag(&ring), 0);
        let (mut followed, mut fed) = (Vec::new(), Vec::new());
        screen.snapshot_into(&mut followed);
        direct.snapshot_into(&mut fed);
        assert!(followed == fed, "ring of {capacity}: the screens differ");
        skips
    }
}
