//! The slow-client policy: a stopped client never stalls the program, the other clients or
//! the daemon's memory, and gets a correct screen once it runs again.

use std::time::{Duration, Instant};

use rustix::process::Signal;
use tsm_proto::Tag;

use crate::support::{PtyClient, Recv, TestDir};

/// Output the session prints while one client is stopped, in MB (the debug build's model
/// advances at a few MB/s; the release figures are in BENCHMARKS.md).
const FLOOD_MB: u32 = 24;

/// What the daemon may use while a stopped client misses all of that.
const MAX_DAEMON_RSS: u64 = 64 * 1024 * 1024;

#[test]
fn a_stopped_client_stalls_nothing_and_is_resynced_when_it_runs_again() {
    let dir = TestDir::new();
    dir.new_shell("flood");
    let stopped = PtyClient::attach(&dir, "flood");
    stopped.wait_raw_mode();
    stopped.wait_screen_contains("$");
    let mut live = dir.client("flood");
    live.init(24, 80);
    stopped.signal(Signal::STOP);

    // `DONE-$((6*7))` prints DONE-42; the echo of the command line never contains it.
    let command = format!(
        "head -c {}000000 /dev/zero | tr '\\0' x | fold -w 200; echo DONE-$((6*7))\r",
        FLOOD_MB
    );
    live.send(Tag::Input.as_u8(), command.as_bytes());
    // The live client keeps receiving, to the end, while the other one is stopped.
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut tail: Vec<u8> = Vec::new();
    let mut received = 0usize;
    loop {
        match live.recv(deadline) {
            Recv::Frame(frame) if frame.tag == Tag::Output => {
                received += frame.payload.len();
                tail.extend_from_slice(&frame.payload);
                if tail.windows(7).any(|w| w == b"DONE-42") {
                    break;
                }
                let keep = tail.len().saturating_sub(16);
                tail.drain(..keep);
            }
            Recv::Frame(_) => {}
            other => dir.fail(&format!("the live client got {other:?} after {received} bytes")),
        }
    }
    // This debug-build reader is slower than the daemon forwards, so the policy may resync
    // it too (skipping what it would not have kept up with); it must never be cut off.
    dir.check(received > (FLOOD_MB as usize) * 1_000_000 / 4, || {
        format!("the live client got only {received} bytes of the flood")
    });
    let rss = dir.status("flood")["rss_bytes"].as_u64().unwrap_or(u64::MAX);
    dir.check(rss < MAX_DAEMON_RSS, || format!("daemon RSS {rss} bytes with a stopped client"));

    // Running again, the stopped client is resynced: its screen ends with the marker.
    stopped.signal(Signal::CONT);
    dir.wait_for("the resumed client to show the end of the flood", || {
        stopped.screen_text().contains("DONE-42")
    });
    // And the session still answers.
    live.input("echo after-$((1+1))\r");
    live.wait_output_contains("after-2");
}
