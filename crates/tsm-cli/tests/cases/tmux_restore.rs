//! End to end with tmux as the user's terminal: attach inside a tmux pane, let a program
//! draw, detach, re-attach in a fresh pane, and compare what tmux shows (`capture-pane -e`
//! and the cursor).

use std::path::PathBuf;
use std::process::Command;

use crate::support::TestDir;

/// A tmux server of its own (socket in the test's dir, no config), killed on drop.
struct Tmux<'a> {
    dir: &'a TestDir,
    socket: PathBuf,
}

/// What a pane shows: its text with escape sequences for styles, and the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PaneView {
    text: String,
    cursor: String,
}

impl<'a> Tmux<'a> {
    fn new(dir: &'a TestDir) -> Tmux<'a> {
        Tmux { dir, socket: dir.root().join("tmux.sock") }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            .env_clear()
            .envs(self.dir.env())
            .output()
            .expect("tmux runs");
        self.dir.check(out.status.success(), || {
            format!("tmux {args:?} failed: {}", String::from_utf8_lossy(&out.stderr))
        });
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// A new tmux session `pane` of `cols`x`rows` running `tsm attach NAME` (and a shell
    /// that keeps the pane open after it).
    fn attach_in_new_pane(&self, pane: &str, cols: u16, rows: u16, name: &str) {
        let tsm = crate::support::tsm_bin();
        let command = format!("{tsm} attach {name}; sleep 600");
        self.tmux(&[
            "new-session",
            "-d",
            "-s",
            pane,
            "-x",
            &cols.to_string(),
            "-y",
            &rows.to_string(),
            &command,
        ]);
        self.tmux(&["set-option", "-t", pane, "status", "off"]);
    }

    fn view(&self, pane: &str) -> PaneView {
        PaneView {
            text: self.tmux(&["capture-pane", "-p", "-e", "-t", pane]),
            cursor: self.tmux(&["display-message", "-p", "-t", pane, "#{cursor_x},#{cursor_y}"]),
        }
    }

    fn flags(&self, pane: &str, format: &str) -> String {
        self.tmux(&["display-message", "-p", "-t", pane, format]).trim().to_owned()
    }

    fn keys(&self, pane: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", pane];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Waits until the pane's plain text contains `text`.
    fn wait_text(&self, pane: &str, text: &str) {
        self.dir.wait_for(&format!("pane {pane} to show {text:?}"), || {
            self.tmux(&["capture-pane", "-p", "-t", pane]).contains(text)
        });
    }

    /// Waits until the pane shows exactly `expected`, then checks it.
    fn wait_view(&self, pane: &str, expected: &PaneView) {
        let mut last = None;
        let found = std::iter::repeat_with(|| {
            let view = self.view(pane);
            let same = &view == expected;
            last = Some(view);
            same
        })
        .take(250)
        .any(|same| {
            if !same {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            same
        });
        self.dir.check(found, || {
            let last = last.unwrap_or_else(|| expected.clone());
            let diff: Vec<String> = expected
                .text
                .lines()
                .zip(last.text.lines())
                .enumerate()
                .filter(|(_, (a, b))| a != b)
                .map(|(i, (a, b))| format!("row {i}:\n  before: {a:?}\n  after:  {b:?}"))
                .collect();
            format!(
                "the re-attached pane differs (cursor {} vs {}):\n{}",
                expected.cursor.trim(),
                last.cursor.trim(),
                diff.join("\n")
            )
        });
    }

    /// Detaches the client in `pane` with the detach key and waits for it to say so.
    fn detach(&self, pane: &str, name: &str) {
        self.keys(pane, &["C-\\"]);
        self.wait_text(pane, &format!("[detached from {name}]"));
    }
}

impl Drop for Tmux<'_> {
    fn drop(&mut self) {
        let _ = Command::new("tmux").arg("-S").arg(&self.socket).arg("kill-server").output();
    }
}

fn tmux_available() -> bool {
    Command::new("tmux").arg("-V").output().is_ok_and(|out| out.status.success())
}

#[test]
fn a_shell_with_colours_and_a_half_typed_line_comes_back_identical() {
    if !tmux_available() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let dir = TestDir::new();
    dir.new_shell("sh");
    let tmux = Tmux::new(&dir);
    tmux.attach_in_new_pane("one", 90, 24, "sh");
    tmux.wait_text("one", "$");
    tmux.keys(
        "one",
        &[
            "printf '\\e[1;31mred \\e[4:3;58:5:2mcurly\\e[0m \\e[38;2;10;200;30;48;5;17mtrue\\e[0m \\e[7minverse\\e[0m\\n'; ls --color=always /",
            "Enter",
        ],
    );
    tmux.wait_text("one", "usr");
    tmux.keys("one", &["echo half-typ"]);
    tmux.wait_text("one", "echo half-typ");
    let before = tmux.view("one");
    dir.check(
        before.text.contains("\u{1b}[1m\u{1b}[31mred") || before.text.contains("31mred"),
        || format!("the colours did not reach tmux: {:?}", before.text),
    );
    tmux.detach("one", "sh");

    tmux.attach_in_new_pane("two", 90, 24, "sh");
    tmux.wait_view("two", &before);
    // The half-typed line is still the shell's input.
    tmux.keys("two", &["ed", "Enter"]);
    tmux.wait_text("two", "half-typed\n");
}

#[test]
fn vim_with_a_split_and_a_visual_selection_comes_back_identical() {
    if !tmux_available() || Command::new("vim").arg("--version").output().is_err() {
        eprintln!("skipped: tmux or vim is not installed");
        return;
    }
    let dir = TestDir::new();
    let file = dir.home().join("file.txt");
    let text: String =
        (1..=200).map(|i| format!("line {i} of the \x1b-free file, some words\n")).collect();
    std::fs::write(&file, text.replace('\x1b', "")).unwrap();
    dir.new_session("vim", &["vim", "-u", "NONE", "-N", "-n", "file.txt"]);
    let tmux = Tmux::new(&dir);
    tmux.attach_in_new_pane("one", 100, 30, "vim");
    tmux.wait_text("one", "line 1 of");
    tmux.keys("one", &[":split", "Enter", "40G", "V", "j", "j"]);
    tmux.wait_text("one", "VISUAL LINE");
    let before = tmux.view("one");
    dir.check(before.text.contains("line 40 of") && before.cursor.trim() != "0,0", || {
        format!("vim is not where the test put it: {before:?}")
    });
    tmux.detach("one", "vim");

    tmux.attach_in_new_pane("two", 100, 30, "vim");
    tmux.wait_view("two", &before);
}

#[test]
fn re_attaching_from_another_size_makes_the_program_redraw_at_that_size() {
    if !tmux_available() || Command::new("vim").arg("--version").output().is_err() {
        eprintln!("skipped: tmux or vim is not installed");
        return;
    }
    let dir = TestDir::new();
    std::fs::write(dir.home().join("notes.txt"), "first line\n").unwrap();
    dir.new_session(
        "vim",
        &["vim", "-u", "NONE", "-N", "-n", "-c", "set laststatus=2 ruler", "notes.txt"],
    );
    let tmux = Tmux::new(&dir);
    tmux.attach_in_new_pane("wide", 120, 40, "vim");
    tmux.wait_text("wide", "first line");
    tmux.detach("wide", "vim");

    tmux.attach_in_new_pane("small", 70, 20, "vim");
    // vim's status line sits on the second-to-last row of the new size.
    dir.wait_for("vim to redraw for 70x20", || {
        let text = tmux.tmux(&["capture-pane", "-p", "-t", "small"]);
        text.lines().nth(18).is_some_and(|row| row.contains("notes.txt"))
    });
}

#[test]
fn after_detaching_the_outer_terminal_has_the_programs_modes_off() {
    if !tmux_available() {
        eprintln!("skipped: tmux is not installed");
        return;
    }
    let dir = TestDir::new();
    let script = "printf '\\e[?1049h\\e[?1000h\\e[?1002h\\e[?1006h\\e[?2004h\\e[?1004h\\e[?1h\\e=\\e[?25lMODES-ON'; sleep 600";
    dir.new_session("modes", &["sh", "-c", script]);
    let tmux = Tmux::new(&dir);
    tmux.attach_in_new_pane("p", 80, 24, "modes");
    tmux.wait_text("p", "MODES-ON");
    let format = "#{alternate_on} #{mouse_any_flag} #{mouse_button_flag} #{mouse_sgr_flag} #{keypad_cursor_flag} #{keypad_flag} #{cursor_flag}";
    // While attached the program's modes reach the outer terminal (so the check below can fail).
    dir.wait_for("the modes to be on while attached", || {
        tmux.flags("p", format) == "1 1 1 1 1 1 0"
    });
    tmux.detach("p", "modes");
    let after = tmux.flags("p", format);
    dir.check(after == "0 0 0 0 0 0 1", || {
        format!("modes after detach (alt mouse button sgr keypad-cursor keypad cursor): {after}")
    });
}
