//! `tsm attach` inside a session switches the outer client instead of nesting (the Go
//! tsm's `ESC ] 633 ; TSM_ATTACH=<name> BEL`).

use crate::support::{PtyClient, TestDir};

#[test]
fn attach_inside_a_session_prints_the_switch_sequence_without_a_tty() {
    let dir = TestDir::new();
    let mut cmd = dir.tsm();
    cmd.args(["attach", "other"]).env("TSM_SESSION", "cur");
    let run = dir.run_command(cmd, "TSM_SESSION=cur tsm attach other");
    assert_eq!(run.code(), Some(0), "{run:?}");
    assert_eq!(run.stdout.as_bytes(), b"\x1b]633;TSM_ATTACH=other\x07");
    assert_eq!(run.stderr, "");
    // Nothing was created.
    assert!(dir.socket_names().is_empty());

    // Attaching to the session one is in does nothing.
    let mut cmd = dir.tsm();
    cmd.args(["attach", "cur"]).env("TSM_SESSION", "cur");
    let run = dir.run_command(cmd, "TSM_SESSION=cur tsm attach cur");
    assert_eq!(run.code(), Some(0), "{run:?}");
    assert_eq!(run.stdout, "");
}

#[test]
fn attach_typed_inside_an_attached_session_switches_the_outer_client() {
    let dir = TestDir::new();
    dir.new_shell("first");
    dir.new_shell("second");
    // Something only the second session shows.
    let mut setup = dir.client("second");
    setup.send_text("echo IN-SECOND-$((3*7))\r");
    dir.wait_for("the second session's output", || dir.history("second").contains("IN-SECOND-21"));

    let mut client = PtyClient::attach(&dir, "first");
    dir.wait_for("the client to attach to first", || dir.info("first").clients == 1);
    client.wait_raw_mode();
    client.type_bytes(format!("{} attach second\r", crate::support::tsm_bin()).as_bytes());

    client.wait_screen_contains("IN-SECOND-21");
    dir.wait_for("the client to be on second", || {
        dir.info("second").clients == 1 && dir.info("first").clients == 0
    });
    let second = dir.ls_entry("second").unwrap();
    let first = dir.ls_entry("first").unwrap();
    assert_eq!(second["clients"], 1, "{second}");
    assert_eq!(first["clients"], 0, "{first}");
    assert!(client.is_running(), "the outer client ended instead of switching");
    dir.check(!client.screen_text().contains("TSM_ATTACH"), || {
        "the switch sequence reached the terminal".into()
    });

    // The switched client is a normal one: the detach key works.
    client.type_bytes(b"\x1c");
    client.wait_screen_contains("[detached from second]");
    assert_eq!(client.wait_exit().code(), 0);
}
