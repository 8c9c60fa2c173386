//! The hot path, top to bottom: PTY output into the ring and the screen model, then out of
//! the ring to each writable client with vectored writes (DESIGN.md, "The data path").
//!
//! Nothing here logs above `trace`, allocates per chunk, or does per-client work inside the
//! read loop: clients are only woken once per drain.

use std::io::{self, IoSlice};

use tsm_proto::{FrameHeader, Tag};
use tsm_pty::Pty;
use tsm_scrollback::{Offset, Writer};

use crate::client::{ClientState, OutputFrame};
use crate::screen::Screen;
use crate::socket::ClientSocket;

/// Bytes read from the PTY per wake before other sources get a turn (and before attached
/// clients are written to, so a fast client keeps up in steps of this size).
pub(crate) const READ_BUDGET_BYTES: usize = 128 * 1024;

/// Size of the PTY read buffer: large reads, few syscalls.
pub(crate) const READ_BUF_BYTES: usize = 64 * 1024;

/// The largest Output frame payload the daemon sends, in bytes.
pub(crate) const MAX_OUTPUT_FRAME: usize = 128 * 1024;

/// A client whose unsent backlog passes this many bytes is resynced: several PTY reads'
/// worth, so a client that keeps up is never resynced, and far below the ring's capacity,
/// so its in-flight frame is still there.
pub(crate) const BACKLOG_LIMIT_BYTES: u64 = 512 * 1024;

/// What one drain of the PTY found.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Drain {
    /// Bytes read.
    pub(crate) bytes: usize,
    /// The PTY had nothing more (`EAGAIN`): its readiness can be cleared.
    pub(crate) would_block: bool,
    /// Output ended: every slave fd is closed (EIO on Linux).
    pub(crate) closed: bool,
}

/// PTY readable: drain it (bounded per wake) into the ring and, now or later, the model.
///
/// # Errors
///
/// A read error other than `EAGAIN`/`EINTR` (EIO is end of output, not an error).
pub(crate) fn on_pty_readable(
    pty: &Pty,
    buf: &mut [u8],
    ring: &mut Writer,
    screen: &mut Screen,
) -> io::Result<Drain> {
    let mut drain = Drain::default();
    while drain.bytes < READ_BUDGET_BYTES {
        let n = match pty.read(buf) {
            Ok(0) => {
                drain.closed = true;
                break;
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                drain.would_block = true;
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        screen.record(ring, &buf[..n]); // the broadcast buffer, then the model
        drain.bytes += n;
    }
    Ok(drain)
}

/// What a flush left behind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flush {
    /// Everything pending was written.
    Done,
    /// The socket would block; wait until it is writable.
    Pending,
}

/// Writes what `client` has pending: first the rest of an Output frame in flight, then
/// its control queue, then new Output frames straight from the ring (header + at most two
/// ring slices per `writev`, never a copy).
///
/// A client marked `needs_snapshot` gets nothing from the ring until its pending bytes are
/// out; then the caller sends the snapshot (see [`crate::attach::send_snapshot`]).
///
/// # Errors
///
/// The socket's errors other than `WouldBlock` (the client is gone).
pub(crate) fn flush_client(
    client: &mut ClientState,
    ring: &Writer,
    stream: &ClientSocket,
) -> io::Result<Flush> {
    loop {
        if let Some(frame) = client.frame {
            if !write_frame_part(client, frame, ring, stream)? {
                return Ok(Flush::Pending);
            }
            continue;
        }
        client.release_due();
        if !client.control_pending().is_empty() {
            match stream.try_write(client.control_pending()) {
                Ok(n) => client.control_sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Flush::Pending),
                Err(e) => return Err(e),
            }
            if client.control_pending().is_empty() {
                client.control.clear();
                client.control_sent = 0;
            }
            continue;
        }
        let limit = client.output_limit(ring.head());
        if !client.follows_output() || client.needs_snapshot || client.sent >= limit {
            return Ok(Flush::Done);
        }
        let len = client.backlog(ring.head()).min(MAX_OUTPUT_FRAME as u64);
        // `len` <= MAX_OUTPUT_FRAME, so it fits in u32.
        let header = FrameHeader::new(Tag::Output, len as u32).encode();
        client.frame =
            Some(OutputFrame { header, header_sent: 0, end: Offset(client.sent.get() + len) });
    }
}

/// Writes as much of the in-flight Output frame as the socket takes. Returns whether the
/// frame is complete.
fn write_frame_part(
    client: &mut ClientState,
    frame: OutputFrame,
    ring: &Writer,
    stream: &ClientSocket,
) -> io::Result<bool> {
    let (first, second) = ring.slices(client.sent, frame.end).map_err(|lagged| {
        // Cannot happen: clients are resynced long before the ring laps them, and a resync
        // copies the rest of an in-flight frame out of the ring.
        io::Error::other(format!("ring overwrote an in-flight frame: {lagged}"))
    })?;
    let header = &frame.header[frame.header_sent..];
    let slices = [IoSlice::new(header), IoSlice::new(first), IoSlice::new(second)];
    let written = match stream.try_write_vectored(&slices) {
        Ok(n) => n,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
        Err(e) => return Err(e),
    };
    let from_header = written.min(header.len());
    let from_payload = written - from_header;
    client.sent = Offset(client.sent.get() + from_payload as u64);
    let header_sent = frame.header_sent + from_header;
    if header_sent == frame.header.len() && client.sent == frame.end {
        client.frame = None;
        return Ok(true);
    }
    client.frame = Some(OutputFrame { header_sent, ..frame });
    Ok(false)
}
