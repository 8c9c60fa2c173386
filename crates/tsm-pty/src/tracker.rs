//! What the emulator keeps private, and the handler that records it.
//!
//! `alacritty_terminal`'s [`Term`] keeps some state in private fields (the scroll region, the
//! active charset, the title and its stack, the kitty keyboard stacks) and ignores a few
//! sequences we must restore (modes 47/1047/1048, the X10 and urxvt mouse encodings,
//! modifyOtherKeys, OSC 7). Rather than scanning the bytes a second time, [`ModelHandler`]
//! sits between vte's parser and the `Term`: every parsed action goes to the `Term` as it
//! would without us, and the few that change private state are mirrored in the [`Tracker`]
//! on the way. The only byte scan left is [`Osc7Scanner`], because vte drops OSC 7 before
//! any handler sees it.
//!
//! The handler also answers the terminal's queries itself (DA1, DA2, DSR, the kitty
//! keyboard query, DECRQM, the text area size), into the model's reply buffer, so the
//! `Term` runs with alacritty's `VoidListener` and stays `Send`.

use std::mem;
use std::sync::LazyLock;

use alacritty_terminal::Term;
use alacritty_terminal::event::VoidListener;
use alacritty_terminal::grid::{Dimensions, Grid};
use alacritty_terminal::index::Line;
use alacritty_terminal::term::TermMode;
use alacritty_terminal::term::cell::Cell;
use alacritty_terminal::vte::ansi::{
    Attr, CharsetIndex, ClearMode, CursorShape, CursorStyle, Handler, Hyperlink, KeyboardModes,
    KeyboardModesApplyBehavior, LineClearMode, Mode, ModifyOtherKeys, NamedMode, NamedPrivateMode,
    PrivateMode, Rgb, ScpCharPath, ScpUpdateMode, StandardCharset, TabulationClearMode,
};
use memchr::memmem;

/// Primary device attributes we answer: a VT220 (62) with ANSI colour (22).
///
/// xterm answers `62;...` for its VT220 personality; programs only look for the leading
/// class and for 4 (sixel), which we do not claim.
pub const DA1_REPLY: &[u8] = b"\x1b[?62;22c";

/// Secondary device attributes we answer: terminal type 1 (VT220), version 10, no ROM cartridge.
///
/// Not xterm's 41 (vim would then probe xterm-only features) and not tmux's 84 or screen's 83
/// (programs special-case those).
pub const DA2_REPLY: &[u8] = b"\x1b[>1;10;0c";

/// Depth at which kitty keyboard pushes are dropped.
///
/// alacritty_terminal 0.26 trims its *title* stack (not the keyboard stack) when the keyboard
/// stack reaches 4096 entries, which panics when the title stack is empty; refusing pushes
/// before that depth keeps hostile output from panicking the daemon. The kitty spec lets a
/// terminal bound the stack.
const KITTY_STACK_MAX_DEPTH: usize = 4095;

/// Depth of the title stack (XTWINOPS 22/23), alacritty's own limit.
const TITLE_STACK_MAX_DEPTH: usize = 4096;

/// Longest OSC 7 payload kept; longer ones are ignored (PATH_MAX plus a host name).
const OSC7_MAX_LEN: usize = 4096 + 256;

