//! The per-session daemon of tsm: it owns a PTY and the program in it, keeps the
//! session's output, and serves any number of clients over the session's Unix socket.
//!
//! One process per session, one current-thread tokio runtime. The data path
//! (`data_path`) in the order of DESIGN.md:
//!
//! ```text
//! program -> PTY master -> daemon read (large reads, drained until EAGAIN, bounded per wake)
//!               |-> ring.write(chunk)          raw history, and the broadcast buffer
//!               |-> screen.advance(chunk)      what a re-attaching client is sent
//!               '-> clients: each holds an offset into the ring; writable sockets get
//!                   header + ring slices (writev), never a per-client copy of the stream
//! ```
//!
//! - `event_loop`: the one `select!` (accept, PTY readable/writable, program exit,
//!   signals, deadlines).
//! - `connection`: one task per connection; `requests`: one function per request tag.
//! - `attach`: Init, the size-leader rule, resync of clients that fall behind.
//! - `lifecycle`: the program's exit, Kill, signals, the end.
//! - `listener`: bind (0600) and the SO_PEERCRED check: only the owner and root are
//!   served.
//!
//! A slow or stopped client never stalls the PTY, the program or the other clients, and
//! never grows the daemon's memory: past a bound of unsent output (a few screens) it is
//! resynced (its backlog dropped, a fresh snapshot sent, then live output again).
//!
//! Decisions the specs leave open, made here:
//! - Tags 37 (SessionExit) and 38 (Status) are defined in tsm-proto's crate docs.
//! - The size leader is the first client to attach, then whichever attached client most
//!   recently sent user input (focus and mouse reports and query answers do not count;
//!   Send never counts). When the leader leaves, the most recently active client leads.
//! - Sizes with a zero dimension are ignored; sizes are clamped to 1000x1000.
//! - A stale socket at the session's path is reported, not removed (`tsm doctor
//!   clean-stale` and `tsm kill --force` remove it).
//! - Rename also renames the session's log file.

#![deny(missing_docs)]

mod agents;
pub use agents::user_rules_path;
mod attach;
mod client;
mod connection;
mod data_path;
mod error;
mod event_loop;
mod input;
mod lifecycle;
mod listener;
mod procs;
mod requests;
mod screen;
mod session;
mod socket;
mod task;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::OpenOptions;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Mutex;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;
use tsm_proto::{Labels, Size, SocketDir};
use tsm_pty::{SpawnOptions, WindowSize};
use tsm_scrollback::Writer;

pub use crate::error::DaemonError;

use crate::screen::Screen;
use crate::session::{Phase, Session, unix_now};

/// The default ring capacity in bytes: the raw history kept, and how far a client may fall
/// behind before it is resynced (well above the resync bound of 256 KiB).
pub const DEFAULT_RING_BYTES: usize = 1024 * 1024;

/// The daemon's state, shared by the tasks of its one thread.
pub(crate) type Shared = Rc<RefCell<Session>>;

/// What to run and where.
#[derive(Debug, Clone)]
pub struct Options {
    /// The session's name (validated here like everywhere a name enters).
    pub name: String,
    /// The socket directory.
    pub dir: SocketDir,
    /// The program and its arguments; empty means the user's login shell.
    pub command: Vec<OsString>,
    /// The program's working directory.
    pub cwd: PathBuf,
    /// Labels the session starts with.
    pub labels: Labels,
    /// The PTY's initial size.
    pub size: Size,
    /// The ring's capacity in bytes (a power of two).
    pub ring_bytes: usize,
}

impl Options {
    /// Options for session `name` in `dir` running the login shell in `cwd` at 24x80.
    pub fn new(name: impl Into<String>, dir: SocketDir, cwd: impl Into<PathBuf>) -> Options {
        Options {
            name: name.into(),
            dir,
            command: Vec::new(),
            cwd: cwd.into(),
            labels: Labels::new(),
            size: Size::new(24, 80),
            ring_bytes: DEFAULT_RING_BYTES,
        }
    }
}

