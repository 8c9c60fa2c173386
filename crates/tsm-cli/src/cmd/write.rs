//! `tsm write NAME PATH`: stdin to the file PATH through the session's shell, so it works
//! across ssh hops inside the session. The shell runs `base64 -d > PATH` with echo off;
//! the file goes in as base64 lines typed into its terminal, then end-of-file (Ctrl-D).

use std::io::{Read, Write};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Result, bail};
use tsm_proto::{ClientError, Connection, PROBE_TIMEOUT, SocketDir, Tag};

use crate::cmd::run::{ensure_session, shell_quote, submit};
use crate::target::{Target, action_error};

/// Bytes of the file per base64 line (76 characters, well under a terminal's 4095-byte
/// line limit).
const LINE_BYTES: usize = 57;
/// Lines per Send frame.
const LINES_PER_FRAME: usize = 1024;
/// How long to wait for the shell to start the receiving command.
const START_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Writes stdin to PATH in the session.
pub(crate) fn run(name: &str, path: &str) -> Result<ExitCode> {
    let dir = SocketDir::from_env();
    let target = Target::new(&dir, name)?;
    let mut data = Vec::new();
    std::io::stdin().read_to_end(&mut data)?;
    ensure_session(&dir, &target)?;
    let mut conn =
        Connection::connect(&target.path).map_err(|e| action_error("write to", name, &e))?;
    let quoted = shell_quote(path);
    let command =
        format!("stty -echo; base64 -d > {quoted}; __tsm_w=$?; stty echo; (exit $__tsm_w)");
    submit(&mut conn, name, Tag::RunStdin, command.as_bytes())?;
    wait_for(&mut conn, Tag::TaskStarted, Instant::now() + START_TIMEOUT)?;
    for frame in data.chunks(LINE_BYTES * LINES_PER_FRAME) {
        let mut lines = Vec::with_capacity(frame.len() * 4 / 3 + frame.len() / LINE_BYTES + 4);
        for line in frame.chunks(LINE_BYTES) {
            base64_into(line, &mut lines);
            lines.push(b'\n');
        }
        conn.send(Tag::Send, &lines, START_TIMEOUT)
            .map_err(|e| action_error("write to", name, &e))?;
    }
    conn.send(Tag::Send, b"\x04", PROBE_TIMEOUT).map_err(|e| action_error("write to", name, &e))?;
    let done = wait_for(&mut conn, Tag::TaskComplete, Instant::now() + START_TIMEOUT)?;
    let code = tsm_proto::parse_task_complete(&done)?;
    if code != 0 {
        bail!(
            "Cannot write {path:?} in session \"{name}\": the shell's base64 -d exited with code {code}."
        );
    }
    writeln!(std::io::stdout(), "wrote {} bytes to {path}", data.len())?;
    Ok(ExitCode::SUCCESS)
}

/// Waits for a frame with `tag`, skipping output; returns its payload.
fn wait_for(conn: &mut Connection, tag: Tag, deadline: Instant) -> Result<Vec<u8>> {
    loop {
        let frame = match conn.recv(deadline) {
            Ok(frame) => frame,
            Err(ClientError::TimedOut) => bail!("the session's shell did not answer in time"),
            Err(err) => return Err(err.into()),
        };
        if frame.tag == tag {
            return Ok(frame.payload);
        }
        if frame.tag == Tag::SessionExit {
            bail!("the session ended");
        }
    }
}

/// Appends the standard base64 encoding of `bytes`.
fn base64_into(bytes: &[u8], out: &mut Vec<u8>) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::base64_into;

    #[test]
    fn base64_matches_the_standard() {
        for (input, expected) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foobar", "Zm9vYmFy")]
        {
            let mut out = Vec::new();
            base64_into(input.as_bytes(), &mut out);
            assert_eq!(out, expected.as_bytes());
        }
    }
}
