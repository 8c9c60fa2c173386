//! Scripting sessions: `run` (output, exit codes, Ctrl-C, big output, look-alike markers,
//! heredocs, scripts on stdin, `--json`, `--vt`, creating the session, refusing a busy
//! terminal), `wait`, `send`, `tail` and `write`.

use std::time::{Duration, Instant};

use rustix::process::Signal;

use crate::support::{Finished, Run, Spawned, TestDir, WAIT};

/// The longest a test with a lot of data waits for one command.
const LONG_WAIT: Duration = Duration::from_secs(20);

/// Fails unless `run` exited with `code` and printed exactly `stdout`.
#[track_caller]
fn check_run(dir: &TestDir, what: &str, run: &Run, code: i32, stdout: &str) {
    dir.check(run.code() == Some(code) && run.stdout == stdout, || {
        format!(
            "`{what}`: expected exit {code} and stdout {stdout:?}, got {} and {:?} (stderr {:?})",
            run.status, run.stdout, run.stderr
        )
    });
}

/// Same as [`check_run`] for a [`Finished`] process.
#[track_caller]
fn check_finished(dir: &TestDir, what: &str, done: &Finished, code: i32, stdout: &str) {
    dir.check(done.code() == Some(code) && done.stdout == stdout.as_bytes(), || {
        format!(
            "`{what}`: expected exit {code} and stdout {stdout:?}, got {} and {:?} (stderr {:?})",
            done.status,
            done.stdout_text(),
            done.stderr
        )
    });
}

/// `tsm run NAME COMMAND`, checked for its code and exact stdout.
#[track_caller]
fn run_ok(dir: &TestDir, name: &str, command: &str, code: i32, stdout: &str) {
    let run = dir.run(&["run", name, command]);
    check_run(dir, &format!("tsm run {name} {command:?}"), &run, code, stdout);
}

/// The name of the terminal's foreground program of the session whose shell is `shell`
/// (from `/proc/<shell>/stat`: its tpgid, then that group leader's `comm`).
fn foreground_program(shell: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{shell}/stat")).ok()?;
    // After the `(comm)`: state ppid pgrp session tty_nr tpgid ...
    let tpgid: i32 = stat.rsplit_once(')')?.1.split_whitespace().nth(5)?.parse().ok()?;
    if tpgid <= 0 {
        return None;
    }
    let comm = std::fs::read_to_string(format!("/proc/{tpgid}/comm")).ok()?;
    Some(comm.trim().to_owned())
}

/// Deterministic pseudo-random bytes (xorshift64*), every byte value included.
fn pseudo_random_bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        out.extend_from_slice(&state.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(len);
    out
}

/// Where two byte strings first differ, for failure messages.
fn first_difference(a: &[u8], b: &[u8]) -> Option<usize> {
    a.iter().zip(b).position(|(x, y)| x != y).or((a.len() != b.len()).then(|| a.len().min(b.len())))
}

// ---- run: output and exit codes -------------------------------------------------------

#[test]
fn run_prints_exactly_the_output_of_the_command() {
    let dir = TestDir::new();
    dir.new_shell("out");
    let run = dir.run(&["run", "out", "echo hi; printf 'two\\n'"]);
    check_run(&dir, "tsm run out 'echo hi; ...'", &run, 0, "hi\ntwo\n");
    dir.check(run.stderr.is_empty(), || format!("stderr: {:?}", run.stderr));
    // Several arguments are quoted and joined: the space stays inside one word.
    let run = dir.run(&["run", "out", "printf", "%s|", "a b", "c"]);
    check_run(&dir, "tsm run out printf '%s|' 'a b' c", &run, 0, "a b|c|");
    // Nothing printed: nothing on stdout, not even the prompt or a newline.
    run_ok(&dir, "out", "true", 0, "");
}

#[test]
fn run_strips_escape_sequences_unless_vt() {
    let dir = TestDir::new();
    dir.new_shell("vt");
    let command = "printf '\\033[31mred\\033[0m plain\\n'";
    run_ok(&dir, "vt", command, 0, "red plain\n");
    let run = dir.run(&["run", "vt", "--vt", command]);
    dir.check(run.code() == Some(0) && run.stdout.contains("\x1b[31mred\x1b[0m plain"), || {
        format!("`tsm run --vt` lost the escapes: {} {:?} {:?}", run.status, run.stdout, run.stderr)
    });
    dir.check(!run.stdout.contains("TSM_TASK") && !run.stdout.contains("printf"), || {
        format!("`tsm run --vt` printed more than the output: {:?}", run.stdout)
    });
}

