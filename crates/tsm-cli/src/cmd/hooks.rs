//! `tsm hooks install|uninstall claude|codex|gemini [--dry-run]`: merges tsm's hook commands
//! into an agent's settings file, or takes them out again (`spec/agents.md` §5.1.2, §5.2.2,
//! §5.3).
//!
//! The edits themselves are `tsm_agents::install`'s pure functions; this file finds the
//! files and the agent's version, and does the writing: a backup
//! `<file>.tsm-backup-<unix seconds>` of the old file, then a temp file in the same directory
//! with the old file's mode, fsync, rename. A settings file that is a symlink (dotfile
//! managers) is edited where it points, so the link stays. What uninstall needs to undo an
//! install goes to `$XDG_CONFIG_HOME/tsm/hooks-state.json`, written the same way.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow};
use tsm_agents::install::{self, Edit, HooksState, InstallError};

use crate::cli::{HooksAgent, HooksArgs, HooksCommand};

/// How long `claude --version` / `gemini --version` may take before the version counts as
/// unknown (a Node start-up is well under this).
const VERSION_TIMEOUT: Duration = Duration::from_secs(2);

/// Lines of context around each change in the `--dry-run` diff.
const DIFF_CONTEXT: usize = 3;

/// Above this many line pairs the diff stops looking for a shortest edit and shows the
/// changed middle as removed then added (settings files are far below it).
const DIFF_MAX_CELLS: usize = 4_000_000;

/// Installs or uninstalls one agent's hooks.
pub(crate) fn run(command: HooksCommand) -> Result<ExitCode> {
    let (installing, args) = match command {
        HooksCommand::Install(args) => (true, args),
        HooksCommand::Uninstall(args) => (false, args),
    };
    let HooksArgs { agent, dry_run } = args;
    let verb = if installing { "install" } else { "uninstall" };
    let settings = settings_path(agent)?;
    let settings = resolve_link(&settings);
    let state_path = state_path()?;
    let old = read_optional(&settings)?;
    let old_text = old.as_deref().unwrap_or("");
    let state = load_state(&state_path)?;
    // Uninstall goes by the marker alone and needs no path.
    let tsm = if installing { tsm_path()? } else { String::new() };

    let edit = transform(agent, installing, old_text, &tsm, &state).with_context(|| {
        let name = agent_name(agent);
        format!("Cannot {verb} the {name} hooks in {} (left unchanged)", settings.display())
    })?;

    let mut out = io::stdout().lock();
    if edit.text == old_text {
        if edit.state != state && !dry_run {
            save_state(&state_path, &edit.state)?;
        }
        if installing {
            writeln!(out, "tsm's hooks are already in {}; nothing changed", settings.display())?;
        } else {
            writeln!(out, "No tsm hooks in {}; nothing changed", settings.display())?;
        }
        return Ok(ExitCode::SUCCESS);
    }

    if dry_run {
        let old_label =
            if old.is_some() { settings.display().to_string() } else { "/dev/null".to_owned() };
        out.write_all(
            unified_diff(old_text, &edit.text, &old_label, &settings.display().to_string())
                .as_bytes(),
        )?;
        out.flush()?;
        eprintln!("Dry run: nothing written.");
        return Ok(ExitCode::SUCCESS);
    }

    // Install records what it replaced before it replaces it; uninstall forgets it after.
    if installing && edit.state != state {
        save_state(&state_path, &edit.state)?;
    }
    let backup = match old {
        Some(_) => Some(backup(&settings)?),
        None => None,
    };
    write_atomic(&settings, edit.text.as_bytes())
        .with_context(|| format!("Cannot write {}", settings.display()))?;
    if !installing && edit.state != state {
        save_state(&state_path, &edit.state)?;
    }

    report(&mut out, agent, installing, &settings, backup.as_deref(), &edit)?;
    Ok(ExitCode::SUCCESS)
}

/// Runs the pure edit for `agent`.
fn transform(
    agent: HooksAgent,
    installing: bool,
    old: &str,
    tsm: &str,
    state: &HooksState,
) -> Result<Edit, InstallError> {
    match (agent, installing) {
        (HooksAgent::Claude, true) => {
            let version = agent_version("claude").and_then(|text| install::first_version(&text));
            install::claude_install(old, version.as_ref(), tsm, state)
        }
        (HooksAgent::Claude, false) => install::claude_uninstall(old, state),
        (HooksAgent::Codex, true) => install::codex_install(old, tsm, state),
        (HooksAgent::Codex, false) => install::codex_uninstall(old, state),
        (HooksAgent::Gemini, true) => {
            let version = agent_version("gemini").and_then(|text| install::first_version(&text));
            install::gemini_install(old, version.as_ref(), tsm, state)
        }
        (HooksAgent::Gemini, false) => install::gemini_uninstall(old, state),
    }
}

