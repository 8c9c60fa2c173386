//! Frames: a 5-byte header (tag u8, payload length u32 LE) and the payload
//! (spec/wire.md, the table at the top).
//!
//! [`FrameDecoder`] is a streaming decoder: push bytes in as they arrive, pop borrowed
//! frames out. It refuses a length over [`MAX_PAYLOAD_LEN`] as soon as the header is
//! complete, before reserving anything for the payload, and keeps partial frames across
//! short reads and timeouts, so it never loses sync. [`write_frame`] writes header and
//! payload with vectored writes, without copying the payload.

use std::io::{self, IoSlice, Read, Write};

use crate::error::DecodeError;
use crate::tag::Tag;

/// Size of a frame header in bytes: tag (u8) then payload length (u32 LE).
pub const HEADER_LEN: usize = 5;

/// The largest payload a reader accepts, in bytes (16 MiB, inclusive).
///
/// The Go tsm's readers refuse anything longer, so our writers never send more.
pub const MAX_PAYLOAD_LEN: usize = 16 * 1024 * 1024;

/// How much the decoder asks a reader for at once, in bytes, when no frame is pending.
const READ_CHUNK_LEN: usize = 64 * 1024;

/// A frame header: the tag and the payload length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// What the payload is.
    pub tag: Tag,
    /// Payload length in bytes.
    pub len: u32,
}

impl FrameHeader {
    /// The header of a frame with `tag` and a payload of `len` bytes.
    pub const fn new(tag: Tag, len: u32) -> FrameHeader {
        FrameHeader { tag, len }
    }

    /// The 5 wire bytes of this header.
    pub const fn encode(self) -> [u8; HEADER_LEN] {
        let len = self.len.to_le_bytes();
        [self.tag.as_u8(), len[0], len[1], len[2], len[3]]
    }

    /// Reads a header from its 5 wire bytes. Any bytes form a header; the length is
    /// checked by [`FrameHeader::check_len`].
    pub const fn decode(bytes: [u8; HEADER_LEN]) -> FrameHeader {
        FrameHeader {
            tag: Tag::from_u8(bytes[0]),
            len: u32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]),
        }
    }

    /// Checks the length against [`MAX_PAYLOAD_LEN`].
    ///
    /// # Errors
    ///
    /// [`DecodeError::TooLong`] when the payload is longer than 16 MiB.
    pub const fn check_len(self) -> Result<usize, DecodeError> {
        let len = self.len as usize;
        if len > MAX_PAYLOAD_LEN {
            return Err(DecodeError::TooLong { len: self.len as u64, max: MAX_PAYLOAD_LEN });
        }
        Ok(len)
    }
}

/// A decoded frame whose payload borrows from the decoder's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// What the payload is.
    pub tag: Tag,
    /// The payload bytes.
    pub payload: &'a [u8],
}

impl<'a> Frame<'a> {
    /// A frame with `tag` and `payload`.
    pub const fn new(tag: Tag, payload: &'a [u8]) -> Frame<'a> {
        Frame { tag, payload }
    }

    /// Appends the frame's wire bytes (header and payload) to `out`.
    ///
    /// # Panics
    ///
    /// When the payload is longer than `u32::MAX` bytes, which no frame may be.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        encode_into(self.tag, self.payload, out);
    }

    /// Copies the payload into an owned frame.
    pub fn to_owned_frame(&self) -> OwnedFrame {
        OwnedFrame { tag: self.tag, payload: self.payload.to_vec() }
    }
}

/// A frame that owns its payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedFrame {
    /// What the payload is.
    pub tag: Tag,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

impl OwnedFrame {
    /// A frame with `tag` and `payload`.
    pub fn new(tag: Tag, payload: impl Into<Vec<u8>>) -> OwnedFrame {
        OwnedFrame { tag, payload: payload.into() }
    }

    /// The frame as a borrowed [`Frame`].
    pub fn as_frame(&self) -> Frame<'_> {
        Frame { tag: self.tag, payload: &self.payload }
    }
}

