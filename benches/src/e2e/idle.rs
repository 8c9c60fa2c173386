//! B5 and B6: the memory and the wake-ups of an idle session's daemon, on one setup.
//!
//! Each system gets a session running the shell (`SHELL=/bin/sh`) with a client attached
//! in a 200x50 user terminal; 10 MB of coloured log lines go by (`cat` typed at the
//! prompt), the client detaches, and the shell sits at its prompt. Then, for all systems
//! at once (their daemons idle side by side): voluntary context switches of each daemon
//! over the window, detached (B6); VmRSS of each daemon (B5); and voluntary context
//! switches over the window again with an idle client attached to each (B6).

use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};

use crate::e2e::report::{Section, Table};
use crate::e2e::sandbox::Sandbox;
use crate::e2e::system::{Instance, System};
use crate::e2e::terminal::Terminal;
use crate::e2e::throughput::write_payload;
use crate::e2e::{Context, SETUP_TIMEOUT, absent, procfs, progress, set_up, sh_quote};

/// The systems (the raw PTY has no daemon).
const SYSTEMS: [System; 3] = [System::Tsm, System::Dtach, System::Tmux];
/// The session's name.
const SESSION: &str = "idle";
/// Output that goes by before the daemon is idle, in MiB (spec/bench.md: 10 MB).
const OUTPUT_MB: usize = 10;
/// Printed after the output, typed split so that the echo of the command differs.
const END_COMMAND: &str = "printf 'E2E-IDLE''-END\\n'";
/// What [`END_COMMAND`] prints.
const END: &str = "E2E-IDLE-END";
/// The longest the 10 MB may take to go by.
const OUTPUT_TIMEOUT: Duration = Duration::from_secs(120);
/// The wake-up window (spec/bench.md: 10 s).
const WINDOW: Duration = Duration::from_secs(10);
/// The wake-up window with `--quick`.
const QUICK_WINDOW: Duration = Duration::from_secs(5);
/// The pause after an attach or a detach before a measurement starts, so that the
/// attach's own work (snapshot, redraw) is not counted as idling.
const SETTLE: Duration = Duration::from_secs(1);

/// One system's idle session.
struct Idle {
    /// The system.
    instance: Instance,
    /// Its daemon: tsm's daemon, dtach's master, the tmux server.
    daemon: i32,
}

/// Runs the setup, then B5 if `memory`, B6 if `wakeups`; returns their sections.
pub(crate) fn run(ctx: &Context<'_>, memory: bool, wakeups: bool) -> Result<Vec<Section>> {
    let window = if ctx.options.quick { QUICK_WINDOW } else { WINDOW };
    let files = Sandbox::new("idle-payload")?;
    let payload = files.file("payload");
    write_payload(&payload, OUTPUT_MB)?;
    let mut b5 = Section::new(
        "B5",
        "idle memory",
        Table::new(&["system", "process", "VmRSS", "vs tmux", "vs dtach", "of which RssAnon"]),
    );
    let mut b6 = Section::new(
        "B6",
        "idle wake-ups",
        Table::new(&["system", "detached: daemon", "attached: daemon", "attached: client"]),
    );
    let idle: Vec<Idle> = set_up(ctx, &SYSTEMS, &mut b5, |instance| prepare(instance, &payload))
        .into_iter()
        .map(|(instance, daemon)| Idle { instance, daemon })
        .collect();
    // A setup failure spoils both benches.
    b6.notes.clone_from(&b5.notes);
    b6.complete = b5.complete;
    progress(format!("B5/B6: {} idle sessions ready", idle.len()));

    thread::sleep(SETTLE);
    let mut detached = Vec::new();
    if wakeups {
        match count_switches(&idle, &[], window) {
            Ok(counts) => detached = counts,
            Err(err) => b6.failure(format!("B6 detached: {err:#}")),
        }
    }
    let rss: Vec<Result<u64>> = idle.iter().map(|i| procfs::rss_kib(i.daemon)).collect();
    let anon: Vec<Result<u64>> = idle.iter().map(|i| procfs::rss_anon_kib(i.daemon)).collect();
    let mut attached = Vec::new();
    if wakeups {
        match count_attached(&idle, window) {
            Ok(counts) => attached = counts,
            Err(err) => b6.failure(format!("B6 attached: {err:#}")),
        }
    }

    b5.intro.push(format!(
        "VmRSS of the process serving one idle session (the shell at its prompt, after \
         {OUTPUT_MB} MiB of log lines went by with a client attached, then detached): tsm's \
         daemon, dtach's master, the tmux server. `RssAnon` is the part that is not pages of \
         the executable and its libraries."
    ));
    b6.intro.push(format!(
        "Voluntary context switches (all threads) of each daemon over {secs} s with the \
         session idle, first detached, then with an idle client attached (the client's own \
         switches in the last column). All systems are measured in the same window.",
        secs = window.as_secs()
    ));
    let rss_of = |system| {
        idle.iter().position(|i| i.instance.system == system).and_then(|k| rss[k].as_ref().ok())
    };
    for system in SYSTEMS {
        let Some(k) = idle.iter().position(|i| i.instance.system == system) else {
            b5.table.row(vec![system.to_string(), absent(ctx, system)]);
            b6.table.row(vec![system.to_string(), absent(ctx, system)]);
            continue;
        };
        let process = match system {
            System::Tsm => "daemon",
            System::Dtach => "master",
            _ => "server",
        };
        let vs = |other| match (rss[k].as_ref(), rss_of(other)) {
            (Ok(mine), Some(theirs)) => crate::e2e::stats::ratio(*mine as f64, *theirs as f64),
            _ => "-".into(),
        };
        b5.table.row(vec![
            system.to_string(),
            format!("{process} (pid {})", idle[k].daemon),
            rss[k].as_ref().map_or_else(|e| format!("failed: {e:#}"), |kib| format!("{kib} KiB")),
            vs(System::Tmux),
            vs(System::Dtach),
            anon[k].as_ref().map_or_else(|_| "-".into(), |kib| format!("{kib} KiB")),
        ]);
        let cell = |counts: &[(u64, Option<u64>)], client: bool| match counts.get(k) {
            Some((daemon, client_count)) => {
                if client {
                    client_count.map_or_else(|| "-".into(), |c| c.to_string())
                } else {
                    daemon.to_string()
                }
            }
            None => "-".into(),
        };
        b6.table.row(vec![
            system.to_string(),
            cell(&detached, false),
            cell(&attached, false),
            cell(&attached, true),
        ]);
    }
    b5.notes.push("Target (spec/bench.md): tsm <= 4 MB.".into());
    b6.notes.push("Target (spec/bench.md): 0 for tsm's daemon.".into());

    let mut sections = Vec::new();
    if memory {
        sections.push(b5);
    }
    if wakeups {
        sections.push(b6);
    }
    Ok(sections)
}

