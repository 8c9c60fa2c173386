//! `tsm`, the terminal session manager's command line.

use clap::Parser;

/// tsm keeps terminal sessions alive after their terminal goes away.
#[derive(Debug, Parser)]
#[command(name = "tsm", version, about, disable_help_subcommand = false)]
enum Cli {
    /// Print the version.
    Version,
}

fn main() -> anyhow::Result<()> {
    match Cli::parse() {
        Cli::Version => println!("tsm {}", env!("CARGO_PKG_VERSION")),
    }
    Ok(())
}
