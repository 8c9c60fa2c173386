//! `tsm tail NAME... [--vt]`: follows sessions' output read-only (no Init, no resize),
//! escape sequences stripped unless `--vt`; ends when the sessions end.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::Result;
use tsm_proto::{ClientError, Connection, PROBE_TIMEOUT, SocketDir, Tag};

use crate::ansi::AnsiStripper;
use crate::target::{Target, action_error, expand_patterns};

/// How long a follower waits for output before it looks again (it never gives up).
const READ_SLICE: Duration = Duration::from_secs(3600);

/// Follows every named session until all have ended.
pub(crate) fn run(names: &[String], vt: bool) -> Result<ExitCode> {
    let dir = SocketDir::from_env();
    let names = expand_patterns(&dir, names)?;
    let mut conns = Vec::new();
    for name in &names {
        let target = Target::new(&dir, name)?;
        let mut conn =
            Connection::connect(&target.path).map_err(|e| action_error("tail", name, &e))?;
        conn.send(Tag::Follow, &[], PROBE_TIMEOUT).map_err(|e| action_error("tail", name, &e))?;
        conns.push(conn);
    }
    let stdout = Mutex::new(std::io::stdout());
    let results: Vec<Result<()>> = std::thread::scope(|scope| {
        let followers: Vec<_> =
            conns.into_iter().map(|conn| scope.spawn(|| follow(conn, vt, &stdout))).collect();
        followers.into_iter().map(|f| f.join().unwrap_or_else(|_| Ok(()))).collect()
    });
    for result in results {
        result?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Copies one session's output to stdout until it ends.
fn follow(mut conn: Connection, vt: bool, stdout: &Mutex<std::io::Stdout>) -> Result<()> {
    let mut stripper = AnsiStripper::new();
    let mut text = Vec::new();
    loop {
        let frame = match conn.recv(Instant::now() + READ_SLICE) {
            Ok(frame) => frame,
            Err(ClientError::TimedOut) => continue,
            Err(ClientError::Closed) => return Ok(()),
            Err(err) => return Err(err.into()),
        };
        match frame.tag {
            Tag::Output => {
                let shown = if vt {
                    &frame.payload
                } else {
                    text.clear();
                    stripper.strip(&frame.payload, &mut text);
                    &text
                };
                let mut out = stdout.lock().unwrap_or_else(|e| e.into_inner());
                out.write_all(shown)?;
                out.flush()?;
            }
            Tag::SessionExit => return Ok(()),
            _ => {}
        }
    }
}
