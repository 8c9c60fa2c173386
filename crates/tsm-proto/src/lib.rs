//! The wire protocol of tsm, a terminal session manager: one daemon per session, one Unix
//! socket per daemon, and these frames in both directions.
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 1 | tag (u8), see [`Tag`] |
//! | 1 | 4 | payload length (u32, little-endian), at most [`MAX_PAYLOAD_LEN`] (16 MiB) |
//! | 5 | len | payload |
//!
//! It is byte-compatible with the Go tsm (tags 0 to 11 and the 552-byte [`Info`]), so the
//! tools of either talk to the daemons of the other. The specification is `spec/wire.md`
//! in the tsm repository; where this crate and the spec differ, the spec wins.
//!
//! Tags this crate adds to spec/wire.md's table (ours start at 32; 37 onwards are free):
//!
//! | tag | name | client -> daemon | daemon -> client |
//! | --- | --- | --- | --- |
//! | 37 | SessionExit | | to attached clients when the program exits: 1 byte, its exit code; then the connection closes |
//! | 38 | Status | empty | a JSON object: `name`, `state` (`running` or `exited`), `exit_code`, `daemon_pid`, `pid`, `rows`, `cols`, `clients`, `rss_bytes`, `version`, `labels`, `tasks` (queued or running), `last_task_exit_code`, `uncollected_exit_code` (the first non-zero code of the tasks that ended since the last collect, else 0; `null` if none ended). Payload `collect`: once no task runs, forget those codes after replying (`tsm wait` does) |
//! | 39 | Follow | empty: stream the live output to this connection, read-only, without attaching | Output frames; SessionExit (then close) when the program exits |
//! | 40 | TaskStarted | | to the client that sent Run: the command started; payload the task id; the task's output follows as Output frames, then TaskComplete |
//! | 41 | RunStdin | like Run, but the command's stdin is the terminal (fed with Send) instead of /dev/null | Ack, TaskStarted, Output, TaskComplete |
//! | 42 | Interrupt | empty: SIGINT to the terminal's foreground process group, unless that is the shell | none |
//!
//! The agent tags 32–36 are spec/wire.md's, with these details: the AgentGet report carries
//! `last_input_ms` (when input last reached the program; `tsm wait --agent` waits for a
//! state entered after it), and AgentGet with payload `trace` adds `trace`, the last 32
//! observations, for `tsm info --json`. The AgentEvent envelope carries the payload as
//! base64, so a 1 MiB payload makes a frame of about 1.4 MiB; daemons accept any frame up to
//! [`MAX_PAYLOAD_LEN`]. The AgentEvent reply is `{"ok": true, "print": null | "…"}` or
//! `{"ok": false, "error": "…"}`; `print` is what `tsm hook` prints.
//!
//! # Layers
//!
//! - Raw frames: [`FrameHeader`], [`Frame`], the streaming [`FrameDecoder`] (push bytes in,
//!   pop borrowed frames out; refuses lengths over 16 MiB before allocating) and
//!   [`write_frame`] (vectored, the payload never copied).
//! - Typed payloads: [`Size`] (Resize, Init), [`Info`], [`HistoryRequest`], [`Labels`],
//!   [`WriteRequest`], and the small parsers [`parse_ack`], [`parse_rename`],
//!   [`parse_task_complete`].
//! - Names and places: [`SessionName`] and [`SocketDir`] (where sockets live, how long a
//!   name may be, the sibling log directory).
//! - A blocking client: [`probe`], [`list`], [`kill`], [`detach_all`], [`rename`],
//!   [`history`], and [`Connection`] for anything else.
//!
//! # Example: list sessions and kill one
//!
//! ```no_run
//! use tsm_proto::{SessionStatus, SocketDir};
//!
//! let dir = SocketDir::from_env();
//! for session in tsm_proto::list(&dir)? {
//!     match &session.status {
//!         SessionStatus::Live(info) => println!("{} pid {} in {}", session.name, info.pid, info.cwd),
//!         SessionStatus::Stale => println!("{} is stale", session.name),
//!         SessionStatus::Busy => println!("{} is busy", session.name),
//!     }
//! }
//! let name = dir.session_name("scratch")?;
//! tsm_proto::kill(&dir.socket_path(&name)?)?; // returns once the daemon is gone
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What this crate does not do
//!
//! It runs no daemon, spawns no process, needs no async runtime and never deletes a
//! socket: a caller decides what to do with a stale one. Decisions the spec leaves open,
//! made here: label keys and values use `[A-Za-z0-9._-]` (zmx's rule) with keys of at most
//! 64 bytes and values of at most 256; [`RESERVED_LABEL_KEYS`] names the built-in fields;
//! a History request with an unknown format byte is an error; [`Size`] encodes 4 bytes
//! unless pixel sizes are known.

#![deny(missing_docs)]

mod client;
mod error;
mod frame;
mod info;
mod msg;
mod name;
mod socket_dir;
mod tag;

pub use client::{
    Connection, KILL_TIMEOUT, PROBE_TIMEOUT, REQUEST_TIMEOUT, SessionEntry, SessionStatus,
    detach_all, history, kill, list, probe, rename, status,
};
pub use error::{
    ClientError, DecodeError, InfoError, LabelError, NameError, PayloadError, SocketDirError,
};
pub use frame::{
    Frame, FrameDecoder, FrameHeader, HEADER_LEN, MAX_PAYLOAD_LEN, OwnedFrame, encode_into,
    write_frame, write_frame_parts,
};
pub use info::{INFO_LEN, INFO_TEXT_LEN, Info};
pub use msg::{
    HistoryFormat, HistoryRequest, LabelChange, Labels, MAX_LABEL_KEY_LEN, MAX_LABEL_VALUE_LEN,
    RESERVED_LABEL_KEYS, Size, WriteRequest, parse_ack, parse_rename, parse_task_complete,
};
pub use name::SessionName;
pub use socket_dir::SocketDir;
pub use tag::Tag;
