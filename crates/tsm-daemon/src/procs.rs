//! Process facts for agent detection: the PTY's foreground process group and its
//! descendants, read from `/proc`.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::PathBuf;

use tsm_agents::process::{Proc, ProcessFacts};

/// How deep below the foreground group's processes descendants are listed.
const MAX_DEPTH: usize = 4;

/// The facts for a session whose program is `session_child` and whose PTY's foreground
/// group is `foreground_pgid`. Processes that vanish while being read are left out.
pub(crate) fn facts(session_child: u32, foreground_pgid: Option<u32>) -> ProcessFacts {
    let mut facts =
        ProcessFacts { session_child, foreground_pgid, procs: Vec::new(), exited: Vec::new() };
    let Some(pgid) = foreground_pgid else { return facts };
    if pgid == session_child {
        // The program itself is in front: a shell at its prompt (typing must stay cheap, so
        // no scan of /proc: its children are asked for instead, usually none), or the
        // program is the agent or its wrapper (`tsm new x -- npx claude`).
        let mut level = vec![session_child];
        let mut pids = vec![session_child];
        for _ in 0..MAX_DEPTH {
            level = level.iter().flat_map(|&pid| children(pid)).collect();
            pids.extend(&level);
        }
        let stats = pids.into_iter().filter_map(|pid| {
            fs::read_to_string(format!("/proc/{pid}/stat")).ok().and_then(|t| parse_stat(pid, &t))
        });
        facts.procs.extend(stats.filter_map(|stat| read_proc(&stat)));
        return facts;
    }
    let table = stat_table();
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for stat in table.values() {
        children.entry(stat.ppid).or_default().push(stat.pid);
    }
    let mut wanted: Vec<u32> = table.values().filter(|s| s.pgid == pgid).map(|s| s.pid).collect();
    let mut seen: HashSet<u32> = wanted.iter().copied().collect();
    let mut level = wanted.clone();
    for _ in 0..MAX_DEPTH {
        let next: Vec<u32> = level
            .iter()
            .flat_map(|pid| children.get(pid).into_iter().flatten().copied())
            .filter(|pid| seen.insert(*pid))
            .collect();
        wanted.extend(&next);
        level = next;
    }
    facts.procs.extend(wanted.iter().filter_map(|pid| read_proc(table.get(pid)?)));
    facts
}

/// The children of `pid`, from `/proc/<pid>/task/<tid>/children` of each of its threads.
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else { return Vec::new() };
    tasks
        .flatten()
        .filter_map(|task| fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| {
            text.split_whitespace().filter_map(|p| p.parse().ok()).collect::<Vec<u32>>()
        })
        .collect()
}

/// One process's facts; `None` when it is gone.
fn read_proc(stat: &Stat) -> Option<Proc> {
    let pid = stat.pid;
    let argv = tsm_pty::process::cmdline(pid as i32).ok()?;
    Some(Proc {
        pid,
        ppid: stat.ppid,
        pgid: stat.pgid,
        start_ticks: stat.start_ticks,
        argv: argv.into_iter().map(|a| a.to_string_lossy().into_owned()).collect(),
        exe: fs::read_link(format!("/proc/{pid}/exe")).ok(),
        cwd: tsm_pty::process::cwd(pid as i32).ok(),
        open_files: None,
        env: None,
    })
}

/// The files `pid` has open (`/proc/<pid>/fd`), at most 4096 of them.
pub(crate) fn open_files(pid: u32) -> Vec<PathBuf> {
    let Ok(dir) = fs::read_dir(format!("/proc/{pid}/fd")) else { return Vec::new() };
    dir.flatten()
        .take(4096)
        .filter_map(|entry| fs::read_link(entry.path()).ok())
        .filter(|path| path.is_absolute())
        .collect()
}

/// The fields of `/proc/<pid>/stat` the facts need.
struct Stat {
    pid: u32,
    ppid: u32,
    pgid: u32,
    start_ticks: u64,
}

fn stat_table() -> HashMap<u32, Stat> {
    let Ok(dir) = fs::read_dir("/proc") else { return HashMap::new() };
    dir.flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let text = fs::read_to_string(PathBuf::from(format!("/proc/{pid}/stat"))).ok()?;
            parse_stat(pid, &text)
        })
        .map(|stat| (stat.pid, stat))
        .collect()
}

/// Parses `/proc/<pid>/stat`: the command name is in parentheses and may hold spaces and
/// parentheses itself, so fields are counted after the last `)`.
fn parse_stat(pid: u32, text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(0) ppid(1) pgrp(2) session(3) tty(4) tpgid(5) flags(6)
    // minflt(7) cminflt(8) majflt(9) cmajflt(10) utime(11) stime(12) cutime(13)
    // cstime(14) priority(15) nice(16) threads(17) itrealvalue(18) starttime(19)
    Some(Stat {
        pid,
        ppid: fields.get(1)?.parse().ok()?,
        pgid: fields.get(2)?.parse().ok()?,
        start_ticks: fields.get(19)?.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_with_parentheses_in_the_name() {
        let text = "42 (a (b) c) S 7 42 42 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 0 0";
        let stat = parse_stat(42, text).expect("parses");
        assert_eq!((stat.ppid, stat.pgid, stat.start_ticks), (7, 42, 12345));
    }

    #[test]
    fn own_process_is_found_by_its_group() {
        let me = std::process::id();
        let own = parse_stat(me, &fs::read_to_string(format!("/proc/{me}/stat")).unwrap()).unwrap();
        let facts = facts(u32::MAX, Some(own.pgid));
        let found = facts.procs.iter().find(|p| p.pid == me).expect("this test process is listed");
        assert!(!found.argv.is_empty());
        assert_eq!(found.ppid, own.ppid);
    }

    #[test]
    fn the_program_in_front_is_read_with_its_children() {
        let me = std::process::id();
        let mut child = std::process::Command::new("sleep").arg("30").spawn().expect("sleep runs");
        let facts = facts(me, Some(me));
        let _ = child.kill();
        let _ = child.wait();
        assert_eq!(facts.procs[0].pid, me);
        // Right after the fork its argv may still be ours; that it is listed is the point.
        let listed = facts.procs.iter().find(|p| p.pid == child.id()).expect("the child is listed");
        assert_eq!(listed.ppid, me);
    }

    #[test]
    fn no_foreground_group_lists_nothing() {
        assert!(facts(10, None).procs.is_empty());
    }
}
