//! `tsm kill [NAME|PREFIX*]... [--force]`: ends sessions; returns once each daemon has
//! exited, so the names are free at once.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use tsm_proto::{ClientError, SocketDir};

use crate::target::{Target, action_error, expand_patterns, name_or_current};

/// Ends every named session; reports each, fails if any could not be ended.
pub(crate) fn run(names: Vec<String>, force: bool) -> Result<ExitCode> {
    let dir = SocketDir::from_env();
    let names = if names.is_empty() {
        vec![name_or_current(None, "tsm kill [name...]")?]
    } else {
        expand_patterns(&dir, &names)?
    };
    let mut failed = false;
    let mut stdout = std::io::stdout();
    for name in names {
        match kill_one(&dir, &name, force) {
            Ok(message) => writeln!(stdout, "{message}")?,
            Err(err) => {
                eprintln!("{err:#}");
                failed = true;
            }
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

fn kill_one(dir: &SocketDir, name: &str, force: bool) -> Result<String> {
    let target = Target::new(dir, name)?;
    match tsm_proto::kill(&target.path) {
        Ok(()) => Ok(format!("Session \"{name}\" killed")),
        Err(ClientError::Refused) if force => {
            std::fs::remove_file(&target.path)?;
            Ok(format!("Removed stale socket \"{name}\""))
        }
        Err(err) => Err(action_error("kill", name, &err)),
    }
}
