//! `tsm label set|get|clear NAME ...`: a session's labels (`.` names the current session).

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Result, bail};
use tsm_proto::{Connection, Labels, REQUEST_TIMEOUT, SocketDir, Tag, parse_ack};

use crate::cli::LabelCommand;
use crate::target::{Target, action_error, name_or_current};

/// Runs a label subcommand.
pub(crate) fn run(command: LabelCommand) -> Result<ExitCode> {
    let dir = SocketDir::from_env();
    match command {
        LabelCommand::Set { name, labels } => {
            let text = labels.join(" ");
            if let Err(err) = Labels::parse_changes(&text) {
                bail!("Invalid label: {err}.");
            }
            request_ack(&dir, &name, Tag::LabelSet, text.as_bytes())?;
        }
        LabelCommand::Clear { name } => request_ack(&dir, &name, Tag::LabelClear, &[])?,
        LabelCommand::Get { name, key } => {
            let labels = get(&dir, &name)?;
            let mut out = std::io::stdout();
            match key {
                Some(key) => match labels.get(&key) {
                    Some(value) => writeln!(out, "{value}")?,
                    None => return Ok(ExitCode::FAILURE),
                },
                None if labels.is_empty() => {}
                None => writeln!(out, "{labels}")?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The session's labels.
pub(crate) fn get(dir: &SocketDir, name: &str) -> Result<Labels> {
    let (name, mut conn) = connect(dir, name)?;
    let data = conn
        .request(Tag::LabelGet, &[], Tag::LabelData, REQUEST_TIMEOUT)
        .map_err(|e| action_error("label", &name, &e))?;
    Ok(Labels::parse_data(&String::from_utf8_lossy(&data)))
}

fn request_ack(dir: &SocketDir, name: &str, tag: Tag, payload: &[u8]) -> Result<()> {
    let (name, mut conn) = connect(dir, name)?;
    let ack = conn
        .request(tag, payload, Tag::Ack, REQUEST_TIMEOUT)
        .map_err(|e| action_error("label", &name, &e))?;
    parse_ack(&ack).map_err(|text| anyhow::anyhow!("Cannot label session \"{name}\": {text}."))
}

fn connect(dir: &SocketDir, name: &str) -> Result<(String, Connection)> {
    let name =
        if name == "." { name_or_current(None, "tsm label ... NAME|.")? } else { name.to_owned() };
    let target = Target::new(dir, &name)?;
    let conn = Connection::connect(&target.path).map_err(|e| action_error("label", &name, &e))?;
    Ok((name, conn))
}
