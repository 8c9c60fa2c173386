//! The daemon's view of the screen: what a re-attaching client is sent, and what History
//! replies contain.
//!
//! For now this keeps the raw tail of the output and replays its last lines after a clear;
//! the terminal model of `tsm-pty` replaces it.

use tsm_proto::{HistoryFormat, HistoryRequest, Size};

/// How much raw output the screen keeps for replay, in bytes.
const KEEP_BYTES: usize = 64 * 1024;

/// Lines replayed on attach.
const SNAPSHOT_LINES: usize = 200;

/// The screen as far as the daemon knows it.
#[derive(Debug, Default)]
pub(crate) struct Screen {
    /// The last [`KEEP_BYTES`] of output, at most twice that between trims.
    tail: Vec<u8>,
    /// The size last applied.
    size: Size,
}

impl Screen {
    /// A screen of `size`.
    pub(crate) fn new(size: Size) -> Screen {
        Screen { tail: Vec::new(), size }
    }

    /// Takes program output.
    pub(crate) fn advance(&mut self, bytes: &[u8]) {
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > 2 * KEEP_BYTES {
            self.tail.drain(..self.tail.len() - KEEP_BYTES);
        }
    }

    /// Takes a new size.
    pub(crate) fn resize(&mut self, size: Size) {
        self.size = size;
    }

    /// Bytes that repaint a fresh terminal of the current size.
    pub(crate) fn snapshot_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\x1b[H\x1b[2J\x1b[0m");
        out.extend_from_slice(last_lines(&self.tail, SNAPSHOT_LINES));
    }

    /// Answers to terminal queries the program sent; none yet.
    pub(crate) fn take_replies(&mut self) -> Vec<u8> {
        Vec::new()
    }

    /// The directory the program last announced (OSC 7); not tracked yet.
    pub(crate) fn cwd(&self) -> Option<&str> {
        None
    }

    /// A History reply.
    pub(crate) fn history(&self, request: &HistoryRequest) -> Vec<u8> {
        let lines = if request.lines == 0 { usize::MAX } else { request.lines as usize };
        let raw = last_lines(&self.tail, lines);
        match request.format {
            HistoryFormat::Preview | HistoryFormat::Vt => raw.to_vec(),
            HistoryFormat::Plain | HistoryFormat::Html => raw.to_vec(),
        }
    }
}

/// The last `n` lines of `bytes`.
fn last_lines(bytes: &[u8], n: usize) -> &[u8] {
    let mut newlines = 0;
    for (i, &b) in bytes.iter().enumerate().rev() {
        if b == b'\n' && i + 1 != bytes.len() {
            newlines += 1;
            if newlines == n {
                return &bytes[i + 1..];
            }
        }
    }
    bytes
}
