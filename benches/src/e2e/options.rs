//! The command line: which benches, how many runs, how big.

use std::fmt;

use anyhow::{Context as _, Result, bail};

/// The help text.
pub(crate) const USAGE: &str = "\
usage: e2e [--quick] [--only B1,B2,B3,B5,B6,B7] [--runs N] [--mb N]

  --quick   fewer runs and samples, 16 MB for B1, 5 s idle windows (a smoke run)
  --only    the benches to run, comma separated (default: all)
  --runs    interleaved rounds per bench (default 5, 3 with --quick)
  --mb      megabytes of log lines for B1 (default 64, 16 with --quick)

env: TSM = the tsm binary (default: tsm next to this executable)";

/// Interleaved rounds per bench.
const DEFAULT_RUNS: usize = 5;
/// Interleaved rounds per bench with `--quick`.
const QUICK_RUNS: usize = 3;
/// B1's payload in megabytes (spec/bench.md: 64 MB).
const DEFAULT_MB: usize = 64;
/// B1's payload with `--quick`.
const QUICK_MB: usize = 16;

/// One benchmark of spec/bench.md that this runner measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Bench {
    /// Output throughput to an attached client.
    B1,
    /// Keystroke echo latency, idle and under a flood.
    B2,
    /// Re-attach latency on a full coloured screen.
    B3,
    /// Idle memory of a session's daemon.
    B5,
    /// Idle wake-ups of a session's daemon.
    B6,
    /// `tsm ls` with 50 sessions, and with one of them stopped.
    B7,
}

impl Bench {
    /// Every bench, in the order they run.
    pub(crate) const ALL: [Bench; 6] =
        [Bench::B1, Bench::B2, Bench::B3, Bench::B5, Bench::B6, Bench::B7];

    /// Parses `B1` (or `b1`).
    fn parse(text: &str) -> Result<Bench> {
        Bench::ALL
            .into_iter()
            .find(|b| b.to_string().eq_ignore_ascii_case(text.trim()))
            .with_context(|| format!("unknown bench {text:?} (B1, B2, B3, B5, B6, B7)"))
    }
}

impl fmt::Display for Bench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// What to run, and how much of it.
#[derive(Clone, Debug)]
pub(crate) struct Options {
    /// A smoke run: fewer samples and shorter windows (see [`USAGE`]).
    pub(crate) quick: bool,
    /// The benches to run, sorted, without duplicates.
    pub(crate) only: Vec<Bench>,
    /// Interleaved rounds per bench (B1 runs, B2 rounds, B3 and B7 scale with it).
    pub(crate) runs: usize,
    /// B1's payload in megabytes (MiB, as term_bench.py counts them).
    pub(crate) mb: usize,
}

impl Options {
    /// Parses the arguments after the program name; `None` for `--help`.
    pub(crate) fn parse(args: &[String]) -> Result<Option<Options>> {
        let mut quick = false;
        let mut only = Vec::new();
        let mut runs = None;
        let mut mb = None;
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag, Some(value.to_owned())),
                None => (arg.as_str(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next().cloned())
                    .with_context(|| format!("{flag} needs a value"))
            };
            match flag {
                "-h" | "--help" => return Ok(None),
                "--quick" => quick = true,
                "--only" => {
                    for id in value()?.split(',').filter(|s| !s.trim().is_empty()) {
                        only.push(Bench::parse(id)?);
                    }
                }
                "--runs" => runs = Some(positive(flag, &value()?)?),
                "--mb" => mb = Some(positive(flag, &value()?)?),
                _ => bail!("unknown argument {arg:?}"),
            }
        }
        if only.is_empty() {
            only = Bench::ALL.to_vec();
        }
        only.sort();
        only.dedup();
        let runs = runs.unwrap_or(if quick { QUICK_RUNS } else { DEFAULT_RUNS });
        let mb = mb.unwrap_or(if quick { QUICK_MB } else { DEFAULT_MB });
        Ok(Some(Options { quick, only, runs, mb }))
    }

    /// Whether `bench` was asked for.
    pub(crate) fn wants(&self, bench: Bench) -> bool {
        self.only.contains(&bench)
    }
}

/// Parses a count of at least 1.
fn positive(flag: &str, value: &str) -> Result<usize> {
    match value.parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => bail!("{flag} wants a positive number, not {value:?}"),
    }
}
