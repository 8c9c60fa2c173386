//! The session's owned state: the program, its PTY, the ring, the screen model, the
//! clients, and where the session is in its life.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;
use tsm_proto::{Info, Labels, SessionName, Size, SocketDir};
use tsm_pty::{Child, ExitStatus, Pty, WindowSize};
use tsm_scrollback::Writer;

use crate::client::{ClientId, ClientState, Close};
use crate::listener::SocketId;
use crate::screen::Screen;

/// The largest PTY size the daemon applies, per dimension. Clients may report anything up
/// to 65535; a grid that size would take gigabytes, so sizes are clamped.
pub(crate) const MAX_ROWS: u16 = 1000;
/// See [`MAX_ROWS`].
pub(crate) const MAX_COLS: u16 = 1000;

/// The most input bytes queued for the PTY while the program does not read; clients are
/// not read from while the queue is full.
pub(crate) const INPUT_QUEUE_LIMIT: usize = 1024 * 1024;

/// Where the session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The program runs.
    Running,
    /// Kill was requested: SIGHUP sent; SIGKILL follows at the deadline.
    Killing {
        /// When SIGKILL is sent if the program is still there; `None` once it was sent.
        sigkill_at: Option<Instant>,
    },
    /// The program exited while no client was attached; the session stays listed with
    /// its code and last output until someone attaches, reads its history or kills it.
    ExitedUnseen,
    /// The exit was seen: the daemon ends once attached clients have their last bytes,
    /// or at the deadline.
    Ending {
        /// When the daemon ends even if a client has not read everything.
        deadline: Instant,
    },
    /// The daemon is done; the event loop returns.
    Finished,
}

/// The program's exit as recorded.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExitRecord {
    /// How it ended.
    pub(crate) status: ExitStatus,
    /// When, unix seconds.
    pub(crate) at: u64,
}

/// Everything the daemon owns, behind one `RefCell` on its single thread.
pub(crate) struct Session {
    /// The current name (Rename changes it).
    pub(crate) name: SessionName,
    /// The socket directory.
    pub(crate) dir: SocketDir,
    /// The socket's current path.
    pub(crate) socket_path: PathBuf,
    /// Which file at that path is ours.
    pub(crate) socket_id: SocketId,
    /// The PTY master.
    pub(crate) pty: Rc<AsyncFd<Pty>>,
    /// The program.
    pub(crate) child: Child,
    /// The program's argv joined by spaces (Info's cmd).
    pub(crate) command_line: String,
    /// The directory the program started in (Info's cwd when /proc cannot tell).
    pub(crate) start_dir: PathBuf,
    /// Raw output history and the broadcast buffer.
    pub(crate) ring: Writer,
    /// The screen model; it reads the ring lazily, so use [`Session::screen`] to look at it.
    pub(crate) screen: Screen,
    /// The PTY size applied last.
    pub(crate) size: Size,
    /// Every open connection.
    pub(crate) clients: BTreeMap<ClientId, ClientState>,
    /// The client whose size the PTY has: the most recent to send user input, or the
    /// first to attach.
    pub(crate) leader: Option<ClientId>,
    /// Source of [`ClientState::active_seq`] values.
    pub(crate) next_seq: u64,
    /// Input waiting for the PTY to accept it; at most [`INPUT_QUEUE_LIMIT`] bytes.
    pub(crate) input: Vec<u8>,
    /// The session's labels.
    pub(crate) labels: Labels,
    /// When the session was created, unix seconds.
    pub(crate) created_at: u64,
    /// `run` tasks: the running one and those queued behind it.
    pub(crate) tasks: crate::task::Tasks,
    /// The last `run` task's exit code and end time (unix seconds).
    pub(crate) last_task: Option<(u8, u64)>,
    /// The first non-zero exit code of the tasks that ended since `tsm wait` last
    /// collected (Status with payload `collect`), else 0; `None` when none ended since.
    pub(crate) uncollected_exit_code: Option<u8>,
    /// Since when PTY reads wait for a lagging `run` client.
    pub(crate) paused_since: Option<Instant>,
    /// The program's exit, once it happened.
    pub(crate) exit: Option<ExitRecord>,
    /// Where the session is in its life.
    pub(crate) phase: Phase,
    /// Agent detection.
    pub(crate) agents: crate::agents::Agents,
    /// Wakes the event loop when state it waits on changed (input queued, a client
    /// flushed, the phase moved).
    pub(crate) changed: Rc<Notify>,
}

