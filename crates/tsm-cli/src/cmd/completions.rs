//! `tsm completions bash|zsh|fish`.

use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;

use crate::cli::Cli;

/// Prints the completion script for `shell`.
pub(crate) fn run(shell: clap_complete::Shell) -> Result<ExitCode> {
    let mut command = Cli::command();
    clap_complete::generate(shell, &mut command, "tsm", &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
