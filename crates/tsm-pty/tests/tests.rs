//! Integration tests of tsm-pty: real programs on real PTYs.
//!
//! Nothing sleeps to wait: every wait is a `poll` on the master with a deadline, or a loop
//! over a condition bounded by the same deadline.

use std::ffi::OsString;
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use tsm_pty::{Child, Pty, Signal, SpawnError, SpawnOptions, WindowSize, process, spawn};

/// How long any one wait may take before the test fails; generous for a loaded 2-core CI.
const DEADLINE: Duration = Duration::from_secs(20);

/// Options for a test: run `argv` in the system temp dir, with `TERM` set explicitly so
/// the developer's terminal never leaks in.
fn opts(argv: &[&str]) -> SpawnOptions {
    SpawnOptions::new(std::env::temp_dir()).command(argv).env("TERM", "xterm-256color")
}

/// Waits up to `timeout` for the master to be readable (or hung up). Returns whether it is.
fn wait_readable(pty: &Pty, timeout: Duration) -> bool {
    let mut fds = [PollFd::new(pty, PollFlags::IN)];
    let timeout = Timespec::try_from(timeout).unwrap();
    match poll(&mut fds, Some(&timeout)) {
        Ok(n) => n > 0,
        Err(rustix::io::Errno::INTR) => false,
        Err(e) => panic!("poll: {e}"),
    }
}

/// Reads until `needle` has appeared in the output; returns all output read so far.
/// Panics (with the output) at the deadline or at the end of output.
fn read_until(pty: &Pty, needle: &str, deadline: Instant) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&out).contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no {needle:?} before the deadline; got {:?}", lossy(&out));
        if !wait_readable(pty, left) {
            continue;
        }
        let n = pty.read(&mut buf).expect("read never fails, EIO is EOF");
        assert!(n > 0, "end of output before {needle:?}; got {:?}", lossy(&out));
        out.extend_from_slice(&buf[..n]);
    }
    lossy(&out)
}

/// Reads until the end of output (`Ok(0)`), which must come before the deadline.
fn read_to_end(pty: &Pty, deadline: Instant) -> String {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no end of output before the deadline; got {:?}", lossy(&out));
        if !wait_readable(pty, left) {
            continue;
        }
        match pty.read(&mut buf).expect("read never fails, EIO is EOF") {
            0 => return lossy(&out),
            n => out.extend_from_slice(&buf[..n]),
        }
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn deadline() -> Instant {
    Instant::now() + DEADLINE
}

/// Kills whatever is left of the child's group and reaps the child.
fn kill_and_reap(child: &mut Child) {
    let _ = child.signal_group(Signal::KILL);
    child.wait().unwrap();
}

/// Fields of `/proc/PID/stat` after the command name: index 0 is the state, then ppid,
/// pgrp, session, tty_nr, tpgid.
fn stat_fields(pid: i32) -> Vec<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_comm = &stat[stat.rfind(')').unwrap() + 2..];
    after_comm.split(' ').map(str::to_owned).collect()
}

/// One line of `/proc/PID/status`, e.g. `SigIgn`, parsed as a hex mask.
fn status_mask(pid: i32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with(&format!("{key}:"))).unwrap();
    u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
}

#[test]
fn output_is_read_and_the_exit_code_comes_back() {
    let (pty, mut child) = spawn(&opts(&["sh", "-c", "echo hello; exit 7"])).unwrap();
    let out = read_to_end(&pty, deadline());
    assert!(out.contains("hello"), "{out:?}");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), 7);
    assert_eq!(status.signal(), None);
    assert_eq!(child.command_line(), "sh -c echo hello; exit 7");
}

