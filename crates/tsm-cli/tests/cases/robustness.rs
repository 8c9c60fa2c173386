//! Bad input never kills a session: a malformed frame closes that connection only, bad
//! requests get an error, unknown tags are ignored.

use std::io::Write;
use std::os::unix::net::UnixStream;

use tsm_proto::Tag;

use crate::support::{Recv, TestClient, TestDir};

/// A shell session with an attached observer that sees its output.
fn session(name: &str) -> (TestDir, TestClient) {
    let dir = TestDir::new();
    dir.new_shell(name);
    let mut observer = dir.client(name);
    observer.init(24, 80);
    (dir, observer)
}

/// The session answers Info on a new connection and its shell still runs commands.
#[track_caller]
fn assert_healthy(dir: &TestDir, name: &str, observer: &mut TestClient, n: u32) {
    let info = dir.info(name);
    dir.check(info.pid > 0, || format!("Info after bad input: {info:?}"));
    // Send (tag 18), so the observer does not take the size lead.
    observer.send_text(&format!("echo OK{n}-$(({n}*1000+7))\r"));
    observer.wait_output_contains(&format!("OK{n}-{}", n * 1000 + 7));
}

/// Waits until the daemon closes `stream` (EOF or reset).
#[track_caller]
fn assert_closed(dir: &TestDir, stream: UnixStream, what: &str) {
    let mut client = TestClient::from_stream(stream, dir.diag().clone());
    client.wait_closed(what);
}

#[test]
fn garbage_bytes_close_only_that_connection() {
    let (dir, mut observer) = session("garbage");
    let mut n = 0;
    for garbage in [
        &b"\xff\xfe\xfd\xfc\xfb\xfa random garbage"[..],
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        b"hello world, this is not a frame at all",
    ] {
        let mut stream = UnixStream::connect(dir.socket("garbage")).unwrap();
        let _ = stream.write_all(garbage);
        assert_closed(&dir, stream, "garbage");
        n += 1;
        assert_healthy(&dir, "garbage", &mut observer, n);
    }
}

#[test]
fn a_length_over_16_mib_closes_the_connection_and_exactly_16_mib_is_read() {
    let (dir, mut observer) = session("long");
    // 16 MiB + 1 in the header of an Input frame: refused before any payload.
    let mut stream = UnixStream::connect(dir.socket("long")).unwrap();
    stream.write_all(&[0x00, 0x01, 0x00, 0x00, 0x01]).unwrap();
    assert_closed(&dir, stream, "a 16 MiB + 1 header");
    assert_healthy(&dir, "long", &mut observer, 1);

    // Exactly 16 MiB with an unknown tag: read, ignored, the connection stays usable.
    let mut client = dir.client("long");
    client.send(200, &vec![0x55; 16 * 1024 * 1024]);
    let info = client.info();
    dir.check(info.pid > 0, || "no Info after a 16 MiB frame".into());
    assert_healthy(&dir, "long", &mut observer, 2);
}

#[test]
fn half_a_frame_then_close_does_not_hurt() {
    let (dir, mut observer) = session("half");
    for (n, half) in
        [&[0x06, 0x00][..], &[0x00, 0x10, 0x00, 0x00, 0x00, b'e', b'c']].into_iter().enumerate()
    {
        let mut stream = UnixStream::connect(dir.socket("half")).unwrap();
        stream.write_all(half).unwrap();
        drop(stream);
        assert_healthy(&dir, "half", &mut observer, n as u32 + 1);
    }
}

#[test]
fn rename_to_a_bad_name_is_refused_with_a_reason() {
    let (dir, mut observer) = session("named");
    let too_long = "n".repeat(200);
    for (n, bad) in
        ["../x", "", "   ", too_long.as_str(), "a/b", ".hidden", "-dash", "..", "tab\there"]
            .into_iter()
            .enumerate()
    {
        let mut client = dir.client("named");
        let ack = client.request(Tag::Rename, bad.as_bytes(), Tag::Ack);
        let text = String::from_utf8_lossy(&ack);
        dir.check(!ack.is_empty(), || format!("rename to {bad:?} was accepted"));
        dir.check(dir.socket_names() == ["named"], || {
            format!("rename to {bad:?} ({text}) moved the socket: {:?}", dir.socket_names())
        });
        assert_healthy(&dir, "named", &mut observer, n as u32 + 1);
    }
    dir.check(!dir.root().join("x").exists(), || "rename to ../x escaped the socket dir".into());
    assert_eq!(dir.status("named")["name"], "named");
}

