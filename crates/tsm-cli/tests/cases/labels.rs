//! Session labels: `new --label`, `attach --label`, `label set|get|clear`, `ls --json`,
//! rename, and the labels that are refused.

use crate::support::{PtyClient, SHELL, TestDir};

/// Bad labels and a word of the message each must give.
const BAD_LABELS: &[(&str, &str)] = &[
    ("name=x", "reserved"),
    ("cmd=x", "reserved"),
    ("k=a/b", "'/'"),
    ("k v", "key=value"),
    ("=v", "empty"),
];

/// `tsm new --label L... NAME -- SHELL`; fails unless it says the session was created.
#[track_caller]
fn new_labelled(dir: &TestDir, name: &str, labels: &[&str]) {
    let mut args = vec!["new"];
    for label in labels {
        args.extend(["--label", label]);
    }
    args.push(name);
    args.push("--");
    args.extend_from_slice(SHELL);
    let out = dir.ok(&args);
    dir.check(out == format!("Session \"{name}\" created\n"), || format!("new printed {out:?}"));
}

/// `tsm label get NAME`.
#[track_caller]
fn labels_of(dir: &TestDir, name: &str) -> String {
    dir.ok(&["label", "get", name])
}

#[test]
fn labels_are_set_read_deleted_and_cleared() {
    let dir = TestDir::new();
    new_labelled(&dir, "lab", &["a=1"]);
    assert_eq!(labels_of(&dir, "lab"), "a=1\n");

    let out = dir.ok(&["label", "set", "lab", "b=2", "a="]);
    dir.check(out.is_empty(), || format!("label set printed {out:?}"));
    assert_eq!(labels_of(&dir, "lab"), "b=2\n");
    // One key: its value, or exit 1 when it is not set.
    assert_eq!(dir.ok(&["label", "get", "lab", "b"]), "2\n");
    let run = dir.run(&["label", "get", "lab", "a"]);
    dir.check(run.code() == Some(1) && run.stdout.is_empty(), || {
        format!("get of a deleted key: {} {:?} {:?}", run.status, run.stdout, run.stderr)
    });

    // Sorted by key; values may be changed.
    dir.ok(&["label", "set", "lab", "z.y_x-1=v.1", "b=3", "c=ok"]);
    assert_eq!(labels_of(&dir, "lab"), "b=3 c=ok z.y_x-1=v.1\n");

    dir.ok(&["label", "clear", "lab"]);
    assert_eq!(labels_of(&dir, "lab"), "");
    let entry = dir.ls_entry("lab").unwrap_or_else(|| dir.fail("lab is not listed"));
    dir.check(entry["labels"] == serde_json::json!({}), || format!("ls after clear: {entry}"));
}

#[test]
fn ls_json_shows_labels() {
    let dir = TestDir::new();
    new_labelled(&dir, "one", &["team=core", "prio=2"]);
    dir.new_shell("two");
    let one = dir.ls_entry("one").unwrap_or_else(|| dir.fail("one is not listed"));
    dir.check(one["labels"] == serde_json::json!({"prio": "2", "team": "core"}), || {
        format!("ls --json entry of one: {one}")
    });
    let two = dir.ls_entry("two").unwrap_or_else(|| dir.fail("two is not listed"));
    dir.check(two["labels"] == serde_json::json!({}), || format!("ls --json entry of two: {two}"));
}

#[test]
fn labels_survive_rename() {
    let dir = TestDir::new();
    new_labelled(&dir, "old", &["a=1"]);
    dir.ok(&["label", "set", "old", "b=2"]);
    dir.ok(&["rename", "old", "new"]);
    assert_eq!(labels_of(&dir, "new"), "a=1 b=2\n");
    let entry = dir.ls_entry("new").unwrap_or_else(|| dir.fail("new is not listed"));
    dir.check(entry["labels"] == serde_json::json!({"a": "1", "b": "2"}), || {
        format!("ls after rename: {entry}")
    });
}

