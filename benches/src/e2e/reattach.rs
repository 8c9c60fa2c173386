//! B3: re-attach latency on a full 200x50 coloured screen.
//!
//! A session draws a full screen of coloured text whose last cells hold a marker, then
//! sleeps; its first client (which made the session 200x50) detaches. Each sample starts
//! a fresh client in a fresh 200x50 user terminal and times from just before the spawn
//! until the marker (the screen's last row) has reached that terminal; then detaches.
//! tmux, which also redraws the screen on attach, is measured alongside as a reference.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use crate::e2e::report::{Section, Table};
use crate::e2e::stats::{median, millis, percentile, ratio};
use crate::e2e::system::{Instance, System};
use crate::e2e::terminal::TERMINAL_SIZE;
use crate::e2e::{
    Context, LINGER_SECS, SETUP_TIMEOUT, absent, make_fifo, printf_marker, progress, release_fifo,
    set_up, sh_quote,
};

/// The systems, in the order each round runs them.
const SYSTEMS: [System; 2] = [System::Tsm, System::Tmux];
/// The session's name.
const SESSION: &str = "screen";
/// Printed by the program once it waits for the FIFO.
const READY: &str = "E2E-B3-READY";
/// The text in the screen's last cells.
const SCREEN_END: &str = "E2E-SCREEN-END";
/// Coloured runs per row.
const SEGMENTS_PER_ROW: usize = 10;
/// Attaches per system per `--runs`.
const ATTACHES_PER_RUN: usize = 4;
/// The longest one re-attach may take before the sample counts as failed.
const ATTACH_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs B3: `4 x --runs` attaches per system, interleaved.
pub(crate) fn run(ctx: &Context<'_>) -> Result<Section> {
    let attaches = ATTACHES_PER_RUN * ctx.options.runs;
    let mut section = Section::new(
        "B3",
        "re-attach latency (full 200x50 coloured screen)",
        Table::new(&["system", "median", "p90", "vs tmux", "bytes to client", "attaches"]),
    );
    let ready = set_up(ctx, &SYSTEMS, &mut section, draw_screen);
    let instances: Vec<Instance> = ready.into_iter().map(|(instance, ())| instance).collect();

    let mut samples: Vec<Vec<(Duration, u64)>> = vec![Vec::new(); instances.len()];
    for attach in 0..attaches {
        for (instance, samples) in instances.iter().zip(&mut samples) {
            match reattach(instance) {
                Ok(sample) => samples.push(sample),
                Err(err) => section.failure(format!(
                    "B3 attach {} {}: {err:#}",
                    attach + 1,
                    instance.system
                )),
            }
        }
    }
    progress(format!("B3: {attaches} attaches per system done"));

    section.intro.push(format!(
        "A session shows a full 200x50 screen of coloured text ({SEGMENTS_PER_ROW} colour runs \
         a row) and sleeps; each sample starts `attach` in a fresh 200x50 PTY and times from the \
         spawn until the screen's last row is in that terminal, then detaches. {attaches} \
         interleaved attaches per system; tmux (which redraws on attach too) for reference."
    ));
    let times = |i: usize| samples[i].iter().map(|s| s.0).collect::<Vec<_>>();
    let tmux =
        instances.iter().position(|i| i.system == System::Tmux).and_then(|i| median(&times(i)));
    for system in SYSTEMS {
        let Some(index) = instances.iter().position(|i| i.system == system) else {
            section.table.row(vec![system.to_string(), absent(ctx, system)]);
            continue;
        };
        let count = format!("{}/{attaches}", samples[index].len());
        let Some(mine) = median(&times(index)) else {
            section.table.row(vec![system.to_string(), format!("failed ({count} attaches)")]);
            continue;
        };
        let mut bytes: Vec<u64> = samples[index].iter().map(|s| s.1).collect();
        bytes.sort();
        section.table.row(vec![
            system.to_string(),
            millis(mine),
            percentile(&times(index), 90.0).map_or_else(String::new, millis),
            tmux.map_or_else(|| "-".into(), |t| ratio(mine.as_secs_f64(), t.as_secs_f64())),
            bytes[bytes.len() / 2].to_string(),
            count,
        ]);
    }
    section.notes.push("Target (spec/bench.md): tsm <= 5 ms median.".into());
    Ok(section)
}

