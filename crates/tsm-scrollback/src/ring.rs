//! The ring: one [`Writer`], the only mutator, and any number of [`Reader`]s on any thread.
//!
//! # Protocol
//!
//! The buffer is a power-of-two number of bytes, stored as machine words (`AtomicUsize`, bytes in
//! native order, so the words' memory read as bytes *is* the ring). Every access to it is an
//! atomic word access, so a reader racing with the writer is never a data race; what the reader
//! must rule out is a *logical* tear: bytes that were overwritten while it copied them. It does
//! that the way a seqlock does, with two counters:
//!
//! ```text
//! writer, write(data) from head h to h + n:     reader, read_at(from, buf):
//!   reserved := h + n          (Relaxed)          h1 := head               (Acquire)
//!   fence(Release)                                copy [from, min(h1, ..)) (Relaxed loads)
//!   store the bytes            (Relaxed)          fence(Acquire)
//!   head := h + n              (Release)          r2 := reserved           (Relaxed)
//!                                                 ok iff from >= r2 - capacity
//! ```
//!
//! * Loading `head` with Acquire makes every byte below it visible: each load returns the value
//!   the writer stored for that offset or a *newer* one (an overwrite).
//! * If a copied byte is an overwrite, the load that returned it read a store made after the
//!   writer's Release fence, so that fence synchronizes with the reader's Acquire fence, and the
//!   reader's load of `reserved` returns that write's reservation or a later one. The overwritten
//!   offset is below that reservation minus the capacity, so the check fails. Conversely, every
//!   copied byte at an offset `>= r2 - capacity` is exactly what the writer wrote there.
//!
//! The writer never looks at the readers: a write is four steps whatever they do.

use crate::sync::Ordering::{Acquire, Relaxed, Release};
use crate::sync::{Arc, AtomicU64, AtomicUsize, fence};
use crate::{Lagged, Offset};
use std::fmt;

/// Bytes in one word of the buffer.
const WORD: usize = size_of::<usize>();

/// The smallest capacity a ring accepts, in bytes: whole words on every target.
pub const MIN_CAPACITY: usize = 16;

/// The first chunk `tail_lines` copies, in bytes: enough for a screenful of typical lines.
const TAIL_SCAN_FIRST_CHUNK: usize = 4 * 1024;

/// The largest chunk `tail_lines` copies at once, in bytes: chunks grow to this size by doubling,
/// so a long scan makes few validated copies and a short one copies little.
const TAIL_SCAN_MAX_CHUNK: usize = 1024 * 1024;

/// How many times `tail_lines` starts again from a new head when the writer overwrote even the
/// newest bytes of the last scan (only a tiny ring under a flood can do that), before it gives up
/// and returns no lines.
const TAIL_LINES_ATTEMPTS: usize = 4;

/// The state a [`Writer`] and its [`Reader`]s share.
///
/// The two counters sit on cache lines of their own, apart from each other and from the
/// read-only fields: the writer stores both on every write, and readers load `head` whenever
/// they poll, so sharing a line would make every reader access miss after every write. Measured
/// (4 KiB writes, 1 MiB ring, one thread spinning on `head()`): writer 11 GB/s with everything
/// on one line, 13-19 GB/s padded this way, 31 GB/s with no reader.
struct Ring {
    /// The bytes, `WORD` per word in native byte order: stream offset `p` lives at byte
    /// `p & mask` of the words' memory. Only [`Writer::write`] stores to it, and only with whole
    /// word stores. Every byte at an offset in `[reserved - capacity, head)` holds what was written
    /// at that offset; bytes below `reserved - capacity` may already hold newer data.
    words: Box<[AtomicUsize]>,
    /// `capacity - 1`, where the capacity (bytes) is a power of two `>= MIN_CAPACITY` and equals
    /// `words.len() * WORD`. Never changes.
    mask: usize,
    /// Total bytes ever written whose data is fully stored (the end of the last complete write).
    /// Only the writer stores it; it never decreases and is never above `reserved`.
    head: CachePadded<AtomicU64>,
    /// The head the writer is moving to. It is stored *before* any byte of a write, so bytes
    /// below `reserved - capacity` may be overwritten already. Only the writer stores it; it never
    /// decreases; it equals `head` between writes and is `head + len` during a write of `len`.
    reserved: CachePadded<AtomicU64>,
}

/// A value alone in its cache line; 128 bytes because x86 prefetches lines in adjacent pairs.
#[repr(align(128))]
struct CachePadded<T>(T);

impl<T> std::ops::Deref for CachePadded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl Ring {
    /// The capacity in bytes.
    fn capacity(&self) -> usize {
        self.mask + 1
    }

    /// The index in the buffer (in bytes) of stream offset `p`.
    fn index(&self, p: u64) -> usize {
        // Truncating first is fine: the mask fits in a usize.
        (p as usize) & self.mask
    }

