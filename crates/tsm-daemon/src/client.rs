//! One client connection's state: attached or not, its place in the ring, what it still
//! has to receive.
//!
//! An attached client is an offset into the ring ([`ClientState::sent`]): it gets the ring's
//! bytes from there on as Output frames. Replies and snapshots go through its control
//! queue ([`ClientState::control`]), which holds whole frames and is sent between Output
//! frames, never inside one.

use std::collections::VecDeque;
use std::rc::Rc;

use tokio::sync::Notify;
use tsm_proto::{HEADER_LEN, Size, Tag};
use tsm_scrollback::Offset;

use crate::socket::ClientSocket;

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

/// A frame that waits until the client has received the output before it.
#[derive(Debug)]
pub(crate) struct Deferred {
    /// The ring offset the client must have been sent first.
    pub(crate) after: Offset,
    /// The whole frame's bytes.
    pub(crate) frame: Vec<u8>,
    /// Sending it ends the client's output window (a finished `run` task).
    pub(crate) ends_window: bool,
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
    /// Where this client's output stops (the end of a `run` task's output); `None`: the
    /// ring head.
    pub(crate) window_end: Option<Offset>,
    /// Frames to send once the client has been sent the ring up to a given offset (the
    /// exit notice after the last output, TaskComplete after the task's output), in order.
    pub(crate) deferred: VecDeque<Deferred>,
    /// It streams a `run` task whose end has not been seen yet.
    pub(crate) task_open: bool,
    /// It fell behind: once its pending bytes are written it gets a fresh snapshot and
    /// continues from the ring head.
    pub(crate) needs_snapshot: bool,
    /// Whether and when to close it.
    pub(crate) close: Close,
    /// Wakes the connection's task when something changed for it.
    pub(crate) wake: Rc<Notify>,
    /// The connection, shared with its task, so new output is written at once after a PTY
    /// read rather than one task switch later.
    pub(crate) stream: Rc<ClientSocket>,
}

impl ClientState {
    /// A new, unattached connection.
    pub(crate) fn new(stream: Rc<ClientSocket>) -> ClientState {
        ClientState {
            attached: false,
            following: false,
            size: None,
            active_seq: 0,
            sent: Offset::ZERO,
            frame: None,
            control: Vec::new(),
            control_sent: 0,
            window_end: None,
            task_open: false,
            deferred: VecDeque::new(),
            needs_snapshot: false,
            close: Close::No,
            wake: Rc::new(Notify::new()),
            stream,
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

    /// Queues a frame to be sent once the client has the ring's bytes before `after`.
    pub(crate) fn defer_frame(
        &mut self,
        after: Offset,
        tag: Tag,
        payload: &[u8],
        ends_window: bool,
    ) {
        let mut frame = Vec::with_capacity(tsm_proto::HEADER_LEN + payload.len());
        tsm_proto::encode_into(tag, payload, &mut frame);
        self.deferred.push_back(Deferred { after, frame, ends_window });
    }

    /// Moves deferred frames that are due onto the control queue. A client that does not
    /// follow the output gets them at once.
    pub(crate) fn release_due(&mut self) {
        while let Some(next) = self.deferred.front() {
            if self.follows_output() && self.sent < next.after {
                return;
            }
            let due = self.deferred.pop_front().expect("front exists");
            self.control.extend_from_slice(&due.frame);
            if due.ends_window {
                self.window_end = None;
                self.following = false;
                self.task_open = false;
            }
        }
    }

    /// Whether it streams a `run` task's output (a window of the ring, not the live view).
    pub(crate) fn runs_task(&self) -> bool {
        self.following
            && !self.attached
            && (self.window_end.is_some() || !self.deferred.is_empty() || self.task_open)
    }

    /// The ring offset this client's output stops at, given the head.
    pub(crate) fn output_limit(&self, head: Offset) -> Offset {
        self.window_end.map_or(head, |end| end.min(head))
    }

    /// Control bytes not yet written.
    pub(crate) fn control_pending(&self) -> &[u8] {
        &self.control[self.control_sent..]
    }

    /// Whether anything is waiting to be written, given the ring head.
    pub(crate) fn wants_write(&self, head: Offset) -> bool {
        self.frame.is_some()
            || !self.control_pending().is_empty()
            || !self.deferred.is_empty()
            || (self.follows_output()
                && (self.needs_snapshot || self.sent < self.output_limit(head)))
    }

    /// Whether it gets the session's output from the ring (attached or following).
    pub(crate) fn follows_output(&self) -> bool {
        self.attached || self.following
    }

    /// Ring bytes this client has not been sent yet.
    pub(crate) fn backlog(&self, head: Offset) -> u64 {
        self.output_limit(head).get().saturating_sub(self.sent.get())
    }
}
