//! The master side of a pseudo-terminal: [`Pty`] and its [`WindowSize`].
//!
//! Everything here goes through rustix's safe wrappers; this module has no unsafe code.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use rustix::fs::{Mode, OFlags};
use rustix::pty::OpenptFlags;
use rustix::termios::Winsize;

/// The size of a terminal: character cells, and optionally pixels.
///
/// This is `struct winsize`; the pixel fields are 0 when unknown, which is what most
/// terminals report and what programs expect when they are not told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WindowSize {
    /// Rows (lines) of character cells.
    pub rows: u16,
    /// Columns of character cells.
    pub cols: u16,
    /// Width in pixels, 0 when unknown.
    pub xpixel: u16,
    /// Height in pixels, 0 when unknown.
    pub ypixel: u16,
}

impl WindowSize {
    /// A size in cells, with the pixel fields unknown (0).
    pub const fn new(rows: u16, cols: u16) -> Self {
        Self { rows, cols, xpixel: 0, ypixel: 0 }
    }
}

impl Default for WindowSize {
    /// 24 rows by 80 columns: the VT100's size, which programs assume when told nothing.
    fn default() -> Self {
        Self::new(24, 80)
    }
}

impl From<Winsize> for WindowSize {
    fn from(w: Winsize) -> Self {
        Self { rows: w.ws_row, cols: w.ws_col, xpixel: w.ws_xpixel, ypixel: w.ws_ypixel }
    }
}

impl From<WindowSize> for Winsize {
    fn from(s: WindowSize) -> Self {
        Winsize { ws_row: s.rows, ws_col: s.cols, ws_xpixel: s.xpixel, ws_ypixel: s.ypixel }
    }
}

/// The master side of a pseudo-terminal.
///
/// Owns the master fd (opened close-on-exec, so no child inherits it). What the program
/// writes to its terminal is read here; what is written here is the program's input.
/// Dropping the `Pty` closes the master, which hangs up the terminal: the kernel sends
/// SIGHUP to the session on the slave side.
///
/// All methods take `&self`, so the `Pty` can sit in an `AsyncFd` or be shared by reference.
/// The fd is blocking until [`set_nonblocking`](Pty::set_nonblocking) says otherwise.
///
/// # End of output
///
/// On Linux a read on the master fails with `EIO` once no process has the slave open any
/// more (the child and everything it started have exited or closed it), after all
/// buffered output has been read. [`read`](Pty::read) turns that `EIO` into `Ok(0)`, the
/// ordinary end of file. It can come before or after the child is reaped, and it does not
/// come at all while a background process still holds the terminal: watch the
/// [`Child`](crate::Child) for the exit, and the `Pty` for the end of output, separately.
#[derive(Debug)]
pub struct Pty {
    /// The master fd, `O_RDWR | O_NOCTTY | O_CLOEXEC`.
    master: OwnedFd,
}

impl Pty {
    /// Opens a new PTY pair and returns the master and the slave.
    ///
    /// Both fds are close-on-exec, and the slave is opened with `O_NOCTTY`, so it does not
    /// become the caller's controlling terminal. The window size starts at whatever the
    /// kernel gives (0x0 on Linux); call [`resize`](Pty::resize) to set it.
    /// [`spawn`](crate::spawn) does all of this for you; use `open` to drive a PTY yourself.
    ///
    /// # Errors
    ///
    /// The error of `posix_openpt`, `grantpt`, `unlockpt`, `ptsname` or the slave's `open`.
    pub fn open() -> io::Result<(Pty, OwnedFd)> {
        let master =
            rustix::pty::openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC)?;
        rustix::pty::grantpt(&master)?;
        rustix::pty::unlockpt(&master)?;
        let name = rustix::pty::ptsname(&master, Vec::new())?;
        let slave = rustix::fs::open(
            name.as_c_str(),
            OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        Ok((Pty { master }, slave))
    }

    /// Sets the window size (`TIOCSWINSZ`).
    ///
    /// When the size changes, the kernel sends SIGWINCH to the terminal's foreground
    /// process group; setting the same size again sends nothing.
    ///
    /// # Errors
    ///
    /// The `ioctl`'s error.
    pub fn resize(&self, size: WindowSize) -> io::Result<()> {
        rustix::termios::tcsetwinsize(&self.master, size.into())?;
        Ok(())
    }

    /// The current window size (`TIOCGWINSZ`).
    ///
    /// # Errors
    ///
    /// The `ioctl`'s error.
    pub fn size(&self) -> io::Result<WindowSize> {
        Ok(rustix::termios::tcgetwinsize(&self.master)?.into())
    }