    /// Copies the stream bytes `[from, from + out.len())` out of the buffer, without validation.
    /// `out.len() <= capacity`.
    fn load_bytes(&self, from: u64, out: &mut [u8]) {
        let start = self.index(from);
        let first = out.len().min(self.capacity() - start);
        let (a, b) = out.split_at_mut(first);
        load_run(&self.words, start, a);
        load_run(&self.words, 0, b);
    }

    /// Stores `data` as the stream bytes `[at, at + data.len())`. `data.len() <= capacity`.
    /// Only the writer calls this.
    fn store_bytes(&self, at: u64, data: &[u8]) {
        let start = self.index(at);
        let first = data.len().min(self.capacity() - start);
        let (a, b) = data.split_at(first);
        store_run(&self.words, start, a);
        store_run(&self.words, 0, b);
    }

    /// Copies the stream bytes `[from, from + out.len())` and validates the copy.
    ///
    /// The caller loaded `head` with Acquire and `from + out.len()` is not above it. Returns the
    /// tail at validation time: every byte of `out` at an offset `>=` it is exactly what the
    /// writer wrote there; bytes below it may be torn. `from` itself is valid if the result is
    /// `<= from`.
    fn load_validated(&self, from: u64, out: &mut [u8]) -> u64 {
        self.load_bytes(from, out);
        // Acquire fence: if a load above returned a byte stored by a write that overwrote it, that
        // store comes after the writer's Release fence in `Writer::write`, so the two fences
        // synchronize, and the `reserved` store made before that fence happens-before the load
        // of `reserved` below.
        fence(Acquire);
        // Relaxed: ordered after the copy by the fence above, which is all the check needs.
        let reserved = self.reserved.load(Relaxed);
        reserved.saturating_sub(self.capacity() as u64)
    }

    /// The committed head, with Acquire: every byte below it is visible to this thread.
    fn head(&self) -> u64 {
        // Acquire: pairs with the Release store in `Writer::write`, so the bytes of every write
        // up to this head are visible to later loads of the buffer on this thread.
        self.head.load(Acquire)
    }

    /// The oldest offset not (being) overwritten, clamped to the head so it is never ahead of
    /// it. Advisory: the writer may move it at any moment.
    fn tail(&self) -> u64 {
        let head = self.head();
        // Relaxed: an advisory value. It is at least `head` (the reservation of the write whose
        // head we just acquired was stored before that head), so `min` only matters during a
        // write longer than the capacity.
        let reserved = self.reserved.load(Relaxed);
        reserved.saturating_sub(self.capacity() as u64).min(head)
    }

    /// Reads up to `buf.len()` bytes from `from`; see [`Reader::read_at`].
    fn read_at(&self, from: Offset, buf: &mut [u8]) -> Result<usize, Lagged> {
        let head = self.head();
        let tail = head.saturating_sub(self.capacity() as u64);
        if from.0 < tail {
            // Gone before we copy anything: no need to copy to find out.
            return Err(Lagged::new(from, Offset(tail)));
        }
        if from.0 >= head {
            return Ok(0);
        }
        let n = usize::try_from(head - from.0).map_or(buf.len(), |avail| avail.min(buf.len()));
        let tail = self.load_validated(from.0, &mut buf[..n]);
        if from.0 < tail {
            return Err(Lagged::new(from, Offset(tail)));
        }
        Ok(n)
    }

    /// The last `n` lines of what is retained; see [`Reader::tail_lines`].
    fn tail_lines(&self, n: usize) -> Vec<u8> {
        if n == 0 {
            return Vec::new();
        }
        for _ in 0..TAIL_LINES_ATTEMPTS {
            if let Some(lines) = self.tail_lines_below(self.head(), n) {
                return lines;
            }
        }
        Vec::new()
    }

    /// The last `n > 0` lines of the bytes below `head` (loaded with Acquire), or `None` if the
    /// writer overwrote all of the newest bytes before they could be copied.
    ///
    /// Scans backwards from the head in validated chunks (small first, then doubling), so it
    /// copies little when the lines are short, and stops at the first chunk whose start the
    /// writer overwrote meanwhile: that is where the retained history begins.
    fn tail_lines_below(&self, head: u64, n: usize) -> Option<Vec<u8>> {
        // Never look below the oldest byte retained at the start; it only moves up.
        let mut floor = head.saturating_sub(self.capacity() as u64);
        // Copied chunks, newest first; together they cover `[pos, head)`.
        let mut chunks: Vec<Vec<u8>> = Vec::new();
        let mut pos = head;
        let mut chunk_len = TAIL_SCAN_FIRST_CHUNK;
        // Newlines still to pass, going backwards. A newline at the very end ends the last line
        // rather than starting an empty one, so it does not count: it is added back below.
        let mut newlines = n;
        while pos > floor {
            let lo = pos.saturating_sub(chunk_len as u64).max(floor);
            let mut chunk = vec![0; (pos - lo) as usize];
            let valid = self.load_validated(lo, &mut chunk).max(lo);
            if valid >= pos {
                if pos == head {
                    return None; // The newest bytes are gone: start again from the new head.
                }
                break; // Everything below `pos` is gone: the history starts at `pos`.
            }
            if valid > lo {
                // The writer overwrote the start of this chunk: keep the rest, and stop after it.
                chunk.drain(..(valid - lo) as usize);
                floor = valid;
            }
            if pos == head && chunk.last() == Some(&b'\n') {
                newlines += 1;
            }
            pos = valid;
            match nth_newline_back(&chunk, &mut newlines) {
                Some(i) => {
                    chunk.drain(..=i);
                    chunks.push(chunk);
                    break;
                }
                None => chunks.push(chunk),
            }
            chunk_len = (chunk_len * 2).min(TAIL_SCAN_MAX_CHUNK);
        }
        let mut out = Vec::with_capacity(chunks.iter().map(Vec::len).sum());
        for chunk in chunks.iter().rev() {
            out.extend_from_slice(chunk);
        }
        Some(out)
    }
}