#[test]
fn run_exits_with_the_code_of_the_command() {
    let dir = TestDir::new();
    dir.new_shell("codes");
    run_ok(&dir, "codes", "true", 0, "");
    run_ok(&dir, "codes", "false", 1, "");
    // `(exit N)`: a plain `exit` would end the session's shell itself.
    run_ok(&dir, "codes", "echo before; (exit 42)", 42, "before\n");
    run_ok(&dir, "codes", "sh -c 'exit 255'", 255, "");
    // The shell reports the job's signal itself, as it would to a user.
    run_ok(&dir, "codes", "sh -c 'kill -TERM $$'", 143, "Terminated\n");
    // The session is still there and usable after every code.
    run_ok(&dir, "codes", "echo alive", 0, "alive\n");
}

#[test]
fn run_exits_130_when_interrupted_and_the_session_stays_usable() {
    let dir = TestDir::new();
    dir.new_shell("int");
    let mut run = dir.spawn(&["run", "int", "echo started; sleep 30"], None);
    run.wait_stdout_contains("started");
    run.signal(Signal::INT);
    let done = run.finish(WAIT);
    dir.check(done.code() == Some(130), || {
        format!("an interrupted run exited {} (stderr {:?})", done.status, done.stderr)
    });
    dir.check(done.stdout.starts_with(b"started\n"), || {
        format!("interrupted run printed {:?}", done.stdout_text())
    });
    // The sleep is gone: the shell has the terminal again and takes the next command.
    run_ok(&dir, "int", "echo after", 0, "after\n");
}

#[test]
fn run_interrupted_prints_nothing_after_the_output_of_the_command() {
    let dir = TestDir::new();
    dir.new_shell("intout");
    for round in 0..8 {
        let mut run = dir.spawn(&["run", "intout", "echo started; sleep 30"], None);
        run.wait_stdout_contains("started");
        run.signal(Signal::INT);
        let done = run.finish(WAIT);
        let stdout = done.stdout_text();
        // bash ends the interrupted line with a newline of its own; nothing else may follow.
        dir.check(done.code() == Some(130) && stdout.trim_end_matches('\n') == "started", || {
            format!("round {round}: interrupted run exited {} and printed {stdout:?}", done.status)
        });
    }
}

#[test]
fn run_whose_command_ends_the_shell_fails_instead_of_hanging() {
    let dir = TestDir::new();
    for round in 0..20 {
        let name = format!("ends{round}");
        dir.new_shell(&name);
        let run = dir.run(&["run", &name, "exit 42"]);
        dir.check(run.code() != Some(0) && run.stderr.contains("session ended"), || {
            format!(
                "round {round}: run of `exit 42`: {} {:?} {:?}",
                run.status, run.stdout, run.stderr
            )
        });
    }
}

#[test]
fn run_delivers_ten_megabytes_of_output_whole() {
    let dir = TestDir::new();
    dir.new_shell("big");
    // 1..=1_400_000, one per line: 10 088 896 bytes, every line different.
    let expected: String = (1..=1_400_000u32).map(|i| format!("{i}\n")).collect();
    assert!(expected.len() > 10_000_000);
    let done = dir.spawn(&["run", "big", "seq 1 1400000"], None).finish(LONG_WAIT);
    dir.check(done.code() == Some(0) && done.stdout == expected.as_bytes(), || {
        let at = first_difference(&done.stdout, expected.as_bytes()).unwrap_or(0);
        let from = at.saturating_sub(40);
        format!(
            "run of 10 MB: exit {}, {} bytes of {}; first difference at byte {at}: got {:?}, expected {:?} (stderr {:?})",
            done.status,
            done.stdout.len(),
            expected.len(),
            String::from_utf8_lossy(&done.stdout[from.min(done.stdout.len())..(at + 40).min(done.stdout.len())]),
            &expected[from..(at + 40).min(expected.len())],
            done.stderr
        )
    });
    run_ok(&dir, "big", "echo still-here", 0, "still-here\n");
}

#[test]
fn output_that_looks_like_a_marker_does_not_end_the_task() {
    let dir = TestDir::new();
    dir.new_shell("fake");
    let command = "printf 'TSM_TASK_END:0123456789abcdef:0\\n'; \
                   printf 'TSM_TASK_MID:0123456789abcdef:0\\n'; \
                   printf 'TSM_TASK_BEGIN:0123456789abcdef\\n'; \
                   echo after; (exit 3)";
    run_ok(
        &dir,
        "fake",
        command,
        3,
        "TSM_TASK_END:0123456789abcdef:0\nTSM_TASK_MID:0123456789abcdef:0\n\
         TSM_TASK_BEGIN:0123456789abcdef\nafter\n",
    );
    // The echo of a typed marker line, printed by the command itself.
    run_ok(
        &dir,
        "fake",
        "echo \" printf 'TSM_TASK_END:%s:%d\\n' 0123456789abcdef \\\"\\$?\\\"\"; echo after",
        0,
        " printf 'TSM_TASK_END:%s:%d\\n' 0123456789abcdef \"$?\"\nafter\n",
    );
}

