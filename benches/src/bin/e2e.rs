//! The end-to-end bench runner of tsm: spec/bench.md B1, B2, B3, B5, B6 and B7, each
//! measured against the raw PTY, dtach and tmux in the same run.
//!
//! ```text
//! cargo run --release -p tsm-benches --bin e2e -- [--quick] [--only B1,B2,...] [--runs N] [--mb N]
//! ```
//!
//! It prints one Markdown section (date, machine line, the command, one table per bench)
//! on stdout, ready to paste into BENCHMARKS.md; progress and errors go to stderr. It
//! builds and installs nothing: the tsm binary is `$TSM`, else `tsm` next to this
//! executable (`target/release/tsm` after `cargo build --release -p tsm-cli`); a peer
//! missing from `PATH` is reported as "not installed".
//!
//! The method is `../shared/tools/term_bench.py`'s: every client runs in a real 200x50 PTY
//! that the runner drains as fast as it can, systems are interleaved (A B C A B C) so that
//! drift on a shared machine hits them alike, and figures are medians with ratios to the
//! references measured in the same run. Each system runs in its own temporary directory
//! (its sockets, `HOME`) with a scrubbed environment; whatever a system started is killed
//! when its bench ends, on error too.

#[path = "../e2e/mod.rs"]
mod e2e;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match e2e::Options::parse(&args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{}", e2e::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("e2e: {err:#}\n\n{}", e2e::USAGE);
            return ExitCode::from(2);
        }
    };
    match e2e::run(&options, &args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("e2e: {err:#}");
            ExitCode::FAILURE
        }
    }
}
