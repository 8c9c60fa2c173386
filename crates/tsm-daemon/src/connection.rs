//! The task that serves one connection: reads its frames and hands them to
//! [`requests`](crate::requests), writes what it has pending when the socket takes it.
//!
//! Each connection has its own task on the daemon's thread, so a client that stops
//! reading only stops its own task; the PTY and the other clients never wait for it.

use std::io::{self, Read};

use tsm_proto::FrameDecoder;

use crate::Shared;
use crate::attach;
use crate::client::{ClientId, Close};
use crate::data_path::{self, Flush};
use crate::requests::{self, Next};
use crate::session::{INPUT_QUEUE_LIMIT, Phase};
use crate::socket::ClientSocket;

/// Bytes read from one client per wake before the others get a turn.
const CLIENT_READ_BUDGET_BYTES: usize = 256 * 1024;

/// Replies a client may leave unread before its requests are no longer read: a client that
/// sends requests and never reads the answers holds at most this much of the daemon's
/// memory (plus one reply).
pub(crate) const CONTROL_QUEUE_LIMIT: usize = 1024 * 1024;

/// Serves connection `id` until it closes or the daemon closes it.
pub(crate) async fn serve(shared: Shared, id: ClientId, stream: std::rc::Rc<ClientSocket>) {
    let Some(wake) = shared.borrow().clients.get(&id).map(|c| c.wake.clone()) else { return };
    let mut decoder = FrameDecoder::new();
    loop {
        let (close, wants_write, can_read) = {
            let session = shared.borrow();
            let Some(client) = session.clients.get(&id) else { break };
            let input_room = session.input.len() < INPUT_QUEUE_LIMIT;
            let reply_room = client.control_pending().len() < CONTROL_QUEUE_LIMIT;
            (
                client.close,
                client.wants_write(session.ring.head()),
                input_room && reply_room && client.close == Close::No,
            )
        };
        match close {
            Close::Now => break,
            Close::AfterFlush if !wants_write => break,
            _ => {}
        }
        // Frames read while the PTY input queue was full wait in the decoder; handle them
        // once it has room, before reading more.
        if can_read
            && decoder.buffered() > 0
            && handle_frames(&shared, id, &mut decoder) == Next::Close
        {
            break;
        }
        tokio::select! {
            ready = stream.readable(), if can_read => {
                if ready.is_err() || on_readable(&shared, id, &stream, &mut decoder) == Next::Close {
                    break;
                }
            }
            ready = stream.writable(), if wants_write => {
                if ready.is_err() || on_writable(&shared, id, &stream).is_err() {
                    break;
                }
            }
            () = wake.notified() => {}
        }
    }
    on_closed(&shared, id);
}

/// Reads what the client sent (bounded per wake) and handles every whole frame.
fn on_readable(
    shared: &Shared,
    id: ClientId,
    stream: &ClientSocket,
    decoder: &mut FrameDecoder,
) -> Next {
    let mut budget = CLIENT_READ_BUDGET_BYTES;
    while budget > 0 {
        match decoder.read_from(&mut TryRead(stream)) {
            Ok(0) => return Next::Close,
            Ok(n) => budget = budget.saturating_sub(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Next::Close,
        }
        if handle_frames(shared, id, decoder) == Next::Close {
            return Next::Close;
        }
    }
    handle_frames(shared, id, decoder)
}

/// Handles the whole frames in the decoder, while the PTY input queue and the client's
/// reply queue have room.
fn handle_frames(shared: &Shared, id: ClientId, decoder: &mut FrameDecoder) -> Next {
    let mut session = shared.borrow_mut();
    let reply_room = |session: &crate::session::Session| {
        session.clients.get(&id).is_some_and(|c| c.control_pending().len() < CONTROL_QUEUE_LIMIT)
    };
    while session.input.len() < INPUT_QUEUE_LIMIT && reply_room(&session) {
        match decoder.next_frame() {
            Ok(Some(frame)) => {
                if requests::handle(&mut session, id, frame) == Next::Close {
                    return Next::Close;
                }
            }
            Ok(None) => break,
            Err(err) => {
                tracing::debug!(%err, "closing a connection that broke the framing");
                return Next::Close;
            }
        }
    }
    Next::Continue
}

/// Writes what the client has pending; a resynced client gets its snapshot once its
/// earlier bytes are out.
fn on_writable(shared: &Shared, id: ClientId, stream: &ClientSocket) -> io::Result<()> {
    let mut guard = shared.borrow_mut();
    let session = &mut *guard;
    let needs_snapshot = session
        .clients
        .get(&id)
        .is_some_and(|c| c.needs_snapshot && c.frame.is_none() && c.control_pending().is_empty());
    if needs_snapshot {
        attach::send_snapshot(session, id);
    }
    let Some(client) = session.clients.get_mut(&id) else { return Ok(()) };
    let flushed = data_path::flush_client(client, &session.ring, stream)?;
    if session.paused_since.is_some() {
        session.changed.notify_one(); // PTY reads may wait for this client
    }
    if flushed == Flush::Done && matches!(session.phase, Phase::Ending { .. }) {
        session.changed.notify_one(); // the event loop checks whether the daemon may end
    }
    Ok(())
}

/// The connection is gone: forget it, pass the size lead on.
fn on_closed(shared: &Shared, id: ClientId) {
    let mut session = shared.borrow_mut();
    let was_attached = session.clients.get(&id).is_some_and(|c| c.attached);
    if was_attached {
        // The queries in the output this client got were its terminal's to answer.
        let session = &mut *session;
        session.screen.catch_up(&session.ring);
        session.screen.take_replies();
    }
    attach::on_client_gone(&mut session, id);
    crate::agents::on_closed(&mut session, id);
    if was_attached {
        crate::agents::on_client(&mut session, tsm_agents::tracker::ClientEvent::Detached);
    }
    session.tasks.forget_requester(id);
    session.clients.remove(&id);
    session.changed.notify_one();
}

/// `Read` over a non-blocking tokio stream (`WouldBlock` when it has nothing).
struct TryRead<'a>(&'a ClientSocket);

impl Read for TryRead<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.try_read(buf)
    }
}
