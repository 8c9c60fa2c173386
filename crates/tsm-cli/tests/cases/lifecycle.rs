//! Round trips of a session's life: new, attach, detach, re-attach, rename, kill, several
//! clients, and the size-leader rule.

use tsm_proto::Tag;

use crate::support::{PtyClient, TestDir, process_alive};

/// Waits until session `name` reports `clients` attached clients.
#[track_caller]
fn wait_clients(dir: &TestDir, name: &str, clients: u64) {
    dir.wait_for(&format!("{name} to have {clients} attached client(s)"), || {
        dir.info(name).clients == clients
    });
}

/// Waits until the session's PTY has `rows` x `cols` (Status, tag 38).
#[track_caller]
fn wait_size(dir: &TestDir, name: &str, rows: u64, cols: u64) {
    dir.wait_for(&format!("{name} to be {rows}x{cols}"), || {
        let status = dir.status(name);
        status["rows"] == rows && status["cols"] == cols
    });
}

#[test]
fn attach_detach_reattach_counts_clients_one_zero_one() {
    let dir = TestDir::new();
    dir.new_shell("rt");
    let daemon = dir.daemon_pid("rt");
    assert_eq!(dir.info("rt").clients, 0);

    let mut first = PtyClient::attach(&dir, "rt");
    wait_clients(&dir, "rt", 1);
    first.wait_raw_mode();
    first.type_bytes(b"\x1c");
    first.wait_screen_contains("[detached from rt]");
    let status = first.wait_exit();
    dir.check(status.code() == 0, || format!("detach exited with {status}"));
    wait_clients(&dir, "rt", 0);
    dir.check(process_alive(daemon), || "the daemon died on detach".into());

    let _second = PtyClient::attach(&dir, "rt");
    wait_clients(&dir, "rt", 1);
    dir.check(process_alive(daemon), || "the daemon died on re-attach".into());
}

#[test]
fn rename_then_attach_by_the_new_name_and_ls_shows_only_it() {
    let dir = TestDir::new();
    dir.new_shell("before");
    let out = dir.ok(&["rename", "before", "after"]);
    assert_eq!(out, "Session \"before\" renamed to \"after\"\n");

    assert_eq!(dir.ok(&["ls", "--short"]), "after\n");
    dir.check(!dir.socket_exists("before"), || "the old socket is still there".into());
    dir.check(dir.socket_names() == ["after"], || format!("sockets: {:?}", dir.socket_names()));
    assert_eq!(dir.status("after")["name"], "after");
    // The log follows the name (a decision of tsm-daemon).
    dir.check(dir.log_dir().join("after.log").exists(), || "no after.log".into());

    let _client = PtyClient::attach(&dir, "after");
    wait_clients(&dir, "after", 1);
    assert_eq!(dir.ok(&["ls", "--short"]), "after\n");
    dir.check(!dir.socket_exists("before"), || "attaching recreated the old name".into());
}

#[test]
fn kill_exits_the_daemon_closes_the_attached_connection_and_removes_the_socket() {
    let dir = TestDir::new();
    dir.new_shell("victim");
    let daemon = dir.daemon_pid("victim");
    let child = dir.info("victim").pid;
    let mut attached = dir.client("victim");
    attached.init(24, 80);

    let out = dir.ok(&["kill", "victim"]);
    assert_eq!(out, "Session \"victim\" killed\n");
    // `tsm kill` returns once the daemon is gone: the socket is already removed.
    dir.check(!dir.socket_exists("victim"), || "the socket survived tsm kill".into());
    attached.wait_closed("kill");
    dir.wait_gone(daemon, "the daemon");
    dir.wait_gone(child, "the session's shell");
    assert_eq!(dir.ok(&["ls", "--short"]), "");
}

