//! Properties of the codec: any frames, cut anywhere, decode the same; any bytes neither
//! panic the decoder nor make it allocate past one frame.

use proptest::prelude::*;
use tsm_proto::{
    FrameDecoder, HEADER_LEN, HistoryRequest, Info, Labels, MAX_PAYLOAD_LEN, OwnedFrame, Size, Tag,
    encode_into,
};

fn any_frame() -> impl Strategy<Value = OwnedFrame> {
    (any::<u8>(), prop::collection::vec(any::<u8>(), 0..300))
        .prop_map(|(tag, payload)| OwnedFrame::new(Tag::from_u8(tag), payload))
}

fn decode_all(decoder: &mut FrameDecoder, out: &mut Vec<OwnedFrame>) {
    while let Some(frame) = decoder.next_frame().expect("valid frames decode") {
        out.push(frame.to_owned_frame());
    }
}

proptest! {
    #[test]
    fn frames_cut_anywhere_decode_the_same(
        frames in prop::collection::vec(any_frame(), 0..20),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..30),
    ) {
        let mut wire = Vec::new();
        for frame in &frames {
            encode_into(frame.tag, &frame.payload, &mut wire);
        }
        let mut positions: Vec<usize> = cuts.iter().map(|cut| cut.index(wire.len() + 1)).collect();
        positions.push(0);
        positions.push(wire.len());
        positions.sort_unstable();
        let mut decoder = FrameDecoder::new();
        let mut decoded = Vec::new();
        for pair in positions.windows(2) {
            decoder.push(&wire[pair[0]..pair[1]]);
            decode_all(&mut decoder, &mut decoded);
        }
        prop_assert_eq!(decoded, frames);
        prop_assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn arbitrary_bytes_never_panic_or_overallocate(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..40),
    ) {
        let mut decoder = FrameDecoder::new();
        let mut pushed = 0usize;
        for chunk in &chunks {
            decoder.push(chunk);
            pushed += chunk.len();
            while let Ok(Some(frame)) = decoder.next_frame() {
                prop_assert!(frame.payload.len() <= MAX_PAYLOAD_LEN);
            }
            prop_assert!(decoder.capacity() <= HEADER_LEN + MAX_PAYLOAD_LEN + pushed.max(64));
        }
    }

    #[test]
    fn huge_lengths_are_refused_before_any_reservation(len in (MAX_PAYLOAD_LEN as u32 + 1)..=u32::MAX, tag: u8) {
        let mut decoder = FrameDecoder::new();
        let mut header = vec![tag];
        header.extend_from_slice(&len.to_le_bytes());
        decoder.push(&header);
        prop_assert!(decoder.next_frame().is_err());
        prop_assert!(decoder.capacity() < 4096);
    }

    #[test]
    fn info_parses_any_552_bytes_and_reencodes_what_it_read(bytes in prop::collection::vec(any::<u8>(), 552..600)) {
        let info = Info::parse(&bytes).expect("552 bytes parse");
        prop_assert!(info.cmd.len() <= 256 * 3); // lossy decoding may widen bytes to U+FFFD
        let again = Info::parse(&info.encode()).expect("our encoding parses");
        prop_assert_eq!(again.clients, info.clients);
        prop_assert_eq!(again.pid, info.pid);
        prop_assert_eq!(again.created_at, info.created_at);
        prop_assert_eq!(again.task_exit_code, info.task_exit_code);
        prop_assert!(again.cmd.len() <= 256 && info.cmd.starts_with(&again.cmd));
    }

    #[test]
    fn info_round_trips(clients: u64, pid: i32, cmd in "\\PC{0,300}", cwd in "\\PC{0,300}", created: u64, ended: u64, code: u8) {
        let info = Info { clients, pid, cmd, cwd, created_at: created, task_ended_at: ended, task_exit_code: code };
        let parsed = Info::parse(&info.encode()).unwrap();
        prop_assert!(info.cmd.starts_with(&parsed.cmd) && parsed.cmd.len() <= 256);
        prop_assert!(info.cwd.starts_with(&parsed.cwd) && parsed.cwd.len() <= 256);
        if info.cmd.len() <= 256 { prop_assert_eq!(&parsed.cmd, &info.cmd); }
        prop_assert_eq!(parsed.encode(), info.encode());
    }

    #[test]
    fn size_and_history_round_trip(rows: u16, cols: u16, xpixel: u16, ypixel: u16, format in 0u8..3, lines: u32, screen: bool) {
        let size = Size { rows, cols, xpixel, ypixel };
        prop_assert_eq!(Size::parse(&size.to_payload()), Ok(size));
        let mut payload = vec![format];
        payload.extend_from_slice(&lines.to_le_bytes());
        payload.push(u8::from(screen));
        let request = HistoryRequest::parse(&payload).unwrap();
        prop_assert_eq!(HistoryRequest::parse(&request.to_payload()), Ok(request));
    }

    #[test]
    fn label_parsing_never_panics_and_valid_sets_round_trip(text in "\\PC{0,80}") {
        if let Ok(changes) = Labels::parse_changes(&text) {
            let mut labels = Labels::new();
            labels.apply(&changes);
            prop_assert_eq!(Labels::parse_data(&labels.to_string()), labels);
        }
    }
}