/// Counts newlines in `chunk` from its end down, decrementing `*left`; returns the index of the
/// newline at which it reaches zero.
fn nth_newline_back(chunk: &[u8], left: &mut usize) -> Option<usize> {
    for (i, &b) in chunk.iter().enumerate().rev() {
        if b == b'\n' {
            *left -= 1;
            if *left == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Copies bytes `[start, start + out.len())` of the words' memory into `out` (no wrap).
fn load_run(words: &[AtomicUsize], start: usize, mut out: &mut [u8]) {
    if out.is_empty() {
        return;
    }
    let mut w = start / WORD;
    let skip = start % WORD;
    if skip != 0 {
        // Relaxed, like every load of the buffer: `Ring::head` (Acquire) before the copy and the
        // fence in `Ring::load_validated` after it order the copy; the loads need nothing more.
        let bytes = words[w].load(Relaxed).to_ne_bytes();
        let n = out.len().min(WORD - skip);
        out[..n].copy_from_slice(&bytes[skip..skip + n]);
        out = &mut out[n..];
        w += 1;
    }
    let full = out.len() / WORD;
    let mut chunks = out.chunks_exact_mut(WORD);
    for (chunk, word) in (&mut chunks).zip(&words[w..w + full]) {
        // Relaxed: as above.
        chunk.copy_from_slice(&word.load(Relaxed).to_ne_bytes());
    }
    let rest = chunks.into_remainder();
    if !rest.is_empty() {
        // Relaxed: as above.
        let bytes = words[w + full].load(Relaxed).to_ne_bytes();
        rest.copy_from_slice(&bytes[..rest.len()]);
    }
}

/// Stores `data` as bytes `[start, start + data.len())` of the words' memory (no wrap).
/// Only the writer calls this.
fn store_run(words: &[AtomicUsize], start: usize, mut data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let mut w = start / WORD;
    let skip = start % WORD;
    if skip != 0 {
        let n = data.len().min(WORD - skip);
        store_partial(&words[w], skip, &data[..n]);
        data = &data[n..];
        w += 1;
    }
    let full = data.len() / WORD;
    let mut chunks = data.chunks_exact(WORD);
    for (chunk, word) in (&mut chunks).zip(&words[w..w + full]) {
        let bytes: [u8; WORD] = chunk.try_into().expect("chunks_exact yields whole words");
        // Relaxed, like every store to the buffer: the Release fence before the data stores and
        // the Release store of `head` after them (both in `Writer::write`) order them.
        word.store(usize::from_ne_bytes(bytes), Relaxed);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        store_partial(&words[w + full], 0, rest);
    }
}

/// Replaces bytes `[at, at + bytes.len())` of one word, keeping its other bytes.
fn store_partial(word: &AtomicUsize, at: usize, bytes: &[u8]) {
    // Relaxed: only the writer stores to the buffer, and a thread's load returns its own latest
    // store to that word (coherence), so the kept bytes are the current ones. A reader loading
    // this word concurrently sees the kept bytes unchanged either way.
    let mut word_bytes = word.load(Relaxed).to_ne_bytes();
    word_bytes[at..at + bytes.len()].copy_from_slice(bytes);
    // Relaxed: as in `store_run`.
    word.store(usize::from_ne_bytes(word_bytes), Relaxed);
}

/// `n` zeroed words, allocated zeroed so that pages the writer has not reached yet are not
/// resident (the allocator gets them from `calloc`/`mmap` untouched).
#[cfg(not(loom))]
fn zeroed_words(n: usize) -> Box<[AtomicUsize]> {
    use std::alloc::{Layout, alloc_zeroed, handle_alloc_error};

    let layout =
        Layout::array::<AtomicUsize>(n).expect("ring capacity overflows the address space");
    assert!(layout.size() > 0, "a ring has at least one word");
    // SAFETY: `layout` has a non-zero size (checked just above).
    let ptr = unsafe { alloc_zeroed(layout) }.cast::<AtomicUsize>();
    if ptr.is_null() {
        handle_alloc_error(layout);
    }
    // SAFETY: `ptr` is non-null and was allocated by the global allocator with the layout of
    // `[AtomicUsize; n]`, which is the layout `Box<[AtomicUsize]>` of length `n` frees with. All
    // `n` elements are initialized: an all-zero `AtomicUsize` is valid (it has the size and bit
    // validity of `usize`) and is `AtomicUsize::new(0)`. Nothing else owns the allocation.
    unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, n)) }
}