/// Prints what changed and what the user does next.
fn report(
    out: &mut impl Write,
    agent: HooksAgent,
    installing: bool,
    settings: &Path,
    backup: Option<&Path>,
    edit: &Edit,
) -> Result<()> {
    match backup {
        Some(backup) => {
            writeln!(out, "Updated {} (backup: {}):", settings.display(), backup.display())?
        }
        None => writeln!(out, "Created {}:", settings.display())?,
    }
    for change in &edit.changes {
        writeln!(out, "  {change}")?;
    }
    let sessions = match agent {
        HooksAgent::Claude => "Claude",
        HooksAgent::Codex => "Codex",
        HooksAgent::Gemini => "Gemini CLI",
    };
    // No `hooks.json` is written for Codex (no version is verified), so Codex shows no
    // `Hooks need review` screen and there is nothing to trust.
    let what = match (agent, installing) {
        (HooksAgent::Codex, true) => "the notify command",
        (_, true) => "the hooks",
        (_, false) => "the change",
    };
    writeln!(out, "Restart running {sessions} sessions to pick up {what}.")?;
    Ok(())
}

/// The agent's name in messages.
fn agent_name(agent: HooksAgent) -> &'static str {
    match agent {
        HooksAgent::Claude => "Claude Code",
        HooksAgent::Codex => "Codex",
        HooksAgent::Gemini => "Gemini CLI",
    }
}

/// The settings file of `agent`: `$CLAUDE_CONFIG_DIR/settings.json` else
/// `~/.claude/settings.json`; `$CODEX_HOME/config.toml` else `~/.codex/config.toml`;
/// `~/.gemini/settings.json`.
fn settings_path(agent: HooksAgent) -> Result<PathBuf> {
    Ok(match agent {
        HooksAgent::Claude => match env_dir("CLAUDE_CONFIG_DIR") {
            Some(dir) => dir.join("settings.json"),
            None => home()?.join(".claude/settings.json"),
        },
        HooksAgent::Codex => match env_dir("CODEX_HOME") {
            Some(dir) => dir.join("config.toml"),
            None => home()?.join(".codex/config.toml"),
        },
        HooksAgent::Gemini => home()?.join(".gemini/settings.json"),
    })
}

/// `$XDG_CONFIG_HOME/tsm/hooks-state.json`, else `~/.config/tsm/hooks-state.json`.
fn state_path() -> Result<PathBuf> {
    let config = match env_dir("XDG_CONFIG_HOME").filter(|dir| dir.is_absolute()) {
        Some(dir) => dir,
        None => home()?.join(".config"),
    };
    Ok(config.join("tsm/hooks-state.json"))
}

/// A directory named by a non-empty environment variable.
fn env_dir(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn home() -> Result<PathBuf> {
    env_dir("HOME").ok_or_else(|| anyhow!("Cannot find the settings files: HOME is not set."))
}

/// The absolute path of the running tsm, which the hooks will run.
fn tsm_path() -> Result<String> {
    let exe = std::env::current_exe().context("cannot find the tsm executable")?;
    exe.into_os_string().into_string().map_err(|exe| {
        anyhow!("Cannot install hooks: the path of tsm ({exe:?}) is not valid UTF-8.")
    })
}

/// Where a symlinked settings file really is; the path itself otherwise.
fn resolve_link(path: &Path) -> PathBuf {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
        }
        _ => path.to_owned(),
    }
}

/// The file's text, `None` when it does not exist.
fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| anyhow!("Cannot read {}: it is not UTF-8 text.", path.display())),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err).with_context(|| format!("Cannot read {}", path.display())),
    }
}

fn load_state(path: &Path) -> Result<HooksState> {
    match read_optional(path)? {
        None => Ok(HooksState::default()),
        Some(text) => serde_json::from_str(&text).with_context(|| {
            format!(
                "Cannot read {}: it is not what tsm wrote there. Fix or remove it \
                 (uninstall then cannot restore what install replaced)",
                path.display()
            )
        }),
    }
}

