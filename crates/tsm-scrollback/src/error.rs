//! `Lagged`: the one way a read can fail.

use crate::Offset;

/// The bytes a reader asked for were overwritten by the writer before (or while) it read them.
///
/// This is the ring's equivalent of tokio broadcast's `RecvError::Lagged`: the reader fell more
/// than a capacity behind the writer. No bytes are returned with it, never torn ones. The reader
/// decides what to do: the daemon resyncs a client (snapshot, then continue from the head); a
/// reader that only wants the stream can continue from `resume_at`, knowing that `lost` bytes
/// are missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("reader lagged: {lost} bytes were overwritten, oldest retained offset is {resume_at}")]
pub struct Lagged {
    /// How many bytes, from the requested offset on, were overwritten: `resume_at - from`.
    pub lost: u64,
    /// The oldest offset the ring still held when the read was validated (its tail).
    ///
    /// Reading from here may lag again if the writer keeps going. While the writer is in the
    /// middle of a single write longer than the capacity, this can be ahead of the head; a read
    /// from it then returns 0 bytes until that write completes.
    pub resume_at: Offset,
}

impl Lagged {
    /// The lag of a read from `from` when the oldest retained offset is `tail` (`from < tail`).
    pub(crate) fn new(from: Offset, tail: Offset) -> Lagged {
        debug_assert!(from < tail, "a read from {from} is not behind the tail {tail}");
        Lagged { lost: tail - from, resume_at: tail }
    }
}