/// Runs a session: binds its socket, starts its program, calls `on_ready` once both are
/// done (the `tsm` binary then tells `tsm new` it may return), and serves until the
/// session ends. Returns once the socket is removed.
///
/// Call it from a single-threaded process that has not started a runtime.
///
/// # Errors
///
/// [`DaemonError`] when the session cannot start: a bad name, a name in use, a stale
/// socket in the way, an unusable socket directory, a program that cannot be run.
pub fn run(options: Options, on_ready: impl FnOnce()) -> Result<(), DaemonError> {
    let name = options.dir.session_name(&options.name)?;
    options.dir.ensure()?;
    let socket_path = options.dir.socket_path(&name)?;
    let (std_listener, socket_id) = listener::bind(&socket_path, &name)?;
    let spawned = spawn_program(&options, &name);
    let (pty, child) = match spawned {
        Ok(spawned) => spawned,
        Err(err) => {
            listener::remove_own_socket(&socket_path, socket_id);
            return Err(err);
        }
    };
    tracing::info!(name = %name, pid = child.pid(), cmd = %child.command_line(), "session started");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DaemonError::io("start the runtime"))?;
    let local = tokio::task::LocalSet::new();
    let result = local.block_on(&runtime, async move {
        std_listener.set_nonblocking(true).map_err(DaemonError::io("listen"))?;
        let listener =
            tokio::net::UnixListener::from_std(std_listener).map_err(DaemonError::io("listen"))?;
        pty.set_nonblocking(true).map_err(DaemonError::io("PTY"))?;
        let pidfd = child.pidfd().map_err(DaemonError::io("pidfd_open"))?;
        let pidfd = register(pidfd, Interest::READABLE).map_err(DaemonError::io("pidfd"))?;
        let pty = register(pty, Interest::READABLE | Interest::WRITABLE)
            .map_err(DaemonError::io("PTY"))?;
        let pty = Rc::new(pty);
        let agents_log = options.dir.log_dir().join(format!("{name}.agents.log"));
        let session = Session {
            command_line: child.command_line(),
            name,
            dir: options.dir.clone(),
            socket_path,
            socket_id,
            pty,
            child,
            start_dir: options.cwd.clone(),
            ring: Writer::new(options.ring_bytes),
            screen: Screen::new(options.size),
            size: options.size,
            clients: BTreeMap::new(),
            leader: None,
            next_seq: 0,
            input: Vec::new(),
            labels: options.labels.clone(),
            created_at: unix_now(),
            tasks: task::Tasks::default(),
            last_task: None,
            paused_since: None,
            uncollected_exit_code: None,
            exit: None,
            phase: Phase::Running,
            agents: agents::Agents::new(agents_log),
            changed: Rc::new(Notify::new()),
        };
        on_ready();
        event_loop::run(Rc::new(RefCell::new(session)), listener, pidfd)
            .await
            .map_err(DaemonError::io("event loop"))
    });
    tracing::info!("session ended");
    result
}

/// Registers an fd-owning value with the runtime.
pub(crate) fn register<T: AsFdOwner>(inner: T, interest: Interest) -> std::io::Result<AsyncFd<T>> {
    // SAFETY: `T` owns its fd (an `OwnedFd`, a `UnixStream` or a `Pty` holding one): it stays open and the
    // same until the `AsyncFd`, which owns `T`, is dropped, and `as_raw_fd` always returns it.
    unsafe { AsyncFd::register_with_interest(inner, interest) }.map_err(std::io::Error::from)
}

/// Types that own the fd they return from `as_raw_fd` for their whole life.
pub(crate) trait AsFdOwner: std::os::fd::AsRawFd {}
impl AsFdOwner for std::os::fd::OwnedFd {}
impl AsFdOwner for std::os::unix::net::UnixStream {}
impl AsFdOwner for tsm_pty::Pty {}

fn spawn_program(
    options: &Options,
    name: &tsm_proto::SessionName,
) -> Result<(tsm_pty::Pty, tsm_pty::Child), DaemonError> {
    let size = options.size;
    let spawn = SpawnOptions::new(&options.cwd)
        .command(options.command.iter().cloned())
        .env("TSM_SESSION", name.as_str())
        .env("TSM_DIR", options.dir.path())
        .size(WindowSize {
            rows: size.rows,
            cols: size.cols,
            xpixel: size.xpixel,
            ypixel: size.ypixel,
        });
    Ok(tsm_pty::spawn(&spawn)?)
}

/// Sends the daemon's logs to `<socket dir>.logs/<name>.log` (created 0700/0600), at the
/// level of `$TSM_LOG` (default `info`).
///
/// # Errors
///
/// The log directory or file cannot be created.
pub fn init_logging(dir: &SocketDir, name: &str) -> Result<PathBuf, DaemonError> {
    use std::os::unix::fs::OpenOptionsExt;

    let name = dir.session_name(name)?;
    dir.ensure_log_dir()?;
    let path = dir.log_path(&name);
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&path)
        .map_err(DaemonError::io("open the log file"))?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("TSM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
    // The daemon's stderr is /dev/null once it runs: a panic must reach the log.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |panic| {
        tracing::error!("daemon panicked: {panic}");
        default_hook(panic);
    }));
    Ok(path)
}
