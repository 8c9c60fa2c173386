//! The daemon's one `select!`: each arm is one call, no logic in the arms.

use std::io;
use std::os::fd::OwnedFd;

use tokio::io::unix::{AsyncFd, AsyncFdReadyGuard};
use tokio::net::UnixListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::{Instant, sleep_until};
use tsm_pty::Pty;

use crate::client::{ClientId, ClientState};
use crate::data_path::{self, READ_BUF_BYTES};
use crate::session::{INPUT_QUEUE_LIMIT, Phase};
use crate::socket::ClientSocket;
use crate::{Shared, agents, attach, connection, lifecycle, listener, task};

/// Runs the session until it is finished.
///
/// # Errors
///
/// Installing the signal handlers failed.
pub(crate) async fn run(
    shared: Shared,
    listener: UnixListener,
    pidfd: AsyncFd<OwnedFd>,
) -> io::Result<()> {
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sighup = signal(SignalKind::hangup())?;
    let (pty, changed) = {
        let session = shared.borrow();
        (session.pty.clone(), session.changed.clone())
    };
    let mut buf = vec![0u8; READ_BUF_BYTES];
    let mut next_id: ClientId = 0;
    let mut pty_open = true;
    loop {
        let (input_pending, running, deadline, paused) = {
            let mut session = shared.borrow_mut();
            if session.phase == Phase::Finished {
                break;
            }
            let pause = task::pause_deadline(&mut session);
            let agents = session.agents.deadline();
            let screen = session.screen.due();
            let deadline = [lifecycle::next_deadline(&session), pause, agents, screen]
                .into_iter()
                .flatten()
                .min();
            let deadline = deadline.map(Instant::from_std);
            (!session.input.is_empty(), session.exit.is_none(), deadline, pause.is_some())
        };
        tokio::select! {
            accepted = listener.accept() => on_accept(&shared, accepted, &mut next_id),
            ready = pty.readable(), if pty_open && !paused => pty_open = on_pty_readable(&shared, ready, &mut buf),
            ready = pty.writable(), if input_pending && running => on_pty_writable(&shared, ready),
            _ = pidfd.readable(), if running => on_child_exit(&mut shared.borrow_mut()),
            _ = sigterm.recv() => lifecycle::begin_kill(&mut shared.borrow_mut()),
            _ = sighup.recv() => lifecycle::begin_kill(&mut shared.borrow_mut()),
            () = sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => {
                let mut session = shared.borrow_mut();
                lifecycle::on_kill_grace_elapsed(&mut session);
                agents::on_timer(&mut session);
                if session.screen.due().is_some_and(|due| due <= std::time::Instant::now()) {
                    session.catch_up_screen();
                }
            }
            () = changed.notified() => {}
        }
        lifecycle::check_ending(&mut shared.borrow_mut());
    }
    let session = shared.borrow();
    listener::remove_own_socket(&session.socket_path, session.socket_id);
    Ok(())
}

/// A connection arrived: refuse other users, serve the rest on their own task.
fn on_accept(
    shared: &Shared,
    accepted: io::Result<(tokio::net::UnixStream, tokio::net::unix::SocketAddr)>,
    next_id: &mut ClientId,
) {
    let stream = match accepted {
        Ok((stream, _)) => stream,
        Err(err) => {
            tracing::warn!(%err, "accept failed");
            return;
        }
    };
    if !listener::peer_allowed(&stream) {
        tracing::warn!(peer = ?stream.peer_cred().ok(), "refused a connection from another user");
        return;
    }
    let stream = match ClientSocket::new(stream) {
        Ok(stream) => std::rc::Rc::new(stream),
        Err(err) => {
            tracing::warn!(%err, "cannot watch an accepted connection");
            return;
        }
    };
    *next_id += 1;
    let id = *next_id;
    shared.borrow_mut().clients.insert(id, ClientState::new(stream.clone()));
    tokio::task::spawn_local(connection::serve(shared.clone(), id, stream));
}

/// PTY output: drain into the ring; resync laggards and write to the attached clients;
/// then the model reads it (at once if no one is attached, to answer terminal queries).
/// Returns whether output may follow.
fn on_pty_readable(
    shared: &Shared,
    ready: io::Result<AsyncFdReadyGuard<'_, Pty>>,
    buf: &mut [u8],
) -> bool {
    let Ok(mut guard) = ready else { return false };
    let mut session = shared.borrow_mut();
    let session = &mut *session;
    let before = session.ring.head();
    let drain = match data_path::on_pty_readable(
        guard.get_inner(),
        buf,
        &mut session.ring,
        &mut session.screen,
    ) {
        Ok(drain) => drain,
        Err(err) => {
            tracing::warn!(%err, "reading the PTY failed");
            return false;
        }
    };
    if drain.would_block {
        guard.clear_ready();
    }
    if drain.bytes > 0 {
        agents::on_output(session, before);
        task::on_output(session);
        attach::resync_laggards(session);
        flush_followers(session);
        // After the clients: their output never waits for the model.
        session.screen_after_output();
    }
    !drain.closed
}

/// Writes new output to every client that follows it, right away; a client whose socket is
/// full is left to its task, which waits until it is writable.
fn flush_followers(session: &mut crate::session::Session) {
    for client in session.clients.values_mut().filter(|c| c.follows_output()) {
        if client.needs_snapshot {
            client.wake.notify_one();
            continue;
        }
        let stream = client.stream.clone();
        match data_path::flush_client(client, &session.ring, &stream) {
            Ok(data_path::Flush::Done) => {}
            Ok(data_path::Flush::Pending) => client.wake.notify_one(),
            Err(_) => {
                client.close = crate::client::Close::Now;
                client.wake.notify_one();
            }
        }
    }
}

/// The PTY takes input again: write what is queued.
fn on_pty_writable(shared: &Shared, ready: io::Result<AsyncFdReadyGuard<'_, Pty>>) {
    let Ok(mut guard) = ready else { return };
    let mut session = shared.borrow_mut();
    let was_full = session.input.len() >= INPUT_QUEUE_LIMIT;
    match guard.get_inner().write(&session.input) {
        Ok(n) => {
            session.input.drain(..n);
        }
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
        Err(err) => {
            tracing::warn!(%err, "writing to the PTY failed; dropping queued input");
            session.input.clear();
        }
    }
    if was_full && session.input.len() < INPUT_QUEUE_LIMIT {
        session.wake_all(); // readers paused by the full queue may read again
    }
}

/// The program exited: lifecycle first, then the agent tracker looks at the processes.
fn on_child_exit(session: &mut crate::session::Session) {
    lifecycle::on_child_exit(session);
    agents::on_child_exit(session);
}