/// State the emulator keeps private or does not keep at all, mirrored from the parsed stream.
#[derive(Debug)]
pub(crate) struct Tracker {
    /// The scroll region as alacritty holds it: rows `top..bottom` of the screen, 0-based,
    /// `bottom` exclusive. Full screen unless DECSTBM said otherwise.
    pub(crate) scroll_top: usize,
    /// Exclusive end of the scroll region.
    pub(crate) scroll_bottom: usize,
    /// The charset invoked into GL (SI/SO); the designations live in the grid's cursor.
    pub(crate) active_charset: CharsetIndex,
    /// Window title from OSC 0/2, `None` until set (or after RIS).
    pub(crate) title: Option<String>,
    /// XTWINOPS 22 pushes.
    title_stack: Vec<Option<String>>,
    /// Kitty keyboard flag stack of the active screen (alacritty keeps one per screen).
    pub(crate) kitty_stack: Vec<KeyboardModes>,
    /// Kitty keyboard flag stack of the inactive screen.
    pub(crate) kitty_stack_inactive: Vec<KeyboardModes>,
    /// Extra private modes alacritty ignores but programs set: X10 mouse (9), urxvt mouse
    /// encoding (1015), SGR pixel mouse (1016).
    pub(crate) mouse_x10: bool,
    /// DECSET 1015.
    pub(crate) mouse_urxvt: bool,
    /// DECSET 1016.
    pub(crate) mouse_sgr_pixels: bool,
    /// xterm modifyOtherKeys level (`CSI > 4 ; n m`): 0, 1 or 2.
    pub(crate) modify_other_keys: u8,
    /// Whether the program chose a cursor style (DECSCUSR other than 0, DECSET 12, OSC 50);
    /// otherwise the snapshot leaves the user's own cursor style alone.
    pub(crate) cursor_style_set: bool,
    /// The last OSC 7 payload, verbatim (`file://host/path`).
    pub(crate) cwd_url: Option<String>,
    /// The path of `cwd_url`, percent-decoded.
    pub(crate) cwd: Option<String>,
    /// The primary grid while the alternate screen is active (see [`ModelHandler`]).
    pub(crate) primary: Option<Box<Grid<Cell>>>,
    /// Finds OSC 7 in the raw bytes.
    pub(crate) osc7: Osc7Scanner,
    /// Scrollback limit of the primary grid, in lines.
    pub(crate) scrollback_limit: usize,
}

impl Tracker {
    /// The state of a fresh terminal with `lines` rows.
    pub(crate) fn new(lines: usize, scrollback_limit: usize) -> Self {
        Self {
            scroll_top: 0,
            scroll_bottom: lines,
            active_charset: CharsetIndex::G0,
            title: None,
            title_stack: Vec::new(),
            kitty_stack: Vec::new(),
            kitty_stack_inactive: Vec::new(),
            mouse_x10: false,
            mouse_urxvt: false,
            mouse_sgr_pixels: false,
            modify_other_keys: 0,
            cursor_style_set: false,
            cwd_url: None,
            cwd: None,
            primary: None,
            osc7: Osc7Scanner::default(),
            scrollback_limit,
        }
    }

    /// Whether the scroll region is the whole screen of `lines` rows.
    pub(crate) fn full_region(&self, lines: usize) -> bool {
        self.scroll_top == 0 && self.scroll_bottom == lines
    }

    /// The XTWINOPS title stack, oldest first.
    pub(crate) fn title_stack(&self) -> &[Option<String>] {
        &self.title_stack
    }

    /// Records an OSC 7 payload.
    pub(crate) fn set_cwd(&mut self, payload: &[u8]) {
        let Ok(url) = std::str::from_utf8(payload) else { return };
        if url.chars().any(char::is_control) {
            return;
        }
        self.cwd = Some(cwd_path(url));
        self.cwd_url = Some(url.to_owned());
    }
}

