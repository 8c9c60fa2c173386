//! The daemon's screen: `tsm-pty`'s terminal model, fed with every byte of output. It
//! gives a re-attaching client its screen back, answers the program's terminal queries
//! while no client is attached, and renders History replies.

use tsm_proto::{HistoryFormat, HistoryRequest, Size};
use tsm_pty::{
    DEFAULT_SCROLLBACK_LINES, RenderFormat, RenderOptions, ScreenText, TerminalModel, WindowSize,
};

/// The screen model of the session.
pub(crate) struct Screen {
    model: TerminalModel,
}

impl Screen {
    /// A screen of `size` keeping the default scrollback.
    pub(crate) fn new(size: Size) -> Screen {
        Screen { model: TerminalModel::new(window(size), DEFAULT_SCROLLBACK_LINES) }
    }

    /// Takes program output.
    pub(crate) fn advance(&mut self, bytes: &[u8]) {
        self.model.advance(bytes);
    }

    /// Takes a new size.
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
