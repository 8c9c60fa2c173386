//! The texts and exit codes scripts depend on (spec/cli.md; the Go tsm's texts).

use std::process::Stdio;

use crate::support::TestDir;

#[test]
fn commands_print_the_go_texts() {
    let dir = TestDir::new();
    assert_eq!(dir.ok(&["new", "one", "--", "sleep", "100"]), "Session \"one\" created\n");
    assert_eq!(dir.ok(&["detach", "one"]), "Session \"one\" detached\n");
    assert_eq!(dir.ok(&["rename", "one", "two"]), "Session \"one\" renamed to \"two\"\n");
    assert_eq!(dir.ok(&["kill", "two"]), "Session \"two\" killed\n");
}

#[test]
fn ls_without_sessions_names_the_dir() {
    let dir = TestDir::new();
    let expected = format!("no sessions found in {}\n", dir.path().display());
    assert_eq!(dir.ok(&["ls"]), expected);
    // Also once the dir exists and is empty again.
    dir.new_session("brief", &["sleep", "100"]);
    dir.ok(&["kill", "brief"]);
    assert_eq!(dir.ok(&["ls"]), expected);
    assert_eq!(dir.ok(&["ls", "--json"]), "[]\n");
    assert_eq!(dir.ok(&["ls", "--short"]), "");
}

#[test]
fn a_missing_session_is_reported_with_the_next_step() {
    let dir = TestDir::new();
    for (args, action) in [
        (&["detach", "x"][..], "detach"),
        (&["rename", "x", "y"], "rename"),
        (&["kill", "x"], "kill"),
    ] {
        let run = dir.run(args);
        assert_eq!(run.code(), Some(1), "tsm {}: {run:?}", args.join(" "));
        assert_eq!(
            run.stderr,
            format!(
                "Cannot {action} session \"x\": session not found.\nRun 'tsm ls' to list sessions.\n"
            ),
            "tsm {}",
            args.join(" ")
        );
        assert_eq!(run.stdout, "", "tsm {}", args.join(" "));
    }
}

#[test]
fn usage_errors_exit_2_and_runtime_errors_exit_1() {
    let dir = TestDir::new();
    for args in [&["ls", "--bogus"][..], &["new"], &["rename", "only-one"], &["no-such-command"]] {
        let run = dir.run(args);
        assert_eq!(run.code(), Some(2), "tsm {}: {run:?}", args.join(" "));
    }
    let run = dir.run(&["history", "missing"]);
    assert_eq!(run.code(), Some(1), "{run:?}");
    let run = dir.run(&["info", "missing"]);
    assert_eq!(run.code(), Some(1), "{run:?}");
}

#[test]
fn a_bad_name_is_refused_before_anything_is_created() {
    let dir = TestDir::new();
    for bad in ["../x", "a/b", ".hidden", "..", "tab\tname", "x\u{7f}y"] {
        let run = dir.run(&["new", bad, "--", "sleep", "100"]);
        assert_eq!(run.code(), Some(1), "tsm new {bad:?}: {run:?}");
        dir.check(run.stderr.contains("session name"), || format!("tsm new {bad:?}: {run:?}"));
        assert_eq!(run.stdout, "");
    }
    let max = 107 - dir.path().as_os_str().len() - 1;
    let too_long = "n".repeat(max + 1);
    let run = dir.run(&["new", &too_long, "--", "sleep", "100"]);
    assert_eq!(run.code(), Some(1), "{run:?}");
    dir.check(run.stderr.contains(&format!("limit for this socket directory is {max}")), || {
        format!("the limit is not in the message: {}", run.stderr)
    });

    dir.check(!dir.path().exists(), || "a socket dir was created for a bad name".into());
    dir.check(!dir.log_dir().exists(), || "a log dir was created for a bad name".into());
    dir.check(!dir.root().join("x").exists(), || "../x escaped".into());
    dir.check(dir.daemon_pids().is_empty(), || "a daemon was started".into());

    // The longest name that fits works.
    let longest = "n".repeat(max);
    dir.new_session(&longest, &["sleep", "100"]);
}

#[test]
fn ls_into_a_closed_pipe_exits_0() {
    let dir = TestDir::new();
    dir.new_session("piped", &["sleep", "100"]);
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = dir.tsm();
    cmd.arg("ls");
    let run = dir.run_command_to(cmd, "tsm ls > closed pipe", Stdio::from(writer));
    assert_eq!(run.code(), Some(0), "{run:?}");
    assert_eq!(run.stderr, "");
}

#[test]
fn ls_piped_to_head_exits_0() {
    let dir = TestDir::new();
    dir.new_session("head", &["sleep", "100"]);
    let mut cmd = std::process::Command::new("bash");
    cmd.arg("-c")
        .arg("set -o pipefail; \"$0\" ls | head -0")
        .arg(crate::support::tsm_bin())
        .env_clear()
        .envs(dir.env());
    let run = dir.run_command(cmd, "tsm ls | head -0");
    assert_eq!(run.code(), Some(0), "{run:?}");
    assert_eq!(run.stderr, "");
}
