//! A program that exits while no one watches: the session stays, listed as exited with its
//! code and output, until someone attaches or reads its history.

use tsm_proto::{OwnedFrame, Tag};

use crate::support::{PtyClient, Recv, TestDir};

/// Prints a marker (only when run: the text `EXIT$((3+4))MARK` becomes `EXIT7MARK`) and
/// exits with 7.
const EXITS_WITH_7: &[&str] = &["sh", "-c", "echo EXIT$((3+4))MARK; exit 7"];

#[track_caller]
fn wait_exited(dir: &TestDir, name: &str) -> serde_json::Value {
    dir.wait_for(&format!("{name} to be listed as exited"), || {
        dir.ls_entry(name).is_some_and(|row| row["state"] == "exited")
    });
    dir.ls_entry(name).expect("listed")
}

#[test]
fn an_exit_with_no_one_attached_is_kept_and_shown_on_attach() {
    let dir = TestDir::new();
    dir.new_session("seven", EXITS_WITH_7);
    let row = wait_exited(&dir, "seven");
    assert_eq!(row["exit_code"], 7, "ls --json: {row}");
    let table = dir.ok(&["ls"]);
    dir.check(table.contains("exited(7)"), || format!("tsm ls: {table}"));
    let info = dir.info("seven");
    assert_eq!(info.task_exit_code, 7);
    dir.check(info.task_ended_at != 0, || "task_ended_at is 0 after the exit".into());
    // Listing and Info do not end it.
    dir.check(dir.socket_exists("seven"), || "the socket went after ls".into());

    let mut client = PtyClient::attach(&dir, "seven");
    client.wait_screen_contains("EXIT7MARK");
    client.wait_screen_contains("[session seven exited with code 7]");
    let status = client.wait_exit();
    dir.check(status.code() == 0, || format!("the client exited with {status}"));
    dir.wait_for("the socket to go", || !dir.socket_exists("seven"));
    assert_eq!(dir.ok(&["ls", "--short"]), "");
}

#[test]
fn reading_the_history_of_an_exited_session_ends_it() {
    let dir = TestDir::new();
    dir.new_session("hist", EXITS_WITH_7);
    wait_exited(&dir, "hist");
    let history = dir.history("hist");
    dir.check(history.contains("EXIT7MARK"), || format!("history: {history:?}"));
    dir.wait_for("the socket to go", || !dir.socket_exists("hist"));
}

/// Receives every frame until the daemon closes the connection.
#[track_caller]
fn frames_until_closed(dir: &TestDir, client: &mut crate::support::TestClient) -> Vec<OwnedFrame> {
    let mut frames = Vec::new();
    let deadline = crate::support::deadline();
    loop {
        match client.recv(deadline) {
            Recv::Frame(frame) => frames.push(frame),
            Recv::Closed => return frames,
            Recv::TimedOut => dir.fail(&format!(
                "the daemon did not close the connection; output: {:?}",
                client.screen_text()
            )),
        }
    }
}

#[test]
fn an_attached_client_sees_the_exit_and_the_session_ends() {
    let dir = TestDir::new();
    dir.new_shell("live");
    let mut client = dir.client("live");
    client.init(24, 80);
    client.input("echo BYE$((1+1)); exit 5\r");
    let frames = frames_until_closed(&dir, &mut client);
    let exits: Vec<&OwnedFrame> = frames.iter().filter(|f| f.tag == Tag::SessionExit).collect();
    dir.check(exits.len() == 1 && exits[0].payload == [5], || {
        format!("expected one SessionExit with 5: {exits:?}")
    });
    dir.check(client.screen_text().contains("BYE2"), || {
        format!("the output is missing: {:?}", client.screen_text())
    });
    dir.wait_for("the socket to go", || !dir.socket_exists("live"));
}

#[test]

fn the_last_output_comes_before_the_exit_notice() {
    let dir = TestDir::new();
    // The order depends on whether the daemon sees the exit before the last output, so
    // try a few times.
    for attempt in 0..5 {
        let name = format!("order{attempt}");
        dir.new_shell(&name);
        let mut client = dir.client(&name);
        client.init(24, 80);
        client.wait_output_contains("$");
        // Printed right before the exit, so the daemon may read it after the exit.
        client.input("printf 'LAST%s' $((1+1)); exit 3\r");
        let frames = frames_until_closed(&dir, &mut client);
        let tags: Vec<Tag> = frames.iter().map(|f| f.tag).collect();
        dir.check(tags.last() == Some(&Tag::SessionExit), || {
            format!("attempt {attempt}: SessionExit is not the last frame: {tags:?}")
        });
        dir.check(client.screen_text().contains("LAST2"), || {
            format!("attempt {attempt}: the last output is missing: {:?}", client.screen_text())
        });
    }
}
