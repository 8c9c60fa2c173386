//! B7: `tsm ls` with 50 live sessions, and with one of them stopped by SIGSTOP; `tmux ls`
//! with 50 tmux sessions for reference.

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use rustix::process::Signal;

use crate::e2e::report::{Section, Table};
use crate::e2e::stats::{median, millis, ratio};
use crate::e2e::system::{Instance, System};
use crate::e2e::{Context, procfs, progress};

/// Live sessions (spec/bench.md: 50).
const SESSIONS: usize = 50;
/// The session that gets stopped.
const STOPPED: usize = SESSIONS / 2;
/// `tsm ls` timings per `--runs` with every daemon running (10 with the default 5 runs).
const LISTS_PER_RUN: usize = 2;

/// A stopped daemon, continued (SIGCONT) when dropped, on error too.
struct Stopped(i32);

impl Drop for Stopped {
    fn drop(&mut self) {
        // If the daemon is gone there is nothing to continue.
        let _ = procfs::signal(self.0, Signal::CONT);
    }
}

/// Runs B7.
pub(crate) fn run(ctx: &Context<'_>) -> Result<Section> {
    let runs = ctx.options.runs;
    let tsm = Instance::new(&ctx.tools, System::Tsm)?;
    let tmux = match ctx.tools.installed(System::Tmux) {
        true => Some(Instance::new(&ctx.tools, System::Tmux)?),
        false => None,
    };
    let names: Vec<String> = (0..SESSIONS).map(|k| format!("ls-{k:02}")).collect();

    let created = Instant::now();
    for name in &names {
        tsm.run(&["new", name, "--", "cat"]).with_context(|| format!("tsm new {name}"))?;
    }
    let tsm_created = created.elapsed();
    if let Some(tmux) = &tmux {
        for name in &names {
            tmux.run_tmux(&["new-session", "-d", "-s", name, "cat"])?;
        }
    }
    progress(format!("B7: {SESSIONS} sessions each started"));

    let mut tsm_times = Vec::new();
    let mut tmux_times = Vec::new();
    for _ in 0..LISTS_PER_RUN * runs {
        tsm_times.push(time_ls(&tsm, &["ls"], SESSIONS, None)?);
        if let Some(tmux) = &tmux {
            tmux_times.push(time_tmux_ls(tmux)?);
        }
    }

    let stopped_pid = tsm.daemon_pid(&names[STOPPED])?;
    let mut stopped_times = Vec::new();
    {
        procfs::signal(stopped_pid, Signal::STOP)?;
        let _continue = Stopped(stopped_pid);
        for _ in 0..runs {
            stopped_times.push(time_ls(&tsm, &["ls"], SESSIONS, Some(&names[STOPPED]))?);
        }
    }
    progress("B7: listings done");

    let mut section = Section::new(
        "B7",
        "listing",
        Table::new(&["case", "tsm ls median", "tmux ls median", "tsm vs tmux", "samples"]),
    );
    section.intro.push(format!(
        "Wall time of `tsm ls` (output to a pipe) with {SESSIONS} live sessions (each running \
         `cat`), then with one daemon stopped by SIGSTOP; `tmux ls` on one server with \
         {SESSIONS} sessions for reference. Starting the {SESSIONS} tsm sessions one after \
         another took {}.",
        millis(tsm_created)
    ));
    let tsm_median = median(&tsm_times).unwrap_or_default();
    let tmux_median = median(&tmux_times);
    section.table.row(vec![
        format!("{SESSIONS} live sessions"),
        millis(tsm_median),
        tmux_median.map_or_else(|| "not installed".into(), millis),
        tmux_median
            .map_or_else(|| "-".into(), |t| ratio(tsm_median.as_secs_f64(), t.as_secs_f64())),
        format!("{} + {}", tsm_times.len(), tmux_times.len()),
    ]);
    section.table.row(vec![
        "one of them stopped (SIGSTOP)".into(),
        millis(median(&stopped_times).unwrap_or_default()),
        "-".into(),
        "-".into(),
        stopped_times.len().to_string(),
    ]);
    section
        .notes
        .push("Target (spec/bench.md): <= 50 ms, and <= 1.1 s with the stopped one.".into());
    Ok(section)
}

/// Times one `tsm ARGS` and checks that it listed `sessions` sessions (and, when
/// `stopped` names one, that this one is listed as `busy`).
fn time_ls(
    tsm: &Instance,
    args: &[&str],
    sessions: usize,
    stopped: Option<&str>,
) -> Result<Duration> {
    let (elapsed, stdout) = time_command(tsm, args, false)?;
    let text = String::from_utf8_lossy(&stdout);
    let listed: Vec<&str> = text.lines().filter(|l| l.starts_with("ls-")).collect();
    if listed.len() != sessions {
        bail!("`tsm ls` listed {} sessions, not {sessions}:\n{text}", listed.len());
    }
    if let Some(name) = stopped {
        let line = listed.iter().find(|l| l.split_whitespace().next() == Some(name));
        if !line.is_some_and(|l| l.contains("busy")) {
            bail!("`tsm ls` does not list the stopped {name} as busy: {line:?}");
        }
    }
    Ok(elapsed)
}

/// Times one `tmux ls`.
fn time_tmux_ls(tmux: &Instance) -> Result<Duration> {
    Ok(time_command(tmux, &["ls"], true)?.0)
}

/// Runs the instance's program (through tmux's socket when `tmux`) and times it from
/// spawn to exit; returns the time and its stdout.
fn time_command(instance: &Instance, args: &[&str], tmux: bool) -> Result<(Duration, Vec<u8>)> {
    let start = Instant::now();
    let stdout = if tmux { instance.run_tmux(args)? } else { instance.run(args)? };
    let elapsed = start.elapsed();
    Ok((elapsed, stdout))
}
