//! `tsm detach [NAME]`: detaches every client; the session keeps running.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use tsm_proto::SocketDir;

use crate::target::{Target, action_error, name_or_current};

/// Detaches every client of the session.
pub(crate) fn run(name: Option<String>) -> Result<ExitCode> {
    let name = name_or_current(name, "tsm detach [name]")?;
    let dir = SocketDir::from_env();
    let target = Target::new(&dir, &name)?;
    tsm_proto::detach_all(&target.path).map_err(|e| action_error("detach", &name, &e))?;
    writeln!(std::io::stdout(), "Session \"{name}\" detached")?;
    Ok(ExitCode::SUCCESS)
}