#[test]
fn a_child_killed_by_sigterm_reports_143() {
    let (_pty, mut child) = spawn(&opts(&["sleep", "60"])).unwrap();
    assert_eq!(child.try_wait().unwrap(), None);
    child.signal(Signal::TERM).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), 143);
    assert_eq!(status.signal(), Some(15));
    assert_eq!(child.try_wait().unwrap(), Some(status), "the status is kept");
    child.signal(Signal::TERM).expect("signalling a reaped child is a no-op");
}

#[test]
fn the_pidfd_becomes_readable_when_the_child_exits() {
    let (_pty, mut child) = spawn(&opts(&["sleep", "60"])).unwrap();
    let pidfd = child.pidfd().unwrap();
    let mut fds = [PollFd::new(&pidfd, PollFlags::IN)];
    let zero = Timespec { tv_sec: 0, tv_nsec: 0 };
    assert_eq!(poll(&mut fds, Some(&zero)).unwrap(), 0, "not readable while running");
    assert_eq!(child.try_wait().unwrap(), None);

    child.signal(Signal::KILL).unwrap();
    let timeout = Timespec::try_from(DEADLINE).unwrap();
    assert_eq!(poll(&mut fds, Some(&timeout)).unwrap(), 1, "readable once it exited");
    let status = child.try_wait().unwrap().expect("the exit is there to reap");
    assert_eq!(status.code(), 137);
    assert!(child.pidfd().is_err(), "no pidfd for a reaped child");
}

#[test]
fn the_child_leads_a_session_on_the_pty() {
    let (pty, mut child) = spawn(&opts(&["sh", "-c", "tty; echo ready; exec sleep 60"])).unwrap();
    let out = read_until(&pty, "ready", deadline());
    assert!(out.starts_with("/dev/pts/"), "tty prints the slave: {out:?}");

    let pid = child.pid();
    let stat = stat_fields(pid);
    assert_eq!(stat[2], pid.to_string(), "pgrp == pid");
    assert_eq!(stat[3], pid.to_string(), "session == pid");
    assert_ne!(stat[4], "0", "has a controlling tty");
    assert_eq!(stat[5], pid.to_string(), "tty's foreground group is the child's");
    assert_eq!(pty.foreground_process_group(), Some(pid));
    kill_and_reap(&mut child);
}

#[test]
fn a_job_control_shell_moves_the_foreground_group_to_its_job() {
    if !Path::new("/bin/bash").exists() {
        eprintln!("skipped: no /bin/bash");
        return;
    }
    let argv = ["/bin/bash", "--norc", "--noprofile", "-i"];
    let (pty, mut child) = spawn(&opts(&argv).env("PS1", "$ ")).unwrap();
    assert_eq!(pty.foreground_process_group(), Some(child.pid()));
    pty.write(b"sleep 60\n").unwrap();
    let end = deadline();
    let mut buf = [0u8; 4096];
    // Wait until the foreground group is the job running `sleep` (bash moves the group
    // before the job's exec, so check the program too); reading keeps the output flowing.
    let is_sleep =
        |pid: i32| process::cmdline(pid).is_ok_and(|argv| argv.iter().any(|a| a == "sleep"));
    let job = loop {
        match pty.foreground_process_group() {
            Some(group) if group != child.pid() && is_sleep(group) => break group,
            _ => {}
        }
        assert!(Instant::now() < end, "the foreground group never moved to the job");
        if wait_readable(&pty, Duration::from_millis(50)) {
            let _ = pty.read(&mut buf).unwrap();
        }
    };
    assert_eq!(stat_fields(job)[2], job.to_string(), "the job leads its own group");
    rustix::process::kill_process_group(rustix::process::Pid::from_raw(job).unwrap(), Signal::KILL)
        .unwrap();
    kill_and_reap(&mut child);
}