/// Starts the session, attaches a first client (which sets the size to 200x50), lets the
/// program draw the screen, waits until it is drawn, and detaches.
fn draw_screen(instance: &Instance) -> Result<()> {
    let sandbox = instance.sandbox();
    let screen = sandbox.file("screen.vt");
    std::fs::write(&screen, full_screen())
        .with_context(|| format!("cannot write {}", screen.display()))?;
    let fifo = sandbox.file("screen.go");
    make_fifo(&fifo)?;
    let script = draw_script(&fifo, &screen);
    let mut terminal = instance.open_session(SESSION, &["sh", "-c", &script])?;
    let deadline = Instant::now() + SETUP_TIMEOUT;
    terminal.wait_for(READY.as_bytes(), deadline)?;
    release_fifo(&fifo, deadline)?;
    terminal.wait_for(SCREEN_END.as_bytes(), deadline)?;
    instance.detach(&mut terminal)
}

/// The program: ready marker, wait for the FIFO, wait until the terminal is 200x50 (the
/// client's resize), draw, sleep.
fn draw_script(fifo: &Path, screen: &Path) -> String {
    let size = format!("{} {}", TERMINAL_SIZE.rows, TERMINAL_SIZE.cols);
    format!(
        "{ready}; read _ < {fifo}; \
         while [ \"$(stty size)\" != '{size}' ]; do sleep 0.01; done; \
         cat {screen}; exec sleep {LINGER_SECS}",
        ready = printf_marker(READY),
        fifo = sh_quote(fifo),
        screen = sh_quote(screen),
    )
}

/// One sample: a fresh client in a fresh terminal, timed from the spawn until the screen's
/// last row has arrived; returns the time and the bytes received by then.
fn reattach(instance: &Instance) -> Result<(Duration, u64)> {
    let start = Instant::now();
    let mut terminal = instance.attach(SESSION)?;
    let done = terminal.wait_for(SCREEN_END.as_bytes(), start + ATTACH_TIMEOUT)?;
    let bytes = terminal.received();
    instance.detach(&mut terminal)?;
    Ok((done - start, bytes))
}

/// A full screen: clear, then every row filled with coloured runs of text (foreground,
/// background and bold vary), rows joined by CR LF, and [`SCREEN_END`] in the last cells.
fn full_screen() -> Vec<u8> {
    let rows = usize::from(TERMINAL_SIZE.rows);
    let cols = usize::from(TERMINAL_SIZE.cols);
    let width = cols / SEGMENTS_PER_ROW;
    let mut out = String::from("\x1b[H\x1b[2J");
    for row in 0..rows {
        for seg in 0..SEGMENTS_PER_ROW {
            let fg = 31 + (row + seg) % 7;
            let bg = 40 + (row + seg + 3) % 8;
            let bold = if (row + seg) % 3 == 0 { "1;" } else { "" };
            let _ = write!(out, "\x1b[0;{bold}{fg};{bg}m");
            let last = row + 1 == rows && seg + 1 == SEGMENTS_PER_ROW;
            let mut text = format!("r{row:02}c{:03} ", seg * width);
            let tail = if last { SCREEN_END } else { "" };
            text.truncate(width - tail.len());
            while text.len() + tail.len() < width {
                text.push((b'a' + ((row * 7 + seg * 3 + text.len()) % 26) as u8) as char);
            }
            text.push_str(tail);
            out.push_str(&text);
        }
        out.push_str(if row + 1 == rows { "\x1b[0m" } else { "\x1b[0m\r\n" });
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_screen_fills_every_cell_and_ends_with_the_marker() {
        let screen = String::from_utf8(full_screen()).unwrap();
        let rows: Vec<&str> = screen.split("\r\n").collect();
        assert_eq!(rows.len(), usize::from(TERMINAL_SIZE.rows));
        for row in &rows {
            // Strip the escape sequences: CSI ... m and the initial clear.
            let mut text = String::new();
            let mut chars = row.chars();
            while let Some(c) = chars.next() {
                if c == '\x1b' {
                    for c in chars.by_ref() {
                        if c.is_ascii_alphabetic() {
                            break;
                        }
                    }
                } else {
                    text.push(c);
                }
            }
            assert_eq!(text.len(), usize::from(TERMINAL_SIZE.cols), "{text}");
        }
        assert!(rows.last().unwrap().ends_with(&format!("{SCREEN_END}\x1b[0m")));
    }
}
