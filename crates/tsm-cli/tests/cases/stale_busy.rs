//! Stale sockets (the daemon is gone: connection refused) may be removed; busy ones (the
//! daemon accepts but does not answer, e.g. stopped) never are.

use std::time::{Duration, Instant};

use rustix::process::Signal;

use crate::support::{TestDir, kill_pid, process_state};

/// Creates session `name` and SIGKILLs its daemon, leaving its socket stale.
#[track_caller]
fn stale_session(dir: &TestDir, name: &str) {
    dir.new_shell(name);
    let daemon = dir.daemon_pid(name);
    kill_pid(daemon, Signal::KILL);
    dir.wait_gone(daemon, "the SIGKILLed daemon");
    dir.check(dir.socket_exists(name), || "SIGKILL removed the socket?".into());
}

#[test]
fn a_sigkilled_daemon_leaves_a_stale_socket_that_doctor_clean_stale_removes() {
    let dir = TestDir::new();
    stale_session(&dir, "dead");
    dir.new_shell("alive");

    let row = dir.ls_entry("dead").expect("the stale socket is listed");
    assert_eq!(row["state"], "stale", "ls --json: {row}");
    let table = dir.ok(&["ls"]);
    dir.check(table.lines().any(|l| l.starts_with("dead ") && l.contains("stale")), || {
        format!("tsm ls: {table}")
    });
    dir.check(dir.socket_exists("dead"), || "ls removed the stale socket".into());
    let doctor = dir.ok(&["doctor"]);
    dir.check(doctor.contains("dead: stale"), || format!("tsm doctor: {doctor}"));
    dir.check(doctor.contains("tsm doctor clean-stale"), || format!("tsm doctor: {doctor}"));

    // Neither kill without --force nor new removes it.
    let kill = dir.run(&["kill", "dead"]);
    assert_eq!(kill.code(), Some(1), "tsm kill of a stale session: {kill:?}");
    dir.check(kill.stderr.contains("stale"), || format!("tsm kill stderr: {}", kill.stderr));
    let new = dir.run(&["new", "dead"]);
    assert_eq!(new.code(), Some(1), "tsm new over a stale socket: {new:?}");
    dir.check(new.stderr.contains("clean-stale"), || format!("tsm new stderr: {}", new.stderr));
    dir.check(dir.socket_exists("dead"), || "kill or new removed the stale socket".into());

    let clean = dir.ok(&["doctor", "clean-stale"]);
    assert_eq!(clean, "Removed stale socket \"dead\"\n");
    dir.check(!dir.socket_exists("dead"), || "clean-stale left the socket".into());
    dir.check(dir.socket_exists("alive"), || "clean-stale removed a live socket".into());
    assert_eq!(dir.ok(&["ls", "--short"]), "alive\n");
    assert_eq!(dir.ok(&["doctor", "clean-stale"]), "No stale sockets found\n");
    // The name is free again.
    dir.new_shell("dead");
}

#[test]
fn kill_force_removes_a_stale_socket() {
    let dir = TestDir::new();
    stale_session(&dir, "gone");
    let out = dir.ok(&["kill", "--force", "gone"]);
    assert_eq!(out, "Removed stale socket \"gone\"\n");
    dir.check(!dir.socket_exists("gone"), || "kill --force left the socket".into());
}

#[test]
fn a_stopped_daemon_is_busy_never_stale_and_works_again_after_sigcont() {
    let dir = TestDir::new();
    dir.new_shell("stopped");
    dir.new_shell("fine");
    let daemon = dir.daemon_pid("stopped");
    kill_pid(daemon, Signal::STOP);
    dir.wait_for("the daemon to stop", || process_state(daemon) == Some('T'));

    let started = Instant::now();
    let run = dir.run(&["ls", "--json"]);
    let took = started.elapsed();
    dir.check(run.status.success(), || format!("tsm ls failed: {run:?}"));
    dir.check(took < Duration::from_secs(3), || {
        format!("tsm ls took {took:?} with a stopped daemon")
    });
    let rows: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let row = rows.as_array().unwrap().iter().find(|r| r["name"] == "stopped").cloned();
    let row = row.unwrap_or_else(|| dir.fail(&format!("stopped not listed: {}", run.stdout)));
    assert_eq!(row["state"], "busy", "ls --json: {row}");
    let fine = rows.as_array().unwrap().iter().find(|r| r["name"] == "fine").cloned();
    assert_eq!(fine.map(|r| r["state"].clone()), Some("running".into()), "{}", run.stdout);

    let started = Instant::now();
    let table = dir.ok(&["ls"]);
    let took = started.elapsed();
    dir.check(took < Duration::from_secs(3), || format!("tsm ls took {took:?}"));
    dir.check(table.lines().any(|l| l.starts_with("stopped ") && l.contains("busy")), || {
        format!("tsm ls: {table}")
    });

    assert_eq!(dir.ok(&["doctor", "clean-stale"]), "No stale sockets found\n");
    dir.check(dir.socket_exists("stopped"), || "a busy socket was removed".into());

    kill_pid(daemon, Signal::CONT);
    dir.wait_for("the daemon to answer again", || {
        dir.ls_entry("stopped").is_some_and(|r| r["state"] == "running")
    });
    let mut client = dir.client("stopped");
    client.init(24, 80);
    client.input("echo BACK$((2*2))\r");
    client.wait_output_contains("BACK4");
}