#[test]
fn the_child_sees_extra_env_default_term_and_cwd() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SpawnOptions::new(dir.path())
        .command(["sh", "-c", r#"echo "s=$TSM_SESSION d=$TSM_DIR t=$TERM"; pwd"#])
        .env("TSM_SESSION", "demo")
        .env("TSM_DIR", "/run/tsm");
    let (pty, mut child) = spawn(&opts).unwrap();
    let out = read_to_end(&pty, deadline());
    child.wait().unwrap();

    // The test's own TERM is inherited unless it is missing or dumb.
    let expected_term = match std::env::var("TERM") {
        Ok(t) if !t.is_empty() && t != "dumb" => t,
        _ => "xterm-256color".to_owned(),
    };
    assert!(out.contains(&format!("s=demo d=/run/tsm t={expected_term}\r\n")), "{out:?}");
    let cwd = dir.path().canonicalize().unwrap();
    assert!(out.contains(&format!("{}\r\n", cwd.display())), "{out:?}");
}

#[test]
fn term_in_the_options_env_wins() {
    let (pty, mut child) = spawn(&opts(&["sh", "-c", "echo t=$TERM"]).env("TERM", "dumb")).unwrap();
    assert!(read_to_end(&pty, deadline()).contains("t=dumb"));
    child.wait().unwrap();
}

#[test]
fn process_cwd_reads_the_childs_directory() {
    let dir = tempfile::tempdir().unwrap();
    let opts = SpawnOptions::new(dir.path()).command(["sleep", "60"]);
    let (_pty, mut child) = spawn(&opts).unwrap();
    assert!(process::exists(child.pid()));
    assert_eq!(process::cwd(child.pid()).unwrap(), dir.path().canonicalize().unwrap());
    kill_and_reap(&mut child);
}

#[test]
fn stty_sees_the_initial_size_and_the_resize() {
    let argv = ["sh", "-c", "stty size; read x; stty size"];
    let (pty, mut child) = spawn(&opts(&argv).size(WindowSize::new(24, 80))).unwrap();
    read_until(&pty, "24 80", deadline());
    pty.resize(WindowSize::new(30, 100)).unwrap();
    assert_eq!(pty.size().unwrap(), WindowSize::new(30, 100));
    pty.write(b"\n").unwrap();
    read_until(&pty, "30 100", deadline());
    assert!(child.wait().unwrap().success());
}

#[test]
fn resize_sends_sigwinch_to_the_foreground_group() {
    let script = r#"trap 'echo WINCH; exit 0' WINCH; echo ready; while :; do sleep 0.05; done"#;
    let (pty, mut child) = spawn(&opts(&["sh", "-c", script])).unwrap();
    read_until(&pty, "ready", deadline());
    pty.resize(WindowSize::new(40, 120)).unwrap();
    read_until(&pty, "WINCH", deadline());
    assert!(child.wait().unwrap().success());
}

#[test]
fn the_login_shell_gets_a_dash_in_argv0() {
    let shell = if Path::new("/bin/bash").exists() { "/bin/bash" } else { "/bin/sh" };
    let name = Path::new(shell).file_name().unwrap().to_str().unwrap();
    let opts = SpawnOptions::new(std::env::temp_dir()).env("SHELL", shell).env("TERM", "dumb");
    let (_pty, mut child) = spawn(&opts).unwrap();
    let argv = process::cmdline(child.pid()).unwrap();
    assert_eq!(argv, vec![OsString::from(format!("-{name}"))]);
    assert_eq!(child.command_line(), format!("-{name}"));
    assert_eq!(
        std::fs::read_link(format!("/proc/{}/exe", child.pid())).unwrap(),
        Path::new(shell).canonicalize().unwrap()
    );
    kill_and_reap(&mut child);
}

#[test]
fn a_missing_command_is_an_exec_error_naming_it() {
    let err = spawn(&opts(&["tsm-no-such-command-xyz", "arg"])).unwrap_err();
    match &err {
        SpawnError::Exec { program, source } => {
            assert_eq!(program, "tsm-no-such-command-xyz");
            assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
        }
        other => panic!("expected Exec, got {other:?}"),
    }
    assert_eq!(err.to_string(), "cannot run tsm-no-such-command-xyz");
}

#[test]
fn a_file_that_is_not_executable_is_an_exec_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("script");
    std::fs::write(&file, "#!/bin/sh\necho hi\n").unwrap();
    let err = spawn(&opts(&[file.to_str().unwrap()])).unwrap_err();
    assert!(
        matches!(&err, SpawnError::Exec { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied),
        "{err:?}"
    );
}

#[test]
fn a_missing_cwd_is_a_cwd_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("gone");
    let err = spawn(&SpawnOptions::new(&missing).command(["true"])).unwrap_err();
    assert!(matches!(&err, SpawnError::Cwd { path, .. } if *path == missing), "{err:?}");

    let file = dir.path().join("file");
    std::fs::write(&file, "").unwrap();
    let err = spawn(&SpawnOptions::new(&file).command(["true"])).unwrap_err();
    assert!(
        matches!(&err, SpawnError::Cwd { source, .. } if source.kind() == std::io::ErrorKind::NotADirectory),
        "{err:?}"
    );
}

