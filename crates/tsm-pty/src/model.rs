//! [`TerminalModel`]: the screen of a session, kept by an emulator fed with every PTY byte.

use std::time::Duration;

use alacritty_terminal::Term;
use alacritty_terminal::event::VoidListener;
use alacritty_terminal::grid::{Dimensions, Grid};
use alacritty_terminal::index::{Column, Line};
use alacritty_terminal::term::cell::{Cell, Flags};
use alacritty_terminal::term::{Config, TermMode};
use alacritty_terminal::vte::ansi::{Processor, Timeout};

use crate::WindowSize;
use crate::render::{RenderFormat, RenderOptions};
use crate::tail::StreamTail;
use crate::tracker::{ModelHandler, Tracker, primary_grid};
use crate::unseen;

/// Scrollback lines a model keeps unless told otherwise: tmux's and zmx's default.
pub const DEFAULT_SCROLLBACK_LINES: usize = 2000;

/// The screen of a terminal: an emulator fed with every byte a program writes, that can
/// serialize itself for a fresh terminal, answer the program's queries and render its
/// history.
///
/// It is `alacritty_terminal`'s `Term` (parsed by `vte`) plus a tracker for what the
/// emulator keeps private; see the [crate docs](crate#the-terminal-model) for what is
/// restored and what is not.
///
/// ```
/// use tsm_pty::{TerminalModel, WindowSize};
///
/// let mut model = TerminalModel::new(WindowSize::new(24, 80), 2000);
/// model.advance(b"\x1b]2;build\x07\x1b[1;31mred\x1b[0m and plain\r\n$ ");
/// assert_eq!(model.title(), Some("build"));
/// assert_eq!(model.screen_rows()[0], "red and plain");
///
/// // A fresh terminal of the same size fed with the snapshot shows the same screen.
/// let mut snapshot = Vec::new();
/// model.snapshot_into(&mut snapshot);
/// let mut copy = TerminalModel::new(model.size(), 2000);
/// copy.advance(&snapshot);
/// assert_eq!(copy.screen_rows(), model.screen_rows());
/// ```
pub struct TerminalModel {
    /// The emulator. While the alternate screen is active its primary grid is a stand-in;
    /// the real one is in `tracker.primary`.
    pub(crate) term: Term<VoidListener>,
    /// vte's parser; keeps its state between chunks, so any chunking gives the same screen.
    parser: Processor<NoSync>,
    /// What the emulator keeps private.
    pub(crate) tracker: Tracker,
    /// Answers to the program's queries, not yet taken.
    replies: Vec<u8>,
    /// The unfinished end of the stream, replayed at the end of a snapshot.
    pub(crate) tail: StreamTail,
    /// The size as the daemon set it (the emulator is never narrower than 2 columns).
    size: WindowSize,
}

impl std::fmt::Debug for TerminalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TerminalModel")
            .field("size", &self.size)
            .field("alt_screen", &self.alt_screen())
            .field("title", &self.tracker.title)
            .field("cwd", &self.tracker.cwd)
            .finish_non_exhaustive()
    }
}

/// vte's synchronized-update timer, switched off.
///
/// With the standard timer vte holds back everything after `CSI ? 2026 h` until `CSI ? 2026 l`
/// (or a timeout). A snapshot taken meanwhile would miss those bytes while the live stream
/// resumes after them, so the client would never see them. With this one vte applies every
/// byte at once: the model is always the screen after all bytes advanced so far.
#[derive(Debug, Default)]
pub(crate) struct NoSync;

impl Timeout for NoSync {
    fn set_timeout(&mut self, _duration: Duration) {}

    fn clear_timeout(&mut self) {}

    fn pending_timeout(&self) -> bool {
        false
    }
}

/// The emulator's dimensions for a window size: at least 1 line and 2 columns (a wide
/// character needs 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TermDims {
    lines: usize,
    cols: usize,
}

impl TermDims {
    fn of(size: WindowSize) -> Self {
        TermDims { lines: usize::from(size.rows.max(1)), cols: usize::from(size.cols.max(2)) }
    }
}

impl Dimensions for TermDims {
    fn total_lines(&self) -> usize {
        self.lines
    }

    fn screen_lines(&self) -> usize {
        self.lines
    }

    fn columns(&self) -> usize {
        self.cols
    }
}

