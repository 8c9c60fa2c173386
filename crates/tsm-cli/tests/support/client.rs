//! [`TestClient`]: a raw tsm-proto client over a Unix stream, for driving daemons frame by
//! frame and byte by byte.

use std::io::{self, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use tsm_proto::{FrameDecoder, Info, OwnedFrame, Tag};

use super::{Diag, contains_bytes, deadline, strip_ansi};

/// What one receive found.
#[derive(Debug)]
pub enum Recv {
    /// A whole frame.
    Frame(OwnedFrame),
    /// The daemon closed the connection (EOF or reset).
    Closed,
    /// Nothing whole arrived before the deadline.
    TimedOut,
}

/// A connection to a session's daemon.
#[derive(Debug)]
pub struct TestClient {
    stream: UnixStream,
    decoder: FrameDecoder,
    /// Every Output payload received so far, in order.
    pub output: Vec<u8>,
    /// Every other frame received so far and not returned by a wait.
    pub others: Vec<OwnedFrame>,
    closed: bool,
    diag: Diag,
}

impl TestClient {
    /// Connects to the socket at `path`; fails the test if it cannot.
    #[track_caller]
    pub fn connect(path: &Path, diag: Diag) -> TestClient {
        match UnixStream::connect(path) {
            Ok(stream) => TestClient::from_stream(stream, diag),
            Err(e) => diag.fail(&format!("connect to {}: {e}", path.display())),
        }
    }

    /// Wraps a connected stream.
    pub fn from_stream(stream: UnixStream, diag: Diag) -> TestClient {
        TestClient {
            stream,
            decoder: FrameDecoder::new(),
            output: Vec::new(),
            others: Vec::new(),
            closed: false,
            diag,
        }
    }

    /// The stream.
    pub fn stream(&self) -> &UnixStream {
        &self.stream
    }

    /// Sends one frame; fails the test if the socket refuses it.
    #[track_caller]
    pub fn send(&mut self, tag: u8, payload: &[u8]) {
        let mut frame = Vec::with_capacity(5 + payload.len());
        tsm_proto::encode_into(Tag::from_u8(tag), payload, &mut frame);
        if let Err(e) = self.send_raw(&frame) {
            self.diag.fail(&format!("send tag {tag}: {e}"));
        }
    }

    /// Writes raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.set_write_timeout(Some(super::WAIT))?;
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// Input (tag 0): bytes for the PTY; takes the size lead when attached.
    #[track_caller]
    pub fn input(&mut self, text: &str) {
        self.send(Tag::Input.as_u8(), text.as_bytes());
    }

    /// Send (tag 18): bytes for the PTY, never taking the size lead.
    #[track_caller]
    pub fn send_text(&mut self, text: &str) {
        self.send(Tag::Send.as_u8(), text.as_bytes());
    }

    /// Receives the next frame (Output payloads are also appended to
    /// [`output`](TestClient::output)).
    pub fn recv(&mut self, deadline: Instant) -> Recv {
        loop {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => {
                    let frame = frame.to_owned_frame();
                    if frame.tag == Tag::Output {
                        self.output.extend_from_slice(&frame.payload);
                    }
                    return Recv::Frame(frame);
                }
                Ok(None) => {}
                Err(e) => self.diag.fail(&format!("the daemon broke the framing: {e}")),
            }
            if self.closed {
                return Recv::Closed;
            }
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining.is_zero() {
                return Recv::TimedOut;
            }
            self.stream
                .set_read_timeout(Some(remaining.max(Duration::from_millis(1))))
                .expect("set_read_timeout");
            match self.decoder.read_from(&mut self.stream) {
                Ok(0) => self.closed = true,
                Ok(_) => {}
                Err(e)
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                    ) =>
                {
                    self.closed = true;
                }
                Err(e) => self.diag.fail(&format!("read from the daemon: {e}")),
            }
        }
    }

    /// Receives frames until one matches `pred` and returns it; frames before it are kept
    /// (Output in [`output`](TestClient::output), others in
    /// [`others`](TestClient::others)). Fails on close or at the deadline.
    #[track_caller]
    pub fn recv_until(
        &mut self,
        what: &str,
        mut pred: impl FnMut(&OwnedFrame) -> bool,
    ) -> OwnedFrame {
        let deadline = deadline();
        loop {
            match self.recv(deadline) {
                Recv::Frame(frame) if pred(&frame) => return frame,
                Recv::Frame(frame) => {
                    if frame.tag != Tag::Output {
                        self.others.push(frame);
                    }
                }
                Recv::Closed => self.diag.fail(&format!(
                    "the daemon closed the connection while waiting for {what}; output so far: {:?}",
                    strip_ansi(&self.output)
                )),
                Recv::TimedOut => self.diag.fail(&format!(
                    "timed out waiting for {what}; output so far: {:?}",
                    strip_ansi(&self.output)
                )),
            }
        }
    }

    /// Sends a request and returns the payload of the first reply with `reply_tag`.
    #[track_caller]
    pub fn request(&mut self, tag: Tag, payload: &[u8], reply_tag: Tag) -> Vec<u8> {
        self.send(tag.as_u8(), payload);
        self.recv_until(&format!("a {reply_tag} reply"), |f| f.tag == reply_tag).payload
    }

    /// Info (tag 6).
    #[track_caller]
    pub fn info(&mut self) -> Info {
        let payload = self.request(Tag::Info, &[], Tag::Info);
        Info::parse(&payload).unwrap_or_else(|e| self.diag.fail(&format!("bad Info: {e}")))
    }

    /// Status (tag 38), parsed.
    #[track_caller]
    pub fn status(&mut self) -> Value {
        let payload = self.request(Tag::Status, &[], Tag::Status);
        serde_json::from_slice(&payload)
            .unwrap_or_else(|e| self.diag.fail(&format!("bad Status {payload:?}: {e}")))
    }

    /// Init (tag 7) at `rows` x `cols`, then an Info round trip, so the attach is done
    /// when this returns.
    #[track_caller]
    pub fn init(&mut self, rows: u16, cols: u16) {
        self.send(Tag::Init.as_u8(), &tsm_proto::Size::new(rows, cols).to_payload());
        self.info();
    }

    /// The ANSI-stripped text of every Output so far.
    pub fn screen_text(&self) -> String {
        strip_ansi(&self.output)
    }

    /// Receives until the ANSI-stripped output contains `text`.
    #[track_caller]
    pub fn wait_output_contains(&mut self, text: &str) {
        let deadline = deadline();
        while !self.screen_text().contains(text) {
            match self.recv(deadline) {
                Recv::Frame(frame) => {
                    if frame.tag != Tag::Output {
                        self.others.push(frame);
                    }
                }
                Recv::Closed => self.diag.fail(&format!(
                    "the daemon closed the connection before the output contained {text:?}; output: {:?}",
                    self.screen_text()
                )),
                Recv::TimedOut => self.diag.fail(&format!(
                    "timed out waiting for output containing {text:?}; output: {:?}",
                    self.screen_text()
                )),
            }
        }
    }

    /// Receives until the raw output contains `bytes`.
    #[track_caller]
    pub fn wait_output_bytes(&mut self, bytes: &[u8]) {
        let deadline = deadline();
        while !contains_bytes(&self.output, bytes) {
            match self.recv(deadline) {
                Recv::Frame(frame) => {
                    if frame.tag != Tag::Output {
                        self.others.push(frame);
                    }
                }
                other => self.diag.fail(&format!(
                    "{other:?} before the output contained {:?}; output: {:?}",
                    String::from_utf8_lossy(bytes),
                    String::from_utf8_lossy(&self.output)
                )),
            }
        }
    }

    /// Waits until the daemon closes the connection (frames meanwhile are kept).
    #[track_caller]
    pub fn wait_closed(&mut self, what: &str) {
        let deadline = deadline();
        loop {
            match self.recv(deadline) {
                Recv::Frame(frame) => {
                    if frame.tag != Tag::Output {
                        self.others.push(frame);
                    }
                }
                Recv::Closed => return,
                Recv::TimedOut => self.diag.fail(&format!(
                    "timed out waiting for the daemon to close the connection ({what})"
                )),
            }
        }
    }

    /// Whether the daemon has closed the connection (seen so far).
    pub fn is_closed(&self) -> bool {
        self.closed
    }
}
