//! One client connection's state: attached or not, its place in the ring, what it still
//! has to receive.
//!
//! An attached client is an offset into the ring ([`ClientState::sent`]): it gets the ring's
//! bytes from there on as Output frames. Replies and snapshots go through its control
//! queue ([`ClientState::control`]), which holds whole frames and is sent between Output
//! frames, never inside one.

use std::rc::Rc;

use tokio::sync::Notify;
use tsm_proto::{HEADER_LEN, Size, Tag};
use tsm_scrollback::Offset;

/// Identifies a connection for the life of the daemon.
pub(crate) type ClientId = u64;

/// When the daemon closes a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Close {
    /// Keep it open.
    No,
    /// Close it now, dropping what is pending (Detach, DetachAll).
    Now,
    /// Close it once everything pending has been written (the session ended).
    AfterFlush,
}

/// An Output frame being written: its header and where its payload ends in the ring.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutputFrame {
    /// The frame's header bytes.
    pub(crate) header: [u8; HEADER_LEN],
    /// How many header bytes were written already.
    pub(crate) header_sent: usize,
    /// The ring offset one past the frame's last payload byte.
    pub(crate) end: Offset,
}

/// One connection.
#[derive(Debug)]
pub(crate) struct ClientState {
    /// It sent Init and gets the session's output.
    pub(crate) attached: bool,
    /// It sent Follow (tag 39): it gets the live output, read-only, without attaching.
    pub(crate) following: bool,
    /// The size it last reported (Init or Resize).
    pub(crate) size: Option<Size>,
    /// When it last attached or sent user input, as a session-wide sequence number; the
    /// most recent one leads the size when the leader goes away.
    pub(crate) active_seq: u64,
    /// The next ring byte to send; never ahead of the ring head. Meaningful while attached.
    pub(crate) sent: Offset,
    /// The Output frame being written, if one was started and not finished.
    pub(crate) frame: Option<OutputFrame>,
    /// Whole frames to send before any new Output frame (replies, snapshots).
    pub(crate) control: Vec<u8>,
    /// Bytes of `control` already written.
    pub(crate) control_sent: usize,
    /// It fell behind: once its pending bytes are written it gets a fresh snapshot and
    /// continues from the ring head.
    pub(crate) needs_snapshot: bool,
    /// Whether and when to close it.
    pub(crate) close: Close,
    /// Wakes the connection's task when something changed for it.
    pub(crate) wake: Rc<Notify>,
}

impl ClientState {
    /// A new, unattached connection.
    pub(crate) fn new() -> ClientState {
        ClientState {
            attached: false,
            following: false,
            size: None,
            active_seq: 0,
            sent: Offset::ZERO,
            frame: None,
            control: Vec::new(),
            control_sent: 0,
            needs_snapshot: false,
            close: Close::No,
            wake: Rc::new(Notify::new()),
        }
    }

    /// Queues one whole frame on the control queue.
    pub(crate) fn queue_frame(&mut self, tag: Tag, payload: &[u8]) {
        tsm_proto::encode_into(tag, payload, &mut self.control);
    }

    /// Queues `bytes` as Output frames of at most `max_payload` bytes each.
    pub(crate) fn queue_output(&mut self, bytes: &[u8], max_payload: usize) {
        for chunk in bytes.chunks(max_payload) {
            self.queue_frame(Tag::Output, chunk);
        }
    }

    /// Control bytes not yet written.
    pub(crate) fn control_pending(&self) -> &[u8] {
        &self.control[self.control_sent..]
    }

    /// Whether anything is waiting to be written, given the ring head.
    pub(crate) fn wants_write(&self, head: Offset) -> bool {
        self.frame.is_some()
            || !self.control_pending().is_empty()
            || (self.follows_output() && (self.needs_snapshot || self.sent < head))
    }

    /// Whether it gets the session's output from the ring (attached or following).
    pub(crate) fn follows_output(&self) -> bool {
        self.attached || self.following
    }

    /// Ring bytes this client has not been sent yet.
    pub(crate) fn backlog(&self, head: Offset) -> u64 {
        head.get().saturating_sub(self.sent.get())
    }
}