fn save_state(path: &Path, state: &HooksState) -> Result<()> {
    let mut text = serde_json::to_string_pretty(state)?;
    text.push('\n');
    write_atomic(path, text.as_bytes()).with_context(|| format!("Cannot write {}", path.display()))
}

/// What `<program> --version` prints within [`VERSION_TIMEOUT`] (the installed agent's
/// version is its first `X.Y.Z`); `None` when the program is missing or slow.
fn agent_version(program: &str) -> Option<String> {
    let mut child = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        let _ = tx.send(text);
    });
    let text = rx.recv_timeout(VERSION_TIMEOUT).ok();
    // Done or not, it has had its time; reap it either way.
    if !matches!(child.try_wait(), Ok(Some(_))) {
        let _ = child.kill();
        let _ = child.wait();
    }
    text
}

/// Copies `path` to `<path>.tsm-backup-<unix seconds>` (`-2`, `-3`… appended when that name
/// is taken, so no backup is ever overwritten) and returns the backup's path.
fn backup(path: &Path) -> Result<PathBuf> {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let base = format!("{}.tsm-backup-{secs}", path.display());
    for n in 1.. {
        let candidate = PathBuf::from(if n == 1 { base.clone() } else { format!("{base}-{n}") });
        match OpenOptions::new().write(true).create_new(true).open(&candidate) {
            Ok(mut file) => {
                let copied = File::open(path)
                    .and_then(|mut old| io::copy(&mut old, &mut file))
                    .and_then(|_| file.set_permissions(fs::metadata(path)?.permissions()))
                    .and_then(|()| file.sync_all());
                return match copied {
                    Ok(()) => Ok(candidate),
                    Err(err) => {
                        let _ = fs::remove_file(&candidate);
                        Err(err).with_context(|| {
                            format!("Cannot back up {} to {}", path.display(), candidate.display())
                        })
                    }
                };
            }
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => {
                return Err(err)
                    .with_context(|| format!("Cannot create the backup {}", candidate.display()));
            }
        }
    }
    unreachable!("an unbounded range ends only by returning")
}

/// Replaces `path` with `bytes` atomically: a temp file in the same directory (created with
/// its parents if needed) with the old file's mode, fsynced, renamed over it.
fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tsm-tmp-{}", std::process::id()));
    let mode = fs::metadata(path).ok().map(|m| m.permissions().mode());
    let _ = fs::remove_file(&tmp);
    let written = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        if let Some(mode) = mode {
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    // The rename is durable once the directory is.
    File::open(dir)?.sync_all()
}

/// What `old` → `new` changed, as a unified diff with [`DIFF_CONTEXT`] lines of context.
fn unified_diff(old: &str, new: &str, old_label: &str, new_label: &str) -> String {
    let a: Vec<&str> = old.split_inclusive('\n').collect();
    let b: Vec<&str> = new.split_inclusive('\n').collect();
    let ops = line_ops(&a, &b);
    let mut out = String::new();
    if ops.iter().all(|op| matches!(op, Op::Same(..))) {
        return out;
    }
    out.push_str(&format!("--- {old_label}\n+++ {new_label}\n"));
    let mut start = 0;
    while let Some(first) = ops[start..].iter().position(|op| !matches!(op, Op::Same(..))) {
        let first = start + first;
        // Extend the hunk while the next change is close enough to share context.
        let mut end = first;
        loop {
            while end < ops.len() && !matches!(ops[end], Op::Same(..)) {
                end += 1;
            }
            match ops[end..].iter().position(|op| !matches!(op, Op::Same(..))) {
                Some(gap) if gap <= 2 * DIFF_CONTEXT => end += gap,
                _ => break,
            }
        }
        let from = first.saturating_sub(DIFF_CONTEXT).max(start);
        let to = (end + DIFF_CONTEXT).min(ops.len());
        push_hunk(&mut out, &ops[from..to], &a, &b);
        start = to;
    }
    out
}

/// One step from the old lines to the new: (old index, new index) positions.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// The line is in both.
    Same(usize, usize),
    /// Old line `.0` is gone; `.1` is where the new side stands.
    Removed(usize, usize),
    /// New line `.1` is new; `.0` is where the old side stands.
    Added(usize, usize),
}