// ---- run: what the command text may be ------------------------------------------------

#[test]
fn run_takes_a_heredoc() {
    let dir = TestDir::new();
    dir.new_shell("here");
    let done = dir.run_input(&["run", "here"], b"cat <<EOF\nline one\n  line two\nEOF\n");
    check_finished(&dir, "heredoc on stdin", &done, 0, "line one\n  line two\n");
    // As an argument, with a quoted delimiter (no expansion) and a command after it.
    run_ok(&dir, "here", "cat <<'END'\n$HOME stays\nEND\necho next", 0, "$HOME stays\nnext\n");
}

#[test]
fn run_takes_a_command_ending_with_a_comment() {
    let dir = TestDir::new();
    dir.new_shell("comment");
    run_ok(&dir, "comment", "echo visible # a comment", 0, "visible\n");
    // The comment must not swallow what reports the code.
    run_ok(&dir, "comment", "false # fails", 1, "");
}

#[test]
fn run_takes_a_multi_line_script_on_stdin() {
    let dir = TestDir::new();
    dir.new_shell("script");
    let script = b"x=1\necho \"x=$x\"\nfor i in 1 2; do\n  echo \"i=$i\"\ndone\nfalse\necho last\n";
    let done = dir.run_input(&["run", "script"], script);
    check_finished(&dir, "script on stdin", &done, 0, "x=1\ni=1\ni=2\nlast\n");
    // The script's last command gives the code.
    let done = dir.run_input(&["run", "script"], b"echo one\n(exit 6)\n");
    check_finished(&dir, "script ending with (exit 6)", &done, 6, "one\n");
    // A script does not read the rest of itself or the next command as its stdin.
    let done = dir.run_input(&["run", "script"], b"cat\necho after-cat\n");
    check_finished(&dir, "script running cat", &done, 0, "after-cat\n");
}

#[test]
fn run_json_prints_one_object_with_the_code_and_the_output() {
    let dir = TestDir::new();
    dir.new_shell("json");
    let run = dir.run(&["run", "--json", "json", "echo one; printf 'two\\n'; (exit 4)"]);
    dir.check(run.code() == Some(4), || format!("exit {} {:?}", run.status, run.stderr));
    dir.check(run.stdout.ends_with('\n') && run.stdout.trim_end().lines().count() == 1, || {
        format!("not one line: {:?}", run.stdout)
    });
    let value: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| dir.fail(&format!("not JSON: {:?}: {e}", run.stdout)));
    dir.check(value["exit_code"] == 4 && value["output"] == "one\ntwo\n", || {
        format!("unexpected JSON: {value}")
    });
    let run = dir.run(&["run", "json", "--json", "true"]);
    let value: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| dir.fail(&format!("not JSON: {:?}: {e}", run.stdout)));
    dir.check(run.code() == Some(0) && value["exit_code"] == 0 && value["output"] == "", || {
        format!("`run --json true`: exit {} {value}", run.status)
    });
}

// ---- run: the session ----------------------------------------------------------------

#[test]
fn run_creates_a_missing_session_running_bash() {
    let dir = TestDir::new();
    let run = dir.run(&["run", "fresh", "echo made"]);
    check_run(&dir, "tsm run fresh 'echo made'", &run, 0, "made\n");
    dir.check(run.stderr == "session \"fresh\" created\n", || {
        format!("stderr of the creating run: {:?}", run.stderr)
    });
    let entry = dir.ls_entry("fresh").unwrap_or_else(|| dir.fail("fresh is not listed"));
    dir.check(entry["cmd"] == "bash" && entry["state"] == "running", || {
        format!("ls --json entry: {entry}")
    });
    // The second run finds it: no second "created".
    let run = dir.run(&["run", "fresh", "echo \"$0 $TSM_SESSION\""]);
    check_run(&dir, "tsm run fresh 'echo $0'", &run, 0, "bash fresh\n");
    dir.check(run.stderr.is_empty(), || format!("stderr of the second run: {:?}", run.stderr));
}

