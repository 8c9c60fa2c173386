//! A lock-free byte ring with one writer and many readers, addressed by absolute `u64` offsets.
//!
//! It is the tsm daemon's raw history *and* its broadcast buffer: the daemon [`Writer::write`]s
//! every chunk it reads from the PTY, and each attached client is nothing more than an [`Offset`]
//! into the ring. Nothing is copied per client: on the daemon's thread,
//! [`Writer::slices`] lends the bytes from a client's offset to the head straight out of the
//! ring's memory, ready for `writev`.
//!
//! - **One [`Writer`]**, the only thing that changes the ring. A write never waits for readers
//!   and never fails; once the ring is full, each write overwrites the oldest bytes.
//! - **Any number of [`Reader`]s**, cloneable, `Send + Sync`, on any thread (say, the terminal
//!   model following the stream on its own thread). A reader copies a range out and then checks
//!   that the writer did not overwrite it meanwhile, seqlock style, so it gets either exactly the
//!   bytes that were written or [`Lagged`], never torn data.
//! - **Absolute offsets.** [`Offset`] `0` is the first byte ever written and the head is the total
//!   written so far; they never wrap. The ring's capacity is a power of two, in bytes, and it
//!   retains the offsets `[head - capacity, head)` (the tail is the first of those).
//!
//! ```
//! use tsm_scrollback::{Offset, Writer};
//!
//! let mut writer = Writer::new(1 << 20); // 1 MiB of history
//! let reader = writer.reader();          // hand clones of it to other threads
//!
//! writer.write(b"$ make\n");
//! writer.write(b"ok\n");
//!
//! let mut buf = [0; 64];
//! let n = reader.read_at(Offset(2), &mut buf)?;
//! assert_eq!(&buf[..n], b"make\nok\n");
//! assert_eq!(reader.head(), Offset(10));
//! assert_eq!(reader.tail_lines(1), b"ok\n");
//! # Ok::<(), tsm_scrollback::Lagged>(())
//! ```
//!
//! ## Lagging
//!
//! The writer never waits, so a reader that falls more than a capacity behind loses bytes. Its
//! next read from the old offset returns [`Lagged`], which says how many bytes from that offset
//! were lost and where the retained history now starts (`resume_at`), like tokio broadcast's
//! `RecvError::Lagged`. The reader chooses what to do: the daemon resyncs such a client (a
//! screen snapshot, then live from the head); a reader that only wants the stream continues from
//! `resume_at`.
//!
//! ```
//! use tsm_scrollback::{Lagged, Offset, Writer};
//!
//! let mut writer = Writer::new(16);
//! let reader = writer.reader();
//! let mut pos = Offset::ZERO;
//! let mut buf = [0; 16];
//!
//! writer.write(b"0123456789");
//! let n = reader.read_at(pos, &mut buf)?; // keeps up
//! assert_eq!(&buf[..n], b"0123456789");
//! pos += n as u64;
//!
//! writer.write(b"abcdefghijklmnopqrst"); // 20 more bytes: the ring keeps the last 16
//! assert_eq!(reader.tail(), Offset(14));
//! match reader.read_at(pos, &mut buf) {
//!     Err(Lagged { lost, resume_at }) => {
//!         assert_eq!((lost, resume_at), (4, Offset(14))); // "abcd" is gone
//!         pos = resume_at;
//!     }
//!     Ok(_) => unreachable!("offset 10 was overwritten"),
//! }
//! let n = reader.read_at(pos, &mut buf)?;
//! assert_eq!(&buf[..n], b"efghijklmnopqrst");
//! # Ok::<(), Lagged>(())
//! ```
//!
//! ## How it is sound
//!
//! The buffer is a slice of atomic machine words, so the writer's stores and the readers'
//! loads never form a data race; the seqlock protocol (in `ring.rs`) only has to rule out logical
//! tears, and its argument sits next to each atomic operation. `Writer::slices` hands out plain
//! `&[u8]` to that memory: sound because only the writer changes it, through `&mut self`, so
//! nothing changes it while the slices borrow the writer, and other threads only read it.
//! The atomics come from `sync.rs` (loom under `--cfg loom`), and `tests/loom.rs` model-checks one
//! writer and two readers on a 16-byte ring.
//!
//! ## What it does not do
//!
//! - It does not wait or notify: a read at the head returns 0 bytes. The owner of the writer wakes
//!   whoever follows it (the daemon wakes writable clients once per batch of writes).
//! - It does not grow, shrink or persist: the capacity is fixed at [`Writer::new`] and the history
//!   lives in memory only.
//! - It has one writer: [`Writer`] is not `Clone`; several producers need their own ring or a lock.
//! - It does not index lines or frame messages: it is a byte stream. [`Reader::tail_lines`] scans
//!   backwards from the head on each call.
//! - [`Writer::slices`] is not available under `--cfg loom`.

#![deny(missing_docs)]

mod error;
mod offset;
mod ring;
mod sync;

pub use crate::error::Lagged;
pub use crate::offset::Offset;
pub use crate::ring::{MIN_CAPACITY, Reader, Writer};
