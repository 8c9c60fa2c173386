//! B4 (spec/bench.md): serialize a full 200x60 screen with colours and attributes, alone and
//! with 1000 scrollback lines. Targets: <= 200 us for the screen, <= 2 ms with scrollback.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use tsm_pty::{TerminalModel, WindowSize};

const ROWS: u16 = 60;
const COLS: u16 = 200;

/// `lines` full lines of text in changing colours and attributes (a new pen every 5 to 13
/// cells: 256-colour and true-colour foregrounds, backgrounds, bold, italic, underline).
fn coloured_lines(lines: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut n = 0usize;
    for line in 0..lines {
        let mut col = 0;
        while col < COLS as usize {
            n += 1;
            let sgr = match n % 4 {
                0 => format!("\x1b[0;38;5;{}m", n % 256),
                1 => format!("\x1b[0;1;38;2;{};{};{}m", n % 256, n * 7 % 256, n * 13 % 256),
                2 => format!("\x1b[0;3;4;{}m", 31 + n % 7),
                _ => format!("\x1b[0;48;5;{};97m", 16 + n % 200),
            };
            let len = (5 + n % 9).min(COLS as usize - col);
            out.extend_from_slice(sgr.as_bytes());
            out.extend((0..len).map(|i| b'a' + ((line + col + i) % 26) as u8));
            col += len;
        }
        if line + 1 < lines {
            out.extend_from_slice(b"\x1b[0m\r\n");
        }
    }
    out
}

fn bench_snapshot(c: &mut Criterion, name: &str, scrollback: usize) {
    let mut model = TerminalModel::new(WindowSize::new(ROWS, COLS), scrollback.max(1));
    model.advance(&coloured_lines(ROWS as usize + scrollback));
    assert_eq!(model.scrollback_len(), scrollback);
    let mut out = Vec::new();
    c.bench_function(name, |b| {
        b.iter(|| {
            out.clear();
            black_box(&model).snapshot_into(&mut out);
            black_box(out.len())
        })
    });
}

fn snapshot(c: &mut Criterion) {
    bench_snapshot(c, "snapshot/screen_200x60", 0);
    bench_snapshot(c, "snapshot/screen_200x60_scrollback_1000", 1000);
}

criterion_group!(benches, snapshot);
criterion_main!(benches);
