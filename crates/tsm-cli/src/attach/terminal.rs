//! The user's terminal while attached: raw mode in, everything put back out.
//!
//! [`TerminalGuard::enter`] saves the terminal's settings, switches it to raw mode and
//! writes [`RESET_SEQUENCE`]; dropping the guard (or calling
//! [`TerminalGuard::restore_now`] on an early exit path) restores the settings and
//! writes the sequence again, so no attach leaves the terminal in raw mode, the
//! alternate screen or a mouse mode, however it ends (spec/cli.md, "Conventions").
//!
//! Decisions:
//!
//! - Raw mode is `cfmakeraw`, as the Go client's `term.MakeRaw`. It clears `ISIG`, so
//!   Ctrl-\ arrives as the byte 0x1C instead of raising SIGQUIT, and `IEXTEN`, so
//!   `VLNEXT` and `VDISCARD` do nothing; no control character needs disabling on top.
//!   It is set with `TCSANOW`, which keeps keys typed ahead of the attach.
//! - On entry the guard writes the reset sequence but does not clear the screen: the
//!   daemon's first Output is a snapshot that repaints the whole screen, and the reset
//!   turns off modes a crashed program may have left on in the outer terminal, which
//!   the snapshot only ever turns on.
//! - On exit the settings are restored with `TCSAFLUSH` *before* the sequence is
//!   written. The flush discards input the client never read: the rest of a paste,
//!   or the kitty release event of the detach key, which would otherwise land at the
//!   shell prompt as `[92;5:3u`. Writing afterwards keeps the flush away from our own
//!   output.
//! - By default the exit also clears the screen and homes the cursor ([`CLEAR_SCREEN`],
//!   as the Go client's `termExitSeq`), so `[detached from NAME]` starts on a clean
//!   screen; a client that switches to another session turns that off with
//!   [`TerminalGuard::set_clear_on_restore`] to avoid a flash, as Go does.
//! - The guard also puts back the `O_NONBLOCK` flag of both descriptors: stdin and
//!   stdout usually share one open file description with the shell, which breaks on
//!   a non-blocking terminal.
//! - Restoring is best effort: once the terminal is gone (EIO, the window closed)
//!   there is nothing left to restore, so errors are ignored.

use std::io;
use std::os::fd::BorrowedFd;

use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
use rustix::io::Errno;
use rustix::termios::{OptionalActions, Termios, tcgetattr, tcgetwinsize, tcsetattr};

/// What the guard writes on entry and exit: every mode a program in the session may
/// have turned on, back to its default, in an order that works from any state.
pub(crate) const RESET_SEQUENCE: &[u8] = concat!(
    "\x1b[?2026l", // end a synchronized update, so the rest shows at once
    "\x1b[=0;1u",  // kitty keyboard flags to 0 (on the alternate screen's stack)
    "\x1b[?1049l", // leave the alternate screen
    "\x1b[=0;1u",  // kitty keyboard flags to 0 (on the main screen's stack)
    "\x1b[>4m",    // modifyOtherKeys back to its default
    "\x1b[?1000l", // mouse: X10/normal tracking off
    "\x1b[?1002l", // mouse: button-event tracking off
    "\x1b[?1003l", // mouse: any-event tracking off
    "\x1b[?1005l", // mouse: UTF-8 coordinates off
    "\x1b[?1006l", // mouse: SGR coordinates off
    "\x1b[?1015l", // mouse: urxvt coordinates off
    "\x1b[?1016l", // mouse: SGR pixel coordinates off
    "\x1b[?1004l", // focus reporting off
    "\x1b[?2004l", // bracketed paste off
    "\x1b[?1l",    // cursor keys back to normal (not application) mode
    "\x1b>",       // keypad back to numeric mode
    "\x1b[4l",     // insert mode off
    "\x1b[?6l",    // origin mode off
    "\x1b[?7h",    // autowrap on
    "\x1b[0m",     // SGR attributes reset
    "\x1b(B",      // G0 is ASCII (no line-drawing characters)...
    "\x0f",        // ...and shifted in
    "\x1b7",       // save the cursor (DECSTBM below homes it)...
    "\x1b[r",      // ...reset the scroll region...
    "\x1b8",       // ...and put the cursor back
    "\x1b[0 q",    // cursor style back to the user's default
    "\x1b[?25h",   // show the cursor
)
.as_bytes();

/// Clear the screen and home the cursor: written after [`RESET_SEQUENCE`] on exit
/// unless turned off with [`TerminalGuard::set_clear_on_restore`].
pub(crate) const CLEAR_SCREEN: &[u8] = b"\x1b[2J\x1b[H";