    /// The terminal's foreground process group (`tcgetpgrp` on the master), if it has one.
    ///
    /// Right after [`spawn`](crate::spawn) this is the child's pid (the child leads its own
    /// session and process group); a job-control shell moves it to the job it runs in the
    /// foreground. `None` when the terminal has no foreground group, e.g. once the session
    /// is gone.
    pub fn foreground_process_group(&self) -> Option<i32> {
        rustix::termios::tcgetpgrp(&self.master).ok().map(|pid| pid.as_raw_pid())
    }

    /// Switches the master between blocking and non-blocking mode (`FIONBIO`).
    ///
    /// Needed before handing the fd to an event loop (tokio's `AsyncFd`): a non-blocking
    /// read with nothing to read fails with [`io::ErrorKind::WouldBlock`].
    ///
    /// # Errors
    ///
    /// The `ioctl`'s error.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        rustix::io::ioctl_fionbio(&self.master, nonblocking)?;
        Ok(())
    }

    /// Reads what the program wrote to its terminal.
    ///
    /// Returns `Ok(0)` at the end of output: Linux's `EIO` ("every slave fd is closed") is
    /// mapped to it (see [End of output](Pty#end-of-output)). A 0-byte `buf` also returns
    /// `Ok(0)`, so pass a non-empty one.
    ///
    /// # Errors
    ///
    /// `WouldBlock` in non-blocking mode when nothing is ready, `Interrupted` if a signal
    /// came first; any other `read` error.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match rustix::io::read(&self.master, buf) {
            Ok(n) => Ok(n),
            Err(rustix::io::Errno::IO) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// Writes input for the program (keys, pasted text, replies to terminal queries).
    ///
    /// May write fewer bytes than given when the terminal's input queue is full; in
    /// blocking mode it then waits for the program to read.
    ///
    /// # Errors
    ///
    /// `WouldBlock` in non-blocking mode when the input queue is full; any other `write`
    /// error (`EIO` after the terminal has been hung up is not mapped).
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        Ok(rustix::io::write(&self.master, buf)?)
    }
}

impl io::Read for &Pty {
    /// Same as [`Pty::read`]: `EIO` is the end of file.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Pty::read(self, buf)
    }
}

impl io::Write for &Pty {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Pty::write(self, buf)
    }

    /// Nothing to flush: writes go straight to the kernel.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl AsFd for Pty {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.master.as_fd()
    }
}

impl AsRawFd for Pty {
    fn as_raw_fd(&self) -> RawFd {
        self.master.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn window_size_defaults_to_24_by_80() {
        assert_eq!(WindowSize::default(), WindowSize { rows: 24, cols: 80, xpixel: 0, ypixel: 0 });
    }

    #[test]
    fn resize_then_size_round_trips_every_field() {
        let (pty, _slave) = Pty::open().unwrap();
        let size = WindowSize { rows: 33, cols: 121, xpixel: 968, ypixel: 660 };
        pty.resize(size).unwrap();
        assert_eq!(pty.size().unwrap(), size);
        // The slave sees the same size.
        assert_eq!(WindowSize::from(rustix::termios::tcgetwinsize(&_slave).unwrap()), size);
    }

    #[test]
    fn master_and_slave_are_close_on_exec() {
        let (pty, slave) = Pty::open().unwrap();
        for fd in [pty.as_fd(), slave.as_fd()] {
            let flags = rustix::io::fcntl_getfd(fd).unwrap();
            assert!(flags.contains(rustix::io::FdFlags::CLOEXEC));
        }
    }

    #[test]
    fn bytes_written_on_the_slave_are_read_on_the_master() {
        let (pty, slave) = Pty::open().unwrap();
        let mut slave = std::fs::File::from(slave);
        slave.write_all(b"ping\n").unwrap();
        let mut buf = [0u8; 64];
        let n = pty.read(&mut buf).unwrap();
        // The line discipline turns \n into \r\n on output (ONLCR).
        assert_eq!(&buf[..n], b"ping\r\n");
    }

    #[test]
    fn read_after_the_last_slave_closes_is_end_of_file() {
        let (pty, slave) = Pty::open().unwrap();
        let mut slave = std::fs::File::from(slave);
        slave.write_all(b"last").unwrap();
        drop(slave);
        let mut out = Vec::new();
        (&pty).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"last");
        assert_eq!(pty.read(&mut [0u8; 16]).unwrap(), 0, "EOF again, not an error");
    }

    #[test]
    fn nonblocking_read_with_nothing_ready_would_block() {
        let (pty, _slave) = Pty::open().unwrap();
        pty.set_nonblocking(true).unwrap();
        let err = pty.read(&mut [0u8; 16]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn a_pty_with_no_session_has_no_foreground_group() {
        let (pty, _slave) = Pty::open().unwrap();
        assert_eq!(pty.foreground_process_group(), None);
    }
}
