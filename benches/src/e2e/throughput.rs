//! B1: output throughput to an attached client.
//!
//! The session's program prints a ready marker and blocks reading a FIFO; once the marker
//! has reached the user terminal (so the client is attached and forwarding), the runner
//! writes to the FIFO and starts the clock; the program cats the payload, then prints the
//! end marker; the clock stops when the end marker has reached the user terminal, which
//! the runner drains as fast as it can all along.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use crate::e2e::report::{Section, Table};
use crate::e2e::sandbox::Sandbox;
use crate::e2e::stats::{median, ratio, seconds};
use crate::e2e::system::{Instance, System};
use crate::e2e::{
    Context, LINGER_SECS, SETUP_TIMEOUT, absent, make_fifo, printf_marker, progress, release_fifo,
    set_up, sh_quote,
};

/// The systems, in the order each round runs them.
const SYSTEMS: [System; 4] = [System::Raw, System::Tsm, System::Dtach, System::Tmux];
/// Printed by the program once it waits for the FIFO.
const READY: &str = "E2E-B1-READY";
/// Printed by the program after the payload.
const END: &str = "ZZ-E2E-END-ZZ";
/// A run's deadline: this much...
const TIMEOUT_BASE: Duration = Duration::from_secs(30);
/// ...plus this much per megabyte of payload.
const TIMEOUT_PER_MB: Duration = Duration::from_secs(1);

/// One run of one system.
#[derive(Clone, Copy, Debug)]
struct Sample {
    /// From the FIFO write to the end marker in the user terminal.
    elapsed: Duration,
    /// Bytes the user terminal received meanwhile (less than the payload for a system
    /// that drops frames, like tmux).
    bytes: u64,
}

/// Runs B1: `--runs` interleaved rounds of every installed system.
pub(crate) fn run(ctx: &Context<'_>) -> Result<Section> {
    let options = ctx.options;
    let files = Sandbox::new("b1-payload")?;
    let payload = files.file("payload");
    let payload_bytes = write_payload(&payload, options.mb)?;
    let timeout = TIMEOUT_BASE + TIMEOUT_PER_MB * options.mb as u32;

    let mut section = Section::new(
        "B1",
        "output throughput to an attached client",
        Table::new(&[
            "system",
            "median",
            "MB/s",
            "vs raw",
            "vs dtach",
            "vs tmux",
            "MB to client",
            "runs",
        ]),
    );
    let ready = set_up(ctx, &SYSTEMS, &mut section, |_| Ok(()));
    let instances: Vec<Instance> = ready.into_iter().map(|(instance, ())| instance).collect();
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); instances.len()];
    for round in 0..options.runs {
        for (instance, samples) in instances.iter().zip(&mut samples) {
            match measure(instance, &payload, round, timeout) {
                Ok(sample) => {
                    progress(format!(
                        "B1 round {}/{} {}: {}",
                        round + 1,
                        options.runs,
                        instance.system,
                        seconds(sample.elapsed)
                    ));
                    samples.push(sample);
                }
                Err(err) => {
                    section.failure(format!("B1 round {} {}: {err:#}", round + 1, instance.system))
                }
            }
        }
    }

    section.intro.push(format!(
        "{mb} MiB ({bytes} bytes) of coloured log lines (term_bench.py's generator) printed by \
         `cat` in a session, one client attached in a 200x50 PTY that the runner drains; time \
         from the trigger to the end marker in the client's terminal. {runs} interleaved \
         rounds, medians; `vs X` is the system's median over X's. `MB to client` is what \
         reached the user terminal: less than the payload means the system skipped output \
         (a resync from a snapshot, or dropped frames), more means it redrew.",
        mb = options.mb,
        bytes = payload_bytes,
        runs = options.runs,
    ));
    let medians: Vec<(System, Option<Duration>)> = instances
        .iter()
        .zip(&samples)
        .map(|(i, s)| (i.system, median(&s.iter().map(|s| s.elapsed).collect::<Vec<_>>())))
        .collect();
    let median_of = |system| medians.iter().find(|(s, _)| *s == system).and_then(|(_, m)| *m);
    let vs = |mine: Duration, system| match median_of(system) {
        Some(theirs) => ratio(mine.as_secs_f64(), theirs.as_secs_f64()),
        None => absent(ctx, system),
    };
    for system in SYSTEMS {
        let Some(index) = instances.iter().position(|i| i.system == system) else {
            section.table.row(vec![system.to_string(), absent(ctx, system)]);
            continue;
        };
        let runs = format!("{}/{}", samples[index].len(), options.runs);
        let Some(mine) = median_of(system) else {
            section.table.row(vec![system.to_string(), format!("failed ({runs} runs)")]);
            continue;
        };
        let mut received: Vec<u64> = samples[index].iter().map(|s| s.bytes).collect();
        received.sort();
        section.table.row(vec![
            system.to_string(),
            seconds(mine),
            format!("{:.0}", payload_bytes as f64 / 1e6 / mine.as_secs_f64()),
            vs(mine, System::Raw),
            vs(mine, System::Dtach),
            vs(mine, System::Tmux),
            format!("{:.1}", received[received.len() / 2] as f64 / 1e6),
            runs,
        ]);
    }
    section.notes.push(
        "Target (spec/bench.md): tsm <= 1.3x raw, and ahead of every peer measured in the same run."
            .into(),
    );
    Ok(section)
}

