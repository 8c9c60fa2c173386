//! The command line, as clap derives it: these doc comments are the help text.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// tsm keeps terminal sessions alive after their terminal goes away: detach, re-attach
/// with the screen restored, run commands in sessions from scripts.
#[derive(Debug, Parser)]
#[command(name = "tsm", version = crate::cmd::version::VERSION_LINE, disable_version_flag = true)]
pub(crate) struct Cli {
    /// Print the version.
    #[arg(short = 'V', long = "version", action = clap::ArgAction::Version)]
    version: Option<bool>,
    #[command(subcommand)]
    pub(crate) command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create a detached session running CMD (default: your login shell).
    #[command(visible_alias = "n")]
    New(NewArgs),
    /// Attach to a session, creating it if missing.
    #[command(visible_alias = "a")]
    Attach(AttachArgs),
    /// Detach every client of a session; the session keeps running.
    #[command(visible_alias = "d")]
    Detach {
        /// The session (default: $TSM_SESSION).
        name: Option<String>,
    },
    /// End sessions; returns once each daemon has exited.
    #[command(visible_alias = "k")]
    Kill {
        /// Sessions to end; `prefix*` ends every session whose name starts with prefix
        /// (default: $TSM_SESSION).
        names: Vec<String>,
        /// Also remove a stale socket (its daemon is gone).
        #[arg(long)]
        force: bool,
    },
    /// Rename a live session.
    #[command(visible_alias = "mv")]
    Rename {
        /// The current name.
        old: String,
        /// The new name.
        new: String,
    },
    /// List sessions.
    #[command(visible_alias = "list", visible_alias = "l")]
    Ls(LsArgs),
    /// Everything known about one session.
    Info {
        /// The session.
        name: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Print a session's scrollback and screen.
    #[command(visible_alias = "hi")]
    History(HistoryArgs),
    /// Run a command in a session's shell; print its output, exit with its code.
    #[command(visible_alias = "r")]
    Run(RunArgs),
    /// Wait until sessions' `run` tasks end; exit with the first non-zero code.
    #[command(visible_alias = "w")]
    Wait {
        /// Sessions; `prefix*` waits for every session whose name starts with prefix.
        #[arg(required = true)]
        names: Vec<String>,
        /// Give up after this many seconds (exit 124).
        #[arg(long, value_name = "SECS")]
        timeout: Option<f64>,
        /// Wait until each session's coding agent needs you (done, approval, input, error…)
        /// in a state entered after the last input sent to the session.
        #[arg(long)]
        agent: bool,
    },
    /// The coding agents in sessions and what they are doing.
    Agents(AgentsArgs),
    /// Write stdin to a file through a session's shell (works across ssh inside it).
    Write {
        /// The session.
        name: String,
        /// The file, as the session's shell resolves it.
        path: String,
    },
    /// Send text to a session's input (without taking the size lead).
    #[command(visible_alias = "s")]
    Send {
        /// The session.
        name: String,
        /// After the text, wait briefly and send a carriage return.
        #[arg(long)]
        enter: bool,
        /// The text, joined by spaces (default: stdin).
        #[arg(allow_hyphen_values = true)]
        text: Vec<String>,
    },
    /// Follow sessions' output read-only until they end.
    #[command(visible_alias = "t")]
    Tail {
        /// Sessions to follow; `prefix*` follows every session whose name starts with prefix.
        #[arg(required = true)]
        names: Vec<String>,
        /// Keep escape sequences.
        #[arg(long)]
        vt: bool,
    },
    /// Read or change a session's labels.
    Label {
        #[command(subcommand)]
        command: LabelCommand,
    },
    /// Check the socket directory and the sessions in it.
    Doctor {
        /// `clean-stale`: remove sockets whose daemon is gone.
        action: Option<DoctorAction>,
    },
    /// Print a completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Install or remove tsm's hooks in a coding agent's settings.
    Hooks {
        #[command(subcommand)]
        command: HooksCommand,
    },
    /// Print the version.
    Version,
    /// Forward a coding agent's hook event to its session (what the agents' hook settings
    /// run); always exits 0.
    Hook(HookArgs),
    /// Claude Code's status line: forward the status to the session, print a line.
    #[command(alias = "claude-statusline")]
    Statusline(StatuslineArgs),
    /// Run a session's daemon (started by `tsm new`; not for direct use).
    #[command(name = "__daemon", hide = true)]
    Daemon(DaemonArgs),
}

/// `tsm new`.
#[derive(Debug, Args)]
pub(crate) struct NewArgs {
    /// The session's working directory (default: the current one).
    #[arg(short = 'c', long = "cwd", value_name = "DIR")]
    pub(crate) cwd: Option<PathBuf>,
    /// A label `k=v` for the session (repeatable).
    #[arg(long = "label", value_name = "K=V")]
    pub(crate) labels: Vec<String>,
    /// Name of the new session.
    pub(crate) name: String,
    /// The command to run (default: your login shell).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub(crate) command: Vec<OsString>,
}

/// `tsm attach`.
#[derive(Debug, Args)]
pub(crate) struct AttachArgs {
    /// A label `k=v` applied when the session is created (repeatable).
    #[arg(long = "label", value_name = "K=V")]
    pub(crate) labels: Vec<String>,
    /// The session (default: the only session, or a new one named after the directory).
    pub(crate) name: Option<String>,
    /// The command to run if the session is created (default: your login shell).
    #[arg(last = true)]
    pub(crate) command: Vec<OsString>,
}

/// `tsm run`.
#[derive(Debug, Args)]
pub(crate) struct RunArgs {
    /// The session (created with bash if missing).
    pub(crate) name: String,
    /// Return once the daemon has accepted the command.
    #[arg(short = 'd', long = "detach")]
    pub(crate) detach: bool,
    /// Stop waiting after this many seconds (exit 124; the command keeps running).
    #[arg(long, value_name = "SECS")]
    pub(crate) timeout: Option<f64>,
    /// Keep escape sequences in the output.
    #[arg(long)]
    pub(crate) vt: bool,
    /// Print one JSON object: `exit_code` and `output`.
    #[arg(long)]
    pub(crate) json: bool,
    /// The command: one argument is shell text as given; several are quoted and joined.
    /// None: the script on stdin.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub(crate) command: Vec<OsString>,
}

/// `tsm ls`.
#[derive(Debug, Args)]
pub(crate) struct LsArgs {
    /// Print one JSON array.
    #[arg(long)]
    pub(crate) json: bool,
    /// Print names only.
    #[arg(long, conflicts_with = "json")]
    pub(crate) short: bool,
    /// Print the list again whenever it changes (with --json, one array per line).
    #[arg(long)]
    pub(crate) watch: bool,
    /// Only sessions with label `k=v` (repeatable: all must match).
    #[arg(long = "where", value_name = "K=V")]
    pub(crate) filters: Vec<String>,
}

/// `tsm history`.
#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// The session.
    pub(crate) name: String,
    /// Text only (the default).
    #[arg(long, group = "format")]
    pub(crate) plain: bool,
    /// With escape sequences, to replay in a terminal.
    #[arg(long, group = "format")]
    pub(crate) vt: bool,
    /// As a styled HTML page.
    #[arg(long, group = "format")]
    pub(crate) html: bool,
    /// Only the visible screen.
    #[arg(long)]
    pub(crate) screen: bool,
    /// Only the last N lines.
    #[arg(long, value_name = "N")]
    pub(crate) lines: Option<u32>,
}

