//! The blocking client against scripted listeners on real Unix sockets.

use std::io::{Read, Write};
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use tsm_proto::{
    ClientError, FrameDecoder, Info, OwnedFrame, SessionStatus, SocketDir, Tag, write_frame,
};

/// Serves one connection on `listener`: reads one frame and answers with `reply` (None:
/// closes without answering). Returns the request it read.
fn serve_once(
    listener: UnixListener,
    reply: Option<(Tag, Vec<u8>)>,
) -> thread::JoinHandle<OwnedFrame> {
    thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut decoder = FrameDecoder::new();
        let request = loop {
            if let Some(frame) = decoder.next_frame().unwrap() {
                break frame.to_owned_frame();
            }
            assert!(decoder.read_from(&mut stream).unwrap() > 0, "client hung up");
        };
        if let Some((tag, payload)) = reply {
            write_frame(&mut stream, tag, &payload).unwrap();
        }
        request
    })
}

fn sample_info() -> Info {
    Info {
        clients: 2,
        pid: 99999,
        cmd: "zsh".into(),
        cwd: "/tmp".into(),
        created_at: 5000,
        ..Info::default()
    }
}

#[test]
fn probe_sends_an_info_request_and_parses_the_reply() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    let server = serve_once(
        UnixListener::bind(&path).unwrap(),
        Some((Tag::Info, sample_info().encode().to_vec())),
    );
    assert_eq!(tsm_proto::probe(&path).unwrap(), sample_info());
    assert_eq!(server.join().unwrap(), OwnedFrame::new(Tag::Info, Vec::new()));
}

#[test]
fn probe_of_a_missing_path_fails_as_not_found() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(tsm_proto::probe(&dir.path().join("nope")), Err(ClientError::NotFound)));
}

#[test]
fn a_socket_nobody_listens_on_is_stale() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dead");
    drop(UnixListener::bind(&path).unwrap());
    assert!(matches!(tsm_proto::probe(&path), Err(ClientError::Refused)));
    assert_eq!(tsm_proto::status(&path), Some(SessionStatus::Stale));
    assert!(path.exists(), "the client never deletes a socket");
}

#[test]
fn a_daemon_that_accepts_but_never_answers_is_busy_within_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy");
    let _listener = UnixListener::bind(&path).unwrap(); // never accepted: the kernel queues us
    let start = Instant::now();
    assert_eq!(tsm_proto::status(&path), Some(SessionStatus::Busy));
    let took = start.elapsed();
    assert!(took >= tsm_proto::PROBE_TIMEOUT && took < Duration::from_secs(3), "{took:?}");
    assert!(path.exists());
}

#[test]
fn a_reply_with_the_wrong_tag_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("odd");
    let _server = serve_once(UnixListener::bind(&path).unwrap(), Some((Tag::Ack, Vec::new())));
    assert!(matches!(tsm_proto::probe(&path), Err(ClientError::UnexpectedTag(Tag::Ack))));
}

#[test]
fn list_probes_concurrently_and_classifies() {
    let dir = tempfile::tempdir().unwrap();
    let sockets = SocketDir::new(dir.path());
    let live = serve_once(
        UnixListener::bind(dir.path().join("live")).unwrap(),
        Some((Tag::Info, sample_info().encode().to_vec())),
    );
    drop(UnixListener::bind(dir.path().join("stale")).unwrap());
    let _busy_a = UnixListener::bind(dir.path().join("busy-a")).unwrap();
    let _busy_b = UnixListener::bind(dir.path().join("busy-b")).unwrap();
    std::fs::write(dir.path().join("not-a-socket"), b"").unwrap();
    std::fs::create_dir(dir.path().join(".zsh")).unwrap();

    let start = Instant::now();
    let entries = tsm_proto::list(&sockets).unwrap();
    let took = start.elapsed();
    live.join().unwrap();

    let summary: Vec<(&str, &SessionStatus)> =
        entries.iter().map(|e| (e.name.as_str(), &e.status)).collect();
    assert_eq!(
        summary,
        [
            ("busy-a", &SessionStatus::Busy),
            ("busy-b", &SessionStatus::Busy),
            ("live", &SessionStatus::Live(sample_info())),
            ("stale", &SessionStatus::Stale),
        ]
    );
    // Two busy daemons cost one probe timeout, not two.
    assert!(took < tsm_proto::PROBE_TIMEOUT * 2, "{took:?}");
}

#[test]
fn list_of_a_missing_directory_is_empty() {
    let dir = tempfile::tempdir().unwrap();
    assert!(tsm_proto::list(&SocketDir::new(dir.path().join("missing"))).unwrap().is_empty());
}

#[test]
fn rename_turns_an_ack_error_into_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s");
    let server =
        serve_once(UnixListener::bind(&path).unwrap(), Some((Tag::Ack, b"invalid name".to_vec())));
    match tsm_proto::rename(&path, "../x") {
        Err(ClientError::Rejected(text)) => assert_eq!(text, "invalid name"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(server.join().unwrap(), OwnedFrame::new(Tag::Rename, b"../x".to_vec()));

    let server =
        serve_once(UnixListener::bind(dir.path().join("t")).unwrap(), Some((Tag::Ack, Vec::new())));
    tsm_proto::rename(&dir.path().join("t"), "new").unwrap();
    server.join().unwrap();
}

#[test]
fn kill_returns_when_the_daemon_hangs_up() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    let listener = UnixListener::bind(&path).unwrap();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut header = [0u8; 5];
        stream.read_exact(&mut header).unwrap();
        // Some output still in flight, then the hang-up.
        write_frame(&mut stream, Tag::Output, b"bye").unwrap();
        header
    });
    tsm_proto::kill(&path).unwrap();
    assert_eq!(server.join().unwrap(), [5, 0, 0, 0, 0]);
}

#[test]
fn detach_all_sends_tag_4() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d");
    let server = serve_once(UnixListener::bind(&path).unwrap(), None);
    tsm_proto::detach_all(&path).unwrap();
    assert_eq!(server.join().unwrap(), OwnedFrame::new(Tag::DetachAll, Vec::new()));
}

#[test]
fn history_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h");
    let server =
        serve_once(UnixListener::bind(&path).unwrap(), Some((Tag::History, b"$ ls\r\n".to_vec())));
    let request = tsm_proto::HistoryRequest::new(tsm_proto::HistoryFormat::Plain);
    assert_eq!(tsm_proto::history(&path, &request).unwrap(), b"$ ls\r\n");
    assert_eq!(server.join().unwrap(), OwnedFrame::new(Tag::History, vec![0]));
}

#[test]
fn a_partial_reply_survives_a_slow_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let path: &Path = &dir.path().join("slow");
    let listener = UnixListener::bind(path).unwrap();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut header = [0u8; 5];
        stream.read_exact(&mut header).unwrap();
        let mut reply = Vec::new();
        tsm_proto::encode_into(Tag::Info, &sample_info().encode(), &mut reply);
        for chunk in reply.chunks(100) {
            stream.write_all(chunk).unwrap();
            stream.flush().unwrap();
        }
    });
    assert_eq!(tsm_proto::probe(path).unwrap(), sample_info());
    server.join().unwrap();
}
