//! The end-to-end runner's parts: one module per bench, and what they share.
//!
//! - [`throughput`]: B1, output throughput to an attached client.
//! - [`echo`]: B2, keystroke echo latency, idle and under a flood.
//! - [`reattach`]: B3, re-attach latency on a full coloured screen.
//! - [`idle`]: B5 and B6, memory and wake-ups of an idle daemon (one setup for both).
//! - [`listing`]: B7, `tsm ls` with 50 sessions, and with one of them stopped.
//!
//! Underneath: [`system`] (how each system starts sessions and clients), [`terminal`]
//! (the user terminal: a PTY read with poll and deadlines), [`sandbox`] (private
//! directories, scrubbed environments, the kill sweep), [`procfs`], [`stats`], [`report`].

mod echo;
mod idle;
mod listing;
mod options;
mod procfs;
mod reattach;
mod report;
mod sandbox;
mod stats;
mod system;
mod terminal;
mod throughput;

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use rustix::fs::{Mode, OFlags};

pub(crate) use crate::e2e::options::{Bench, Options, USAGE};
use crate::e2e::report::Section;
use crate::e2e::system::{Instance, System, Tools};

/// How long a session may take to start and show its ready marker.
const SETUP_TIMEOUT: Duration = Duration::from_secs(20);
/// The pause between two tries to open a FIFO whose reader is not there yet.
const FIFO_RETRY: Duration = Duration::from_millis(1);
/// How long a program sleeps once it has done its part, waiting to be killed.
const LINGER_SECS: u32 = 3600;

/// What every bench gets.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    /// The command line.
    pub(crate) options: &'a Options,
    /// Where tsm, dtach and tmux are.
    pub(crate) tools: Tools,
}

/// Runs the benches `options` asks for and prints the report on stdout. Returns whether
/// every sample of every bench succeeded.
pub(crate) fn run(options: &Options, args: &[String]) -> Result<bool> {
    let tools = Tools::detect()?;
    become_subreaper();
    print!("{}", report::header(&tools, args));
    let ctx = Context { options, tools };
    let mut complete = true;
    let mut idle_done = false;
    for &bench in &options.only {
        let sections = match bench {
            Bench::B1 => throughput::run(&ctx).map(|s| vec![s]),
            Bench::B2 => echo::run(&ctx).map(|s| vec![s]),
            Bench::B3 => reattach::run(&ctx).map(|s| vec![s]),
            Bench::B5 | Bench::B6 if idle_done => continue,
            Bench::B5 | Bench::B6 => {
                idle_done = true;
                idle::run(&ctx, options.wants(Bench::B5), options.wants(Bench::B6))
            }
            Bench::B7 => listing::run(&ctx).map(|s| vec![s]),
        };
        reap_orphans();
        match sections {
            Ok(sections) => {
                for section in sections {
                    complete &= section.complete;
                    print!("{}", section.render());
                }
            }
            Err(err) => {
                complete = false;
                eprintln!("e2e: {bench} failed: {err:#}");
                println!("### {bench}: failed\n\n    {}\n", format!("{err:#}").replace('\n', " "));
            }
        }
    }
    println!("Load average at the end: {}.", report::load_now());
    Ok(complete)
}

/// Makes the runner the reaper of its orphaned descendants (daemons whose starter exited:
/// tsm's daemon, dtach's master, the tmux server), so that the ones it kills do not stay
/// zombies on machines whose init does not reap.
fn become_subreaper() {
    // Without it, only zombies are left behind: nothing worth failing for.
    if let Err(err) = rustix::process::set_child_subreaper(Some(rustix::process::getpid())) {
        progress(format!("cannot become a child subreaper: {err}"));
    }
}

/// Reaps every descendant that has exited (called between benches, when the runner has
/// no child of its own left to wait for).
fn reap_orphans() {
    while let Ok(Some(_)) = rustix::process::waitpid(None, rustix::process::WaitOptions::NOHANG) {}
}

/// Sets up each installed system of `systems` in its own [`Instance`] with `setup`. A
/// system whose instance or setup fails is left out, with a failure note in `section`.
fn set_up<T>(
    ctx: &Context<'_>,
    systems: &[System],
    section: &mut Section,
    mut setup: impl FnMut(&Instance) -> Result<T>,
) -> Vec<(Instance, T)> {
    let mut ready = Vec::new();
    for system in ctx.tools.available(systems) {
        let result = Instance::new(&ctx.tools, system)
            .and_then(|instance| Ok((setup(&instance)?, instance)));
        match result {
            Ok((state, instance)) => ready.push((instance, state)),
            Err(err) => section.failure(format!("{} setup of {system}: {err:#}", section.id)),
        }
    }
    ready
}

/// What a table says for a system that has no figures: "not installed", or "failed".
fn absent(ctx: &Context<'_>, system: System) -> String {
    if ctx.tools.installed(system) { "failed".into() } else { "not installed".into() }
}

/// A progress line on stderr.
fn progress(line: impl AsRef<str>) {
    eprintln!("e2e: {}", line.as_ref());
}

/// A `printf` command that prints `marker`, written so that the command line itself never
/// contains it (`printf 'E2E-''END'`): neither an echo of the command nor a process
/// listing can be mistaken for the output.
fn printf_marker(marker: &str) -> String {
    assert!(marker.len() >= 2 && marker.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let (head, tail) = marker.split_at(marker.len() / 2);
    format!("printf '{head}''{tail}'")
}

/// `path` quoted for `sh`.
fn sh_quote(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', r"'\''"))
}

/// Creates a FIFO at `path`, for a session's program to wait on (`read _ < FIFO`).
fn make_fifo(path: &Path) -> Result<()> {
    rustix::fs::mkfifoat(rustix::fs::CWD, path, Mode::from_raw_mode(0o600))
        .with_context(|| format!("cannot create the FIFO {}", path.display()))
}

/// Releases a program blocked in `read _ < FIFO`: opens the FIFO for writing and writes a
/// newline. Returns the instant just before the write, when the program may go on.
///
/// Linux cannot poll for a FIFO's reader, so a non-blocking open is retried every
/// millisecond until the reader has opened its end (normally at the first try: the
/// programs print their ready marker right before they open it).
fn release_fifo(path: &Path, deadline: Instant) -> Result<Instant> {
    loop {
        match rustix::fs::open(
            path,
            OFlags::WRONLY | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => {
                let start = Instant::now();
                rustix::io::write(&fd, b"\n").context("cannot write to the FIFO")?;
                return Ok(start);
            }
            Err(rustix::io::Errno::NXIO) if Instant::now() < deadline => thread::sleep(FIFO_RETRY),
            Err(rustix::io::Errno::NXIO) => bail!("nothing read the FIFO {}", path.display()),
            Err(e) => return Err(e).with_context(|| format!("cannot open {}", path.display())),
        }
    }
}