/// The path in an OSC 7 URL (`file://host/path`, or a bare path), percent-decoded.
pub(crate) fn cwd_path(url: &str) -> String {
    let path = match url.strip_prefix("file://") {
        Some(rest) => rest.find('/').map_or("", |slash| &rest[slash..]),
        None => url,
    };
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Finds `ESC ] 7 ; payload (BEL | ESC \)` in a byte stream, across any chunking.
///
/// In the ground state a SIMD search skips to the next `ESC ]`, so coloured text costs
/// almost nothing. OSC 7 sequences are short and rare.
#[derive(Debug, Default)]
pub(crate) struct Osc7Scanner {
    state: ScanState,
    payload: Vec<u8>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ScanState {
    /// Not in a sequence we care about.
    #[default]
    Ground,
    /// Saw ESC.
    Esc,
    /// Saw `ESC ]`.
    Osc,
    /// Saw `ESC ] 7`.
    Osc7,
    /// In the payload of `ESC ] 7 ;`.
    Payload,
}

impl Osc7Scanner {
    /// Scans `bytes`; returns the payloads of the OSC 7 sequences completed in them.
    pub(crate) fn scan(&mut self, bytes: &[u8], mut found: impl FnMut(&[u8])) {
        let mut i = 0;
        while i < bytes.len() {
            if self.state == ScanState::Ground {
                static OSC: LazyLock<memmem::Finder<'static>> =
                    LazyLock::new(|| memmem::Finder::new(b"\x1b]"));
                let rest = &bytes[i..];
                match OSC.find(rest) {
                    Some(at) => {
                        self.state = ScanState::Osc;
                        i += at + 2;
                        continue;
                    }
                    None => {
                        // An ESC at the very end may start an OSC in the next chunk.
                        if rest.last() == Some(&0x1b) {
                            self.state = ScanState::Esc;
                        }
                        return;
                    }
                }
            }
            let b = bytes[i];
            i += 1;
            self.state = match (self.state, b) {
                (ScanState::Esc, b']') => ScanState::Osc,
                (ScanState::Osc, b'7') => ScanState::Osc7,
                (ScanState::Osc7, b';') => {
                    self.payload.clear();
                    ScanState::Payload
                }
                (ScanState::Payload, 0x07) => {
                    found(&self.payload);
                    ScanState::Ground
                }
                // Like vte, an ESC ends the string (ST is ESC \, and the `\` then ends an
                // empty escape sequence), so the cwd changes when vte's OSC would be dispatched.
                (ScanState::Payload, 0x1b) => {
                    found(&self.payload);
                    ScanState::Esc
                }
                (ScanState::Payload, 0x18 | 0x1a) => ScanState::Ground,
                (ScanState::Payload, b) => {
                    if self.payload.len() < OSC7_MAX_LEN {
                        self.payload.push(b);
                        ScanState::Payload
                    } else {
                        ScanState::Ground
                    }
                }
                (ScanState::Esc | ScanState::Osc | ScanState::Osc7, 0x1b) => ScanState::Esc,
                _ => ScanState::Ground,
            };
        }
    }
}

/// The vte handler of the model: forwards every action to the [`Term`], mirrors private
/// state into the [`Tracker`], and writes query answers into `replies`.
///
/// # The primary grid under the alternate screen
///
/// alacritty keeps the inactive grid private, but the snapshot must draw the primary screen
/// (and its scrollback) while a program runs on the alternate one. So when the alternate
/// screen is entered, the handler takes the primary grid out of the `Term` (a cheap grid of
/// the same size and history limit takes its place) and keeps it in
/// [`Tracker::primary`]; when the program leaves, it puts it back. While it is out, the
/// `Term` touches its inactive grid only on resize (the handler resizes the real one the
/// same way, with reflow, as alacritty would) and on RIS (both grids are reset, so the
/// stand-in, already reset by the `Term`, simply stays).
pub(crate) struct ModelHandler<'a> {
    pub(crate) term: &'a mut Term<VoidListener>,
    pub(crate) tracker: &'a mut Tracker,
    pub(crate) replies: &'a mut Vec<u8>,
}

impl ModelHandler<'_> {
    fn alt(&self) -> bool {
        self.term.mode().contains(TermMode::ALT_SCREEN)
    }

    /// Enters the alternate screen (1049, 1047, 47), taking the primary grid out.
    fn enter_alt(&mut self) {
        if self.alt() {
            return;
        }
        let grid = self.term.grid();
        // The stand-in gets the real history limit (RIS on the alternate screen makes it the
        // primary grid); Grid::new allocates no history line up front.
        let limit = self.tracker.scrollback_limit;
        let mut stand_in = Grid::new(grid.screen_lines(), grid.columns(), limit);
        stand_in.cursor = grid.cursor.clone();
        stand_in.saved_cursor = grid.saved_cursor.clone();
        let mut primary = mem::replace(self.term.grid_mut(), stand_in);
        // What swap_alt does to the primary grid, done to the real one.
        primary.saved_cursor = primary.cursor.clone();
        self.term.swap_alt();
        self.tracker.primary = Some(Box::new(primary));
        mem::swap(&mut self.tracker.kitty_stack, &mut self.tracker.kitty_stack_inactive);
    }

    /// Leaves the alternate screen, putting the primary grid back.
    fn leave_alt(&mut self) {
        if !self.alt() {
            return;
        }
        self.term.swap_alt();
        if let Some(primary) = self.tracker.primary.take() {
            *self.term.grid_mut() = *primary;
        }
        mem::swap(&mut self.tracker.kitty_stack, &mut self.tracker.kitty_stack_inactive);
    }

    fn private_mode_state(&self, mode: PrivateMode) -> u8 {
        let m = *self.term.mode();
        let on = |flag: TermMode| if m.contains(flag) { 1 } else { 2 };
        let flag = |b: bool| if b { 1 } else { 2 };
        match mode {
            PrivateMode::Named(named) => match named {
                NamedPrivateMode::CursorKeys => on(TermMode::APP_CURSOR),
                NamedPrivateMode::ColumnMode => 0,
                NamedPrivateMode::Origin => on(TermMode::ORIGIN),
                NamedPrivateMode::LineWrap => on(TermMode::LINE_WRAP),
                NamedPrivateMode::BlinkingCursor => flag(self.term.cursor_style().blinking),
                NamedPrivateMode::ShowCursor => on(TermMode::SHOW_CURSOR),
                NamedPrivateMode::ReportMouseClicks => on(TermMode::MOUSE_REPORT_CLICK),
                NamedPrivateMode::ReportCellMouseMotion => on(TermMode::MOUSE_DRAG),
                NamedPrivateMode::ReportAllMouseMotion => on(TermMode::MOUSE_MOTION),
                NamedPrivateMode::ReportFocusInOut => on(TermMode::FOCUS_IN_OUT),
                NamedPrivateMode::Utf8Mouse => on(TermMode::UTF8_MOUSE),
                NamedPrivateMode::SgrMouse => on(TermMode::SGR_MOUSE),
                NamedPrivateMode::AlternateScroll => on(TermMode::ALTERNATE_SCROLL),
                NamedPrivateMode::UrgencyHints => on(TermMode::URGENCY_HINTS),
                NamedPrivateMode::SwapScreenAndSetRestoreCursor => on(TermMode::ALT_SCREEN),
                NamedPrivateMode::BracketedPaste => on(TermMode::BRACKETED_PASTE),
                // Synchronized updates are applied at once (see the crate docs): never "set".
                NamedPrivateMode::SyncUpdate => 2,
            },
            PrivateMode::Unknown(9) => flag(self.tracker.mouse_x10),
            PrivateMode::Unknown(1015) => flag(self.tracker.mouse_urxvt),
            PrivateMode::Unknown(1016) => flag(self.tracker.mouse_sgr_pixels),
            PrivateMode::Unknown(47 | 1047) => on(TermMode::ALT_SCREEN),
            PrivateMode::Unknown(_) => 0,
        }
    }

    fn reply(&mut self, bytes: &[u8]) {
        self.replies.extend_from_slice(bytes);
    }

    fn reply_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        use std::io::Write;
        let _ = self.replies.write_fmt(args);
    }
}

