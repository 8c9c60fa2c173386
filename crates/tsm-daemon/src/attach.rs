//! Attach (Init), resync of clients that fell behind, detach, and the size-leader rule
//! (spec/wire.md, "Attach (Init) ordering").
//!
//! Attach is atomic on the daemon's one thread: the connection is marked attached, the
//! snapshot is taken at the current size, the client's ring offset is set to the head,
//! and only then is its size applied. No chunk is lost or doubled between the snapshot and
//! the live stream.

use tsm_proto::{Size, Tag};

use crate::client::{ClientId, ClientState, Close};
use crate::data_path::{BACKLOG_LIMIT_BYTES, MAX_OUTPUT_FRAME};
use crate::session::{Phase, Session};

/// Init: makes `id` an attached client, sends it the screen, applies its size if it leads.
pub(crate) fn attach(session: &mut Session, id: ClientId, size: Option<Size>) {
    let seq = session.next_seq();
    let has_output = session.ring.head().get() > 0;
    let head = session.ring.head();
    let mut snapshot = Vec::new();
    if has_output {
        session.screen().snapshot_into(&mut snapshot);
    }
    let exit = session.exit;
    let Some(client) = session.clients.get_mut(&id) else { return };
    client.attached = true;
    client.active_seq = seq;
    if size.is_some() {
        client.size = size;
    }
    client.queue_output(&snapshot, MAX_OUTPUT_FRAME);
    client.sent = head;
    client.frame = None;
    client.needs_snapshot = false;
    if let Some(exit) = exit {
        // Attaching to an exited session shows its last screen, then ends it.
        client.queue_frame(Tag::SessionExit, &[exit.status.code() as u8]);
        client.close = Close::AfterFlush;
        session.end_seen();
        return;
    }
    let leader_attached =
        session.leader.and_then(|leader| session.clients.get(&leader)).is_some_and(|c| c.attached);
    if !leader_attached {
        session.leader = Some(id);
    }
    if session.leader == Some(id)
        && let Some(size) = size
    {
        session.apply_size(size);
    }
}

/// A client sent user input: it becomes the size leader.
pub(crate) fn take_lead(session: &mut Session, id: ClientId) {
    let seq = session.next_seq();
    let Some(client) = session.clients.get_mut(&id) else { return };
    client.active_seq = seq;
    if !client.attached || session.leader == Some(id) {
        return;
    }
    let size = client.size;
    session.leader = Some(id);
    if let Some(size) = size {
        session.apply_size(size);
    }
}

/// A client reported a new size.
pub(crate) fn resize(session: &mut Session, id: ClientId, size: Size) {
    let Some(client) = session.clients.get_mut(&id) else { return };
    client.size = Some(size);
    if session.leader == Some(id) || (session.leader.is_none() && client.attached) {
        session.leader = Some(id);
        session.apply_size(size);
    }
}

/// A client detached or went away: if it led, the most recently active attached client
/// leads now and its size is applied.
pub(crate) fn on_client_gone(session: &mut Session, id: ClientId) {
    if session.leader != Some(id) {
        return;
    }
    let next = session
        .clients
        .iter()
        .filter(|(other, client)| **other != id && client.attached && client.close == Close::No)
        .max_by_key(|(_, client)| client.active_seq)
        .map(|(other, client)| (*other, client.size));
    session.leader = next.map(|(other, _)| other);
    if let Some((_, Some(size))) = next {
        session.apply_size(size);
    }
}

/// After new output: every attached client whose backlog passed the bound is resynced.
/// Its in-flight frame is completed from a copy, the rest of its backlog dropped, and it
/// gets a fresh snapshot once its pending bytes are out. The PTY never waits for it.
pub(crate) fn resync_laggards(session: &mut Session) {
    let head = session.ring.head();
    for client in session.clients.values_mut() {
        if !client.follows_output()
            || client.needs_snapshot
            || client.backlog(head) <= backlog_limit(client, session.ring.capacity())
        {
            continue;
        }
        finish_frame_from_copy(client, &session.ring);
        client.sent = head;
        if client.attached {
            client.needs_snapshot = true;
        } else {
            // A follower (tail) has no screen to repaint: it is told what it missed.
            client.queue_frame(
                Tag::Output,
                b"\r\n[tsm: output skipped: this reader fell behind]\r\n",
            );
        }
        tracing::debug!("client fell behind; resyncing");
    }
}

/// How far `client` may fall behind before it is resynced: a few screens for a view of the
/// session; for a `run` task's output, as much as the ring can hold while a burst arrives
/// (the PTY pauses for it first, see [`crate::task::pause_deadline`]).
fn backlog_limit(client: &ClientState, ring_capacity: usize) -> u64 {
    if client.runs_task() {
        (ring_capacity as u64)
            .saturating_sub(2 * crate::data_path::READ_BUDGET_BYTES as u64)
            .max(BACKLOG_LIMIT_BYTES)
    } else {
        BACKLOG_LIMIT_BYTES
    }
}

/// Moves the rest of `client`'s in-flight Output frame (still in the ring, since the
/// backlog bound is far below the ring's capacity) onto its control queue.
fn finish_frame_from_copy(client: &mut ClientState, ring: &tsm_scrollback::Writer) {
    let Some(frame) = client.frame.take() else { return };
    let mut rest = frame.header[frame.header_sent..].to_vec();
    match ring.slices(client.sent, frame.end) {
        Ok((first, second)) => {
            rest.extend_from_slice(first);
            rest.extend_from_slice(second);
        }
        Err(_) => {
            // Unreachable by the bound above; if it ever happens the stream would be
            // corrupt, so close the client instead.
            client.close = Close::Now;
            return;
        }
    }
    // The rest of the frame must go out before anything else queued.
    let pending = client.control_pending().to_vec();
    client.control = rest;
    client.control.extend_from_slice(&pending);
    client.control_sent = 0;
}

/// Sends the fresh snapshot a resynced client waits for, once its pending bytes are out.
pub(crate) fn send_snapshot(session: &mut Session, id: ClientId) {
    let mut snapshot = Vec::new();
    session.screen().snapshot_into(&mut snapshot);
    let head = session.ring.head();
    let Some(client) = session.clients.get_mut(&id) else { return };
    client.queue_output(&snapshot, MAX_OUTPUT_FRAME);
    client.sent = head;
    client.needs_snapshot = false;
}

impl Session {
    /// Someone saw the exit (attached, or read the history): the daemon ends once the
    /// attached clients have their last bytes.
    pub(crate) fn end_seen(&mut self) {
        if matches!(self.phase, Phase::ExitedUnseen | Phase::Running) {
            self.phase = Phase::Ending { deadline: std::time::Instant::now() + END_FLUSH_GRACE };
            self.changed.notify_one();
        }
    }
}

/// How long the daemon waits for attached clients to take their last bytes before it ends.
pub(crate) const END_FLUSH_GRACE: std::time::Duration = std::time::Duration::from_secs(2);
