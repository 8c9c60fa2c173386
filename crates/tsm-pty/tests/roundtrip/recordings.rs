//! Recorded streams of real programs (`tests/recordings/<name>/`, made by
//! `cargo run -p tsm-pty --example record`), replayed through the snapshot round trip.
//!
//! Each case: replay the stream into model A at the recorded size, restore A's snapshot into a
//! fresh model B, compare cell by cell; then the same from snapshots taken at several cut points
//! of the stream, with the rest of the stream fed live to both models afterwards (what the
//! daemon does on attach).

use std::path::{Path, PathBuf};

use tsm_pty::testing::{differences, round_trip};
use tsm_pty::{TerminalModel, WindowSize};

/// Snapshots taken at this many points of each stream (plus the end).
const CUTS: usize = 16;

fn recordings_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/recordings")
}

/// Reads `size.json` (`{"rows": R, "cols": C}`).
fn size(dir: &Path) -> WindowSize {
    let json = std::fs::read_to_string(dir.join("size.json")).expect("size.json");
    let field = |name: &str| -> u16 {
        let at = json.find(&format!("\"{name}\"")).unwrap_or_else(|| panic!("no {name} in {json}"));
        let rest = &json[at + name.len() + 2..];
        let digits: String = rest
            .chars()
            .skip_while(|c| !c.is_ascii_digit())
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().unwrap_or_else(|_| panic!("bad {name} in {json}"))
    };
    WindowSize::new(field("rows"), field("cols"))
}

/// Replays a recording and checks the round trip at the end and at cut points.
fn check(name: &str) {
    let dir = recordings_dir().join(name);
    let stream = std::fs::read(dir.join("stream.bin")).expect("stream.bin");
    assert!(!stream.is_empty(), "{name}: empty stream");
    let size = size(&dir);
    let mut a = TerminalModel::new(size, 2000);
    a.advance(&stream);
    let b = round_trip(&a);
    let diff = differences(&a, &b);
    assert!(diff.is_empty(), "{name}: the snapshot does not restore the end:\n{}", diff.join("\n"));
    assert_eq!(a.screen_rows(), b.screen_rows(), "{name}");

    for i in 1..=CUTS {
        let cut = stream.len() * i / (CUTS + 1);
        let mut a = TerminalModel::new(size, 2000);
        a.advance(&stream[..cut]);
        let mut b = round_trip(&a);
        a.advance(&stream[cut..]);
        b.advance(&stream[cut..]);
        let diff = differences(&a, &b);
        assert!(diff.is_empty(), "{name}: attach at byte {cut}:\n{}", diff.join("\n"));
    }
}

/// One `#[test]` per recording; `all_recordings_on_disk_are_listed` checks the list.
macro_rules! recordings {
    ($($name:ident),* $(,)?) => {
        const LISTED: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            fn $name() {
                check(stringify!($name));
            }
        )*
    };
}

recordings! {
    alt_scroll_cjk,
    bash_ls,
    htop,
    less_middle,
    vim_split,
}

#[test]
fn all_recordings_on_disk_are_listed() {
    let mut on_disk: Vec<String> = std::fs::read_dir(recordings_dir())
        .expect("tests/recordings")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    on_disk.sort();
    let mut listed: Vec<&str> = LISTED.to_vec();
    listed.sort_unstable();
    assert_eq!(on_disk, listed, "list every directory of tests/recordings in recordings! {{ .. }}");
}

#[test]
fn recordings_show_what_they_recorded() {
    let screen = |name: &str| {
        let dir = recordings_dir().join(name);
        let mut model = TerminalModel::new(size(&dir), 2000);
        model.advance(&std::fs::read(dir.join("stream.bin")).unwrap());
        (model.alt_screen(), model.screen_rows().join("\n"))
    };
    let (alt, text) = screen("vim_split");
    assert!(alt && text.contains("VISUAL LINE") && text.contains("120 line 120"), "{text}");
    let (alt, text) = screen("less_middle");
    assert!(alt && text.contains("row 250"), "{text}");
    let (alt, text) = screen("bash_ls");
    assert!(!alt && text.ends_with("echo this command is half typ"), "{text}");
    let (alt, text) = screen("alt_scroll_cjk");
    assert!(alt && text.contains("行 30 😀") && text.contains("┌────┐"), "{text}");
}
