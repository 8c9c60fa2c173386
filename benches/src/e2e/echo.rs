//! B2: keystroke echo latency, idle and while another session of the same system floods.
//!
//! In each system a session runs `stty raw -echo; exec cat`: the program, not the line
//! discipline, echoes each byte. The runner writes one byte to the user terminal (the
//! client's stdin) and times until it is back in the user terminal's output. The flood is
//! a second session of the same system printing `yes` with its own client attached in a
//! second user terminal, drained by a thread (for the raw reference: `yes` in a second
//! PTY), so the system itself carries the load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow};

use crate::e2e::report::{Section, Table};
use crate::e2e::stats::{median, micros, micros_delta, percentile};
use crate::e2e::system::{Instance, System};
use crate::e2e::terminal::Terminal;
use crate::e2e::{Context, SETUP_TIMEOUT, absent, printf_marker, progress, set_up};

/// The systems, in the order each round runs them.
const SYSTEMS: [System; 4] = [System::Raw, System::Tsm, System::Dtach, System::Tmux];
/// The echoing session's name.
const ECHO_SESSION: &str = "echo";
/// Printed by the echoing program once its terminal is raw.
const READY: &str = "E2E-B2-READY";
/// The key typed: a letter that no escape sequence of these systems ends with, and no
/// system's detach or prefix key.
const KEY: u8 = b'x';
/// Samples per system and case (idle, flood).
const SAMPLES: usize = 200;
/// Samples per system and case with `--quick`.
const QUICK_SAMPLES: usize = 60;
/// Samples thrown away before measuring, once per system and once per flood.
const WARMUP_SAMPLES: usize = 10;
/// The pause between two samples, so that each key finds the path idle.
const SAMPLE_GAP: Duration = Duration::from_millis(2);
/// The longest one echo may take before the sample counts as failed.
const ECHO_TIMEOUT: Duration = Duration::from_secs(5);

/// A second session of the same system printing `yes`, its client's terminal drained by a
/// thread.
struct Flood {
    /// The session's name.
    name: String,
    /// Tells the drainer to stop.
    stop: Arc<AtomicBool>,
    /// The drainer; gives the terminal back.
    drainer: JoinHandle<Terminal>,
}

/// The echo latencies of one system.
#[derive(Debug, Default)]
struct Latencies {
    /// With nothing else running.
    idle: Vec<Duration>,
    /// While a flood runs in another session of the same system.
    flood: Vec<Duration>,
}

