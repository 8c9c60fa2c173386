//! The attached client on a real PTY: the detach key in all its forms, and the terminal
//! put back (cooked mode, modes reset) however the attach ends.

use rustix::process::Signal;

use crate::support::{PtyClient, TestDir, contains_bytes, kill_pid, strip_ansi};

/// Attaches to a fresh shell session `name` and waits until the client is attached and
/// the terminal is raw.
#[track_caller]
fn attached_shell(dir: &TestDir, name: &str) -> PtyClient {
    dir.new_shell(name);
    let client = PtyClient::attach(dir, name);
    dir.wait_for("the client to attach", || dir.info(name).clients == 1);
    client.wait_raw_mode();
    client
}

/// Types a command and the detach `key` in one write: the client detaches (exit 0,
/// `[detached from NAME]`) and the command still reaches the session.
#[track_caller]
fn detach_key_keeps_what_was_typed_before_it(key: &[u8]) {
    let dir = TestDir::new();
    let mut client = attached_shell(&dir, "key");
    let mut typed = b"echo X$((40+2))Y\r".to_vec();
    typed.extend_from_slice(key);
    client.type_bytes(&typed);
    client.wait_screen_contains("[detached from key]");
    let status = client.wait_exit();
    dir.check(status.code() == 0, || format!("the client exited with {status}"));
    dir.wait_for("the session to have no client", || dir.info("key").clients == 0);
    dir.wait_for("X42Y in the history", || dir.history("key").contains("X42Y"));
    dir.check(client.is_cooked(), || "the terminal is not back in cooked mode".into());
}

#[test]
fn ctrl_backslash_as_0x1c_detaches() {
    detach_key_keeps_what_was_typed_before_it(b"\x1c");
}

#[test]
fn ctrl_backslash_in_the_kitty_form_detaches() {
    detach_key_keeps_what_was_typed_before_it(b"\x1b[92;5u");
}

#[test]
fn ctrl_backslash_in_the_kitty_form_with_lock_bits_detaches() {
    // 69 = 1 + ctrl (4) + caps lock (64).
    detach_key_keeps_what_was_typed_before_it(b"\x1b[92;69u");
}

#[test]
fn ctrl_backslash_in_the_modify_other_keys_form_detaches() {
    detach_key_keeps_what_was_typed_before_it(b"\x1b[27;5;92~");
}

/// Checks that the terminal is cooked again and that the reset sequence was written after
/// `mark`.
#[track_caller]
fn assert_terminal_restored(dir: &TestDir, client: &PtyClient, mark: usize) {
    let termios = client.termios();
    dir.check(client.is_cooked(), || {
        format!("the terminal is not cooked after the attach ended: {:?}", termios.local_modes)
    });
    let after = client.output_since(mark);
    for seq in [&b"\x1b[?25h"[..], b"\x1b[?1049l"] {
        dir.check(contains_bytes(&after, seq), || {
            format!(
                "{:?} was not written when the attach ended; the client wrote {:?}",
                String::from_utf8_lossy(seq),
                String::from_utf8_lossy(&after)
            )
        });
    }
}

#[test]
fn the_terminal_is_restored_after_detach() {
    let dir = TestDir::new();
    let mut client = attached_shell(&dir, "t1");
    dir.check(!client.is_cooked(), || "the client did not put the terminal in raw mode".into());
    let mark = client.output_len();
    client.type_bytes(b"\x1c");
    client.wait_screen_contains("[detached from t1]");
    assert_eq!(client.wait_exit().code(), 0);
    assert_terminal_restored(&dir, &client, mark);
}

#[test]
fn the_terminal_is_restored_after_the_session_exits() {
    let dir = TestDir::new();
    let mut client = attached_shell(&dir, "t2");
    let mark = client.output_len();
    client.type_bytes(b"exit 3\r");
    client.wait_screen_contains("[session t2 exited with code 3]");
    assert_eq!(client.wait_exit().code(), 0);
    assert_terminal_restored(&dir, &client, mark);
    dir.wait_for("the socket to go", || !dir.socket_exists("t2"));
}

#[test]

fn the_programs_last_output_reaches_the_terminal_before_the_reset() {
    let dir = TestDir::new();
    // The order depends on whether the daemon sees the exit before the last output, so
    // try a few times.
    for attempt in 0..3 {
        let name = format!("last{attempt}");
        let mut client = attached_shell(&dir, &name);
        // The program switches to the alternate screen, hides the cursor, prints and
        // exits at once: its last output may still be in the PTY when the daemon sees
        // the exit.
        client.type_bytes(b"printf '\\033[?1049h\\033[?25lLAST%s' $((1+1)); exit 3\r");
        client.wait_screen_contains(&format!("[session {name} exited with code 3]"));
        assert_eq!(client.wait_exit().code(), 0);
        let out = client.output();
        dir.check(strip_ansi(&out).contains("LAST2"), || {
            format!(
                "attempt {attempt}: the program's last output never reached the terminal: {:?}",
                strip_ansi(&out)
            )
        });
        // The reset comes after the program's own modes.
        let hide = out.windows(6).rposition(|w| w == b"\x1b[?25l");
        let show = out.windows(6).rposition(|w| w == b"\x1b[?25h");
        dir.check(hide.is_some() && show > hide, || {
            format!("attempt {attempt}: the cursor was not shown again after the program hid it")
        });
        dir.check(client.is_cooked(), || "the terminal is not cooked".into());
    }
}

#[test]
fn the_terminal_is_restored_after_sigterm_to_the_client() {
    let dir = TestDir::new();
    let mut client = attached_shell(&dir, "t3");
    let mark = client.output_len();
    client.signal(Signal::TERM);
    let status = client.wait_exit();
    dir.check(status.code() == 128 + 15, || format!("SIGTERM: the client exited with {status}"));
    assert_terminal_restored(&dir, &client, mark);
    dir.wait_for("the session to have no client", || dir.info("t3").clients == 0);
}

#[test]
fn the_terminal_is_restored_after_sighup_to_the_client() {
    let dir = TestDir::new();
    let mut client = attached_shell(&dir, "t4");
    let mark = client.output_len();
    client.signal(Signal::HUP);
    let status = client.wait_exit();
    dir.check(status.code() == 128 + 1, || format!("SIGHUP: the client exited with {status}"));
    assert_terminal_restored(&dir, &client, mark);
    dir.wait_for("the session to have no client", || dir.info("t4").clients == 0);
}

#[test]
fn the_terminal_is_restored_when_the_daemon_is_killed() {
    let dir = TestDir::new();
    let mut client = attached_shell(&dir, "t5");
    let daemon = dir.daemon_pid("t5");
    let mark = client.output_len();
    kill_pid(daemon, Signal::KILL);
    let status = client.wait_exit();
    dir.check(status.code() == 0, || format!("the client exited with {status}"));
    assert_terminal_restored(&dir, &client, mark);
}