/// `n` zeroed words (loom atomics must be created with `new`; loom rings are tiny).
#[cfg(loom)]
fn zeroed_words(n: usize) -> Box<[AtomicUsize]> {
    (0..n).map(|_| AtomicUsize::new(0)).collect()
}

/// The writing end of a ring: the only one that changes it.
///
/// There is exactly one `Writer` per ring (it is not `Clone`), and [`Writer::write`] takes
/// `&mut self`. That is what makes [`Writer::slices`] sound: while anything borrows the writer,
/// nothing can change the buffer.
///
/// ```
/// use tsm_scrollback::{Offset, Writer};
///
/// let mut w = Writer::new(1024);
/// w.write(b"one\ntwo\n");
/// assert_eq!(w.head(), Offset(8));
/// assert_eq!(w.slices(Offset(4), w.head())?, (&b"two\n"[..], &b""[..]));
/// assert_eq!(w.tail_lines(1), b"two\n");
/// # Ok::<(), tsm_scrollback::Lagged>(())
/// ```
pub struct Writer {
    /// The ring, shared with every reader.
    ring: Arc<Ring>,
    /// Always equal to `ring.head` and `ring.reserved` while no write runs: only this writer
    /// stores them, so it keeps its own copy instead of loading them.
    head: u64,
}

impl Writer {
    /// A new, empty ring of `capacity` bytes, and its writer.
    ///
    /// The buffer is allocated zeroed, so its memory becomes resident only as it is written.
    ///
    /// # Panics
    ///
    /// If `capacity` is not a power of two or is below [`MIN_CAPACITY`], or if the allocation
    /// fails.
    pub fn new(capacity: usize) -> Writer {
        assert!(
            capacity.is_power_of_two() && capacity >= MIN_CAPACITY,
            "ring capacity must be a power of two of at least {MIN_CAPACITY} bytes, got {capacity}"
        );
        let ring = Ring {
            words: zeroed_words(capacity / WORD),
            mask: capacity - 1,
            head: CachePadded(AtomicU64::new(0)),
            reserved: CachePadded(AtomicU64::new(0)),
        };
        Writer { ring: Arc::new(ring), head: 0 }
    }

    /// A new reader of this ring. Readers can also be cloned.
    pub fn reader(&self) -> Reader {
        Reader { ring: Arc::clone(&self.ring) }
    }

    /// The capacity in bytes: how much history the ring retains.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// The offset one past the last byte written: the total number of bytes ever written.
    pub fn head(&self) -> Offset {
        Offset(self.head)
    }

    /// The oldest offset still retained: `head - capacity`, or 0 before the ring first fills.
    pub fn tail(&self) -> Offset {
        Offset(self.head.saturating_sub(self.capacity() as u64))
    }

    /// Appends `data` to the stream.
    ///
    /// Never waits and never fails. The oldest bytes are overwritten as needed; readers that
    /// still wanted them get [`Lagged`]. If `data` is longer than the capacity, only its last
    /// `capacity` bytes are kept, but the head still advances by `data.len()`.
    pub fn write(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let end = self.head + data.len() as u64;
        let kept = &data[data.len().saturating_sub(self.capacity())..];
        // Relaxed: the Release fence below orders this store before the data stores for any
        // reader that sees one of them (see `Ring::load_validated`).
        self.ring.reserved.store(end, Relaxed);
        // Release fence: makes the reservation above visible to every reader whose Acquire fence
        // follows a load of any byte stored below, so a reader that copied an overwritten byte
        // cannot miss that it was overwritten.
        fence(Release);
        self.ring.store_bytes(end - kept.len() as u64, kept);
        // Release: a reader that loads this head with Acquire sees every byte stored above.
        self.ring.head.store(end, Release);
        self.head = end;
    }

