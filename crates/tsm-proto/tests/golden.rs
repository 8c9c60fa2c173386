//! Byte-exact frames of every tag of spec/wire.md.

use tsm_proto::{
    FrameDecoder, HistoryFormat, HistoryRequest, Info, Labels, OwnedFrame, Size, Tag, WriteRequest,
    encode_into,
};

fn frame(tag: Tag, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_into(tag, payload, &mut out);
    out
}

/// Decodes `bytes` as exactly one frame.
fn decode_one(bytes: &[u8]) -> OwnedFrame {
    let mut decoder = FrameDecoder::new();
    decoder.push(bytes);
    let frame = decoder.next_frame().unwrap().expect("one whole frame").to_owned_frame();
    assert_eq!(decoder.buffered(), 0);
    frame
}

#[test]
fn init_24x80() {
    let bytes = frame(Tag::Init, &Size::new(24, 80).to_payload());
    assert_eq!(bytes, [0x07, 0x04, 0x00, 0x00, 0x00, 0x18, 0x00, 0x50, 0x00]);
    let decoded = decode_one(&bytes);
    assert_eq!(Size::parse(&decoded.payload), Ok(Size::new(24, 80)));
}

#[test]
fn resize_40x120() {
    let bytes = frame(Tag::Resize, &Size::new(40, 120).to_payload());
    assert_eq!(bytes, [0x02, 0x04, 0x00, 0x00, 0x00, 0x28, 0x00, 0x78, 0x00]);
}

#[test]
fn payloadless_requests() {
    for (tag, byte) in [
        (Tag::Detach, 3),
        (Tag::DetachAll, 4),
        (Tag::Kill, 5),
        (Tag::Info, 6),
        (Tag::LabelGet, 14),
        (Tag::LabelClear, 16),
        (Tag::AgentGet, 32),
        (Tag::AgentWatch, 34),
        (Tag::AgentAck, 35),
    ] {
        assert_eq!(frame(tag, &[]), [byte, 0, 0, 0, 0], "{tag}");
        assert_eq!(decode_one(&[byte, 0, 0, 0, 0]), OwnedFrame::new(tag, Vec::new()));
    }
}

#[test]
fn input_output_send_carry_raw_bytes() {
    assert_eq!(frame(Tag::Input, b"ls\r"), [0, 3, 0, 0, 0, b'l', b's', b'\r']);
    assert_eq!(frame(Tag::Output, b"\x1b[m"), [1, 3, 0, 0, 0, 0x1b, b'[', b'm']);
    assert_eq!(frame(Tag::Send, b"y"), [18, 1, 0, 0, 0, b'y']);
}

#[test]
fn rename_and_ack() {
    assert_eq!(frame(Tag::Rename, b"new"), [0x0b, 3, 0, 0, 0, b'n', b'e', b'w']);
    assert_eq!(frame(Tag::Ack, b""), [0x0a, 0, 0, 0, 0]);
    let refused = frame(Tag::Ack, b"empty session name");
    assert_eq!(&refused[..5], &[0x0a, 18, 0, 0, 0]);
    assert_eq!(
        tsm_proto::parse_ack(&decode_one(&refused).payload),
        Err("empty session name".into())
    );
}

#[test]
fn run_and_task_complete() {
    assert_eq!(frame(Tag::Run, b"make"), [9, 4, 0, 0, 0, b'm', b'a', b'k', b'e']);
    let done = frame(Tag::TaskComplete, &[42]);
    assert_eq!(done, [13, 1, 0, 0, 0, 42]);
    assert_eq!(tsm_proto::parse_task_complete(&decode_one(&done).payload), Ok(42));
}

#[test]
fn history_requests() {
    assert_eq!(
        frame(Tag::History, &HistoryRequest::new(HistoryFormat::Preview).to_payload()),
        [8, 0, 0, 0, 0]
    );
    assert_eq!(
        frame(Tag::History, &HistoryRequest::new(HistoryFormat::Html).to_payload()),
        [8, 1, 0, 0, 0, 2]
    );
    let ours = HistoryRequest { format: HistoryFormat::Vt, lines: 300, screen_only: true };
    assert_eq!(frame(Tag::History, &ours.to_payload()), [8, 6, 0, 0, 0, 1, 0x2c, 0x01, 0, 0, 1]);
}

#[test]
fn labels() {
    let mut labels = Labels::new();
    labels.apply(&Labels::parse_changes("team=web env=prod").unwrap());
    let data = frame(Tag::LabelData, labels.to_string().as_bytes());
    assert_eq!(&data[..5], &[17, 17, 0, 0, 0]);
    assert_eq!(&data[5..], b"env=prod team=web");
    assert_eq!(frame(Tag::LabelSet, b"a=1"), [15, 3, 0, 0, 0, b'a', b'=', b'1']);
}

#[test]
fn write() {
    let mut payload = Vec::new();
    WriteRequest { path: b"f", data: b"xy" }.encode_into(&mut payload);
    assert_eq!(frame(Tag::Write, &payload), [12, 7, 0, 0, 0, 1, 0, 0, 0, b'f', b'x', b'y']);
}

#[test]
fn agent_requests() {
    assert_eq!(frame(Tag::AgentYolo, b"on"), [36, 2, 0, 0, 0, b'o', b'n']);
    assert_eq!(frame(Tag::AgentEvent, b"{}"), [33, 2, 0, 0, 0, b'{', b'}']);
}

#[test]
fn info_reply_layout() {
    let info = Info {
        clients: 2,
        pid: 99999,
        cmd: "zsh".into(),
        cwd: "/tmp".into(),
        created_at: 5000,
        task_ended_at: 6000,
        task_exit_code: 7,
    };
    let bytes = frame(Tag::Info, &info.encode());
    assert_eq!(&bytes[..5], &[6, 0x28, 0x02, 0, 0]); // 552 = 0x228
    let payload = &bytes[5..];
    assert_eq!(payload.len(), 552);
    assert_eq!(&payload[0..8], &2u64.to_le_bytes());
    assert_eq!(&payload[8..12], &99999i32.to_le_bytes());
    assert_eq!(&payload[12..16], &[3, 0, 4, 0]);
    assert_eq!(&payload[16..19], b"zsh");
    assert_eq!(&payload[272..276], b"/tmp");
    assert_eq!(&payload[528..536], &5000u64.to_le_bytes());
    assert_eq!(&payload[536..544], &6000u64.to_le_bytes());
    assert_eq!(payload[544], 7);
    assert_eq!(&payload[545..], &[0; 7]);
    assert_eq!(Info::parse(&decode_one(&bytes).payload), Ok(info));
}

#[test]
fn unknown_tags_pass_through_unchanged() {
    let bytes = [99, 2, 0, 0, 0, 0xde, 0xad];
    let decoded = decode_one(&bytes);
    assert_eq!(decoded.tag, Tag::Unknown(99));
    assert_eq!(frame(decoded.tag, &decoded.payload), bytes);
}
