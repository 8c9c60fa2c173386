//! Facts about processes from `/proc`, and signals to them.

use std::fs;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use rustix::process::{Pid, Signal};

/// The resident set size of `pid` in KiB (`VmRSS` in `/proc/PID/status`).
pub(crate) fn rss_kib(pid: i32) -> Result<u64> {
    status_field(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// The anonymous part of `pid`'s resident set in KiB (`RssAnon`): heap and stacks,
/// without the pages of the executable and libraries that `VmRSS` also counts.
pub(crate) fn rss_anon_kib(pid: i32) -> Result<u64> {
    status_field(&format!("/proc/{pid}/status"), "RssAnon:")
}

/// Voluntary context switches of `pid`, summed over all its threads: how often it went to
/// sleep waiting for something, so how often something woke it.
pub(crate) fn voluntary_switches(pid: i32) -> Result<u64> {
    let tasks = format!("/proc/{pid}/task");
    let mut sum = 0;
    for task in fs::read_dir(&tasks).with_context(|| format!("cannot list {tasks}"))? {
        let status = task?.path().join("status");
        // A thread that ended between the listing and the read switches no more.
        if let Ok(n) = status_field(&status.to_string_lossy(), "voluntary_ctxt_switches:") {
            sum += n;
        }
    }
    Ok(sum)
}

/// The parent of `pid`, from `/proc/PID/stat` (`None` if it is gone).
pub(crate) fn parent(pid: i32) -> Option<i32> {
    stat_field(pid, 1)
}

/// Whether `pid` has a controlling terminal (`tty_nr` in `/proc/PID/stat` is not 0);
/// `None` if it is gone.
pub(crate) fn has_controlling_tty(pid: i32) -> Option<bool> {
    Some(stat_field(pid, 4)? != 0)
}

/// Field `index` after the command name in `/proc/PID/stat` ("pid (comm) state ppid pgrp
/// session tty_nr ...": 0 is the state, 1 the parent, 4 the terminal), as a number.
fn stat_field(pid: i32, index: usize) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: count from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(index)?.parse().ok()
}

/// Every live process but this one whose command line or environment contains `needle`.
pub(crate) fn pids_mentioning(needle: &[u8]) -> Vec<i32> {
    pids_whose(&["cmdline", "environ"], needle)
}

/// Every live process but this one whose command line contains `needle`.
pub(crate) fn pids_with_arg(needle: &Path) -> Vec<i32> {
    pids_whose(&["cmdline"], needle.as_os_str().as_encoded_bytes())
}

/// Every live process but this one with one of the `/proc/PID/<file>`s containing `needle`.
fn pids_whose(files: &[&str], needle: &[u8]) -> Vec<i32> {
    let me = std::process::id() as i32;
    let Ok(entries) = fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| pid != me)
        .filter(|&pid| {
            files.iter().any(|file| {
                fs::read(format!("/proc/{pid}/{file}"))
                    .is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
            })
        })
        .collect()
}

/// Sends `signal` to `pid`.
pub(crate) fn signal(pid: i32, signal: Signal) -> Result<()> {
    let Some(target) = Pid::from_raw(pid) else { bail!("bad pid {pid}") };
    rustix::process::kill_process(target, signal)
        .with_context(|| format!("cannot send {signal:?} to {pid}"))
}

/// Reads the number after `key` in a `/proc` status file (`VmRSS:   1234 kB`).
fn status_field(path: &str, key: &str) -> Result<u64> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix(key))
        .with_context(|| format!("no {key} in {path}"))?;
    let number = line.split_whitespace().next().unwrap_or_default();
    number.parse().with_context(|| format!("bad {key} {number:?} in {path}"))
}