#[test]
fn resize_to_zero_and_to_65535_does_not_hurt() {
    let (dir, mut observer) = session("sizes");
    let mut leader = dir.client("sizes");
    leader.init(30, 90);
    leader.input("\r"); // takes the lead
    dir.wait_for("the leader's size", || dir.status("sizes")["rows"] == 30);

    leader.send(Tag::Resize.as_u8(), &[0, 0, 0, 0]);
    assert_healthy(&dir, "sizes", &mut observer, 1);
    let status = dir.status("sizes");
    dir.check(status["rows"] == 30 && status["cols"] == 90, || {
        format!("a 0x0 resize was applied: {status}")
    });

    leader.send(Tag::Resize.as_u8(), &[0xff, 0xff, 0xff, 0xff]);
    assert_healthy(&dir, "sizes", &mut observer, 2);
    let status = dir.status("sizes");
    let rows = status["rows"].as_u64().unwrap_or(0);
    let cols = status["cols"].as_u64().unwrap_or(0);
    dir.check((1..=1000).contains(&rows) && (1..=1000).contains(&cols), || {
        format!("65535x65535 was not clamped: {status}")
    });

    // Short payloads are ignored.
    leader.send(Tag::Resize.as_u8(), &[1, 2, 3]);
    leader.send(Tag::Resize.as_u8(), &[]);
    assert_healthy(&dir, "sizes", &mut observer, 3);
}

#[test]
fn init_with_a_3_byte_payload_does_not_hurt() {
    let (dir, mut observer) = session("init3");
    let mut client = dir.client("init3");
    client.send(Tag::Init.as_u8(), &[24, 0, 80]);
    let info = client.info();
    dir.check(info.clients >= 1, || format!("Info after a short Init: {info:?}"));
    assert_healthy(&dir, "init3", &mut observer, 1);
    client.input("echo SHORT$((9*9))\r");
    client.wait_output_contains("SHORT81");
}

#[test]
fn unknown_tags_are_ignored_and_the_connection_stays_open() {
    let (dir, mut observer) = session("tags");
    let mut client = dir.client("tags");
    // Tags no peer defines (19..=31 are unassigned; ours grow from 37 upwards).
    for tag in [19u8, 25, 31, 150, 200, 255] {
        client.send(tag, b"whatever payload");
        client.send(tag, &[]);
    }
    // Frames a client should never send are ignored too.
    client.send(Tag::Output.as_u8(), b"not for the daemon");
    client.send(Tag::Ack.as_u8(), b"");
    client.send(Tag::TaskComplete.as_u8(), &[3]);
    let info = client.info();
    dir.check(info.pid > 0, || "no Info after unknown tags".into());
    match client.recv(std::time::Instant::now() + std::time::Duration::from_millis(200)) {
        Recv::TimedOut => {}
        other => dir.fail(&format!("unexpected after unknown tags: {other:?}")),
    }
    assert_healthy(&dir, "tags", &mut observer, 1);
}

#[test]
fn requests_whose_replies_are_never_read_hold_bounded_memory() {
    let (dir, mut observer) = session("unread");
    let mut spammer = UnixStream::connect(dir.socket("unread")).unwrap();
    spammer.set_nonblocking(true).unwrap();
    // 400 000 Info requests (2 MB) would queue 220 MB of replies if the daemon kept reading.
    let request = [Tag::Info.as_u8(), 0, 0, 0, 0].repeat(4096);
    let mut sent = 0usize;
    let deadline = crate::support::deadline();
    while sent < 400_000 * 5 && std::time::Instant::now() < deadline {
        match spammer.write(&request) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                // Wait for the daemon to read more; no progress for a second means it
                // stopped reading this connection.
                let mut fds = [rustix::event::PollFd::new(&spammer, rustix::event::PollFlags::OUT)];
                let timeout = rustix::event::Timespec { tv_sec: 1, tv_nsec: 0 };
                if rustix::event::poll(&mut fds, Some(&timeout)).unwrap_or(0) == 0 {
                    break;
                }
            }
            Err(e) => panic!("write: {e}"),
        }
    }
    dir.check(sent < 400_000 * 5, || {
        "the daemon read every request although no reply was read".into()
    });
    let rss = dir.status("unread")["rss_bytes"].as_u64().unwrap_or(u64::MAX);
    dir.check(rss < 64 << 20, || format!("daemon RSS {rss} bytes with unread replies"));
    assert_healthy(&dir, "unread", &mut observer, 1);
}
