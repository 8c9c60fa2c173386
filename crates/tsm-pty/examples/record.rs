//! Records the output of real programs for the model's round-trip tests.
//!
//! `cargo run -p tsm-pty --example record -- <name>...` (no name: all of them) runs each
//! scenario on a PTY of its size, types its keys, and after each step waits (never sleeps)
//! until the screen shows the text it expects, with a deadline. The program's queries are
//! answered from the model, as the daemon does when no client is attached. The bytes the
//! program wrote go to `tests/recordings/<name>/stream.bin`, with `size.json` and a `README`
//! that says how they were made. A scenario whose program is not installed is skipped.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::event::{PollFd, PollFlags, Timespec, poll};
use tsm_pty::{Pty, SpawnOptions, TerminalModel, WindowSize, spawn};

/// How long one step may wait for its text.
const STEP_DEADLINE: Duration = Duration::from_secs(20);

/// One step of a scenario: type `keys`, then wait until the screen contains `expect`.
struct Step {
    keys: String,
    expect: &'static str,
}

/// A recorded program.
struct Scenario {
    name: &'static str,
    about: &'static str,
    rows: u16,
    cols: u16,
    /// argv; the first word must be on PATH.
    argv: Vec<String>,
    steps: Vec<Step>,
}

fn step(keys: impl Into<String>, expect: &'static str) -> Step {
    Step { keys: keys.into(), expect }
}

fn scenarios(work: &Path) -> Vec<Scenario> {
    let w = work.display();
    vec![
        Scenario {
            name: "bash_ls",
            about: "bash (no rc files) runs `ls -l --color=always` and `ls --color=always` in a \
                    directory with a subdirectory, an executable, a symlink and plain files, prints \
                    40 lines (some go to the scrollback), then has a command half typed at the \
                    prompt (no Enter).",
            rows: 24,
            cols: 80,
            argv: vec!["bash".into(), "--norc".into(), "--noprofile".into(), "-i".into()],
            // Each command prints a marker written split (`END''1`), so the echo of the
            // command line never matches the wait.
            steps: vec![
                step("", "bash-"),
                step("PS1='\\[\\e[1;32m\\]rec\\[\\e[0m\\]:\\w\\$ '; echo END''0\r", "END0"),
                step(format!("cd {w}/ls && clear && echo END''1\r"), "END1"),
                step(
                    "ls -l --color=always | sed 's/ [A-Z][a-z][a-z] .[0-9] [0-9:]* / DATE /'; echo END''2\r",
                    "END2",
                ),
                step("ls --color=always; echo END''3\r", "END3"),
                step("seq -w 1 40 | sed 's/^/scrolled line /'; echo END''4\r", "END4"),
                step("echo this command is half typ", "half typ"),
            ],
        },
        Scenario {
            name: "vim_split",
            about: "vim -u NONE -N (no vimrc, no viminfo) on a 300-line file: `:split`, line 120 in \
                    the lower window, a visual line selection of 4 lines, the cursor mid-file.",
            rows: 30,
            cols: 100,
            argv: vec![
                "vim".into(),
                "-u".into(),
                "NONE".into(),
                "-N".into(),
                "-i".into(),
                "NONE".into(),
                "-n".into(),
                format!("{w}/numbers.txt"),
            ],
            steps: vec![
                step("", "line 001"),
                step(":set number laststatus=2 ruler\r", "1,1"),
                step(":split\r", "numbers.txt"),
                step("\x17j120G", "120,1"),
                step("Vjjj", "VISUAL LINE"),
            ],
        },
        Scenario {
            name: "less_middle",
            about: "less -R on a 500-line file with SGR colours, at line 250 (`250g`).",
            rows: 24,
            cols: 80,
            argv: vec!["less".into(), "-R".into(), format!("{w}/colours.txt")],
            steps: vec![step("", "row 001"), step("250g", "row 250")],
        },
        Scenario {
            name: "htop",
            about: "htop (monochrome, only its own process listed) once its first screen is \
                    complete (the function key bar drawn).",
            rows: 30,
            cols: 120,
            // Only htop itself in the process list (`--filter`), so no other process of the
            // recording machine ends up in the fixture.
            argv: vec![
                "htop".into(),
                "--no-mouse".into(),
                "--no-color".into(),
                "--filter=htop".into(),
            ],
            steps: vec![step("", "PID"), step("", "Quit")],
        },
        Scenario {
            name: "alt_scroll_cjk",
            about: "A printf script: alternate screen, a title bar, a scroll region (rows 2-10) \
                    scrolled by 30 lines of CJK text, emoji, combining marks and 16 colours, DEC \
                    line drawing, then the region reset and a final line.",
            rows: 16,
            cols: 60,
            argv: vec!["sh".into(), format!("{w}/alt.sh")],
            steps: vec![step("", "DONE")],
        },
    ]
}