/// `tsm label` subcommands (`.` names the current session).
#[derive(Debug, Subcommand)]
pub(crate) enum LabelCommand {
    /// Set labels `k=v`; an empty value (`k=`) deletes the key.
    Set {
        /// The session.
        name: String,
        /// The labels.
        #[arg(required = true, value_name = "K=V")]
        labels: Vec<String>,
    },
    /// Print the labels (`k=v k=v`), or one value.
    Get {
        /// The session.
        name: String,
        /// Print only this key's value (exit 1 if it is not set).
        key: Option<String>,
    },
    /// Delete every label.
    Clear {
        /// The session.
        name: String,
    },
}

/// What `tsm doctor` may do.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum DoctorAction {
    /// Remove sockets whose daemon is gone.
    CleanStale,
}

/// The hidden daemon entry.
#[derive(Debug, Args)]
pub(crate) struct DaemonArgs {
    /// The socket directory.
    #[arg(long)]
    pub(crate) dir: PathBuf,
    /// The session's name.
    #[arg(long)]
    pub(crate) name: String,
    /// A label `k=v`.
    #[arg(long = "label")]
    pub(crate) labels: Vec<String>,
    /// Initial rows.
    #[arg(long, default_value_t = 24)]
    pub(crate) rows: u16,
    /// Initial columns.
    #[arg(long, default_value_t = 80)]
    pub(crate) cols: u16,
    /// The command (empty: the login shell).
    #[arg(last = true)]
    pub(crate) command: Vec<OsString>,
}

