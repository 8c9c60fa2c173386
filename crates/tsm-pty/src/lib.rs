//! Programs on pseudo-terminals, for the tsm session daemon.
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
//! No terminal emulation or screen model yet, no async runtime (put the [`Pty`] in an
//! `AsyncFd` after [`Pty::set_nonblocking`]), no reaping in the background, no shell
//! integration (rc files), and nothing but Linux.
//!
//! [`resize`]: Pty::resize
//! [foreground process group]: Pty::foreground_process_group
//! [`try_wait`]: Child::try_wait
//! [`wait`]: Child::wait
//! [`code`]: ExitStatus::code

#![deny(missing_docs)]

pub use crate::error::SpawnError;
pub use crate::pty::{Pty, WindowSize};
pub use crate::spawn::{Child, DEFAULT_TERM, ExitStatus, SpawnOptions, login_shell, spawn};
pub use rustix::process::Signal;

mod error;
pub mod process;
mod pty;
mod spawn;
