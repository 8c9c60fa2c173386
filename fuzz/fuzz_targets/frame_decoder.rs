//! The frame decoder: any bytes, fed whole or split at any point, give the same frames
//! (or the same error), never panic, and never make it hold more than one frame plus
//! what was pushed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsm_proto::{FrameDecoder, HEADER_LEN, MAX_PAYLOAD_LEN, OwnedFrame};

/// Everything the decoder yields for `pieces`, and whether it failed.
fn decode(pieces: &[&[u8]]) -> (Vec<OwnedFrame>, bool) {
    let mut decoder = FrameDecoder::new();
    let mut frames = Vec::new();
    let mut pushed = 0;
    for piece in pieces {
        decoder.push(piece);
        pushed += piece.len();
        loop {
            match decoder.next_frame() {
                Ok(Some(frame)) => frames.push(frame.to_owned_frame()),
                Ok(None) => break,
                Err(_) => return (frames, true),
            }
        }
        assert!(decoder.capacity() <= HEADER_LEN + MAX_PAYLOAD_LEN + pushed.max(64));
    }
    (frames, false)
}

fuzz_target!(|data: &[u8]| {
    let Some((&split_seed, bytes)) = data.split_first() else { return };
    let whole = decode(&[bytes]);
    let at = usize::from(split_seed) * bytes.len() / 255;
    let (a, b) = bytes.split_at(at.min(bytes.len()));
    assert_eq!(decode(&[a, b]), whole);
    // Re-encoding what was decoded gives back the prefix that was consumed.
    let mut wire = Vec::new();
    for frame in &whole.0 {
        tsm_proto::encode_into(frame.tag, &frame.payload, &mut wire);
    }
    assert!(bytes.starts_with(&wire));
});