/// `tsm agents`.
#[derive(Debug, Args)]
pub(crate) struct AgentsArgs {
    /// Print JSON: an array of reports, or with --watch one report per line.
    #[arg(long)]
    pub(crate) json: bool,
    /// Print a line per change until interrupted.
    #[arg(long)]
    pub(crate) watch: bool,
    /// `yolo NAME on|off`.
    #[command(subcommand)]
    pub(crate) command: Option<AgentsCommand>,
}

/// `tsm agents` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum AgentsCommand {
    /// Auto-approval for one session: answers fresh approval dialogs with "yes, once".
    Yolo {
        /// The session.
        name: String,
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        state: String,
    },
}

/// `tsm hooks` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum HooksCommand {
    /// Merge tsm's hook commands into the agent's settings file (a backup is kept).
    Install(HooksArgs),
    /// Take tsm's hook commands out of the agent's settings file (a backup is kept).
    Uninstall(HooksArgs),
}

/// `tsm hooks install|uninstall`.
#[derive(Debug, Args)]
pub(crate) struct HooksArgs {
    /// The agent whose settings to edit.
    pub(crate) agent: HooksAgent,
    /// Print the change as a unified diff; write nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// The agents `tsm hooks` knows.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum HooksAgent {
    /// Claude Code: `$CLAUDE_CONFIG_DIR/settings.json`, else `~/.claude/settings.json`.
    Claude,
    /// Codex: `$CODEX_HOME/config.toml`, else `~/.codex/config.toml`.
    Codex,
    /// Gemini CLI: `~/.gemini/settings.json`.
    Gemini,
}

/// `tsm hook`.
#[derive(Debug, Args)]
pub(crate) struct HookArgs {
    /// The agent whose hook this is.
    pub(crate) agent: HookAgent,
    /// Also append the event to FILE as a JSON line (for recording fixtures).
    #[arg(long, value_name = "FILE", hide = true)]
    pub(crate) record: Option<PathBuf>,
    /// Codex `notify`: the old notify program and its arguments, then the payload, which
    /// Codex appends.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
    pub(crate) args: Vec<OsString>,
}

/// The agents `tsm hook` takes events from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum HookAgent {
    /// Claude Code hooks (JSON on stdin).
    Claude,
    /// Codex hooks (JSON on stdin) or `notify` (JSON as the last argument).
    Codex,
    /// Gemini CLI hooks (JSON on stdin; prints `{}`).
    Gemini,
    /// Aider's notifications command.
    Aider,
}

/// `tsm statusline`.
#[derive(Debug, Args)]
pub(crate) struct StatuslineArgs {
    /// Print the output of this shell command, fed the same JSON, instead of tsm's line.
    #[arg(long, value_name = "CMD")]
    pub(crate) chain: Option<String>,
}