/// A shortest edit from `a` to `b` (LCS over the lines between the common prefix and
/// suffix).
fn line_ops(a: &[&str], b: &[&str]) -> Vec<Op> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix =
        a[prefix..].iter().rev().zip(b[prefix..].iter().rev()).take_while(|(x, y)| x == y).count();
    let (am, bm) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<Op> = (0..prefix).map(|i| Op::Same(i, i)).collect();
    let (n, m) = (am.len(), bm.len());
    if n * m <= DIFF_MAX_CELLS {
        // lcs[i][j]: the longest common subsequence of am[i..] and bm[j..].
        let mut lcs = vec![0u32; (n + 1) * (m + 1)];
        let at = |i: usize, j: usize| i * (m + 1) + j;
        for i in (0..n).rev() {
            for j in (0..m).rev() {
                lcs[at(i, j)] = if am[i] == bm[j] {
                    lcs[at(i + 1, j + 1)] + 1
                } else {
                    lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < n || j < m {
            if i < n && j < m && am[i] == bm[j] {
                ops.push(Op::Same(prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if j == m || (i < n && lcs[at(i + 1, j)] >= lcs[at(i, j + 1)]) {
                ops.push(Op::Removed(prefix + i, prefix + j));
                i += 1;
            } else {
                ops.push(Op::Added(prefix + i, prefix + j));
                j += 1;
            }
        }
    } else {
        ops.extend((0..n).map(|i| Op::Removed(prefix + i, prefix)));
        ops.extend((0..m).map(|j| Op::Added(prefix + n, prefix + j)));
    }
    let (a_end, b_end) = (a.len() - suffix, b.len() - suffix);
    ops.extend((0..suffix).map(|k| Op::Same(a_end + k, b_end + k)));
    ops
}

/// Appends one `@@ -l,n +l,n @@` hunk.
fn push_hunk(out: &mut String, ops: &[Op], a: &[&str], b: &[&str]) {
    let old_count = ops.iter().filter(|op| !matches!(op, Op::Added(..))).count();
    let new_count = ops.iter().filter(|op| !matches!(op, Op::Removed(..))).count();
    let (old_at, new_at) = match ops[0] {
        Op::Same(i, j) | Op::Removed(i, j) | Op::Added(i, j) => (i, j),
    };
    // A side with no lines names the line before the hunk (0 at the top).
    let old_start = if old_count == 0 { old_at } else { old_at + 1 };
    let new_start = if new_count == 0 { new_at } else { new_at + 1 };
    out.push_str(&format!("@@ -{old_start},{old_count} +{new_start},{new_count} @@\n"));
    for op in ops {
        let (sign, line) = match *op {
            Op::Same(i, _) => (' ', a[i]),
            Op::Removed(i, _) => ('-', a[i]),
            Op::Added(_, j) => ('+', b[j]),
        };
        out.push(sign);
        out.push_str(line);
        if !line.ends_with('\n') {
            out.push_str("\n\\ No newline at end of file\n");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_of_equal_texts_is_empty() {
        assert_eq!(unified_diff("a\nb\n", "a\nb\n", "x", "y"), "");
    }

    #[test]
    fn diff_shows_changes_with_three_lines_of_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n";
        let new = "1\n2\n3\n4\nfour\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\nX\n16\n";
        let expected = "--- a\n+++ b\n\
            @@ -2,6 +2,7 @@\n 2\n 3\n 4\n+four\n 5\n 6\n 7\n\
            @@ -12,5 +13,5 @@\n 12\n 13\n 14\n-15\n+X\n 16\n";
        assert_eq!(unified_diff(old, new, "a", "b"), expected);
    }

    #[test]
    fn nearby_changes_share_one_hunk() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "A\nb\nc\nd\ne\nf\ng\nH\n";
        let expected = "--- a\n+++ b\n@@ -1,8 +1,8 @@\n-a\n+A\n b\n c\n d\n e\n f\n g\n-h\n+H\n";
        assert_eq!(unified_diff(old, new, "a", "b"), expected);
    }

    #[test]
    fn diff_from_nothing_and_without_final_newline() {
        assert_eq!(
            unified_diff("", "x\ny\n", "/dev/null", "f"),
            "--- /dev/null\n+++ f\n@@ -0,0 +1,2 @@\n+x\n+y\n"
        );
        assert_eq!(
            unified_diff("x", "x\n", "a", "b"),
            "--- a\n+++ b\n@@ -1,1 +1,1 @@\n-x\n\\ No newline at end of file\n+x\n"
        );
    }
}
