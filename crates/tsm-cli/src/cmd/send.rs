//! `tsm send NAME [--enter] [TEXT...]`: raw bytes to the session's input, without taking
//! the size-leader role (the Send tag).

use std::io::{IsTerminal, Read};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Result, bail};
use tsm_proto::{Connection, PROBE_TIMEOUT, SocketDir, Tag};

use crate::target::{Target, action_error};

/// How long `--enter` waits between the text and the carriage return, so agent TUIs do not
/// take the whole burst as a paste.
const ENTER_DELAY: Duration = Duration::from_millis(150);

/// Sends the text (the words joined by spaces, else stdin) to the session.
pub(crate) fn run(name: &str, text: &[String], enter: bool) -> Result<ExitCode> {
    let dir = SocketDir::from_env();
    let target = Target::new(&dir, name)?;
    let bytes = if text.is_empty() {
        let mut stdin = std::io::stdin();
        if stdin.is_terminal() && !enter {
            bail!(
                "usage: tsm send NAME [--enter] [TEXT...]\nGive the text as arguments or on stdin."
            );
        }
        let mut bytes = Vec::new();
        if !stdin.is_terminal() {
            stdin.read_to_end(&mut bytes)?;
        }
        bytes
    } else {
        text.join(" ").into_bytes()
    };
    let mut conn =
        Connection::connect(&target.path).map_err(|e| action_error("send to", name, &e))?;
    for chunk in bytes.chunks(tsm_proto::MAX_PAYLOAD_LEN) {
        conn.send(Tag::Send, chunk, PROBE_TIMEOUT)
            .map_err(|e| action_error("send to", name, &e))?;
    }
    if enter {
        if !bytes.is_empty() {
            std::thread::sleep(ENTER_DELAY);
        }
        conn.send(Tag::Send, b"\r", PROBE_TIMEOUT)
            .map_err(|e| action_error("send to", name, &e))?;
    }
    // Info round trip: returns once the daemon has read everything sent before it.
    conn.request(Tag::Info, &[], Tag::Info, PROBE_TIMEOUT)
        .map_err(|e| action_error("send to", name, &e))?;
    Ok(ExitCode::SUCCESS)
}
