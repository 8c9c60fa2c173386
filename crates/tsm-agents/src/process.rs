//! Process facts and which of the processes is the agent (§5 "Process matching").
//!
//! Matching reads argv, never the process name: node rewrites process titles and npm
//! installs run as `node …/cli.js`. A process is the agent if the basename of `argv[0]` is
//! one of the table's `argv0`, or, for an interpreter (`node`, `bun`, `python*`), an
//! argument contains one of `argv_contains` or has a basename in `argv0`. The PTY's
//! foreground group is searched first, then every descendant; the deepest match wins, so
//! the native `codex` under its node shim is the record, not the shim.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::rules::{ProcessMatch, Rules};
use crate::types::AgentKind;

/// What the daemon knows of the processes in its PTY.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessFacts {
    /// The program the session started (the shell, usually).
    pub session_child: u32,
    /// `tcgetpgrp()` on the PTY: the foreground process group.
    pub foreground_pgid: Option<u32>,
    /// That group and its descendants, at most 4 levels deep.
    pub procs: Vec<Proc>,
    /// Processes gone since the last facts, with the exit code if the daemon reaped them.
    pub exited: Vec<(u32, Option<i32>)>,
}

/// One process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proc {
    /// Its pid.
    pub pid: u32,
    /// Its parent's pid.
    pub ppid: u32,
    /// Its process group.
    pub pgid: u32,
    /// Its start time in clock ticks since boot: with the pid, its identity.
    pub start_ticks: u64,
    /// Its arguments.
    pub argv: Vec<String>,
    /// Its executable, when readable.
    pub exe: Option<PathBuf>,
    /// Its working directory, when readable.
    pub cwd: Option<PathBuf>,
    /// Its open files, only when asked for.
    pub open_files: Option<Vec<PathBuf>>,
    /// Its environment, only when asked for.
    pub env: Option<Vec<(String, String)>>,
}

/// The agent process found in the facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentProcess {
    /// Which agent.
    pub kind: AgentKind,
    /// Its pid (the deepest match).
    pub pid: u32,
    /// Its start time: a reused pid is a new process.
    pub start_ticks: u64,
    /// Its arguments.
    pub argv: Vec<String>,
    /// Its working directory.
    pub cwd: Option<PathBuf>,
}

impl AgentProcess {
    /// The value of a command-line flag (`--model x`, `--model=x`, or a short alias).
    pub fn flag(&self, names: &[&str]) -> Option<&str> {
        let mut args = self.argv.iter().skip(1);
        while let Some(arg) = args.next() {
            for name in names {
                if arg == name {
                    return args.next().map(String::as_str);
                }
                if let Some(value) = arg.strip_prefix(name).and_then(|rest| rest.strip_prefix('='))
                {
                    return Some(value);
                }
            }
        }
        None
    }

    /// Whether the agent runs with its own "skip approvals" flag.
    pub fn yolo_native(&self) -> bool {
        const FLAGS: &[&str] = &[
            "--dangerously-skip-permissions",
            "--dangerously-bypass-approvals-and-sandbox",
            "--yes-always",
            "--approval-mode=yolo",
            "--yolo",
        ];
        self.argv.iter().any(|a| FLAGS.contains(&a.as_str()))
            || self.flag(&["--permission-mode"]) == Some("bypassPermissions")
            || self.flag(&["--approval-mode"]) == Some("yolo")
    }
}

/// Finds the agent among the facts: the deepest match in the foreground group, else the
/// deepest among the descendants.
pub fn find_agent(rules: &Rules, facts: &ProcessFacts) -> Option<AgentProcess> {
    let depth = depths(facts);
    let matches = |in_foreground: bool| {
        facts
            .procs
            .iter()
            .filter(|p| !in_foreground || Some(p.pgid) == facts.foreground_pgid)
            .filter_map(|p| {
                let kind = rules.agents().find(|a| is_match(a.process(), &p.argv))?.kind().clone();
                Some((p, kind))
            })
            .max_by_key(|(p, _)| (depth.get(&p.pid).copied().unwrap_or(0), p.start_ticks, p.pid))
    };
    let (proc, kind) = matches(true).or_else(|| matches(false))?;
    Some(AgentProcess {
        kind,
        pid: proc.pid,
        start_ticks: proc.start_ticks,
        argv: proc.argv.clone(),
        cwd: proc.cwd.clone(),
    })
}

/// Whether argv belongs to the agent the table describes.
pub fn is_match(table: &ProcessMatch, argv: &[String]) -> bool {
    let Some(first) = argv.first() else { return false };
    let named = |arg: &str| table.argv0.iter().any(|name| basename(arg) == name);
    if named(first) {
        return true;
    }
    if !is_interpreter(basename(first)) {
        return false;
    }
    argv[1..].iter().any(|arg| {
        named(arg) || table.argv_contains.iter().any(|needle| arg.contains(needle.as_str()))
    })
}

fn is_interpreter(name: &str) -> bool {
    matches!(name, "node" | "nodejs" | "bun" | "deno") || name.starts_with("python")
}