/// The size to assume when the terminal does not report one: `(rows, cols, xpixel,
/// ypixel)`, the classic VT100 24x80 the Go client also falls back to.
pub(crate) const DEFAULT_WINDOW_SIZE: (u16, u16, u16, u16) = (24, 80, 0, 0);

/// Keeps the user's terminal in raw mode and restores it when dropped (see the module
/// docs).
#[derive(Debug)]
pub(crate) struct TerminalGuard<'fd> {
    /// The terminal whose settings were changed (stdin).
    tty: BorrowedFd<'fd>,
    /// Where the reset sequence goes (stdout).
    out: BorrowedFd<'fd>,
    /// The settings `tty` had before [`TerminalGuard::enter`].
    saved: Termios,
    /// The file status flags of `tty` and `out` at entry; `None` where they could not
    /// be read, which leaves that descriptor's flags alone.
    saved_flags: [Option<OFlags>; 2],
    /// Whether the exit also writes [`CLEAR_SCREEN`].
    clear_on_restore: bool,
    /// Set once [`TerminalGuard::restore_now`] has run; it then does nothing.
    restored: bool,
}

impl TerminalGuard<'static> {
    /// [`TerminalGuard::enter`] with stdin as the terminal and stdout as the output.
    ///
    /// # Errors
    ///
    /// As [`TerminalGuard::enter`]; stdin not being a terminal is an error.
    pub(crate) fn enter_stdio() -> io::Result<TerminalGuard<'static>> {
        TerminalGuard::enter(rustix::stdio::stdin(), rustix::stdio::stdout())
    }
}

impl<'fd> TerminalGuard<'fd> {
    /// Saves the settings of the terminal `tty`, puts it in raw mode and writes
    /// [`RESET_SEQUENCE`] to `out`.
    ///
    /// # Errors
    ///
    /// Reading or changing the settings fails (ENOTTY when `tty` is not a terminal),
    /// or writing the sequence fails; the terminal is restored before returning.
    pub(crate) fn enter(tty: BorrowedFd<'fd>, out: BorrowedFd<'fd>) -> io::Result<Self> {
        let saved = tcgetattr(tty)?;
        let saved_flags = [fcntl_getfl(tty).ok(), fcntl_getfl(out).ok()];
        let mut raw = saved.clone();
        raw.make_raw();
        retry_on_eintr(|| tcsetattr(tty, OptionalActions::Now, &raw))?;
        // From here on, dropping the guard restores the terminal.
        let guard =
            TerminalGuard { tty, out, saved, saved_flags, clear_on_restore: true, restored: false };
        write_all(out, RESET_SEQUENCE)?;
        Ok(guard)
    }

    /// Chooses whether leaving also clears the screen (the default). A client that
    /// switches to another session turns it off, since the next attach repaints.
    pub(crate) fn set_clear_on_restore(&mut self, clear: bool) {
        self.clear_on_restore = clear;
    }

    /// Restores the saved settings and file flags, then writes [`RESET_SEQUENCE`]
    /// (and [`CLEAR_SCREEN`] unless turned off). Runs once: later calls, and the
    /// drop, do nothing. Best effort: errors are ignored (see the module docs).
    pub(crate) fn restore_now(&mut self) {
        if self.restored {
            return;
        }
        self.restored = true;
        for (fd, saved) in [self.tty, self.out].into_iter().zip(self.saved_flags) {
            if let Some(saved) = saved {
                restore_nonblock(fd, saved);
            }
        }
        let _ = retry_on_eintr(|| tcsetattr(self.tty, OptionalActions::Flush, &self.saved));
        let _ = write_all(self.out, RESET_SEQUENCE);
        if self.clear_on_restore {
            let _ = write_all(self.out, CLEAR_SCREEN);
        }
    }

    /// Whether the terminal has been restored already (for tests).
    #[cfg(test)]
    fn is_restored(&self) -> bool {
        self.restored
    }
}

impl Drop for TerminalGuard<'_> {
    /// Restores the terminal unless [`TerminalGuard::restore_now`] already did.
    fn drop(&mut self) {
        self.restore_now();
    }
}

/// The size of the terminal `fd`: `(rows, cols, xpixel, ypixel)` (TIOCGWINSZ).
///
/// A terminal may report 0 rows or columns (a freshly made PTY does); callers decide
/// what that means, usually through [`window_size_or_default`].
///
/// # Errors
///
/// The ioctl fails, e.g. ENOTTY when `fd` is not a terminal.
pub(crate) fn window_size(fd: BorrowedFd<'_>) -> io::Result<(u16, u16, u16, u16)> {
    let size = tcgetwinsize(fd)?;
    Ok((size.ws_row, size.ws_col, size.ws_xpixel, size.ws_ypixel))
}