/// Starts the session with a client, lets 10 MB go by, detaches; returns the daemon's pid.
fn prepare(instance: &Instance, payload: &std::path::Path) -> Result<i32> {
    let mut terminal = instance.open_session(SESSION, &[])?;
    let deadline = Instant::now() + SETUP_TIMEOUT;
    terminal.wait_for_output(deadline).context("attach")?;
    terminal.wait_raw(deadline).context("attach")?;
    let command = format!("cat {}; {END_COMMAND}\r", sh_quote(payload));
    terminal.send(command.as_bytes())?;
    terminal
        .wait_for(END.as_bytes(), Instant::now() + OUTPUT_TIMEOUT)
        .context("10 MB of output")?;
    instance.detach(&mut terminal)?;
    instance.daemon_pid(SESSION)
}

/// Attaches an idle client to each session, lets the attach settle, counts the switches
/// over `window` (daemons and clients), and detaches.
fn count_attached(idle: &[Idle], window: Duration) -> Result<Vec<(u64, Option<u64>)>> {
    let mut terminals = Vec::new();
    for i in idle {
        let mut terminal = i.instance.attach(SESSION)?;
        terminal.wait_for_output(Instant::now() + SETUP_TIMEOUT)?;
        terminals.push(terminal);
    }
    thread::sleep(SETTLE);
    for terminal in &mut terminals {
        terminal.drain()?;
    }
    let counts = count_switches(idle, &terminals, window)?;
    for (i, terminal) in idle.iter().zip(&mut terminals) {
        i.instance.detach(terminal)?;
    }
    Ok(counts)
}

/// Voluntary context switches over `window` of each daemon (and of each client, when
/// `clients` has one per daemon).
fn count_switches(
    idle: &[Idle],
    clients: &[Terminal],
    window: Duration,
) -> Result<Vec<(u64, Option<u64>)>> {
    let read = || -> Result<Vec<(u64, Option<u64>)>> {
        idle.iter()
            .enumerate()
            .map(|(k, i)| {
                let daemon = procfs::voluntary_switches(i.daemon)?;
                let client =
                    clients.get(k).map(|c| procfs::voluntary_switches(c.pid())).transpose()?;
                Ok((daemon, client))
            })
            .collect()
    };
    let before = read()?;
    thread::sleep(window);
    let after = read()?;
    Ok(before
        .iter()
        .zip(&after)
        .map(|(b, a)| (a.0 - b.0, a.1.zip(b.1).map(|(a, b)| a - b)))
        .collect())
}