/// One run of one system: a fresh session and client, timed from the trigger to the end
/// marker; the session is ended afterwards, whatever happened.
fn measure(instance: &Instance, payload: &Path, round: usize, timeout: Duration) -> Result<Sample> {
    let name = format!("b1-{round}");
    let fifo = instance.sandbox().file(&format!("{name}.go"));
    make_fifo(&fifo)?;
    let script = format!(
        "{ready}; read _ < {fifo}; cat {payload}; {end}; exec sleep {LINGER_SECS}",
        ready = printf_marker(READY),
        fifo = sh_quote(&fifo),
        payload = sh_quote(payload),
        end = printf_marker(END),
    );
    let mut terminal = instance.open_session(&name, &["sh", "-c", &script])?;
    let result = (|| -> Result<Sample> {
        terminal.wait_for(READY.as_bytes(), Instant::now() + SETUP_TIMEOUT).context("setup")?;
        let before = terminal.received();
        let start = release_fifo(&fifo, Instant::now() + SETUP_TIMEOUT)?;
        let end = terminal.wait_for(END.as_bytes(), start + timeout)?;
        Ok(Sample { elapsed: end - start, bytes: terminal.received() - before })
    })();
    let ended = instance.end_session(&name);
    drop(terminal);
    let sample = result?;
    ended.context("cannot end the session")?;
    Ok(sample)
}

/// Writes at least `mb` MiB of coloured log lines to `path` (the generator of
/// term_bench.py, byte for byte) and returns the size.
pub(crate) fn write_payload(path: &Path, mb: usize) -> Result<u64> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    let target = (mb as u64) << 20;
    let mut size = 0u64;
    let mut n = 0u64;
    let mut line = Vec::with_capacity(160);
    while size < target {
        n += 1;
        line.clear();
        write!(
            line,
            "\x1b[{color}m{n:09}\x1b[0m INFO request id={id:06} path=/api/v1/items/{item} \
             status=200 \x1b[1mok\x1b[0m elapsed={elapsed}ms\r\n",
            color = 31 + n % 7,
            id = n * 7919 % 100_003,
            item = n % 977,
            elapsed = n % 97,
        )?;
        out.write_all(&line)?;
        size += line.len() as u64;
    }
    out.flush()?;
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_lines_match_term_bench() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p");
        write_payload(&path, 1).unwrap();
        let text = std::fs::read(&path).unwrap();
        let first = text.split(|&b| b == b'\n').next().unwrap();
        assert_eq!(
            first,
            b"\x1b[32m000000001\x1b[0m INFO request id=007919 path=/api/v1/items/1 status=200 \
              \x1b[1mok\x1b[0m elapsed=1ms\r"
        );
    }
}
