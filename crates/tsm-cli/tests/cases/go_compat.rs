//! Byte compatibility with the Go tsm: a raw client sends exactly the Go tsm's frames and
//! checks the exact bytes of the replies (spec/wire.md).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{SystemTime, UNIX_EPOCH};

use tsm_proto::Tag;

use crate::support::{TestClient, TestDir, WAIT};

fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn raw(dir: &TestDir, name: &str) -> UnixStream {
    let stream = UnixStream::connect(dir.socket(name)).unwrap();
    stream.set_read_timeout(Some(WAIT)).unwrap();
    stream
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

#[test]
fn info_reply_is_552_bytes_with_the_fields_at_go_offsets() {
    let dir = TestDir::new();
    let before = unix_now();
    let cwd = dir.root().to_str().unwrap().to_owned();
    dir.ok(&["new", "-c", &cwd, "gi", "--", "sleep", "100"]);
    let after = unix_now();

    let mut stream = raw(&dir, "gi");
    stream.write_all(&[0x06, 0x00, 0x00, 0x00, 0x00]).unwrap();
    let mut reply = vec![0u8; 5 + 552];
    stream.read_exact(&mut reply).unwrap();
    assert_eq!(reply[..5], [0x06, 0x28, 0x02, 0x00, 0x00], "header of the Info reply");
    let info = &reply[5..];

    assert_eq!(u64_at(info, 0), 0, "clients");
    let pid = i32::from_le_bytes(info[8..12].try_into().unwrap());
    assert_eq!(pid as i64, dir.status("gi")["pid"].as_i64().unwrap(), "pid is the child's");
    let child_cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap();
    assert_eq!(child_cmdline, b"sleep\x00100\x00", "pid {pid} is not the session's child");
    let cmd_len = u16_at(info, 12) as usize;
    let cwd_len = u16_at(info, 14) as usize;
    assert_eq!(&info[16..16 + cmd_len], b"sleep 100");
    assert!(info[16 + cmd_len..272].iter().all(|b| *b == 0), "cmd is zero-filled");
    assert_eq!(&info[272..272 + cwd_len], cwd.as_bytes());
    assert!(info[272 + cwd_len..528].iter().all(|b| *b == 0), "cwd is zero-filled");
    let created_at = u64_at(info, 528);
    assert!(
        (before..=after).contains(&created_at),
        "created_at {created_at} not in {before}..={after}"
    );
    assert_eq!(u64_at(info, 536), 0, "task_ended_at while running");
    assert_eq!(info[544], 0, "task_exit_code while running");
    assert_eq!(info[545..552], [0; 7], "padding");

    // A payload on the request is ignored, and the connection serves another request.
    stream.write_all(&[0x06, 0x03, 0x00, 0x00, 0x00, 1, 2, 3]).unwrap();
    let mut again = vec![0u8; 5 + 552];
    stream.read_exact(&mut again).unwrap();
    assert_eq!(again[..5], [0x06, 0x28, 0x02, 0x00, 0x00]);
}

#[test]
fn rename_replies_with_an_empty_ack_and_refuses_an_existing_name() {
    let dir = TestDir::new();
    dir.new_shell("old");
    dir.new_shell("taken");

    let mut stream = raw(&dir, "old");
    stream.write_all(&[0x0B, 0x03, 0x00, 0x00, 0x00, b'n', b'e', b'w']).unwrap();
    let mut ack = [0u8; 5];
    stream.read_exact(&mut ack).unwrap();
    assert_eq!(ack, [0x0A, 0x00, 0x00, 0x00, 0x00]);
    dir.check(dir.socket_names() == ["new", "taken"], || format!("{:?}", dir.socket_names()));

    // The same connection renames again, to a name in use: an Ack with the reason.
    let mut client = TestClient::from_stream(stream, dir.diag().clone());
    let ack = client.request(Tag::Rename, b"taken", Tag::Ack);
    let text = String::from_utf8_lossy(&ack).into_owned();
    dir.check(text.contains("already exists"), || format!("Ack text: {text:?}"));
    dir.check(dir.socket_names() == ["new", "taken"], || format!("{:?}", dir.socket_names()));
    assert_eq!(dir.status("taken")["name"], "taken");
    assert_eq!(dir.status("new")["name"], "new");
}

#[test]
fn init_sends_output_and_resize_applies_without_a_reply() {
    let dir = TestDir::new();
    dir.new_shell("sz");
    // Some output first, so the attach has a screen to restore.
    let mut setup = dir.client("sz");
    setup.send_text("echo READY$((5*5))\r");
    dir.wait_for("the shell's output", || dir.history("sz").contains("READY25"));

    let stream = raw(&dir, "sz");
    let mut client = TestClient::from_stream(stream, dir.diag().clone());
    client.send_raw(&[0x07, 0x04, 0x00, 0x00, 0x00, 0x18, 0x00, 0x50, 0x00]).unwrap();
    client.recv_until("an Output frame after Init", |f| f.tag == Tag::Output);
    client.wait_output_contains("READY25");
    dir.wait_for("24x80", || dir.status("sz")["rows"] == 24 && dir.status("sz")["cols"] == 80);

    client.send_raw(&[0x02, 0x04, 0x00, 0x00, 0x00, 0x28, 0x00, 0x78, 0x00]).unwrap();
    dir.wait_for("40x120", || dir.status("sz")["rows"] == 40 && dir.status("sz")["cols"] == 120);
    // No reply to Resize: the next frame that is not Output is the Info asked for now.
    client.send(Tag::Info.as_u8(), &[]);
    let next = client.recv_until("a reply", |f| f.tag != Tag::Output);
    assert_eq!(next.tag, Tag::Info, "a reply to Resize?");
    client.send_text("echo SIZE:$(stty size)\r");
    client.wait_output_contains("SIZE:40 120");
}

#[test]
fn kill_closes_the_connection_and_removes_the_socket() {
    let dir = TestDir::new();
    dir.new_shell("k");
    let daemon = dir.daemon_pid("k");
    let stream = raw(&dir, "k");
    let mut client = TestClient::from_stream(stream, dir.diag().clone());
    client.send_raw(&[0x05, 0x00, 0x00, 0x00, 0x00]).unwrap();
    client.wait_closed("Kill");
    dir.check(!dir.socket_exists("k"), || "the socket is still there when Kill closed".into());
    dir.wait_gone(daemon, "the daemon");
}

#[test]
fn detach_all_closes_every_connection_including_the_sender() {
    let dir = TestDir::new();
    dir.new_shell("da");
    let mut a = dir.client("da");
    a.init(24, 80);
    let mut b = dir.client("da");
    b.init(24, 80);
    let mut watcher = dir.client("da"); // not attached
    watcher.info();
    assert_eq!(dir.info("da").clients, 2);

    let mut sender = TestClient::from_stream(raw(&dir, "da"), dir.diag().clone());
    sender.send_raw(&[0x04, 0x00, 0x00, 0x00, 0x00]).unwrap();
    sender.wait_closed("DetachAll, the sender");
    a.wait_closed("DetachAll, client a");
    b.wait_closed("DetachAll, client b");
    watcher.wait_closed("DetachAll, the unattached connection");
    assert_eq!(dir.info("da").clients, 0);
    assert!(dir.socket_exists("da"));
}