/// Appends the wire bytes of a frame (header and payload) to `out`.
///
/// # Panics
///
/// When `payload` is longer than `u32::MAX` bytes, which no frame may be.
pub fn encode_into(tag: Tag, payload: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(payload.len()).expect("a frame payload fits in u32");
    out.reserve(HEADER_LEN + payload.len());
    out.extend_from_slice(&FrameHeader::new(tag, len).encode());
    out.extend_from_slice(payload);
}

/// Writes one frame to `writer`: header and payload in vectored writes, the payload
/// never copied.
///
/// # Errors
///
/// `InvalidInput` when the payload is longer than [`MAX_PAYLOAD_LEN`] (no peer would
/// accept it), and any error of the writer (`WriteZero` when it accepts nothing).
pub fn write_frame<W: Write + ?Sized>(writer: &mut W, tag: Tag, payload: &[u8]) -> io::Result<()> {
    write_frame_parts(writer, tag, &[payload])
}

/// Writes one frame whose payload is the concatenation of `parts` (e.g. the two slices of
/// a ring buffer), in vectored writes, without copying.
///
/// # Errors
///
/// As [`write_frame`].
pub fn write_frame_parts<W: Write + ?Sized>(
    writer: &mut W,
    tag: Tag,
    parts: &[&[u8]],
) -> io::Result<()> {
    let total: usize = parts.iter().map(|part| part.len()).sum();
    if total > MAX_PAYLOAD_LEN {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("frame payload of {total} bytes exceeds {MAX_PAYLOAD_LEN}"),
        ));
    }
    // Checked above: total <= 16 MiB fits in u32.
    let header = FrameHeader::new(tag, total as u32).encode();
    let mut slices = Vec::with_capacity(parts.len() + 1);
    slices.push(IoSlice::new(&header));
    slices.extend(parts.iter().filter(|part| !part.is_empty()).map(|part| IoSlice::new(part)));
    write_all_vectored(writer, &mut slices)
}