impl Handler for ModelHandler<'_> {
    fn set_title(&mut self, title: Option<String>) {
        self.tracker.title.clone_from(&title);
        self.term.set_title(title);
    }

    fn set_cursor_style(&mut self, style: Option<CursorStyle>) {
        self.tracker.cursor_style_set = style.is_some();
        self.term.set_cursor_style(style);
    }

    fn set_cursor_shape(&mut self, shape: CursorShape) {
        self.tracker.cursor_style_set = true;
        self.term.set_cursor_shape(shape);
    }

    #[inline(always)]
    fn input(&mut self, c: char) {
        self.term.input(c);
    }

    fn goto(&mut self, line: i32, col: usize) {
        self.term.goto(line, col);
    }

    fn goto_line(&mut self, line: i32) {
        self.term.goto_line(line);
    }

    fn goto_col(&mut self, col: usize) {
        self.term.goto_col(col);
    }

    fn insert_blank(&mut self, count: usize) {
        self.term.insert_blank(count);
    }

    fn move_up(&mut self, rows: usize) {
        self.term.move_up(rows);
    }

    fn move_down(&mut self, rows: usize) {
        self.term.move_down(rows);
    }

    fn identify_terminal(&mut self, intermediate: Option<char>) {
        match intermediate {
            None => self.reply(DA1_REPLY),
            Some('>') => self.reply(DA2_REPLY),
            Some(_) => {}
        }
    }

    fn device_status(&mut self, arg: usize) {
        match arg {
            5 => self.reply(b"\x1b[0n"),
            6 => {
                let point = self.term.grid().cursor.point;
                let mut line = point.line.0 + 1;
                if self.term.mode().contains(TermMode::ORIGIN) {
                    line -= self.tracker.scroll_top as i32;
                }
                self.reply_fmt(format_args!("\x1b[{};{}R", line.max(1), point.column.0 + 1));
            }
            _ => {}
        }
    }

    fn move_forward(&mut self, cols: usize) {
        self.term.move_forward(cols);
    }

    fn move_backward(&mut self, cols: usize) {
        self.term.move_backward(cols);
    }

    fn move_down_and_cr(&mut self, rows: usize) {
        self.term.move_down_and_cr(rows);
    }

    fn move_up_and_cr(&mut self, rows: usize) {
        self.term.move_up_and_cr(rows);
    }

    fn put_tab(&mut self, count: u16) {
        self.term.put_tab(count);
    }

    fn backspace(&mut self) {
        self.term.backspace();
    }

    fn carriage_return(&mut self) {
        self.term.carriage_return();
    }

    fn linefeed(&mut self) {
        self.term.linefeed();
    }

    fn bell(&mut self) {
        self.term.bell();
    }

    fn substitute(&mut self) {
        self.term.substitute();
    }

    fn newline(&mut self) {
        self.term.newline();
    }

    fn set_horizontal_tabstop(&mut self) {
        self.term.set_horizontal_tabstop();
    }

    fn scroll_up(&mut self, rows: usize) {
        self.term.scroll_up(rows);
    }

    fn scroll_down(&mut self, rows: usize) {
        self.term.scroll_down(rows);
    }

    fn insert_blank_lines(&mut self, rows: usize) {
        self.term.insert_blank_lines(rows);
    }

    fn delete_lines(&mut self, rows: usize) {
        self.term.delete_lines(rows);
    }

    fn erase_chars(&mut self, count: usize) {
        self.term.erase_chars(count);
    }

    fn delete_chars(&mut self, count: usize) {
        self.term.delete_chars(count);
    }

    fn move_backward_tabs(&mut self, count: u16) {
        self.term.move_backward_tabs(count);
    }

    fn move_forward_tabs(&mut self, count: u16) {
        self.term.move_forward_tabs(count);
    }

    fn save_cursor_position(&mut self) {
        self.term.save_cursor_position();
    }

    fn restore_cursor_position(&mut self) {
        self.term.restore_cursor_position();
    }

    fn clear_line(&mut self, mode: LineClearMode) {
        self.term.clear_line(mode);
    }

    fn clear_screen(&mut self, mode: ClearMode) {
        self.term.clear_screen(mode);
    }

    fn clear_tabs(&mut self, mode: TabulationClearMode) {
        self.term.clear_tabs(mode);
    }

    fn set_tabs(&mut self, interval: u16) {
        self.term.set_tabs(interval);
    }

    fn reset_state(&mut self) {
        let lines = self.term.screen_lines();
        // The Term swaps back and resets both grids; the stand-in becomes the primary grid.
        self.tracker.primary = None;
        self.term.reset_state();
        let cwd_url = self.tracker.cwd_url.take();
        let cwd = self.tracker.cwd.take();
        let osc7 = mem::take(&mut self.tracker.osc7);
        *self.tracker = Tracker::new(lines, self.tracker.scrollback_limit);
        self.tracker.cwd_url = cwd_url;
        self.tracker.cwd = cwd;
        self.tracker.osc7 = osc7;
    }

    fn reverse_index(&mut self) {
        self.term.reverse_index();
    }

    #[inline]
    fn terminal_attribute(&mut self, attr: Attr) {
        self.term.terminal_attribute(attr);
    }

    fn set_mode(&mut self, mode: Mode) {
        self.term.set_mode(mode);
    }

    fn unset_mode(&mut self, mode: Mode) {
        self.term.unset_mode(mode);
    }

    fn report_mode(&mut self, mode: Mode) {
        let state = match mode {
            Mode::Named(NamedMode::Insert) => self.term.mode().contains(TermMode::INSERT),
            Mode::Named(NamedMode::LineFeedNewLine) => {
                self.term.mode().contains(TermMode::LINE_FEED_NEW_LINE)
            }
            Mode::Unknown(raw) => {
                self.reply_fmt(format_args!("\x1b[{raw};0$y"));
                return;
            }
        };
        let state = if state { 1 } else { 2 };
        self.reply_fmt(format_args!("\x1b[{};{state}$y", mode.raw()));
    }

    fn set_private_mode(&mut self, mode: PrivateMode) {
        match mode {
            PrivateMode::Named(NamedPrivateMode::SwapScreenAndSetRestoreCursor) => {
                self.enter_alt();
            }
            PrivateMode::Named(NamedPrivateMode::ColumnMode) => {
                self.term.set_private_mode(mode);
                self.tracker.scroll_top = 0;
                self.tracker.scroll_bottom = self.term.screen_lines();
            }
            PrivateMode::Named(NamedPrivateMode::BlinkingCursor) => {
                self.tracker.cursor_style_set = true;
                self.term.set_private_mode(mode);
            }
            PrivateMode::Unknown(9) => self.tracker.mouse_x10 = true,
            PrivateMode::Unknown(1015) => self.tracker.mouse_urxvt = true,
            PrivateMode::Unknown(1016) => self.tracker.mouse_sgr_pixels = true,
            PrivateMode::Unknown(47 | 1047) => self.enter_alt(),
            PrivateMode::Unknown(1048) => self.term.save_cursor_position(),
            _ => self.term.set_private_mode(mode),
        }
    }

    fn unset_private_mode(&mut self, mode: PrivateMode) {
        match mode {
            PrivateMode::Named(NamedPrivateMode::SwapScreenAndSetRestoreCursor) => {
                self.leave_alt();
            }
            PrivateMode::Named(NamedPrivateMode::ColumnMode) => {
                self.term.unset_private_mode(mode);
                self.tracker.scroll_top = 0;
                self.tracker.scroll_bottom = self.term.screen_lines();
            }
            PrivateMode::Named(NamedPrivateMode::BlinkingCursor) => {
                self.tracker.cursor_style_set = true;
                self.term.unset_private_mode(mode);
            }
            PrivateMode::Unknown(9) => self.tracker.mouse_x10 = false,
            PrivateMode::Unknown(1015) => self.tracker.mouse_urxvt = false,
            PrivateMode::Unknown(1016) => self.tracker.mouse_sgr_pixels = false,
            PrivateMode::Unknown(47 | 1047) => self.leave_alt(),
            PrivateMode::Unknown(1048) => self.term.restore_cursor_position(),
            _ => self.term.unset_private_mode(mode),
        }
    }

    fn report_private_mode(&mut self, mode: PrivateMode) {
        let state = self.private_mode_state(mode);
        self.reply_fmt(format_args!("\x1b[?{};{state}$y", mode.raw()));
    }

    fn set_scrolling_region(&mut self, top: usize, bottom: Option<usize>) {
        // xterm's rule: clamp the bottom to the screen, then refuse a region of less than two
        // lines. (alacritty would accept a region clamped to nothing, which no DECSTBM can
        // restore.)
        let lines = self.term.screen_lines();
        let start = top.saturating_sub(1).min(lines);
        let end = bottom.unwrap_or(lines).min(lines);
        if start + 1 < end {
            self.tracker.scroll_top = start;
            self.tracker.scroll_bottom = end;
            self.term.set_scrolling_region(start + 1, Some(end));
        }
    }

    fn set_keypad_application_mode(&mut self) {
        self.term.set_keypad_application_mode();
    }

    fn unset_keypad_application_mode(&mut self) {
        self.term.unset_keypad_application_mode();
    }

    fn set_active_charset(&mut self, index: CharsetIndex) {
        self.tracker.active_charset = index;
        self.term.set_active_charset(index);
    }

    fn configure_charset(&mut self, index: CharsetIndex, charset: StandardCharset) {
        self.term.configure_charset(index, charset);
    }

    fn set_color(&mut self, index: usize, color: Rgb) {
        self.term.set_color(index, color);
    }

    fn dynamic_color_sequence(&mut self, prefix: String, index: usize, terminator: &str) {
        self.term.dynamic_color_sequence(prefix, index, terminator);
    }

    fn reset_color(&mut self, index: usize) {
        self.term.reset_color(index);
    }

    fn clipboard_store(&mut self, clipboard: u8, base64: &[u8]) {
        self.term.clipboard_store(clipboard, base64);
    }

    fn clipboard_load(&mut self, _clipboard: u8, _terminator: &str) {
        // Never answered from the model: the clipboard is the user's.
    }

    fn decaln(&mut self) {
        self.term.decaln();
    }

    fn push_title(&mut self) {
        if self.tracker.title_stack.len() >= TITLE_STACK_MAX_DEPTH {
            self.tracker.title_stack.remove(0);
        }
        self.tracker.title_stack.push(self.tracker.title.clone());
        self.term.push_title();
    }

    fn pop_title(&mut self) {
        if let Some(title) = self.tracker.title_stack.pop() {
            self.tracker.title = title;
        }
        self.term.pop_title();
    }

    fn text_area_size_pixels(&mut self) {
        // Answered by the client's terminal only: the model has no pixel size.
    }

    fn text_area_size_chars(&mut self) {
        let (lines, cols) = (self.term.screen_lines(), self.term.columns());
        self.reply_fmt(format_args!("\x1b[8;{lines};{cols}t"));
    }

    fn set_hyperlink(&mut self, hyperlink: Option<Hyperlink>) {
        self.term.set_hyperlink(hyperlink);
    }

    fn report_keyboard_mode(&mut self) {
        let flags = kitty_flags(*self.term.mode());
        self.reply_fmt(format_args!("\x1b[?{flags}u"));
    }

    fn push_keyboard_mode(&mut self, mode: KeyboardModes) {
        if self.tracker.kitty_stack.len() >= KITTY_STACK_MAX_DEPTH {
            return;
        }
        self.tracker.kitty_stack.push(mode);
        self.term.push_keyboard_mode(mode);
    }

    fn pop_keyboard_modes(&mut self, to_pop: u16) {
        let len = self.tracker.kitty_stack.len().saturating_sub(to_pop as usize);
        self.tracker.kitty_stack.truncate(len);
        self.term.pop_keyboard_modes(to_pop);
    }

    fn set_keyboard_mode(&mut self, mode: KeyboardModes, behavior: KeyboardModesApplyBehavior) {
        self.term.set_keyboard_mode(mode, behavior);
    }

    fn set_modify_other_keys(&mut self, mode: ModifyOtherKeys) {
        self.tracker.modify_other_keys = match mode {
            ModifyOtherKeys::Reset => 0,
            ModifyOtherKeys::EnableExceptWellDefined => 1,
            ModifyOtherKeys::EnableAll => 2,
        };
        self.term.set_modify_other_keys(mode);
    }

    fn report_modify_other_keys(&mut self) {
        let level = self.tracker.modify_other_keys;
        self.reply_fmt(format_args!("\x1b[>4;{level}m"));
    }

    fn set_scp(&mut self, char_path: ScpCharPath, update_mode: ScpUpdateMode) {
        self.term.set_scp(char_path, update_mode);
    }

    // `set_mouse_cursor_icon` (OSC 22) keeps the default no-op: its argument type is private
    // to vte, and the mouse pointer's shape is the client's business.
}