    /// The bytes `[from, to)` straight from the ring's memory, as at most two slices (two when the
    /// range wraps around the end of the buffer), for `writev` without a copy.
    ///
    /// `to` is clamped to the head; if `from` is at or past it, both slices are empty.
    ///
    /// This borrows the writer, so no write can happen while the slices live: they cannot change
    /// under the caller, and the borrow checker ends them before the next
    /// [`write`](Self::write). Readers on other threads only read the same memory, which is
    /// not a data race. Not available under `--cfg loom`, whose atomics have no memory to borrow.
    ///
    /// # Errors
    ///
    /// [`Lagged`] if `from` is before the tail: the ring overwrote those bytes.
    #[cfg(not(loom))]
    pub fn slices(&self, from: Offset, to: Offset) -> Result<(&[u8], &[u8]), Lagged> {
        let tail = self.tail();
        if from < tail {
            return Err(Lagged::new(from, tail));
        }
        let to = to.min(self.head());
        if from >= to {
            return Ok((&[], &[]));
        }
        let bytes = self.bytes();
        let start = self.ring.index(from.0);
        // At most the capacity, since `tail <= from < to <= head`.
        let len = (to - from) as usize;
        Ok(match bytes.get(start..start + len) {
            Some(run) => (run, &[]),
            None => (&bytes[start..], &bytes[..start + len - bytes.len()]),
        })
    }

    /// The whole buffer as bytes, borrowed from the writer.
    #[cfg(not(loom))]
    fn bytes(&self) -> &[u8] {
        let words: &[AtomicUsize] = &self.ring.words;
        // SAFETY: The pointer comes from the whole `words` slice, so it may read all of its
        // `words.len() * WORD` bytes (one allocation, whose size fit in `isize` when it was
        // made); they are initialized (an `AtomicUsize` is an initialized `usize`) and `u8` needs
        // no alignment. The returned `&[u8]` promises that this memory does not change while it
        // lives, and it lives no longer than `&self`: the only code that changes the memory is
        // `Writer::write`, through `&mut self` of the ring's single `Writer` (it is not `Clone`,
        // and readers only load), so nothing writes while `&self` is borrowed. Other threads may
        // load the same words atomically meanwhile; racing reads are not data races (only
        // accesses of which one is a write race), whatever their size or atomicity. Writes made
        // earlier on this thread are sequenced before; if `&self` crossed threads, whatever sent
        // it synchronized.
        unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), words.len() * WORD) }
    }

    /// The last `n` lines of what is retained, split on `\n`.
    ///
    /// A final line without `\n` counts as a line; a final `\n` ends the last line rather than
    /// starting an empty one. If fewer than `n` lines are retained, this returns everything
    /// retained, whose first line may have lost its start to the ring.
    pub fn tail_lines(&self, n: usize) -> Vec<u8> {
        // No write can run while `self` is borrowed, so the validated scan never loses a byte.
        self.ring.tail_lines(n)
    }
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer")
            .field("capacity", &self.capacity())
            .field("head", &self.head())
            .field("tail", &self.tail())
            .finish_non_exhaustive()
    }
}

/// A reading end of a ring: copies bytes out and tells when they were overwritten.
///
/// Readers are cheap to clone, `Send` and `Sync`, and never hold the writer back: a reader that
/// falls more than a capacity behind gets [`Lagged`] instead of bytes. A reader has no position
/// of its own; its user keeps an [`Offset`] (a daemon client is just one).
///
/// ```
/// use tsm_scrollback::{Offset, Writer};
///
/// let mut w = Writer::new(64);
/// let r = w.reader();
/// let t = std::thread::spawn(move || {
///     let mut pos = Offset::ZERO;
///     let mut got = Vec::new();
///     let mut buf = [0; 16];
///     while got.len() < 5 {
///         let n = r.read_at(pos, &mut buf).expect("64 bytes of room for 5");
///         got.extend_from_slice(&buf[..n]);
///         pos += n as u64;
///     }
///     got
/// });
/// w.write(b"hello");
/// assert_eq!(t.join().unwrap(), b"hello");
/// ```
#[derive(Clone)]
pub struct Reader {
    /// The ring, shared with the writer and the other readers.
    ring: Arc<Ring>,
}

impl Reader {
    /// Copies the bytes from `from` up to the head (at most `buf.len()`) into `buf`, and returns
    /// how many it copied.
    ///
    /// Returns `Ok(0)` if `from` is at or past the head (nothing written there yet) or `buf` is
    /// empty. It never waits: poll again, or have the writer's owner wake you, after a write.
    ///
    /// # Errors
    ///
    /// [`Lagged`] if any byte from `from` on was overwritten before or during the copy. `buf`
    /// may then hold garbage; no bytes are reported.
    pub fn read_at(&self, from: Offset, buf: &mut [u8]) -> Result<usize, Lagged> {
        self.ring.read_at(from, buf)
    }

    /// The offset one past the last completely written byte.
    ///
    /// Every byte below it can be read (unless it is overwritten first).
    pub fn head(&self) -> Offset {
        Offset(self.ring.head())
    }

    /// The oldest offset that is retained and not being overwritten right now.
    ///
    /// Advisory: by the time the caller reads from it, the writer may have moved on.
    pub fn tail(&self) -> Offset {
        Offset(self.ring.tail())
    }