impl TerminalModel {
    /// A blank screen of `size` keeping up to `scrollback_lines` lines of scrollback.
    ///
    /// Kitty keyboard tracking is on. Sizes below 1 row or 2 columns are raised to that
    /// (alacritty's minimum) inside the emulator; [`size`](Self::size) still reports `size`.
    pub fn new(size: WindowSize, scrollback_lines: usize) -> TerminalModel {
        let config = Config {
            scrolling_history: scrollback_lines,
            kitty_keyboard: true,
            ..Config::default()
        };
        let dims = TermDims::of(size);
        TerminalModel {
            term: Term::new(config, &dims, VoidListener),
            parser: Processor::new(),
            tracker: Tracker::new(dims.lines, scrollback_lines),
            replies: Vec::new(),
            tail: StreamTail::default(),
            size,
        }
    }

    /// Feeds bytes the program wrote, in any chunking: an escape sequence split across two
    /// calls is parsed as if it came in one.
    ///
    /// Given a long run of plain lines at once (a flood, caught up in one call), the model
    /// skips the per-cell work for the lines that would scroll out of its scrollback before
    /// the run ends, applying only their colour changes (see
    /// [`skip_unseen`](Self::skip_unseen)); smaller calls parse everything.
    pub fn advance(&mut self, bytes: &[u8]) {
        let skipped = self.skip_unseen(bytes);
        self.parse(&bytes[skipped..]);
    }

    /// Takes the front of `bytes` that would scroll out of the scrollback unseen if all of
    /// `bytes` were advanced, applying only its colour changes, and returns its length: 0
    /// unless `bytes` is a long run of plain lines.
    ///
    /// The rest of `bytes` must be [advanced](Self::advance) next, at once or later with
    /// more output after it (which may be skipped again); the screen is the one all the
    /// bytes make once it is. The result is the same screen, scrollback and state as parsing
    /// every byte (`unseen.rs` says why). A caller that keeps output in a buffer can so keep
    /// up with a flood while parsing only the lines that stay.
    ///
    /// ```
    /// use tsm_pty::{TerminalModel, WindowSize};
    ///
    /// let flood: Vec<u8> = (0..5000).flat_map(|i| format!("line {i}\r\n").into_bytes()).collect();
    /// let mut model = TerminalModel::new(WindowSize::new(24, 80), 100);
    /// let skipped = model.skip_unseen(&flood);
    /// assert!(skipped > flood.len() / 2);
    /// model.advance(&flood[skipped..]);
    /// assert_eq!(model.screen_rows()[22], "line 4999");
    /// assert_eq!(model.scrollback_len(), 100);
    /// ```
    pub fn skip_unseen(&mut self, bytes: &[u8]) -> usize {
        if !self.may_skip() {
            return 0;
        }
        let skip = self.unseen_prefix(bytes);
        let mut handler = ModelHandler {
            term: &mut self.term,
            tracker: &mut self.tracker,
            replies: &mut self.replies,
        };
        for sgr in unseen::attribute_changes(&bytes[..skip]) {
            self.parser.advance(&mut handler, sgr);
        }
        skip
    }

    /// Parses every byte.
    fn parse(&mut self, bytes: &[u8]) {
        let tracker = &mut self.tracker;
        let mut osc7 = std::mem::take(&mut tracker.osc7);
        osc7.scan(bytes, |payload| tracker.set_cwd(payload));
        tracker.osc7 = osc7;
        // An incomplete UTF-8 character held back from the last chunk goes first (see tail.rs).
        let held = self.tail.take_held();
        let combined;
        let bytes = if held.is_empty() {
            bytes
        } else {
            combined = [held.as_slice(), bytes].concat();
            combined.as_slice()
        };
        let hold = self.tail.feed(bytes);
        let mut handler = ModelHandler {
            term: &mut self.term,
            tracker: &mut self.tracker,
            replies: &mut self.replies,
        };
        self.parser.advance(&mut handler, &bytes[..bytes.len() - hold]);
    }

    /// Whether the next bytes may start with a skip (`unseen.rs`): the stream is between
    /// sequences with nothing held back, and the scroll region is the whole screen.
    pub(crate) fn may_skip(&self) -> bool {
        self.tail.is_clean() && self.tracker.full_region(self.term.screen_lines())
    }

    /// How many of `bytes`, the next bytes vte parses, only need their SGRs applied.
    pub(crate) fn unseen_prefix(&self, bytes: &[u8]) -> usize {
        unseen::skippable_prefix(bytes, self.term.screen_lines(), self.tracker.scrollback_limit)
    }