fn basename(path: &str) -> &str {
    Path::new(path).file_name().and_then(|n| n.to_str()).unwrap_or(path)
}

/// Depth of each process below the session child (the child is 0; unknown parents count
/// from the top of what is listed).
fn depths(facts: &ProcessFacts) -> HashMap<u32, u32> {
    let parent: HashMap<u32, u32> = facts.procs.iter().map(|p| (p.pid, p.ppid)).collect();
    facts
        .procs
        .iter()
        .map(|p| {
            let mut depth = 0;
            let mut pid = p.pid;
            while let Some(&ppid) = parent.get(&pid) {
                if pid == facts.session_child || depth > 64 {
                    break;
                }
                depth += 1;
                pid = ppid;
            }
            (p.pid, depth)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc(pid: u32, ppid: u32, pgid: u32, argv: &[&str]) -> Proc {
        Proc {
            pid,
            ppid,
            pgid,
            start_ticks: u64::from(pid),
            argv: argv.iter().map(|s| s.to_string()).collect(),
            ..Proc::default()
        }
    }

    fn facts(fg: u32, procs: Vec<Proc>) -> ProcessFacts {
        ProcessFacts { session_child: 100, foreground_pgid: Some(fg), procs, exited: vec![] }
    }

    fn kind_of(procs: Vec<Proc>, fg: u32) -> Option<(AgentKind, u32)> {
        find_agent(&Rules::builtin(), &facts(fg, procs)).map(|a| (a.kind, a.pid))
    }

    #[test]
    fn native_and_npm_claude() {
        assert_eq!(
            kind_of(vec![proc(200, 100, 200, &["claude", "--resume", "x"])], 200),
            Some((AgentKind::Claude, 200))
        );
        let npm = proc(
            201,
            100,
            201,
            &["node", "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js"],
        );
        assert_eq!(kind_of(vec![npm], 201), Some((AgentKind::Claude, 201)));
    }

    #[test]
    fn codex_shim_chooses_the_native_child() {
        let shim =
            proc(300, 100, 300, &["node", "/usr/lib/node_modules/@openai/codex/bin/codex.js"]);
        let native = proc(
            301,
            300,
            300,
            &["/usr/lib/node_modules/@openai/codex/vendor/codex", "--model", "gpt-5"],
        );
        assert_eq!(kind_of(vec![shim, native], 300), Some((AgentKind::Codex, 301)));
    }

    #[test]
    fn gemini_aider_opencode_and_npx() {
        assert_eq!(
            kind_of(
                vec![proc(
                    400,
                    100,
                    400,
                    &["node", "/opt/npm/lib/node_modules/@google/gemini-cli/dist/index.js"]
                )],
                400
            ),
            Some((AgentKind::Gemini, 400))
        );
        assert_eq!(
            kind_of(vec![proc(401, 100, 401, &["python3.12", "-m", "aider"])], 401),
            Some((AgentKind::Aider, 401))
        );
        assert_eq!(
            kind_of(vec![proc(402, 100, 402, &["/home/u/.local/bin/aider"])], 402),
            Some((AgentKind::Aider, 402))
        );
        assert_eq!(
            kind_of(vec![proc(403, 100, 403, &["opencode", "--port", "4096"])], 403),
            Some((AgentKind::OpenCode, 403))
        );
        let npx = proc(500, 100, 500, &["npm", "exec", "@anthropic-ai/claude-code"]);
        let sh = proc(501, 500, 500, &["sh", "-c", "claude"]);
        let claude = proc(502, 501, 500, &["claude"]);
        assert_eq!(kind_of(vec![npx, sh, claude], 500), Some((AgentKind::Claude, 502)));
    }

    #[test]
    fn names_in_arguments_of_non_interpreters_do_not_count() {
        assert_eq!(kind_of(vec![proc(600, 100, 600, &["vim", "claude"])], 600), None);
        assert_eq!(kind_of(vec![proc(601, 100, 601, &["grep", "-r", "/claude-code/"])], 601), None);
        assert_eq!(kind_of(vec![proc(602, 100, 602, &["bash"])], 602), None);
    }

    #[test]
    fn foreground_group_first_then_descendants() {
        let background_codex = proc(700, 100, 700, &["codex"]);
        let foreground_claude = proc(710, 100, 710, &["claude"]);
        assert_eq!(
            kind_of(vec![background_codex.clone(), foreground_claude], 710),
            Some((AgentKind::Claude, 710))
        );
        assert_eq!(kind_of(vec![background_codex], 999), Some((AgentKind::Codex, 700)));
    }

    #[test]
    fn flags_and_native_yolo() {
        let agent = AgentProcess {
            kind: AgentKind::Claude,
            pid: 1,
            start_ticks: 1,
            argv: ["claude", "--model=opus", "--permission-mode", "bypassPermissions"]
                .map(String::from)
                .to_vec(),
            cwd: None,
        };
        assert_eq!(agent.flag(&["--model", "-m"]), Some("opus"));
        assert!(agent.yolo_native());
    }
}
