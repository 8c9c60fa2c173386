//! Programs on pseudo-terminals, and the model of their screen, for the tsm session daemon.
//!
//! [`spawn`] opens a PTY and starts a program on it the way a terminal emulator does: the
//! program leads a new session whose controlling terminal is the PTY, with the slave as its
//! stdin, stdout and stderr. It returns two halves:
//!
//! - [`Pty`], the master side: read the program's output, write its input, [`resize`] it
//!   (the program gets SIGWINCH), and ask for the [foreground process group] (which program
//!   the user is talking to right now).
//! - [`Child`], the process: its pid and command line, [`try_wait`]/[`wait`] for its
//!   [`ExitStatus`] (whose [`code`] is what a shell would print), and signals to it or to
//!   its process group.
//!
//! [`SpawnOptions`] say what to run (empty: the user's login shell), where, with which extra
//! variables and at what size; a failure to start comes back as a [`SpawnError`] naming the
//! step that broke, including "command not found". The [`process`] module reads facts about
//! a live pid from `/proc` (its cwd, its argv).
//!
//! ```no_run
//! use std::io::Read;
//! use tsm_pty::{spawn, SpawnOptions, WindowSize};
//!
//! let opts = SpawnOptions::new("/tmp").env("TSM_SESSION", "demo").size(WindowSize::new(24, 80));
//! let (pty, mut child) = spawn(&opts)?; // the login shell, as `-bash` or `-zsh`
//! pty.write(b"echo $TSM_SESSION; exit 3\n")?;
//! pty.resize(WindowSize::new(50, 132))?; // the shell gets SIGWINCH
//!
//! let mut output = Vec::new();
//! (&pty).read_to_end(&mut output)?; // ends when the shell and its children are gone
//! let status = child.wait()?;
//! println!("{} {status}", child.command_line()); // "-bash exited with code 3"
//! assert_eq!(status.code(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`TerminalModel`] is the screen the program drew: fed with every byte read from the
//! [`Pty`], it can [`snapshot`](TerminalModel::snapshot_into) itself as VT bytes that restore
//! it on a fresh terminal, [answer](TerminalModel::take_replies) the program's terminal
//! queries, and [`render`](TerminalModel::render) its history as plain text, VT or HTML
//! ([`RenderFormat`], [`RenderOptions`]).
//!
//! # The terminal model
//!
//! The emulator is `alacritty_terminal` 0.26 (parsed by `vte`), with kitty keyboard tracking
//! on and a scrollback bound given at creation ([`DEFAULT_SCROLLBACK_LINES`] is tmux's 2000).
//! vte hands every parsed action to a handler of ours, which forwards it to alacritty's `Term`
//! and records on the way what the `Term` keeps private or ignores; only OSC 7 needs a scan
//! of the raw bytes. The proof of the snapshot is a round trip, in `tests/roundtrip.rs`:
//! generated streams and recorded programs fed into model A, A's snapshot fed into a fresh
//! model B, A and B compared cell by cell (`testing::differences`, with the `testing` feature), also
//! after a snapshot taken at any byte followed by the rest of the stream.
//!
//! **Floods.** Given a long run of plain lines (text, CR, LF, tabs, backspaces and SGR), the
//! model skips the per-cell work for the lines that would scroll out of its scrollback
//! before the run ends and applies only their colour changes: the screen, scrollback and
//! state come out as if every byte had been parsed (the argument is in `unseen.rs`, the
//! property test in `tests/roundtrip/unseen.rs`). [`TerminalModel::skip_unseen`] does only
//! that part, so a caller holding output in a buffer (the daemon's ring) can keep up with a
//! flood and parse the lines that stay once it ends.
//!
//! **Restored**: the primary screen and its scrollback (scrollback first, so it lands in the
//! terminal's own scrollback), the alternate screen with the primary one intact beneath it,
//! every cell's text (wide characters, combining marks, emoji, DEC line drawing as the
//! characters it drew, tab cells), attributes (bold, dim, italic, the five underline styles
//! and underline colour, inverse, hidden, strike; 16, 256 and true colours) and OSC 8
//! hyperlinks; soft wraps; the cursor (position, pending wrap, shape and blinking,
//! visibility) and the saved cursor (DECSC); the modes (application cursor and keypad,
//! autowrap, origin, insert, newline, bracketed paste, mouse modes 9/1000/1002/1003 and
//! encodings 1005/1006/1015/1016, focus reporting, alternate scroll and urgency if switched
//! off); the kitty keyboard flags and both screens' flag stacks; xterm modifyOtherKeys; the
//! scroll region; the charsets (G0 to G3, SI/SO); the title (OSC 0/2) and title stack; the
//! cwd (OSC 7).
//!
//! **Decisions.**
//!
//! - *The snapshot starts without RIS*, which clears the scrollback in several terminals.
//!   It opens a synchronized update (`CSI ? 2026 h`, so the terminal shows it at once),
//!   leaves the alternate screen, resets SGR, hyperlink, scroll region, origin, insert and
//!   newline modes and charsets, turns autowrap on, hides the cursor, and clears the screen
//!   with `CSI H CSI J` (not `CSI 2 J`, which some terminals, alacritty among them, push into
//!   the scrollback). Then scrollback rows and screen, then modes, then the cursor; it ends
//!   the update with `CSI ? 2026 l`, so a client is never left waiting.
//! - *Synchronized output (mode 2026) is applied at once.* vte would hold back everything
//!   between `CSI ? 2026 h` and `l`; a snapshot taken meanwhile would miss bytes that the
//!   live stream after it no longer carries. The model has no pending update, ever, and
//!   DECRQM reports 2026 as reset.
//! - *The unfinished end of the stream is replayed.* A PTY read can end inside an escape
//!   sequence or a UTF-8 character; the snapshot ends with those bytes (up to 4 KiB), so the
//!   client's parser continues where the model's is when the live stream completes them.
//!   This also works around a vte 0.15 bug that drops the character after a UTF-8 character
//!   split across two chunks: such a partial character is held back until the next chunk.
//! - *Query answers* ([`TerminalModel::take_replies`]): DA1 is a VT220 with colour
//!   ([`DA1_REPLY`], `CSI ? 62 ; 22 c`), DA2 says VT220 version 10 ([`DA2_REPLY`],
//!   `CSI > 1 ; 10 ; 0 c`: not xterm, tmux or screen, which programs special-case); DSR 5 is
//!   "OK", DSR 6 the cursor (1-based, relative to the scroll region in origin mode); the kitty
//!   query gets the current flags; DECRQM, modifyOtherKeys and the text area size in cells
//!   are answered from the model. OSC 4/10/11/12 colour queries, OSC 52 clipboard reads and
//!   pixel sizes are not answered (the user's terminal knows them, the model does not).
//! - *Modes 47 and 1047* switch screens like 1049 (alacritty ignores them), 1048 saves and
//!   restores the cursor.
//! - *Scroll regions* follow xterm: a region of fewer than two lines after clamping to the
//!   screen is refused (alacritty would keep one no DECSTBM can restore).
//! - *Kitty keyboard pushes beyond 4095 entries are dropped* (alacritty 0.26 panics at 4096).
//! - *The emulator is at least 2 columns wide* (alacritty's minimum); a 1-column size is
//!   modelled as 2.
//!
//! **Not restored**: palette changes (OSC 4/10/11/12/104), tab stops, blinking text
//! (alacritty keeps no blink attribute), the mouse pointer shape (OSC 22), the inactive
//! alternate screen's content (it is cleared on the next switch anyway), titles deeper than 64
//! in the title stack, an unfinished sequence longer than 4 KiB. Some states no sequence can
//! make are approximated:
//!
//! - on screens of fewer than 3 rows or columns, a soft wrap on the bottom row and fix-ups of
//!   the last column of wrapped rows (the property tests use at least 3 rows and columns;
//!   ordinary output on smaller screens is tested on its own);
//! - a pending wrap that a resize left anywhere but in the last column;
//! - the primary screen's saved cursor while the alternate screen is active (it is the
//!   cursor at the switch, as `CSI ? 1049 h` makes it);
//! - in origin mode with the cursor outside the scroll region (only DECRC gets it there), the
//!   saved cursor, when LF or RI cannot carry the cursor from it without scrolling;
//! - stale soft-wrap and leading-spacer flags a resize leaves outside the last column, and a
//!   spacer left in the first column (they show as blanks);
//! - combining marks attached to a spacer cell (the second half of a wide character, or the
//!   placeholder where one wrapped): spacers are never drawn, so the marks show nowhere.
//!
//! A pending wrap on a row that has wrapped since (RI and LF keep one, DECSC saves one) *is*
//! restored: it is made on a row that prints safely and carried over with LF or RI.
//!
//! The history renderers show the primary scrollback then the active screen; HTML uses
//! xterm's default palette.
//!
//! # Decisions the daemon relies on
//!
//! - **End of output.** Linux reports "no slave fd open any more" as `EIO` on the master;
//!   [`Pty::read`] returns it as `Ok(0)`, after every buffered byte. Output ends and the
//!   child exits independently: a background job can keep the terminal open after the
//!   child was reaped, and the child can be reaped before its last output was read. Wait
//!   for both before declaring the session over, and read until `Ok(0)` to lose nothing.
//! - **`TERM`.** The child gets `TERM=xterm-256color` unless it inherits a real one (set,
//!   non-empty, not `dumb`); a `TERM` in [`SpawnOptions::env`] always wins.
//! - **Login shell.** `SHELL` from the options' env, then from the process env, then the
//!   user's `/etc/passwd` entry, then `/bin/sh`; started with `argv[0]` = `-` + base name.
//! - **Signals.** The child starts with an empty signal mask and SIGPIPE at its default
//!   action (std does both); handlers are reset by `exec`. Signals the daemon *ignores*
//!   stay ignored in the child, so the daemon should not ignore any before spawning.
//! - **Zombies.** Dropping a [`Child`] does not reap it; the daemon must `try_wait` (on
//!   SIGCHLD, for example).
//!
//! # What this crate does not do
//!
//! No async runtime (put the [`Pty`] in an `AsyncFd` after [`Pty::set_nonblocking`]), no
//! reaping in the background, no shell integration (rc files), no decision about when to
//! answer queries or send snapshots (the daemon's), and nothing but Linux.
//!
//! [`resize`]: Pty::resize
//! [foreground process group]: Pty::foreground_process_group
//! [`try_wait`]: Child::try_wait
//! [`wait`]: Child::wait
//! [`code`]: ExitStatus::code

#![deny(missing_docs)]

pub use crate::error::SpawnError;
pub use crate::model::{DEFAULT_SCROLLBACK_LINES, ScreenText, TerminalModel};
pub use crate::pty::{Pty, WindowSize};
pub use crate::render::{RenderFormat, RenderOptions};
pub use crate::spawn::{Child, DEFAULT_TERM, ExitStatus, SpawnOptions, login_shell, spawn};
pub use crate::tracker::{DA1_REPLY, DA2_REPLY};
pub use rustix::process::Signal;

mod error;
mod model;
pub mod process;
mod pty;
mod render;
mod snapshot;
mod spawn;
mod tail;
#[cfg(feature = "testing")]
pub mod testing;
mod tracker;
mod unseen;
