//! `tsm rename OLD NEW`: the daemon renames itself (its socket moves atomically).

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use tsm_proto::SocketDir;

use crate::target::{Target, action_error};

/// Renames a live session.
pub(crate) fn run(old: &str, new: &str) -> Result<ExitCode> {
    let dir = SocketDir::from_env();
    let target = Target::new(&dir, old)?;
    Target::new(&dir, new)?;
    tsm_proto::rename(&target.path, new).map_err(|e| action_error("rename", old, &e))?;
    writeln!(std::io::stdout(), "Session \"{old}\" renamed to \"{new}\"")?;
    Ok(ExitCode::SUCCESS)
}