#[test]
fn run_refuses_a_session_whose_foreground_program_is_not_its_shell() {
    let dir = TestDir::new();
    dir.new_shell("busy");
    let shell = dir.info("busy").pid as u32;
    dir.ok(&["send", "busy", "--enter", "sleep 30"]);
    dir.wait_for("sleep to be the foreground program", || {
        foreground_program(shell).as_deref() == Some("sleep")
    });
    let run = dir.run(&["run", "busy", "echo typed"]);
    dir.check(run.code() == Some(1) && run.stdout.is_empty(), || {
        format!("run into a busy terminal: {} {:?} {:?}", run.status, run.stdout, run.stderr)
    });
    dir.check(
        run.stderr.contains("session \"busy\"")
            && run.stderr.contains("foreground program is \"sleep\""),
        || format!("the refusal does not name the session and the program: {:?}", run.stderr),
    );
    dir.check(!dir.history("busy").contains("typed"), || "the command was typed anyway".into());
}

// ---- wait ------------------------------------------------------------------------------

#[test]
fn wait_exits_with_the_first_failing_task_code() {
    let dir = TestDir::new();
    dir.new_shell("w");
    check_run(&dir, "run -d failing", &dir.run(&["run", "-d", "w", "sleep 0.3; (exit 3)"]), 0, "");
    check_run(&dir, "run -d true", &dir.run(&["run", "-d", "w", "true"]), 0, "");
    let run = dir.run(&["wait", "w"]);
    check_run(&dir, "tsm wait w", &run, 3, "w: done (exit code 3)\n");
    // Both tasks ran to the end before wait returned.
    let status = dir.status("w");
    dir.check(status["tasks"] == 0 && status["last_task_exit_code"] == 0, || {
        format!("after wait: {status}")
    });
    // A new successful task: the failure was collected by the first wait.
    check_run(&dir, "run -d true", &dir.run(&["run", "-d", "w", "sleep 0.2; true"]), 0, "");
    let run = dir.run(&["wait", "w"]);
    check_run(&dir, "second tsm wait w", &run, 0, "w: done (exit code 0)\n");
}

#[test]
fn wait_on_an_unknown_session_fails_clearly() {
    let dir = TestDir::new();
    let run = dir.run(&["wait", "nope"]);
    dir.check(run.code() == Some(1) && run.stdout.is_empty(), || {
        format!("wait nope: {} {:?} {:?}", run.status, run.stdout, run.stderr)
    });
    dir.check(run.stderr.contains("\"nope\"") && run.stderr.contains("session not found"), || {
        format!("unclear error: {:?}", run.stderr)
    });
}

// ---- send -----------------------------------------------------------------------------

/// A session whose program reads one line and writes `got:<line>` to `file`.
fn reader_session(dir: &TestDir, name: &str, file: &std::path::Path) {
    let script = format!("read x; echo \"got:$x\" > '{}'; sleep 5", file.display());
    dir.new_session(name, &["bash", "--norc", "--noprofile", "-c", &script]);
}

/// Waits until `file` holds exactly `text` and a newline.
#[track_caller]
fn wait_file(dir: &TestDir, file: &std::path::Path, text: &str) {
    dir.wait_for(&format!("{} to hold {text:?}", file.display()), || {
        std::fs::read_to_string(file).is_ok_and(|got| got == format!("{text}\n"))
    });
}

#[test]
fn send_enter_reaches_a_program_reading_a_line() {
    let dir = TestDir::new();
    let file = dir.root().join("got-enter");
    reader_session(&dir, "rd", &file);
    let out = dir.ok(&["send", "rd", "--enter", "hello"]);
    dir.check(out.is_empty(), || format!("send printed {out:?}"));
    wait_file(&dir, &file, "got:hello");
}

#[test]
fn send_takes_stdin_and_sends_no_enter_of_its_own() {
    let dir = TestDir::new();
    let file = dir.root().join("got-stdin");
    reader_session(&dir, "rds", &file);
    let done = dir.run_input(&["send", "rds"], b"from-stdin\n");
    check_finished(&dir, "send from stdin", &done, 0, "");
    wait_file(&dir, &file, "got:from-stdin");

    // Text without --enter stays on the line until a later Enter.
    let file = dir.root().join("got-parts");
    reader_session(&dir, "parts", &file);
    dir.ok(&["send", "parts", "first"]);
    dir.ok(&["send", "parts", "-second"]);
    dir.ok(&["send", "parts", "--enter"]);
    wait_file(&dir, &file, "got:first-second");
}

// ---- tail -----------------------------------------------------------------------------