#[test]
fn reading_after_the_child_exited_is_end_of_output_not_an_error() {
    let (pty, mut child) = spawn(&opts(&["sh", "-c", "echo bye"])).unwrap();
    // Reap first, read after: the output is still there, then Ok(0) for good.
    assert!(child.wait().unwrap().success());
    let out = read_to_end(&pty, deadline());
    assert!(out.contains("bye"), "{out:?}");
    for _ in 0..3 {
        assert_eq!(pty.read(&mut [0u8; 64]).unwrap(), 0);
    }
}

#[test]
fn the_child_starts_with_no_blocked_signals_and_sigpipe_at_default() {
    // The Rust runtime ignores SIGPIPE in this test process; the child must not inherit that.
    let (_pty, mut child) = spawn(&opts(&["sleep", "60"])).unwrap();
    let sigpipe_bit = 1u64 << (Signal::PIPE.as_raw() - 1);
    assert_eq!(status_mask(child.pid(), "SigIgn") & sigpipe_bit, 0);
    assert_eq!(status_mask(child.pid(), "SigBlk"), 0);
    kill_and_reap(&mut child);
}

#[test]
fn the_child_inherits_only_the_pty_as_stdio() {
    let (pty, mut child) = spawn(&opts(&["sleep", "60"])).unwrap();
    let fd_dir = format!("/proc/{}/fd", child.pid());
    let mut fds: Vec<(i32, std::path::PathBuf)> = std::fs::read_dir(&fd_dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_str().unwrap().parse().unwrap(),
                std::fs::read_link(e.path()).unwrap(),
            )
        })
        .collect();
    fds.sort();
    let slave = &fds[0].1;
    assert!(slave.starts_with("/dev/pts/"), "{fds:?}");
    assert_eq!(fds.iter().map(|(fd, _)| *fd).take(3).collect::<Vec<_>>(), [0, 1, 2]);
    assert!(fds.iter().take(3).all(|(_, path)| path == slave), "{fds:?}");
    assert!(fds.iter().all(|(_, path)| path != Path::new("/dev/ptmx")), "master leaked: {fds:?}");
    drop(pty);
    kill_and_reap(&mut child);
}

#[test]
fn signal_group_reaches_the_whole_pipeline() {
    let script = "(echo started; exec sleep 60) | cat; echo unreachable";
    let (pty, mut child) = spawn(&opts(&["sh", "-c", script])).unwrap();
    // "started" came through cat, so both sides of the pipeline are running.
    read_until(&pty, "started", deadline());
    child.signal_group(Signal::HUP).unwrap();
    assert_eq!(child.wait().unwrap().signal(), Some(1));
    // sleep and cat were hung up too, so the terminal closes: end of output.
    let out = read_to_end(&pty, deadline());
    assert!(!out.contains("unreachable"), "{out:?}");
}