impl Session {
    /// The screen model, caught up with all output.
    pub(crate) fn screen(&mut self) -> &mut Screen {
        self.catch_up_screen();
        &mut self.screen
    }

    /// Lets the model read all output. Its answers to the program's queries go to the PTY
    /// only while no client is attached (an attached terminal answers them itself).
    pub(crate) fn catch_up_screen(&mut self) {
        self.screen.catch_up(&self.ring);
        let replies = self.screen.take_replies();
        if !replies.is_empty() && self.attached_count() == 0 {
            self.queue_input(&replies);
        }
    }

    /// After output was read: a detached session's model reads it at once (to answer
    /// queries), an attached one's when the output pauses (see [`crate::screen`]).
    pub(crate) fn screen_after_output(&mut self) {
        if self.attached_count() == 0 {
            self.catch_up_screen();
        } else {
            self.screen.catch_up_later(Instant::now());
        }
    }

    /// The Info reply: attached clients, the program's pid, command and live directory.
    pub(crate) fn info(&mut self) -> Info {
        let cwd = self
            .screen()
            .cwd()
            .map(PathBuf::from)
            .or_else(|| {
                self.exit.is_none().then(|| tsm_pty::process::cwd(self.child.pid()).ok()).flatten()
            })
            .unwrap_or_else(|| self.start_dir.clone());
        // Whichever ended last: the program, or the last `run` task.
        let program = self.exit.map(|exit| (exit.status.code() as u8, exit.at));
        let ended = program.or(self.last_task);
        Info {
            clients: self.attached_count() as u64,
            pid: self.child.pid(),
            cmd: self.command_line.clone(),
            cwd: cwd.to_string_lossy().into_owned(),
            created_at: self.created_at,
            task_ended_at: ended.map_or(0, |(_, at)| at),
            task_exit_code: ended.map_or(0, |(code, _)| code),
        }
    }

    /// Connections that sent Init and are still open.
    pub(crate) fn attached_count(&self) -> usize {
        self.clients.values().filter(|client| client.attached && client.close == Close::No).count()
    }

    /// The next activity sequence number.
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Applies `size` to the PTY (the program gets SIGWINCH) and to the screen model.
    /// Sizes with a zero dimension are ignored; larger ones are clamped.
    pub(crate) fn apply_size(&mut self, size: Size) {
        if size.rows == 0 || size.cols == 0 {
            return;
        }
        let size = Size { rows: size.rows.min(MAX_ROWS), cols: size.cols.min(MAX_COLS), ..size };
        if size == self.size {
            return;
        }
        self.size = size;
        let window = WindowSize {
            rows: size.rows,
            cols: size.cols,
            xpixel: size.xpixel,
            ypixel: size.ypixel,
        };
        // The output so far was written at the old size.
        self.catch_up_screen();
        if let Err(err) = self.pty.get_ref().resize(window) {
            tracing::warn!(%err, "resize failed");
        }
        self.screen.resize(size);
    }

    /// Input for the program: written to the PTY at once when nothing is queued before it
    /// (one task switch less per keystroke), the rest queued for when the PTY takes it.
    pub(crate) fn queue_input(&mut self, bytes: &[u8]) {
        let mut rest = bytes;
        if self.input.is_empty() {
            match self.pty.get_ref().write(bytes) {
                Ok(n) => rest = &bytes[n..],
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => tracing::debug!(%err, "writing to the PTY failed"),
            }
        }
        if !rest.is_empty() {
            self.input.extend_from_slice(rest);
            self.changed.notify_one();
        }
    }

    /// Wakes every connection's task.
    pub(crate) fn wake_all(&self) {
        for client in self.clients.values() {
            client.wake.notify_one();
        }
    }
}

/// Now, in unix seconds.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