/// The kitty keyboard flags (`CSI ? flags u`) in a set of modes.
pub(crate) fn kitty_flags(mode: TermMode) -> u8 {
    let mut flags = KeyboardModes::empty();
    let pairs = [
        (TermMode::DISAMBIGUATE_ESC_CODES, KeyboardModes::DISAMBIGUATE_ESC_CODES),
        (TermMode::REPORT_EVENT_TYPES, KeyboardModes::REPORT_EVENT_TYPES),
        (TermMode::REPORT_ALTERNATE_KEYS, KeyboardModes::REPORT_ALTERNATE_KEYS),
        (TermMode::REPORT_ALL_KEYS_AS_ESC, KeyboardModes::REPORT_ALL_KEYS_AS_ESC),
        (TermMode::REPORT_ASSOCIATED_TEXT, KeyboardModes::REPORT_ASSOCIATED_TEXT),
    ];
    for (term, kitty) in pairs {
        if mode.contains(term) {
            flags |= kitty;
        }
    }
    flags.bits()
}

/// The primary grid of a model: the `Term`'s own, or the one taken out under the alternate
/// screen.
pub(crate) fn primary_grid<'a>(
    term: &'a Term<VoidListener>,
    tracker: &'a Tracker,
) -> &'a Grid<Cell> {
    tracker.primary.as_deref().unwrap_or_else(|| term.grid())
}

/// Topmost line of a grid (the oldest scrollback line).
pub(crate) fn topmost(grid: &Grid<Cell>) -> Line {
    Line(-(grid.history_size() as i32))
}