    /// Resizes the screen, the way a terminal does (alacritty reflows the primary screen and
    /// its scrollback when the width changes; the scroll region is reset).
    pub fn resize(&mut self, size: WindowSize) {
        self.size = size;
        let dims = TermDims::of(size);
        let TermDims { lines, cols } = dims;
        if lines == self.term.screen_lines() && cols == self.term.columns() {
            return;
        }
        self.term.resize(dims);
        if let Some(primary) = self.tracker.primary.as_mut() {
            // What Term::resize does to its inactive grid under the alternate screen.
            primary.resize::<alacritty_terminal::vte::ansi::Color>(true, lines, cols);
        }
        self.tracker.scroll_top = 0;
        self.tracker.scroll_bottom = lines;
    }

    /// The size last set by [`new`](Self::new) or [`resize`](Self::resize).
    pub fn size(&self) -> WindowSize {
        self.size
    }

    /// Takes the answers to the program's terminal queries found in the bytes advanced so far.
    ///
    /// The model answers DA1 (`CSI c`: [`DA1_REPLY`](crate::DA1_REPLY)), DA2 (`CSI > c`:
    /// [`DA2_REPLY`](crate::DA2_REPLY)), DSR 5 (`CSI 0 n`), DSR 6 (the cursor, 1-based,
    /// relative to the scroll region in origin mode), the kitty keyboard query (`CSI ? u`,
    /// with the current flags), DECRQM (`CSI ? n $ p`, `CSI n $ p`), modifyOtherKeys
    /// (`CSI ? 4 m`) and the text area size in cells (`CSI 18 t`). The daemon writes them to
    /// the PTY only while no client is attached (a client's own terminal answers otherwise).
    pub fn take_replies(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.replies)
    }

    /// The window title from the last OSC 0 or OSC 2, if any.
    pub fn title(&self) -> Option<&str> {
        self.tracker.title.as_deref()
    }

    /// The working directory from the last OSC 7 (`file://host/path`): the path,
    /// percent-decoded.
    pub fn cwd(&self) -> Option<&str> {
        self.tracker.cwd.as_deref()
    }

    /// Whether the alternate screen is active (a full-screen program is running).
    pub fn alt_screen(&self) -> bool {
        self.term.mode().contains(TermMode::ALT_SCREEN)
    }

    /// Whether the program asked for focus reports (`CSI ? 1004 h`).
    pub fn focus_reporting(&self) -> bool {
        self.term.mode().contains(TermMode::FOCUS_IN_OUT)
    }

    /// Lines of scrollback the primary screen holds now.
    pub fn scrollback_len(&self) -> usize {
        self.primary().history_size()
    }

    /// The visible rows (alternate screen if active) as text, trailing blanks trimmed.
    ///
    /// Wide characters appear once, combining marks after their base character.
    pub fn screen_rows(&self) -> Vec<String> {
        let grid = self.term.grid();
        (0..grid.screen_lines()).map(|line| row_text(grid, Line(line as i32))).collect()
    }

    /// The visible screen as agent screen rules read it: the rows of
    /// [`screen_rows`](Self::screen_rows), which of them soft-wrap onto the next, the cursor,
    /// the width, the alternate screen and the title.
    ///
    /// ```
    /// use tsm_pty::{TerminalModel, WindowSize};
    ///
    /// let mut model = TerminalModel::new(WindowSize::new(4, 10), 0);
    /// model.advance(b"0123456789abc\r\n$ ");
    /// let text = model.screen_text();
    /// assert_eq!(text.rows[..3], ["0123456789", "abc", "$"]);
    /// assert_eq!(text.wrapped[..3], [true, false, false]);
    /// assert_eq!((text.cursor_row, text.cursor_col), (2, 2));
    /// ```
    pub fn screen_text(&self) -> ScreenText {
        let grid = self.term.grid();
        let last = Column(grid.columns() - 1);
        let lines = 0..grid.screen_lines() as i32;
        let point = grid.cursor.point;
        ScreenText {
            rows: lines.clone().map(|line| row_text(grid, Line(line))).collect(),
            wrapped: lines
                .map(|line| grid[Line(line)][last].flags.contains(Flags::WRAPLINE))
                .collect(),
            cursor_row: u16::try_from(point.line.0.max(0)).unwrap_or(u16::MAX),
            cursor_col: u16::try_from(point.column.0).unwrap_or(u16::MAX),
            cols: u16::try_from(grid.columns()).unwrap_or(u16::MAX),
            alt_screen: self.alt_screen(),
            title: self.tracker.title.clone(),
        }
    }

    /// Renders the history (scrollback and screen) or part of it, as plain text, VT or HTML.
    ///
    /// See [`RenderOptions`] for what is included.
    pub fn render(&self, format: RenderFormat, opts: RenderOptions) -> Vec<u8> {
        crate::render::render(self, format, opts)
    }

    /// The primary grid, wherever it is now.
    pub(crate) fn primary(&self) -> &Grid<Cell> {
        primary_grid(&self.term, &self.tracker)
    }
}