/// Sends `text` + Enter to session `name` until `tail` shows `expected`: tail gives no sign
/// of when it starts to follow, so what is sent before that is not shown; once every
/// half second is enough.
#[track_caller]
fn send_until_tail_shows(dir: &TestDir, tail: &Spawned, name: &str, text: &str, expected: &str) {
    let mut sent: Option<Instant> = None;
    dir.wait_for(&format!("tail to show {expected:?}"), || {
        if sent.is_none_or(|at| at.elapsed() > Duration::from_millis(500)) {
            dir.ok(&["send", name, "--enter", text]);
            sent = Some(Instant::now());
        }
        tail.stdout_text().contains(expected)
    });
}

#[test]
fn tail_shows_output_written_after_it_started_and_ends_with_the_session() {
    let dir = TestDir::new();
    dir.new_shell("tl");
    let mut tail = dir.spawn(&["tail", "tl"], None);
    // `$((40+2))` is only 42 once executed, never in the echo.
    send_until_tail_shows(&dir, &tail, "tl", "echo tail-marker-$((40+2))", "tail-marker-42");
    dir.check(tail.try_status().is_none(), || "tail exited while the session runs".into());
    dir.check(!tail.stdout_text().contains('\x1b'), || {
        format!("tail did not strip escapes: {:?}", tail.stdout_text())
    });
    dir.ok(&["kill", "tl"]);
    let done = tail.finish(WAIT);
    dir.check(done.code() == Some(0), || {
        format!("tail after kill: {} {:?}", done.status, done.stderr)
    });
}

#[test]
fn tail_ends_when_the_program_exits() {
    let dir = TestDir::new();
    let echoer = "while read x; do echo \"echoed-$x\"; [ \"$x\" = quit ] && exit 0; done";
    dir.new_session("te", &["bash", "--norc", "--noprofile", "-c", echoer]);
    let tail = dir.spawn(&["tail", "te"], None);
    send_until_tail_shows(&dir, &tail, "te", "ping", "echoed-ping");
    dir.ok(&["send", "te", "--enter", "quit"]);
    let done = tail.finish(WAIT);
    dir.check(done.code() == Some(0) && done.stdout_text().contains("echoed-quit"), || {
        format!(
            "tail at the program's end: {} {:?} {:?}",
            done.status,
            done.stdout_text(),
            done.stderr
        )
    });
    // A follower is not a viewer: the session stays, listed with the program's code.
    let entry = dir.ls_entry("te").unwrap_or_else(|| dir.fail("te is not listed"));
    dir.check(entry["state"] == "exited" && entry["exit_code"] == 0, || format!("ls: {entry}"));
}

// ---- write ----------------------------------------------------------------------------

/// `tsm write NAME DEST` with `bytes` on stdin; checks the file and the session after.
#[track_caller]
fn write_and_check(dir: &TestDir, name: &str, bytes: &[u8]) {
    let dest = dir.root().join(format!("{name}.bin"));
    let dest_text = dest.to_string_lossy().into_owned();
    let done = dir.spawn(&["write", name, &dest_text], Some(bytes.to_vec())).finish(LONG_WAIT);
    let written = std::fs::read(&dest).unwrap_or_default();
    dir.check(done.code() == Some(0), || {
        format!(
            "write of {} bytes: {} (stdout {:?}, stderr {:?}); {} bytes arrived",
            bytes.len(),
            done.status,
            done.stdout_text(),
            done.stderr,
            written.len()
        )
    });
    let expected_out = format!("wrote {} bytes to {dest_text}\n", bytes.len());
    dir.check(done.stdout == expected_out.as_bytes(), || {
        format!("write printed {:?}", done.stdout_text())
    });
    dir.check(written == bytes, || {
        format!(
            "the file differs: {} bytes of {}, first difference at {:?}",
            written.len(),
            bytes.len(),
            first_difference(&written, bytes)
        )
    });
    // The session still takes commands, with its terminal's echo back on.
    run_ok(dir, name, "echo ok", 0, "ok\n");
    let history = dir.history(name);
    dir.check(history.contains("{ echo ok"), || {
        format!("after write, the typed command was not echoed:\n{history}")
    });
}

#[test]
fn write_of_a_small_binary_file_arrives_byte_identical() {
    let dir = TestDir::new();
    dir.new_shell("wsmall");
    // Every byte value, then pseudo-random bytes; less than the daemon's input queue.
    let mut bytes: Vec<u8> = (0..=255u8).collect();
    bytes.extend(pseudo_random_bytes(200_000, 7));
    write_and_check(&dir, "wsmall", &bytes);
    // An empty file too.
    write_and_check(&dir, "wsmall", &[]);
}

#[test]
fn write_of_a_five_megabyte_binary_file_arrives_byte_identical() {
    let dir = TestDir::new();
    dir.new_shell("wbig");
    write_and_check(&dir, "wbig", &pseudo_random_bytes(5_000_000, 42));
}
