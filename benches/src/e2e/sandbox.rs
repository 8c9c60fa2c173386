//! A private directory and a scrubbed environment for one system's processes, and the
//! sweep that ends them all.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use anyhow::{Context as _, Result, bail};
use rustix::process::Signal;
use tempfile::TempDir;

use crate::e2e::procfs;

/// The `TERM` every process gets.
const TERM: &str = "xterm-256color";
/// The shell every process gets (a login shell in tsm, tmux's default shell).
const SHELL: &str = "/bin/sh";
/// `PATH` when the runner's own is unset.
const FALLBACK_PATH: &str = "/usr/local/bin:/usr/bin:/bin";
/// How many times the sweep looks again for processes forked while it was killing.
const SWEEP_PASSES: usize = 5;

/// A temporary directory that holds one system's sockets, `HOME` and files, and the
/// environment its processes run with: `PATH`, `HOME` (inside the directory), `TERM`,
/// `SHELL`, `LANG=C.UTF-8` (tmux wants a UTF-8 locale) and `TSM_DIR` (inside the directory),
/// nothing else.
///
/// Every process the runner starts for this system has the directory's path in its
/// command line or its environment (`HOME`, which children inherit), so dropping the
/// sandbox finds them all in `/proc`, kills them with SIGKILL, then removes the directory.
#[derive(Debug)]
pub(crate) struct Sandbox {
    /// The directory; removed on drop, after the sweep.
    dir: TempDir,
    /// The variables every process of this sandbox gets, and only those.
    env: Vec<(OsString, OsString)>,
}

impl Sandbox {
    /// Creates the directory (`$TMPDIR/tsm-e2e-LABEL.XXXXXX`) with `home/` inside.
    pub(crate) fn new(label: &str) -> Result<Sandbox> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("tsm-e2e-{label}."))
            .tempdir()
            .context("cannot create a temp dir")?;
        let home = dir.path().join("home");
        std::fs::create_dir(&home).with_context(|| format!("cannot create {}", home.display()))?;
        let path = std::env::var_os("PATH").unwrap_or_else(|| FALLBACK_PATH.into());
        let mut env: Vec<(OsString, OsString)> = vec![
            ("PATH".into(), path),
            ("HOME".into(), home.into()),
            ("TERM".into(), TERM.into()),
            ("SHELL".into(), SHELL.into()),
            ("LANG".into(), "C.UTF-8".into()),
            ("TSM_DIR".into(), dir.path().join("tsm").into()),
        ];
        // `TSM_AGENTS=off` measures tsm without agent detection (spec/agents.md §9.9).
        if let Some(agents) = std::env::var_os("TSM_AGENTS") {
            env.push(("TSM_AGENTS".into(), agents));
        }
        Ok(Sandbox { dir, env })
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A path inside the directory.
    pub(crate) fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The argv that runs `argv` with this sandbox's environment only (through `env -i`),
    /// for programs started on a PTY, which would otherwise inherit the runner's.
    pub(crate) fn scrubbed_argv<S: AsRef<OsStr>>(&self, argv: &[S]) -> Vec<OsString> {
        let mut out: Vec<OsString> = vec!["env".into(), "-i".into()];
        for (key, value) in &self.env {
            let mut pair = key.clone();
            pair.push("=");
            pair.push(value);
            out.push(pair);
        }
        out.extend(argv.iter().map(|a| a.as_ref().to_owned()));
        out
    }

    /// Runs `program args` to completion with this sandbox's environment, stdin from
    /// /dev/null, and returns its output; fails unless it exits 0.
    pub(crate) fn run<S: AsRef<OsStr>>(&self, program: &OsStr, args: &[S]) -> Result<Output> {
        let output = self.command(program, args).output();
        let line = || {
            let args: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
            format!("{} {}", program.to_string_lossy(), args.join(" "))
        };
        let output = output.with_context(|| format!("cannot run {}", line()))?;
        if !output.status.success() {
            bail!(
                "{} failed ({}): {}",
                line(),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(output)
    }

    /// A command for `program args` with this sandbox's environment and directory, stdin
    /// from /dev/null and stdout, stderr piped.
    pub(crate) fn command<S: AsRef<OsStr>>(&self, program: &OsStr, args: &[S]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .env_clear()
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Kills (SIGKILL) every process whose command line or environment names this
    /// sandbox's directory, until none is left.
    pub(crate) fn kill_all(&self) {
        let mut needle = self.dir.path().as_os_str().as_encoded_bytes().to_vec();
        needle.push(b'/');
        for _ in 0..SWEEP_PASSES {
            let pids = procfs::pids_mentioning(&needle);
            if pids.is_empty() {
                return;
            }
            let me = std::process::id() as i32;
            for pid in pids {
                // Gone already, or a zombie: nothing to do either way.
                let _ = procfs::signal(pid, Signal::KILL);
                // Our child (the runner is a subreaper, so orphaned daemons are too): reap
                // it, which waits until it is gone. A child reaped elsewhere meanwhile
                // fails with ECHILD, which is fine.
                if procfs::parent(pid) == Some(me) {
                    let pid =
                        rustix::process::Pid::from_raw(pid).expect("pids from /proc are positive");
                    let _ =
                        rustix::process::waitpid(Some(pid), rustix::process::WaitOptions::empty());
                }
            }
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.kill_all();
    }
}