    /// The capacity in bytes.
    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// The last `n` lines of what is retained, split on `\n`, as of the head when called.
    ///
    /// Same lines as [`Writer::tail_lines`], read with the reader's copy-and-validate protocol:
    /// if the writer overwrites the oldest bytes while this scans, the result starts at the
    /// oldest byte that survived (its first line then lacks its start); it never holds torn bytes.
    /// If the writer overwrites even the newest bytes before they are copied (a whole capacity
    /// written during one small copy), the scan starts again from the new head, a few times, and
    /// then gives up with no lines.
    pub fn tail_lines(&self, n: usize) -> Vec<u8> {
        self.ring.tail_lines(n)
    }
}

impl fmt::Debug for Reader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reader")
            .field("capacity", &self.capacity())
            .field("head", &self.head())
            .field("tail", &self.tail())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// The stream byte at offset `p` in these tests: a pattern with a period prime to any capacity.
    fn pattern(p: u64) -> u8 {
        (p % 251) as u8
    }

    fn pattern_range(from: u64, to: u64) -> Vec<u8> {
        (from..to).map(pattern).collect()
    }

    /// Writes the pattern for offsets `[w.head(), w.head() + len)`.
    fn write_pattern(w: &mut Writer, len: u64) {
        let h = w.head().0;
        w.write(&pattern_range(h, h + len));
    }

    fn read_all(r: &Reader, from: u64) -> Result<Vec<u8>, Lagged> {
        let mut buf = vec![0; r.capacity() + 8];
        let n = r.read_at(Offset(from), &mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }

    fn joined((a, b): (&[u8], &[u8])) -> Vec<u8> {
        [a, b].concat()
    }

    #[test]
    fn writer_and_reader_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Writer>();
        check::<Reader>();
    }

    #[test]
    #[should_panic(expected = "power of two")]
    fn capacity_must_be_a_power_of_two() {
        let _ = Writer::new(24);
    }

    #[test]
    #[should_panic(expected = "at least 16")]
    fn capacity_must_be_at_least_min_capacity() {
        let _ = Writer::new(8);
    }

    #[test]
    fn empty_ring_reads_nothing() {
        let w = Writer::new(16);
        let r = w.reader();
        assert_eq!(
            (w.head(), w.tail(), r.head(), r.tail()),
            (Offset(0), Offset(0), Offset(0), Offset(0))
        );
        assert_eq!(read_all(&r, 0), Ok(vec![]));
        assert_eq!(w.slices(Offset(0), Offset(10)), Ok((&[][..], &[][..])));
        assert_eq!(w.tail_lines(3), b"");
    }

    #[test]
    fn reads_stop_at_the_head_and_at_the_buffer_end() {
        let mut w = Writer::new(32);
        let r = w.reader();
        w.write(b"hello world");
        assert_eq!(read_all(&r, 0).unwrap(), b"hello world");
        assert_eq!(read_all(&r, 6).unwrap(), b"world");
        let mut small = [0; 4];
        assert_eq!(r.read_at(Offset(3), &mut small), Ok(4));
        assert_eq!(&small, b"lo w");
        assert_eq!(r.read_at(Offset(3), &mut []), Ok(0));
    }

    #[test]
    fn a_read_past_the_head_returns_nothing_until_the_head_reaches_it() {
        let mut w = Writer::new(16);
        let r = w.reader();
        w.write(b"abc");
        assert_eq!(read_all(&r, 3), Ok(vec![]));
        assert_eq!(read_all(&r, 10), Ok(vec![]));
        w.write(b"defghijklmn");
        assert_eq!(read_all(&r, 10).unwrap(), b"klmn");
    }

    #[test]
    fn writes_wrap_around_the_end_of_the_buffer() {
        let mut w = Writer::new(16);
        let r = w.reader();
        for _ in 0..10 {
            write_pattern(&mut w, 7);
        }
        assert_eq!(w.head(), Offset(70));
        assert_eq!(w.tail(), Offset(54));
        assert_eq!(read_all(&r, 54).unwrap(), pattern_range(54, 70));
        assert_eq!(read_all(&r, 60).unwrap(), pattern_range(60, 70));
    }

    #[test]
    fn every_alignment_and_length_round_trips() {
        // Partial words at both ends, whole words in between, wraps: all combinations.
        for start in 0..20 {
            for len in 0..=32 {
                let mut w = Writer::new(32);
                write_pattern(&mut w, start);
                write_pattern(&mut w, len);
                let r = w.reader();
                let tail = w.tail().0;
                assert_eq!(
                    read_all(&r, tail).unwrap(),
                    pattern_range(tail, start + len),
                    "{start} {len}"
                );
                assert_eq!(
                    joined(w.slices(w.tail(), w.head()).unwrap()),
                    pattern_range(tail, start + len)
                );
            }
        }
    }

    #[test]
    fn an_exact_capacity_write_replaces_everything() {
        let mut w = Writer::new(16);
        let r = w.reader();
        write_pattern(&mut w, 5);
        write_pattern(&mut w, 16);
        assert_eq!((w.head(), w.tail()), (Offset(21), Offset(5)));
        assert_eq!(read_all(&r, 5).unwrap(), pattern_range(5, 21));
        assert_eq!(read_all(&r, 4), Err(Lagged { lost: 1, resume_at: Offset(5) }));
    }

    #[test]
    fn an_oversize_write_keeps_its_last_capacity_bytes_and_advances_by_its_length() {
        let mut w = Writer::new(16);
        let r = w.reader();
        write_pattern(&mut w, 3);
        write_pattern(&mut w, 50);
        assert_eq!((w.head(), w.tail()), (Offset(53), Offset(37)));
        assert_eq!(read_all(&r, 37).unwrap(), pattern_range(37, 53));
        assert_eq!(read_all(&r, 3), Err(Lagged { lost: 34, resume_at: Offset(37) }));
        assert_eq!(joined(w.slices(Offset(37), Offset(53)).unwrap()), pattern_range(37, 53));
    }

    #[test]
    fn lag_is_reported_exactly_at_the_tail_boundary() {
        let mut w = Writer::new(16);
        let r = w.reader();
        write_pattern(&mut w, 20);
        assert_eq!(r.tail(), Offset(4));
        assert_eq!(read_all(&r, 4).unwrap(), pattern_range(4, 20));
        assert_eq!(read_all(&r, 3), Err(Lagged { lost: 1, resume_at: Offset(4) }));
        assert_eq!(read_all(&r, 0), Err(Lagged { lost: 4, resume_at: Offset(4) }));
        assert_eq!(w.slices(Offset(4), Offset(5)).map(joined), Ok(pattern_range(4, 5)));
        assert_eq!(w.slices(Offset(3), Offset(5)), Err(Lagged { lost: 1, resume_at: Offset(4) }));
    }

    #[test]
    fn the_ring_fills_exactly_before_it_lags() {
        let mut w = Writer::new(16);
        let r = w.reader();
        write_pattern(&mut w, 16);
        assert_eq!(read_all(&r, 0).unwrap(), pattern_range(0, 16));
        write_pattern(&mut w, 1);
        assert_eq!(read_all(&r, 0), Err(Lagged { lost: 1, resume_at: Offset(1) }));
        assert_eq!(read_all(&r, 1).unwrap(), pattern_range(1, 17));
    }

    #[test]
    fn slices_split_at_the_wrap_point() {
        let mut w = Writer::new(16);
        write_pattern(&mut w, 12);
        write_pattern(&mut w, 8); // offsets 12..20 land at indices 12..16 and 0..4
        let (a, b) = w.slices(Offset(10), Offset(20)).unwrap();
        assert_eq!(a, pattern_range(10, 16));
        assert_eq!(b, pattern_range(16, 20));
        // A range ending exactly at the end of the buffer is one slice.
        let (a, b) = w.slices(Offset(10), Offset(16)).unwrap();
        assert_eq!((a, b), (&pattern_range(10, 16)[..], &[][..]));
        // A range starting exactly at the wrap point is one slice.
        let (a, b) = w.slices(Offset(16), Offset(20)).unwrap();
        assert_eq!((a, b), (&pattern_range(16, 20)[..], &[][..]));
    }

    #[test]
    fn slices_clamp_to_the_head() {
        let mut w = Writer::new(16);
        write_pattern(&mut w, 5);
        assert_eq!(w.slices(Offset(2), Offset(100)).map(joined), Ok(pattern_range(2, 5)));
        assert_eq!(w.slices(Offset(5), Offset(100)).map(joined), Ok(vec![]));
        assert_eq!(w.slices(Offset(9), Offset(100)).map(joined), Ok(vec![]));
        assert_eq!(w.slices(Offset(3), Offset(2)).map(joined), Ok(vec![]));
    }

    #[test]
    fn tail_lines_with_a_trailing_newline() {
        let mut w = Writer::new(64);
        w.write(b"one\ntwo\nthree\n");
        assert_eq!(w.tail_lines(0), b"");
        assert_eq!(w.tail_lines(1), b"three\n");
        assert_eq!(w.tail_lines(2), b"two\nthree\n");
        assert_eq!(w.tail_lines(3), b"one\ntwo\nthree\n");
        assert_eq!(w.tail_lines(9), b"one\ntwo\nthree\n");
    }

    #[test]
    fn tail_lines_without_a_trailing_newline() {
        let mut w = Writer::new(64);
        let r = w.reader();
        w.write(b"one\ntwo\nthr");
        assert_eq!(r.tail_lines(1), b"thr");
        assert_eq!(r.tail_lines(2), b"two\nthr");
        assert_eq!(r.tail_lines(3), b"one\ntwo\nthr");
        assert_eq!(r.tail_lines(4), b"one\ntwo\nthr");
    }

    #[test]
    fn tail_lines_counts_empty_lines() {
        let mut w = Writer::new(64);
        w.write(b"a\n\n\nb\n");
        assert_eq!(w.tail_lines(1), b"b\n");
        assert_eq!(w.tail_lines(2), b"\nb\n");
        assert_eq!(w.tail_lines(3), b"\n\nb\n");
        w.write(b"\n");
        assert_eq!(w.tail_lines(1), b"\n");
    }

    #[test]
    fn tail_lines_stops_at_the_oldest_retained_byte() {
        let mut w = Writer::new(16);
        w.write(b"first line\nsecond\nthird\n"); // 24 bytes: "first li" is lost
        assert_eq!(w.tail_lines(1), b"third\n");
        assert_eq!(w.tail_lines(2), b"second\nthird\n");
        assert_eq!(w.tail_lines(5), b"ne\nsecond\nthird\n");
        assert_eq!(w.reader().tail_lines(5), b"ne\nsecond\nthird\n");
    }

    #[test]
    #[cfg_attr(miri, ignore = "copies megabytes: too slow under miri")]
    fn tail_lines_scans_across_several_chunks() {
        // Lines longer than the first chunk, in a ring larger than the largest chunk.
        let cap = 4 * TAIL_SCAN_MAX_CHUNK;
        let mut w = Writer::new(cap);
        let line = |c: u8, len: usize| {
            let mut l = vec![c; len];
            l.push(b'\n');
            l
        };
        let a = line(b'a', 3 * TAIL_SCAN_FIRST_CHUNK);
        let b = line(b'b', TAIL_SCAN_MAX_CHUNK + 10);
        let c = line(b'c', 10);
        for l in [&a, &b, &c] {
            w.write(l);
        }
        assert_eq!(w.tail_lines(1), c);
        assert_eq!(w.tail_lines(2), [&b[..], &c].concat());
        assert_eq!(w.reader().tail_lines(3), [&a[..], &b, &c].concat());
    }

    #[test]
    fn tail_lines_of_a_wrapped_ring_without_newlines_is_everything_retained() {
        let mut w = Writer::new(16);
        write_pattern(&mut w, 100); // 10 is '\n' in the pattern, but not in 84..100
        assert_eq!(w.tail_lines(3), pattern_range(84, 100));
    }

    #[test]
    fn slices_stay_readable_while_readers_copy_the_same_bytes_on_other_threads() {
        // Under miri this checks the claim `Writer::bytes` rests on: plain reads through the
        // slices racing with readers' atomic word loads of the same memory are not a data race.
        let mut w = Writer::new(16);
        write_pattern(&mut w, 20);
        let r = w.reader();
        std::thread::scope(|s| {
            s.spawn(|| {
                for _ in 0..20 {
                    assert_eq!(read_all(&r, 4).unwrap(), pattern_range(4, 20));
                }
            });
            for _ in 0..20 {
                assert_eq!(joined(w.slices(Offset(4), Offset(20)).unwrap()), pattern_range(4, 20));
            }
        });
    }

    #[test]
    fn readers_racing_a_writer_get_exact_bytes_or_lagged() {
        // A small version of tests/stress.rs, small enough for miri's race detector.
        const TOTAL: u64 = 600;
        let mut w = Writer::new(16);
        let readers: Vec<_> = (0..2)
            .map(|i| {
                let r = w.reader();
                std::thread::spawn(move || {
                    let mut pos = Offset::ZERO;
                    let mut buf = [0; 11];
                    while pos.get() < TOTAL {
                        match r.read_at(pos, &mut buf[..5 + i * 6]) {
                            Ok(0) => std::thread::yield_now(),
                            Ok(n) => {
                                assert_eq!(
                                    buf[..n],
                                    pattern_range(pos.get(), pos.get() + n as u64)
                                );
                                pos += n as u64;
                            }
                            Err(Lagged { lost, resume_at }) => {
                                assert_eq!(lost, resume_at - pos);
                                pos = resume_at;
                            }
                        }
                    }
                })
            })
            .collect();
        let mut len = 1;
        while w.head().get() < TOTAL {
            let left = TOTAL - w.head().get();
            write_pattern(&mut w, len.min(left));
            len = len % 19 + 1;
        }
        for r in readers {
            r.join().unwrap();
        }
    }

    #[test]
    fn debug_shows_positions_not_bytes() {
        let mut w = Writer::new(16);
        w.write(b"xyz");
        assert_eq!(
            format!("{:?}", w.reader()),
            "Reader { capacity: 16, head: Offset(3), tail: Offset(0), .. }"
        );
        assert_eq!(
            format!("{w:?}"),
            "Writer { capacity: 16, head: Offset(3), tail: Offset(0), .. }"
        );
    }
}
