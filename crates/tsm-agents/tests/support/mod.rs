//! What the screen and session tests share.

use tsm_agents::ScreenView;
use tsm_pty::ScreenText;

/// The model's screen as the screen rules read it (the daemon maps it the same way).
pub(crate) fn view(text: &ScreenText) -> ScreenView<'_> {
    ScreenView {
        rows: &text.rows,
        wrapped: &text.wrapped,
        cursor_row: text.cursor_row,
        cursor_col: text.cursor_col,
        cols: text.cols,
        alt_screen: text.alt_screen,
        title: text.title.as_deref(),
    }
}
