//! `tsm`, the terminal session manager's command line: parses, dispatches, and maps
//! errors to exit codes (usage 2, runtime 1, a closed stdout 0).

mod agent_event;
mod ansi;
mod attach;
mod cli;
mod cmd;
mod daemon_spawn;
mod output;
mod sessions;
mod target;

use std::io;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::New(args) => cmd::new::run(args),
        Command::Attach(args) => cmd::attach::run(args),
        Command::Detach { name } => cmd::detach::run(name),
        Command::Kill { names, force } => cmd::kill::run(names, force),
        Command::Rename { old, new } => cmd::rename::run(&old, &new),
        Command::Ls(args) => cmd::ls::run(&args),
        Command::Info { name, json } => cmd::info::run(&name, json),
        Command::History(args) => cmd::history::run(&args),
        Command::Run(args) => cmd::run::run(&args),
        Command::Wait { names, timeout, agent: false } => cmd::wait::run(&names, timeout),
        Command::Wait { names, timeout, agent: true } => cmd::agents::wait(&names, timeout),
        Command::Agents(args) => cmd::agents::run(&args),
        Command::Write { name, path } => cmd::write::run(&name, &path),
        Command::Send { name, enter, text } => cmd::send::run(&name, &text, enter),
        Command::Tail { names, vt } => cmd::tail::run(&names, vt),
        Command::Label { command } => cmd::label::run(command),
        Command::Doctor { action } => cmd::doctor::run(action),
        Command::Completions { shell } => cmd::completions::run(shell),
        Command::Hooks { command } => cmd::hooks::run(command),
        Command::Version => cmd::version::run(),
        Command::Hook(args) => cmd::hook::run(&args),
        Command::Statusline(args) => cmd::statusline::run(&args),
        Command::Daemon(args) => cmd::daemon::run(args),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err:#}");
            ExitCode::FAILURE
        }
    }
}

/// Whoever read our stdout went away (`tsm ls | head`): not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}