/// `Write::write_all_vectored` is not stable yet; this is its loop.
fn write_all_vectored<W: Write + ?Sized>(
    writer: &mut W,
    mut slices: &mut [IoSlice<'_>],
) -> io::Result<()> {
    while !slices.is_empty() {
        match writer.write_vectored(slices) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut slices, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A streaming frame decoder.
///
/// Push bytes in ([`push`](FrameDecoder::push), or read straight into it with
/// [`read_from`](FrameDecoder::read_from)), then pop frames with
/// [`next_frame`](FrameDecoder::next_frame) until it returns `Ok(None)`. A partial frame
/// stays buffered until the rest arrives.
///
/// Memory: the decoder holds the bytes pushed and not yet consumed. It reserves room for a
/// payload only after checking its length, so its buffer never grows past one whole
/// frame (`HEADER_LEN + MAX_PAYLOAD_LEN`) plus what a single `push` brought.
///
/// After an error the decoder stays failed: the connection must be closed, since the byte
/// stream can no longer be trusted.
///
/// ```
/// use tsm_proto::{FrameDecoder, Tag};
///
/// let mut decoder = FrameDecoder::new();
/// decoder.push(&[0x07, 0x04, 0x00]); // half an Init header
/// assert!(decoder.next_frame()?.is_none());
/// decoder.push(&[0x00, 0x00, 0x18, 0x00, 0x50, 0x00]);
/// let frame = decoder.next_frame()?.expect("a whole frame");
/// assert_eq!(frame.tag, Tag::Init);
/// assert_eq!(frame.payload, [0x18, 0x00, 0x50, 0x00]);
/// # Ok::<(), tsm_proto::DecodeError>(())
/// ```
#[derive(Debug, Default)]
pub struct FrameDecoder {
    /// Storage; `buf[start..end]` are received bytes not yet consumed, and `buf[end..]` is
    /// initialized room for the next read (zeroed once, not on every read).
    buf: Vec<u8>,
    /// Index of the first unconsumed byte; always `<= end`.
    start: usize,
    /// End of the received bytes; always `<= buf.len()`.
    end: usize,
    /// Set once the stream broke a rule; every later call returns it again.
    failed: Option<DecodeError>,
}

impl FrameDecoder {
    /// An empty decoder.
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.compact();
        self.room(bytes.len());
        self.buf[self.end..self.end + bytes.len()].copy_from_slice(bytes);
        self.end += bytes.len();
    }

    /// Reads once from `reader` into the decoder, at most what the pending frame still
    /// needs (or a 64 KiB chunk when no frame is pending), and returns how many bytes it
    /// read; 0 means end of stream.
    ///
    /// # Errors
    ///
    /// The reader's errors (`WouldBlock` and `TimedOut` leave the decoder intact: partial
    /// frames are kept across timeouts).
    pub fn read_from<R: Read + ?Sized>(&mut self, reader: &mut R) -> io::Result<usize> {
        self.compact();
        let want = match self.pending_len() {
            Some(frame_len) => frame_len.saturating_sub(self.buffered()).max(1),
            None => READ_CHUNK_LEN,
        };
        self.room(want);
        let result = reader.read(&mut self.buf[self.end..self.end + want]);
        self.end += *result.as_ref().unwrap_or(&0);
        result
    }

    /// Pops the next whole frame, if one is buffered.
    ///
    /// # Errors
    ///
    /// [`DecodeError::TooLong`] when a header announces more than 16 MiB; from then on
    /// every call returns that error.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, DecodeError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let Some(header) = self.peek_header() else {
            return Ok(None);
        };
        let len = match header.check_len() {
            Ok(len) => len,
            Err(err) => {
                self.failed = Some(err.clone());
                return Err(err);
            }
        };
        if self.buffered() < HEADER_LEN + len {
            // Room for the rest of this frame is reserved only now that its length is known
            // to be acceptable.
            self.buf.reserve(HEADER_LEN + len - self.buffered());
            return Ok(None);
        }
        let payload_start = self.start + HEADER_LEN;
        debug_assert!(payload_start + len <= self.end);
        self.start = payload_start + len;
        Ok(Some(Frame { tag: header.tag, payload: &self.buf[payload_start..self.start] }))
    }

    /// Takes the bytes received and not yet returned as frames (to hand a connection over
    /// to another reader without losing what this one already read).
    pub fn take_buffered(&mut self) -> Vec<u8> {
        let rest = self.buf[self.start..self.end].to_vec();
        self.start = 0;
        self.end = 0;
        rest
    }

    /// Bytes received and not yet returned as frames.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// The decoder's allocated buffer size in bytes (for memory accounting and tests).
    pub fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The header of the pending frame, once its 5 bytes are buffered.
    fn peek_header(&self) -> Option<FrameHeader> {
        let bytes = self.buf[..self.end].get(self.start..self.start + HEADER_LEN)?;
        Some(FrameHeader::decode(bytes.try_into().ok()?))
    }

    /// The whole length (header + payload) of the pending frame, if its header is buffered
    /// and its length acceptable.
    fn pending_len(&self) -> Option<usize> {
        let header = self.peek_header()?;
        header.check_len().ok().map(|len| HEADER_LEN + len)
    }

    /// Makes `buf[end..end + more]` exist (new room is zeroed once; room already there is
    /// reused as it is).
    fn room(&mut self, more: usize) {
        if self.buf.len() < self.end + more {
            self.buf.resize(self.end + more, 0);
        }
    }

    /// Drops consumed bytes from the front of the buffer.
    fn compact(&mut self) {
        if self.start != 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        // A frame of 16 MiB once must not pin 16 MiB forever.
        if self.buf.len() > 4 * READ_CHUNK_LEN && self.end <= READ_CHUNK_LEN {
            self.buf.truncate(READ_CHUNK_LEN);
            self.buf.shrink_to(READ_CHUNK_LEN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_bytes_are_tag_then_le_length() {
        assert_eq!(FrameHeader::new(Tag::Info, 0).encode(), [6, 0, 0, 0, 0]);
        assert_eq!(FrameHeader::new(Tag::Kill, 256).encode(), [5, 0, 1, 0, 0]);
        let header = FrameHeader::decode([10, 42, 0, 0, 0]);
        assert_eq!(header, FrameHeader::new(Tag::Ack, 42));
    }

    #[test]
    fn decoder_accepts_exactly_16_mib() {
        let mut decoder = FrameDecoder::new();
        decoder.push(&FrameHeader::new(Tag::Output, MAX_PAYLOAD_LEN as u32).encode());
        assert_eq!(decoder.next_frame(), Ok(None));
    }

    #[test]
    fn decoder_refuses_len_over_16_mib_before_reading() {
        let mut decoder = FrameDecoder::new();
        decoder.push(&FrameHeader::new(Tag::Output, MAX_PAYLOAD_LEN as u32 + 1).encode());
        let err = decoder.next_frame().unwrap_err();
        assert_eq!(
            err,
            DecodeError::TooLong { len: MAX_PAYLOAD_LEN as u64 + 1, max: MAX_PAYLOAD_LEN }
        );
        assert!(decoder.capacity() < 1024, "reserved {} bytes", decoder.capacity());
        // The decoder stays failed.
        decoder.push(&[0; 5]);
        assert!(decoder.next_frame().is_err());
    }

    #[test]
    fn empty_frames_decode_without_more_bytes() {
        let mut decoder = FrameDecoder::new();
        decoder.push(&[6, 0, 0, 0, 0, 5, 0, 0, 0, 0]);
        assert_eq!(decoder.next_frame().unwrap(), Some(Frame::new(Tag::Info, &[])));
        assert_eq!(decoder.next_frame().unwrap(), Some(Frame::new(Tag::Kill, &[])));
        assert_eq!(decoder.next_frame().unwrap(), None);
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn read_from_keeps_partial_frames_across_timeouts() {
        struct Trickle {
            chunks: Vec<io::Result<Vec<u8>>>,
        }
        impl Read for Trickle {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                match self.chunks.remove(0) {
                    Ok(bytes) => {
                        let n = bytes.len().min(buf.len());
                        buf[..n].copy_from_slice(&bytes[..n]);
                        Ok(n)
                    }
                    Err(e) => Err(e),
                }
            }
        }
        let mut reader = Trickle {
            chunks: vec![
                Ok(vec![1, 3, 0]),
                Err(io::ErrorKind::WouldBlock.into()),
                Ok(vec![0, 0, b'a']),
                Err(io::ErrorKind::TimedOut.into()),
                Ok(vec![b'b', b'c']),
            ],
        };
        let mut decoder = FrameDecoder::new();
        let mut frames = Vec::new();
        for _ in 0..5 {
            let _ = decoder.read_from(&mut reader);
            while let Some(frame) = decoder.next_frame().unwrap() {
                frames.push(frame.to_owned_frame());
            }
        }
        assert_eq!(frames, vec![OwnedFrame::new(Tag::Output, b"abc".to_vec())]);
    }

    #[test]
    fn write_frame_writes_header_and_parts() {
        let mut out = Vec::new();
        write_frame_parts(&mut out, Tag::Output, &[b"ab", b"", b"c"]).unwrap();
        assert_eq!(out, [1, 3, 0, 0, 0, b'a', b'b', b'c']);
        let mut encoded = Vec::new();
        Frame::new(Tag::Output, b"abc").encode_into(&mut encoded);
        assert_eq!(encoded, out);
    }

    #[test]
    fn write_frame_refuses_payloads_over_the_limit() {
        let big = vec![0u8; MAX_PAYLOAD_LEN + 1];
        let err = write_frame(&mut Vec::new(), Tag::Output, &big).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }
}