/// Runs B2: idle samples in `--runs` interleaved rounds, then flood samples in as many
/// rounds (each system's flood starts and stops within its turn).
pub(crate) fn run(ctx: &Context<'_>) -> Result<Section> {
    let options = ctx.options;
    let samples = if options.quick { QUICK_SAMPLES } else { SAMPLES };
    let per_round = samples.div_ceil(options.runs);
    let mut section = Section::new(
        "B2",
        "keystroke echo latency",
        Table::new(&[
            "system",
            "idle median",
            "idle p99",
            "idle median - raw",
            "flood median",
            "flood p99",
            "flood median - raw",
            "samples",
        ]),
    );

    let mut ready = set_up(ctx, &SYSTEMS, &mut section, |instance| {
        let mut terminal = open_echo(instance).context("cannot start the echo session")?;
        for _ in 0..WARMUP_SAMPLES {
            echo_once(&mut terminal).context("warm-up echo")?;
        }
        Ok(terminal)
    });
    let mut latencies: Vec<Latencies> = ready.iter().map(|_| Latencies::default()).collect();

    for round in 0..options.runs {
        for ((instance, terminal), latencies) in ready.iter_mut().zip(&mut latencies) {
            if let Err(err) = sample_into(terminal, per_round, &mut latencies.idle) {
                section.failure(format!(
                    "B2 idle round {} {}: {err:#}",
                    round + 1,
                    instance.system
                ));
            }
        }
        progress(format!("B2 idle round {}/{} done", round + 1, options.runs));
    }
    for round in 0..options.runs {
        for ((instance, terminal), latencies) in ready.iter_mut().zip(&mut latencies) {
            let result = start_flood(instance, round).and_then(|flood| {
                let sampled = (0..WARMUP_SAMPLES)
                    .try_for_each(|_| echo_once(terminal).map(drop))
                    .and_then(|()| sample_into(terminal, per_round, &mut latencies.flood));
                let stopped = flood.stop(instance);
                sampled.and(stopped)
            });
            if let Err(err) = result {
                section.failure(format!(
                    "B2 flood round {} {}: {err:#}",
                    round + 1,
                    instance.system
                ));
            }
        }
        progress(format!("B2 flood round {}/{} done", round + 1, options.runs));
    }

    section.intro.push(format!(
        "One byte typed into a 200x50 user terminal whose client is attached to a session \
         running `stty raw -echo; exec cat`, timed until it is back in that terminal. {per_round} \
         samples per system per round, {runs} interleaved rounds, {gap} ms apart, after \
         {WARMUP_SAMPLES} warm-up samples. Flood: another session of the same system runs \
         `yes` with a client attached in a second drained terminal (raw: `yes` in a second PTY).",
        runs = options.runs,
        gap = SAMPLE_GAP.as_millis(),
    ));
    let index_of = |system| ready.iter().position(|(i, _)| i.system == system);
    let raw = index_of(System::Raw).map(|i| &latencies[i]);
    let raw_idle = raw.and_then(|r| median(&r.idle));
    let raw_flood = raw.and_then(|r| median(&r.flood));
    for system in SYSTEMS {
        let Some(index) = index_of(system) else {
            section.table.row(vec![system.to_string(), absent(ctx, system)]);
            continue;
        };
        let l = &latencies[index];
        let cell = |d: Option<Duration>| d.map_or_else(|| "failed".into(), micros);
        let delta = |mine: Option<Duration>, raw: Option<Duration>| match (mine, raw) {
            (Some(mine), Some(raw)) => micros_delta(mine, raw),
            _ => "-".into(),
        };
        section.table.row(vec![
            system.to_string(),
            cell(median(&l.idle)),
            cell(percentile(&l.idle, 99.0)),
            delta(median(&l.idle), raw_idle),
            cell(median(&l.flood)),
            cell(percentile(&l.flood, 99.0)),
            delta(median(&l.flood), raw_flood),
            format!("{} + {}", l.idle.len(), l.flood.len()),
        ]);
    }
    section
        .notes
        .push("Target (spec/bench.md): tsm's median <= raw + 10 us; p99 < 1 ms under load.".into());
    Ok(section)
}

/// Starts the echoing session and waits until its program has made the terminal raw.
fn open_echo(instance: &Instance) -> Result<Terminal> {
    let script = format!("stty raw -echo; {}; exec cat", printf_marker(READY));
    let mut terminal = instance.open_session(ECHO_SESSION, &["sh", "-c", &script])?;
    let deadline = Instant::now() + SETUP_TIMEOUT;
    terminal.wait_for(READY.as_bytes(), deadline)?;
    terminal.wait_raw(deadline)?;
    Ok(terminal)
}

/// Takes `count` samples, `SAMPLE_GAP` apart, into `out`.
fn sample_into(terminal: &mut Terminal, count: usize, out: &mut Vec<Duration>) -> Result<()> {
    for _ in 0..count {
        out.push(echo_once(terminal)?);
        thread::sleep(SAMPLE_GAP);
    }
    Ok(())
}

/// Types [`KEY`] and times until it is back.
fn echo_once(terminal: &mut Terminal) -> Result<Duration> {
    terminal.drain()?;
    let start = Instant::now();
    terminal.send(&[KEY])?;
    let back = terminal.wait_for(&[KEY], start + ECHO_TIMEOUT)?;
    Ok(back - start)
}

/// Starts a flood session of `instance`'s system with a client, and waits until its output
/// flows.
fn start_flood(instance: &Instance, round: usize) -> Result<Flood> {
    let name = format!("flood-{round}");
    let mut terminal = instance.open_session(&name, &["yes"]).context("cannot start the flood")?;
    terminal.wait_for_output(Instant::now() + SETUP_TIMEOUT).context("the flood")?;
    let stop = Arc::new(AtomicBool::new(false));
    let drainer = terminal.drain_in_background(Arc::clone(&stop));
    Ok(Flood { name, stop, drainer })
}

impl Flood {
    /// Ends the flood session (still draining its terminal, so its client is never stuck
    /// on a full terminal), then stops the drainer and closes the terminal.
    fn stop(self, instance: &Instance) -> Result<()> {
        let ended = instance.end_session(&self.name);
        self.stop.store(true, Ordering::Relaxed);
        let terminal = self.drainer.join().map_err(|_| anyhow!("the flood drainer panicked"))?;
        drop(terminal);
        ended.context("cannot end the flood session")
    }
}
