//! `tsm history NAME [--plain|--vt|--html] [--screen] [--lines N]`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use tsm_proto::{HistoryFormat, HistoryRequest, SocketDir};

use crate::cli::HistoryArgs;
use crate::target::{Target, action_error};

/// Prints the session's history in the chosen format.
pub(crate) fn run(args: &HistoryArgs) -> Result<ExitCode> {
    let dir = SocketDir::from_env();
    let target = Target::new(&dir, &args.name)?;
    let format = if args.vt {
        HistoryFormat::Vt
    } else if args.html {
        HistoryFormat::Html
    } else {
        HistoryFormat::Plain
    };
    let request =
        HistoryRequest { format, lines: args.lines.unwrap_or(0), screen_only: args.screen };
    let text = tsm_proto::history(&target.path, &request)
        .map_err(|e| action_error("read", &args.name, &e))?;
    std::io::stdout().write_all(&text)?;
    Ok(ExitCode::SUCCESS)
}
