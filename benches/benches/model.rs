//! B10 (spec/bench.md): the terminal model's `advance` on coloured log text and on a vim-like
//! full-screen redraw stream, in bytes per second. Target: >= 150 MB/s.
//!
//! Each stream is fed three ways: in 64 KiB chunks (one large PTY read: every byte parsed),
//! the way the daemon's model follows its 1 MiB ring during a flood (spans of 768 KiB whose
//! lines that scroll out unseen are skipped, the rest deferred to the next span or the
//! end), and to `alacritty_terminal` alone with vte's own handler in 64 KiB chunks, the
//! reference the spec quotes, measured in the same run.
//! Every model starts with its scrollback full (a long-lived session's steady state), so
//! the figures do not include allocating it.

use std::hint::black_box;

use alacritty_terminal::Term;
use alacritty_terminal::event::VoidListener;
use alacritty_terminal::grid::Dimensions;
use alacritty_terminal::term::Config;
use alacritty_terminal::vte::ansi::{Processor, StdSyncHandler};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tsm_pty::{TerminalModel, WindowSize};

/// Bytes of each generated stream.
const STREAM_BYTES: usize = 4 << 20;

/// Bytes of one large PTY read.
const CHUNK_BYTES: usize = 64 << 10;

/// Bytes the daemon's model reads at once when it catches up during a flood: 3/4 of the
/// default 1 MiB ring (tsm-daemon's `screen.rs`).
const CATCH_UP_BYTES: usize = 768 << 10;

/// The screen every case uses.
const ROWS: usize = 50;
/// See [`ROWS`].
const COLS: usize = 200;
/// Scrollback lines, the model's default.
const SCROLLBACK: usize = 2000;

/// Full-screen redraws of a 50x200 screen on the alternate screen, the way vim repaints:
/// each row positioned with CUP, coloured syntax runs, EL at the end, a status line.
fn vim_redraws() -> Vec<u8> {
    let (rows, cols) = (ROWS, COLS);
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
    // Enough lines to fill the scrollback, then a clear screen.
    let warm_up = [tsm_benches::log_text(SCROLLBACK * 2 * 100), b"\x1b[H\x1b[2J".to_vec()].concat();
    let mut group = c.benchmark_group("model/advance");
    group.throughput(Throughput::Bytes(stream.len() as u64));
    group.sample_size(10);
    let model = || {
        let mut model = TerminalModel::new(WindowSize::new(ROWS as u16, COLS as u16), SCROLLBACK);
        model.advance(&warm_up);
        model
    };
    group.bench_function(format!("{name}/64KiB"), |b| {
        b.iter_batched_ref(
            model,
            |model| stream.chunks(CHUNK_BYTES).for_each(|chunk| model.advance(black_box(chunk))),
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function(format!("{name}/daemon_catch_up"), |b| {
        b.iter_batched_ref(
            model,
            |model| follow_like_the_daemon(model, stream),
            criterion::BatchSize::LargeInput,
        )
    });
    group.bench_function(format!("{name}/alacritty_alone_64KiB"), |b| {
        b.iter_batched_ref(
            || {
                let config = Config { scrolling_history: SCROLLBACK, ..Config::default() };
                let mut term = Term::new(config, &Size, VoidListener);
                let mut parser = Processor::<StdSyncHandler>::new();
                parser.advance(&mut term, &warm_up);
                (term, parser)
            },
            |(term, parser)| {
                stream.chunks(CHUNK_BYTES).for_each(|chunk| parser.advance(term, black_box(chunk)))
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// Feeds `stream` the way tsm-daemon's screen follows its ring: every [`CATCH_UP_BYTES`] of
/// new output the model skips what scrolls out unseen and leaves the rest unread, unless
/// more than half the bound would stay unread (then it parses all); at the end it parses
/// what is left.
fn follow_like_the_daemon(model: &mut TerminalModel, stream: &[u8]) {
    let mut unread: Vec<u8> = Vec::new();
    for output in stream.chunks(CATCH_UP_BYTES - CATCH_UP_BYTES / 4) {
        unread.extend_from_slice(output);
        if unread.len() < CATCH_UP_BYTES {
            continue;
        }
        let skipped = model.skip_unseen(black_box(&unread));
        unread.drain(..skipped);
        if unread.len() > CATCH_UP_BYTES / 2 {
            model.advance(&unread);
            unread.clear();
        }
    }
    model.advance(&unread);
}

/// [`ROWS`] x [`COLS`] for alacritty.
struct Size;

impl Dimensions for Size {
    fn total_lines(&self) -> usize {
        ROWS
    }

    fn screen_lines(&self) -> usize {
        ROWS
    }

    fn columns(&self) -> usize {
        COLS
    }
}

fn advance(c: &mut Criterion) {
    bench_advance(c, "log_text", &tsm_benches::log_text(STREAM_BYTES));
    bench_advance(c, "vim_redraw", &vim_redraws());
}

criterion_group!(benches, advance);
criterion_main!(benches);