/// Files the scenarios read.
fn prepare(work: &Path) -> std::io::Result<()> {
    let ls = work.join("ls");
    fs::create_dir_all(ls.join("subdir"))?;
    fs::write(ls.join("notes.txt"), "notes\n")?;
    fs::write(ls.join("archive.tar.gz"), "")?;
    fs::write(ls.join("script.sh"), "#!/bin/sh\n")?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(ls.join("script.sh"), fs::Permissions::from_mode(0o755))?;
    let _ = std::os::unix::fs::symlink("notes.txt", ls.join("link"));
    let numbers: String =
        (1..=300).map(|i| format!("line {i:03} of the numbered file\n")).collect();
    fs::write(work.join("numbers.txt"), numbers)?;
    let colours: String = (1..=500)
        .map(|i| format!("\x1b[3{}mrow {i:03}\x1b[0m plain \x1b[1mbold\x1b[0m\n", i % 7 + 1))
        .collect();
    fs::write(work.join("colours.txt"), colours)?;
    let script = r#"printf '\033[?1049h\033[H\033[2J\033[1;37;44m title bar 標題 \033[0m\n'
printf '\033[2;10r\033[2;1H'
i=1
while [ $i -le 30 ]; do
  printf '行 %02d 😀 \033[3%dmcolour\033[0m e\314\201 \033[4:3mcurly\033[0m\n' $i $((i % 7 + 1))
  i=$((i + 1))
done
printf '\033[r\033[12;1H\033(0lqqqqk\033(B \033)0\016x\017 box\n'
printf '\033[14;1H\033[7mDONE\033[0m'
read x
"#;
    fs::write(work.join("alt.sh"), script)?;
    Ok(())
}

fn wait_readable(pty: &Pty, timeout: Duration) -> bool {
    let mut fds = [PollFd::new(pty, PollFlags::IN)];
    let timeout = Timespec::try_from(timeout).unwrap();
    matches!(poll(&mut fds, Some(&timeout)), Ok(n) if n > 0)
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join(program).is_file()))
}

fn record(scenario: &Scenario, work: &Path, out_dir: &Path) -> Result<(), String> {
    let size = WindowSize::new(scenario.rows, scenario.cols);
    let opts = SpawnOptions::new(work)
        .command(&scenario.argv)
        .env("TERM", "xterm-256color")
        .env("LANG", "C.UTF-8")
        .env("LC_ALL", "C.UTF-8")
        .env("HOME", work)
        .env("LESSHISTFILE", "-")
        .env("LESS", "")
        .env("LS_COLORS", "di=01;34:ln=01;36:ex=01;32:*.gz=01;31")
        .env("HTOPRC", work.join("htoprc"))
        .size(size);
    let (pty, mut child) = spawn(&opts).map_err(|e| e.to_string())?;
    let mut model = TerminalModel::new(size, 2000);
    let mut stream = Vec::new();
    let mut buf = [0u8; 65536];
    for step in &scenario.steps {
        if !step.keys.is_empty() {
            pty.write(step.keys.as_bytes()).map_err(|e| e.to_string())?;
        }
        let deadline = Instant::now() + STEP_DEADLINE;
        while !model.screen_rows().iter().any(|row| row.contains(step.expect)) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let _ = child.signal_group(tsm_pty::Signal::KILL);
                return Err(format!(
                    "no {:?} on the screen before the deadline:\n{}",
                    step.expect,
                    model.screen_rows().join("\n")
                ));
            }
            if !wait_readable(&pty, left) {
                continue;
            }
            let n = pty.read(&mut buf).map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("the program ended early".into());
            }
            stream.extend_from_slice(&buf[..n]);
            model.advance(&buf[..n]);
            let replies = model.take_replies();
            if !replies.is_empty() {
                pty.write(&replies).map_err(|e| e.to_string())?;
            }
        }
    }
    let _ = child.signal_group(tsm_pty::Signal::KILL);
    let _ = child.wait();
    fs::create_dir_all(out_dir).map_err(|e| e.to_string())?;
    fs::write(out_dir.join("stream.bin"), &stream).map_err(|e| e.to_string())?;
    fs::write(
        out_dir.join("size.json"),
        format!("{{\"rows\": {}, \"cols\": {}}}\n", scenario.rows, scenario.cols),
    )
    .map_err(|e| e.to_string())?;
    let keys: Vec<String> = scenario
        .steps
        .iter()
        .map(|s| format!("  - keys {:?}, then wait for {:?}", s.keys, s.expect))
        .collect();
    let readme = format!(
        "{about}\n\nRecorded by `cargo run -p tsm-pty --example record -- {name}` on a {rows}x{cols} PTY \
         with TERM=xterm-256color and LANG=C.UTF-8; the program's queries were answered from the \
         model. Command: `{argv}` (paths under a temp dir).\nSteps:\n{keys}\n\nstream.bin: every byte \
         the program wrote ({len} bytes). size.json: the PTY size.\n",
        about = scenario.about,
        name = scenario.name,
        rows = scenario.rows,
        cols = scenario.cols,
        argv = scenario.argv.join(" "),
        keys = keys.join("\n"),
        len = stream.len(),
    );
    fs::write(out_dir.join("README"), readme).map_err(|e| e.to_string())?;
    Ok(())
}

fn main() {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    let work = std::env::temp_dir().join(format!("tsm-record-{}", std::process::id()));
    prepare(&work).expect("prepare the scenario files");
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/recordings");
    let mut failed = false;
    for scenario in scenarios(&work) {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == scenario.name) {
            continue;
        }
        if !on_path(&scenario.argv[0]) {
            eprintln!("{}: skipped, {} is not installed", scenario.name, scenario.argv[0]);
            continue;
        }
        match record(&scenario, &work, &root.join(scenario.name)) {
            Ok(()) => eprintln!("{}: recorded", scenario.name),
            Err(e) => {
                eprintln!("{}: {e}", scenario.name);
                failed = true;
            }
        }
    }
    let _ = fs::remove_dir_all(&work);
    if failed {
        std::process::exit(1);
    }
}
