//! `tsm version`: `tsm <version> (<commit>)`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;

/// `<version> (<commit>)`, as `--version` prints it after `tsm `.
pub(crate) const VERSION_LINE: &str =
    concat!(env!("CARGO_PKG_VERSION"), " (", env!("TSM_COMMIT"), ")");

/// Prints the version line.
pub(crate) fn run() -> Result<ExitCode> {
    writeln!(std::io::stdout(), "tsm {VERSION_LINE}")?;
    Ok(ExitCode::SUCCESS)
}
