//! B10 (spec/bench.md): the terminal model's `advance` on coloured log text and on a vim-like
//! full-screen redraw stream, in bytes per second. Target: >= 150 MB/s.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tsm_pty::{TerminalModel, WindowSize};

/// Bytes of each generated stream.
const STREAM_BYTES: usize = 4 << 20;

/// Bytes the daemon feeds the model at once (one large PTY read).
const CHUNK_BYTES: usize = 64 << 10;

/// Full-screen redraws of a 50x200 screen on the alternate screen, the way vim repaints:
/// each row positioned with CUP, coloured syntax runs, EL at the end, a status line.
fn vim_redraws() -> Vec<u8> {
    let (rows, cols) = (50, 200);
    let mut out = b"\x1b[?1049h\x1b[?1h\x1b=\x1b[?2004h".to_vec();
    let mut frame = 0usize;
    while out.len() < STREAM_BYTES {
        frame += 1;
        out.extend_from_slice(b"\x1b[?25l");
        for row in 1..rows {
            out.extend_from_slice(
                format!("\x1b[{row};1H\x1b[38;5;130m{:4} \x1b[0m", row + frame).as_bytes(),
            );
            let mut col = 5;
            let mut word = 0;
            while col + 12 < cols {
                let colour = [33, 34, 35, 36, 32][(word + row) % 5];
                out.extend_from_slice(
                    format!("\x1b[{colour}mident_{:04}\x1b[0m ", (frame + word) % 9973).as_bytes(),
                );
                col += 12;
                word += 1;
            }
            out.extend_from_slice(b"\x1b[K");
        }
        out.extend_from_slice(
            format!("\x1b[{rows};1H\x1b[7m main.rs [+] {frame},1 All \x1b[0m\x1b[K").as_bytes(),
        );
        out.extend_from_slice(b"\x1b[12;40H\x1b[?25h");
    }
    out
}

fn bench_advance(c: &mut Criterion, name: &str, stream: &[u8]) {
    let mut group = c.benchmark_group("model/advance");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.sample_size(10);
    group.bench_function(name, |b| {
        b.iter_batched_ref(
            || TerminalModel::new(WindowSize::new(50, 200), 2000),
            |model| {
                for chunk in stream.chunks(CHUNK_BYTES) {
                    model.advance(black_box(chunk));
                }
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn advance(c: &mut Criterion) {
    bench_advance(c, "log_text", &tsm_benches::log_text(STREAM_BYTES));
    bench_advance(c, "vim_redraw", &vim_redraws());
}

criterion_group!(benches, advance);
criterion_main!(benches);