/// The size of the terminal `fd`, or [`DEFAULT_WINDOW_SIZE`] when it has none to
/// report (not a terminal, or 0 rows or columns), as the Go client does: an Init or
/// Resize with a zero size would leave the session's program unable to draw.
pub(crate) fn window_size_or_default(fd: BorrowedFd<'_>) -> (u16, u16, u16, u16) {
    match window_size(fd) {
        Ok((rows, cols, xpixel, ypixel)) if rows > 0 && cols > 0 => (rows, cols, xpixel, ypixel),
        _ => DEFAULT_WINDOW_SIZE,
    }
}

/// Puts the `O_NONBLOCK` flag of `fd` back to what `saved` says, leaving the other
/// flags as they are now. Best effort.
fn restore_nonblock(fd: BorrowedFd<'_>, saved: OFlags) {
    let Ok(now) = fcntl_getfl(fd) else { return };
    if now.contains(OFlags::NONBLOCK) != saved.contains(OFlags::NONBLOCK) {
        let _ = fcntl_setfl(fd, now ^ OFlags::NONBLOCK);
    }
}

/// Writes all of `bytes` to `fd`, retrying on EINTR.
fn write_all(fd: BorrowedFd<'_>, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match rustix::io::write(fd, bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = bytes.get(n..).unwrap_or_default(),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Runs `op` until it does not fail with EINTR (`TCSAFLUSH` may wait for output).
fn retry_on_eintr(mut op: impl FnMut() -> Result<(), Errno>) -> io::Result<()> {
    loop {
        match op() {
            Err(Errno::INTR) => {}
            other => return other.map_err(io::Error::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::{AsFd, OwnedFd};
    use std::sync::mpsc;
    use std::thread;
    use std::time::{Duration, Instant};

    use rustix::fs::{Mode, open};
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    use rustix::termios::{InputModes, LocalModes, OutputModes, SpecialCodeIndex, Winsize};

    use super::*;

    /// How long a test waits for the PTY to deliver what it expects.
    const DEADLINE: Duration = Duration::from_secs(10);

    /// A fresh PTY pair.
    struct Pty {
        master: OwnedFd,
        slave: OwnedFd,
    }

    fn open_pty() -> Pty {
        let master =
            openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).expect("openpt");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let slave =
            open(name.as_c_str(), OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC, Mode::empty())
                .expect("open the slave");
        Pty { master, slave }
    }

    /// Reads everything the master side receives until the slave is closed, on a
    /// thread, so the test can wait with a deadline instead of sleeping.
    fn drain_master(master: OwnedFd) -> mpsc::Receiver<Vec<u8>> {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Linux returns EIO once every slave descriptor is closed and the data
            // written before is read.
            while let Ok(n @ 1..) = rustix::io::read(&master, &mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        rx
    }

    /// Everything the master received, once the slave is closed.
    fn collect(rx: &mpsc::Receiver<Vec<u8>>) -> Vec<u8> {
        let deadline = Instant::now() + DEADLINE;
        let mut all = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(chunk) => all.extend(chunk),
                Err(mpsc::RecvTimeoutError::Disconnected) => return all,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("no EOF from the PTY: {all:?}"),
            }
        }
    }

    fn count(haystack: &[u8], needle: &[u8]) -> usize {
        haystack.windows(needle.len()).filter(|w| *w == needle).count()
    }

    fn settings(fd: BorrowedFd<'_>) -> String {
        format!("{:?}", tcgetattr(fd).expect("tcgetattr"))
    }

    #[test]
    fn enter_makes_the_terminal_raw() {
        let pty = open_pty();
        let rx = drain_master(pty.master);
        let before = tcgetattr(&pty.slave).unwrap();
        assert!(
            before.local_modes.contains(LocalModes::ICANON | LocalModes::ECHO | LocalModes::ISIG)
        );

        let guard = TerminalGuard::enter(pty.slave.as_fd(), pty.slave.as_fd()).unwrap();
        let raw = tcgetattr(&pty.slave).unwrap();
        for flag in [LocalModes::ICANON, LocalModes::ECHO, LocalModes::ISIG, LocalModes::IEXTEN] {
            assert!(!raw.local_modes.contains(flag), "{flag:?} still set");
        }
        assert!(!raw.input_modes.contains(InputModes::ICRNL));
        assert!(!raw.input_modes.contains(InputModes::IXON));
        assert!(!raw.output_modes.contains(OutputModes::OPOST));
        assert_eq!(raw.special_codes[SpecialCodeIndex::VMIN], 1);
        assert_eq!(raw.special_codes[SpecialCodeIndex::VTIME], 0);
        assert!(!guard.is_restored());

        drop(guard);
        drop(pty.slave);
        assert_eq!(count(&collect(&rx), RESET_SEQUENCE), 2);
    }

    #[test]
    fn drop_restores_the_settings_and_writes_the_reset() {
        let pty = open_pty();
        let rx = drain_master(pty.master);
        let original = settings(pty.slave.as_fd());

        let guard = TerminalGuard::enter(pty.slave.as_fd(), pty.slave.as_fd()).unwrap();
        assert_ne!(settings(pty.slave.as_fd()), original);
        drop(guard);
        assert_eq!(settings(pty.slave.as_fd()), original);

        drop(pty.slave);
        let mut expected = RESET_SEQUENCE.to_vec();
        expected.extend_from_slice(RESET_SEQUENCE);
        expected.extend_from_slice(CLEAR_SCREEN);
        assert_eq!(collect(&rx), expected);
    }

    #[test]
    fn restore_now_runs_once() {
        let pty = open_pty();
        let rx = drain_master(pty.master);
        let original = settings(pty.slave.as_fd());

        let mut guard = TerminalGuard::enter(pty.slave.as_fd(), pty.slave.as_fd()).unwrap();
        guard.set_clear_on_restore(false);
        guard.restore_now();
        assert!(guard.is_restored());
        assert_eq!(settings(pty.slave.as_fd()), original);
        guard.restore_now();
        drop(guard);

        drop(pty.slave);
        let out = collect(&rx);
        assert_eq!(out, [RESET_SEQUENCE, RESET_SEQUENCE].concat());
        assert_eq!(count(&out, CLEAR_SCREEN), 0);
    }

    #[test]
    fn restore_puts_back_the_blocking_mode() {
        let pty = open_pty();
        let rx = drain_master(pty.master);
        let guard = TerminalGuard::enter(pty.slave.as_fd(), pty.slave.as_fd()).unwrap();
        let flags = fcntl_getfl(&pty.slave).unwrap();
        fcntl_setfl(&pty.slave, flags | OFlags::NONBLOCK).unwrap();
        drop(guard);
        assert!(!fcntl_getfl(&pty.slave).unwrap().contains(OFlags::NONBLOCK));
        drop(pty.slave);
        assert_eq!(count(&collect(&rx), RESET_SEQUENCE), 2);
    }

    #[test]
    fn enter_refuses_what_is_not_a_terminal() {
        let null = open("/dev/null", OFlags::RDWR | OFlags::CLOEXEC, Mode::empty()).unwrap();
        let err = TerminalGuard::enter(null.as_fd(), null.as_fd()).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(Errno::NOTTY.raw_os_error()));
    }

    #[test]
    fn window_size_reads_the_pty_size() {
        let pty = open_pty();
        let size = Winsize { ws_row: 50, ws_col: 132, ws_xpixel: 1320, ws_ypixel: 1000 };
        rustix::termios::tcsetwinsize(&pty.master, size).unwrap();
        assert_eq!(window_size(pty.slave.as_fd()).unwrap(), (50, 132, 1320, 1000));
        assert_eq!(window_size_or_default(pty.slave.as_fd()), (50, 132, 1320, 1000));
    }

    #[test]
    fn window_size_falls_back_to_24x80() {
        let pty = open_pty();
        let zero = Winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
        rustix::termios::tcsetwinsize(&pty.master, zero).unwrap();
        assert_eq!(window_size_or_default(pty.slave.as_fd()), DEFAULT_WINDOW_SIZE);
        let null = open("/dev/null", OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty()).unwrap();
        assert!(window_size(null.as_fd()).is_err());
        assert_eq!(window_size_or_default(null.as_fd()), DEFAULT_WINDOW_SIZE);
    }

    #[test]
    fn reset_sequence_covers_the_modes_the_spec_names() {
        for needle in [
            &b"\x1b[?1049l"[..],
            b"\x1b[?1000l",
            b"\x1b[?1002l",
            b"\x1b[?1003l",
            b"\x1b[?1006l",
            b"\x1b[?2004l",
            b"\x1b[?1004l",
            b"\x1b[=0;1u",
            b"\x1b[>4m",
            b"\x1b[?25h",
            b"\x1b[0 q",
            b"\x1b[0m",
        ] {
            assert!(
                count(RESET_SEQUENCE, needle) > 0,
                "{:?} missing",
                String::from_utf8_lossy(needle)
            );
        }
    }
}