/// The visible screen as text, for agent screen rules ([`TerminalModel::screen_text`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenText {
    /// The visible rows (alternate screen if active), top to bottom, trailing blanks trimmed,
    /// a wide character once.
    pub rows: Vec<String>,
    /// `wrapped[i]`: row `i` continues on row `i + 1` (a soft wrap, not a line break).
    pub wrapped: Vec<bool>,
    /// The cursor's row, 0-based from the top of the screen.
    pub cursor_row: u16,
    /// The cursor's column, 0-based.
    pub cursor_col: u16,
    /// The emulator's width in cells (at least 2).
    pub cols: u16,
    /// Whether the alternate screen is active.
    pub alt_screen: bool,
    /// The window title from the last OSC 0 or OSC 2, if any.
    pub title: Option<String>,
}

/// The text of one row, trailing blanks trimmed.
pub(crate) fn row_text(grid: &Grid<Cell>, line: Line) -> String {
    let row = &grid[line];
    let mut text = String::with_capacity(grid.columns());
    for col in 0..grid.columns() {
        let cell = &row[Column(col)];
        if cell.flags.intersects(Flags::WIDE_CHAR_SPACER | Flags::LEADING_WIDE_CHAR_SPACER) {
            continue;
        }
        text.push(if cell.c == '\t' { ' ' } else { cell.c });
        if let Some(zw) = cell.zerowidth() {
            text.extend(zw);
        }
    }
    let trimmed = text.trim_end_matches(' ').len();
    text.truncate(trimmed);
    text
}

#[cfg(test)]
mod tests {
    //! The model against plain alacritty: taking the primary grid out under the alternate
    //! screen (tracker.rs) must not change what the screen becomes.

    use alacritty_terminal::vte::ansi::StdSyncHandler;
    use proptest::prelude::*;

    use super::*;

    #[derive(Clone, Debug)]
    enum Step {
        Bytes(String),
        Resize(u16, u16),
    }

    fn step() -> impl Strategy<Value = Step> {
        let piece = prop_oneof![
            "[a-z ]{1,30}",
            Just("世界".to_owned()),
            Just("\r\n".to_owned()),
            Just("\x1b[?1049h".to_owned()),
            Just("\x1b[?1049l".to_owned()),
            Just("\x1b[2J".to_owned()),
            Just("\x1b[31;44m".to_owned()),
            Just("\x1b7".to_owned()),
            Just("\x1b8".to_owned()),
            (1u8..8, 1u8..20).prop_map(|(r, c)| format!("\x1b[{r};{c}H")),
        ];
        prop_oneof![
            6 => proptest::collection::vec(piece, 1..20).prop_map(|v| Step::Bytes(v.concat())),
            1 => (2u16..10, 2u16..25).prop_map(|(r, c)| Step::Resize(r, c)),
        ]
    }

    struct Dims(usize, usize);

    impl Dimensions for Dims {
        fn total_lines(&self) -> usize {
            self.0
        }

        fn screen_lines(&self) -> usize {
            self.0
        }

        fn columns(&self) -> usize {
            self.1
        }
    }

    proptest! {
        #[test]
        fn the_screen_is_what_plain_alacritty_makes_of_the_same_bytes(
            steps in proptest::collection::vec(step(), 1..10),
        ) {
            let mut model = TerminalModel::new(WindowSize::new(6, 20), 30);
            let config = Config { scrolling_history: 30, kitty_keyboard: true, ..Config::default() };
            let mut plain = Term::new(config, &Dims(6, 20), VoidListener);
            let mut parser: Processor<StdSyncHandler> = Processor::new();
            for step in steps.iter().chain([&Step::Bytes("\x1b[?1049l".to_owned())]) {
                match step {
                    Step::Bytes(s) => {
                        model.advance(s.as_bytes());
                        parser.advance(&mut plain, s.as_bytes());
                    }
                    Step::Resize(r, c) => {
                        model.resize(WindowSize::new(*r, *c));
                        plain.resize(Dims(*r as usize, *c as usize));
                    }
                }
            }
            let (a, b) = (model.term.grid(), plain.grid());
            prop_assert_eq!(a.history_size(), b.history_size());
            prop_assert_eq!(&a.cursor, &b.cursor);
            for line in -(a.history_size() as i32)..a.screen_lines() as i32 {
                prop_assert_eq!(row_text(a, Line(line)), row_text(b, Line(line)), "line {}", line);
            }
        }
    }
}