#[test]
fn bad_labels_are_refused_by_new_before_anything_is_created() {
    let dir = TestDir::new();
    for (label, word) in BAD_LABELS {
        let run = dir.run(&["new", "--label", label, "bad", "--", "bash", "--norc"]);
        dir.check(run.code() == Some(1) && run.stdout.is_empty(), || {
            format!("new --label {label:?}: {} {:?} {:?}", run.status, run.stdout, run.stderr)
        });
        dir.check(run.stderr.contains("Invalid label") && run.stderr.contains(word), || {
            format!("new --label {label:?}: unclear error {:?} (expected {word:?})", run.stderr)
        });
        dir.check(dir.socket_names().is_empty() && dir.daemon_pids().is_empty(), || {
            format!("new --label {label:?} created something: {:?}", dir.socket_names())
        });
    }
    // A good label next to a bad one: still nothing.
    let run = dir.run(&["new", "--label", "ok=1", "--label", "cmd=x", "bad"]);
    dir.check(run.code() == Some(1) && dir.socket_names().is_empty(), || {
        format!("new with one bad label of two: {} {:?}", run.status, run.stderr)
    });
}

#[test]
fn bad_labels_are_refused_by_label_set_and_change_nothing() {
    let dir = TestDir::new();
    new_labelled(&dir, "keep", &["a=1"]);
    for (label, word) in BAD_LABELS {
        let run = dir.run(&["label", "set", "keep", "b=2", label]);
        dir.check(run.code() == Some(1) && run.stdout.is_empty(), || {
            format!("label set {label:?}: {} {:?} {:?}", run.status, run.stdout, run.stderr)
        });
        dir.check(run.stderr.contains("Invalid label") && run.stderr.contains(word), || {
            format!("label set {label:?}: unclear error {:?} (expected {word:?})", run.stderr)
        });
        assert_eq!(labels_of(&dir, "keep"), "a=1\n", "label set {label:?} changed the labels");
    }
}

#[test]
fn label_commands_on_a_missing_session_fail_clearly() {
    let dir = TestDir::new();
    for args in [
        &["label", "get", "ghost"][..],
        &["label", "set", "ghost", "a=1"],
        &["label", "clear", "ghost"],
    ] {
        let run = dir.run(args);
        dir.check(
            run.code() == Some(1)
                && run.stderr.contains("\"ghost\"")
                && run.stderr.contains("session not found"),
            || format!("tsm {}: {} {:?}", args.join(" "), run.status, run.stderr),
        );
    }
}

#[test]
fn attach_label_applies_when_it_creates_the_session() {
    let dir = TestDir::new();
    let mut client = PtyClient::spawn(&dir, &["attach", "--label", "x=1", "att"], &[]);
    client.wait_raw_mode();
    dir.wait_for("att to be listed", || dir.socket_exists("att"));
    client.type_bytes(b"\x1c");
    client.wait_screen_contains("[detached from att]");
    let status = client.wait_exit();
    dir.check(status.code() == 0, || format!("detach exited with {status}"));
    assert_eq!(labels_of(&dir, "att"), "x=1\n");
}

#[test]
fn ls_where_keeps_only_sessions_with_every_label_given() {
    let dir = TestDir::new();
    new_labelled(&dir, "web1", &["team=web", "env=prod"]);
    new_labelled(&dir, "web2", &["team=web"]);
    new_labelled(&dir, "api", &["team=api"]);
    assert_eq!(dir.ok(&["ls", "--short", "--where", "team=web"]), "web1\nweb2\n");
    assert_eq!(dir.ok(&["ls", "--short", "--where", "team=web", "--where", "env=prod"]), "web1\n");
    assert_eq!(dir.ok(&["ls", "--short", "--where", "team=none"]), "");
    let json: serde_json::Value =
        serde_json::from_str(&dir.ok(&["ls", "--json", "--where", "team=api"])).unwrap();
    assert_eq!(json.as_array().map(Vec::len), Some(1));
    assert_eq!(json[0]["name"], "api");
    let bad = dir.run(&["ls", "--where", "nokey"]);
    dir.check(bad.code() == Some(1) && bad.stderr.contains("key=value"), || {
        format!("ls --where nokey: {:?} {:?}", bad.status, bad.stderr)
    });
}