#[test]
fn kill_then_new_with_the_same_name_works_at_once() {
    let dir = TestDir::new();
    dir.new_shell("again");
    let first = dir.daemon_pid("again");
    dir.ok(&["kill", "again"]);
    dir.new_shell("again");
    let second = dir.daemon_pid("again");
    dir.check(first != second, || "the same daemon answers".into());
    assert_eq!(dir.info("again").clients, 0);
}

#[test]
fn two_clients_at_once_both_get_output() {
    let dir = TestDir::new();
    dir.new_session("cat", &["cat"]);
    let mut a = dir.client("cat");
    a.init(24, 80);
    let mut b = dir.client("cat");
    b.init(24, 80);
    assert_eq!(dir.info("cat").clients, 2);

    b.input("ping-from-b\r");
    a.wait_output_contains("ping-from-b");
    b.wait_output_contains("ping-from-b");
    a.input("pong-from-a\r");
    a.wait_output_contains("pong-from-a");
    b.wait_output_contains("pong-from-a");
}

#[test]
fn the_size_leader_is_the_first_client_then_the_last_to_type() {
    let dir = TestDir::new();
    dir.new_shell("size");
    let mut a = dir.client("size");
    a.init(30, 100);
    wait_size(&dir, "size", 30, 100);
    // Send (tag 18) types without taking the lead: the probe only asks.
    let mut probe = dir.client("size");
    probe.send_text("echo S1:$(stty size)\r");
    a.wait_output_contains("S1:30 100");

    let mut b = dir.client("size");
    b.init(40, 120);
    probe.send_text("echo S2:$(stty size)\r");
    a.wait_output_contains("S2:30 100");
    assert_eq!(dir.status("size")["rows"], 30, "B's attach must not change the size");

    // B types: B leads, its size applies before its input reaches the shell.
    b.input("echo S3:$(stty size)\r");
    a.wait_output_contains("S3:40 120");
    b.wait_output_contains("S3:40 120");
    wait_size(&dir, "size", 40, 120);

    // A leaves: B still leads.
    a.send(Tag::Detach.as_u8(), &[]);
    a.wait_closed("detach");
    wait_clients(&dir, "size", 1);
    probe.send_text("echo S4:$(stty size)\r");
    b.wait_output_contains("S4:40 120");
    assert_eq!(dir.status("size")["cols"], 120);
}

#[test]
fn when_the_leader_leaves_the_most_recently_active_client_leads() {
    let dir = TestDir::new();
    dir.new_shell("hand");
    let mut a = dir.client("hand");
    a.init(30, 100);
    let mut b = dir.client("hand");
    b.init(40, 120);
    b.input("echo B1:$(stty size)\r");
    a.wait_output_contains("B1:40 120");
    // A types again: A leads (30x100).
    a.input("echo A1:$(stty size)\r");
    b.wait_output_contains("A1:30 100");
    // A, the leader, leaves: B, the other active client, leads with its size.
    a.send(Tag::Detach.as_u8(), &[]);
    a.wait_closed("detach");
    wait_size(&dir, "hand", 40, 120);
    let mut probe = dir.client("hand");
    probe.send_text("echo B2:$(stty size)\r");
    b.wait_output_contains("B2:40 120");
}

#[test]
fn tsm_detach_detaches_every_client_and_the_session_lives_on() {
    let dir = TestDir::new();
    dir.new_shell("many");
    let daemon = dir.daemon_pid("many");
    let mut a = dir.client("many");
    a.init(24, 80);
    let mut b = dir.client("many");
    b.init(24, 80);
    assert_eq!(dir.info("many").clients, 2);

    assert_eq!(dir.ok(&["detach", "many"]), "Session \"many\" detached\n");
    a.wait_closed("tsm detach");
    b.wait_closed("tsm detach");
    dir.check(process_alive(daemon), || "the daemon died on detach".into());
    assert_eq!(dir.info("many").clients, 0);

    // And the session still works.
    let mut c = dir.client("many");
    c.init(24, 80);
    c.input("echo ALIVE$((6*7))\r");
    c.wait_output_contains("ALIVE42");
}
