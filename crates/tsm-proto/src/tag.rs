//! Frame tags (spec/wire.md, "Tags").
//!
//! Tags 0 to 11 are the Go tsm's, 12 to 18 follow zmx's numbering, 32 and up are ours
//! (32 to 36 as spec/wire.md lists them; 37 to 42 are defined in the crate docs).
//! An unknown tag is kept as its byte ([`Tag::Unknown`]) so a frame with it can be read,
//! skipped and even re-encoded unchanged: old daemons must survive new clients.

use std::fmt;

/// The first byte of every frame: what the payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    /// 0: bytes for the PTY (client to daemon); takes the size-leader role.
    Input,
    /// 1: PTY output and the restore snapshot (daemon to client).
    Output,
    /// 2: the client's terminal size, [`Size`](crate::Size).
    Resize,
    /// 3: detach this connection.
    Detach,
    /// 4: detach every client of the session.
    DetachAll,
    /// 5: end the session.
    Kill,
    /// 6: request (payload ignored) and reply (the 552-byte [`Info`](crate::Info)).
    Info,
    /// 7: attach: same payload as Resize; makes the connection an attached client.
    Init,
    /// 8: request a formatted history ([`HistoryRequest`](crate::HistoryRequest)) and its reply.
    History,
    /// 9: run a command in the session's shell; replied with Ack, later TaskComplete.
    Run,
    /// 10: reply to Run, Rename and our requests: empty = success, else the error text.
    Ack,
    /// 11: rename the session; the payload is the new name; replied with Ack.
    Rename,
    /// 12: write a file through the session's shell ([`WriteRequest`](crate::WriteRequest)).
    Write,
    /// 13: a `run` task ended; 1 byte, its exit code.
    TaskComplete,
    /// 14: ask for the session's labels; replied with LabelData.
    LabelGet,
    /// 15: set labels `k=v k=v` (an empty value deletes); replied with Ack.
    LabelSet,
    /// 16: delete every label; replied with Ack.
    LabelClear,
    /// 17: the session's labels `k=v k=v`, sorted by key.
    LabelData,
    /// 18: bytes for the PTY that do not take the size-leader role.
    Send,
    /// 32: ask for the agent report (JSON, or `null`).
    AgentGet,
    /// 33: a hook, statusline or notify payload in a JSON envelope, and its JSON reply.
    AgentEvent,
    /// 34: subscribe to agent reports: one at once, then one per change.
    AgentWatch,
    /// 35: a user has seen the agent's result; replied with Ack.
    AgentAck,
    /// 36: auto-approval `on` or `off` for this session; replied with Ack.
    AgentYolo,
    /// 37, ours: daemon to attached clients: the session's program exited; payload 1 byte,
    /// its exit code (128 + signal for a signal). The daemon closes the connection after it.
    SessionExit,
    /// 38, ours: request (empty) and reply: the session's status as a JSON object (state,
    /// exit code, daemon pid, size, labels, memory), for `tsm ls` and `tsm info`.
    Status,
    /// 39, ours: request (empty): from now on send this connection the session's live
    /// output as Output frames, read-only, without attaching (no Init, no resize, not
    /// counted in Info's clients); SessionExit and a close when the program exits.
    Follow,
    /// 40, ours: daemon to the client that sent Run: the task's command started (the
    /// shell printed the begin marker); payload the task id. Output frames with the task's
    /// output follow, then TaskComplete.
    TaskStarted,
    /// 41, ours: like Run, but the command reads its stdin from the terminal (which the
    /// client then feeds with Send), not from /dev/null: how `tsm write` ships a file.
    RunStdin,
    /// 42, ours: request (empty, no reply): SIGINT to the terminal's foreground process
    /// group unless that is the session's shell (Ctrl-C in `tsm run`).
    Interrupt,
    /// Any other byte: read, ignored by the daemon, kept here unchanged.
    Unknown(u8),
}

impl Tag {
    /// The tag of a wire byte. Never fails: unknown bytes become [`Tag::Unknown`].
    pub const fn from_u8(byte: u8) -> Tag {
        match byte {
            0 => Tag::Input,
            1 => Tag::Output,
            2 => Tag::Resize,
            3 => Tag::Detach,
            4 => Tag::DetachAll,
            5 => Tag::Kill,
            6 => Tag::Info,
            7 => Tag::Init,
            8 => Tag::History,
            9 => Tag::Run,
            10 => Tag::Ack,
            11 => Tag::Rename,
            12 => Tag::Write,
            13 => Tag::TaskComplete,
            14 => Tag::LabelGet,
            15 => Tag::LabelSet,
            16 => Tag::LabelClear,
            17 => Tag::LabelData,
            18 => Tag::Send,
            32 => Tag::AgentGet,
            33 => Tag::AgentEvent,
            34 => Tag::AgentWatch,
            35 => Tag::AgentAck,
            36 => Tag::AgentYolo,
            37 => Tag::SessionExit,
            38 => Tag::Status,
            39 => Tag::Follow,
            40 => Tag::TaskStarted,
            41 => Tag::RunStdin,
            42 => Tag::Interrupt,
            other => Tag::Unknown(other),
        }
    }

    /// The wire byte of this tag.
    pub const fn as_u8(self) -> u8 {
        match self {
            Tag::Input => 0,
            Tag::Output => 1,
            Tag::Resize => 2,
            Tag::Detach => 3,
            Tag::DetachAll => 4,
            Tag::Kill => 5,
            Tag::Info => 6,
            Tag::Init => 7,
            Tag::History => 8,
            Tag::Run => 9,
            Tag::Ack => 10,
            Tag::Rename => 11,
            Tag::Write => 12,
            Tag::TaskComplete => 13,
            Tag::LabelGet => 14,
            Tag::LabelSet => 15,
            Tag::LabelClear => 16,
            Tag::LabelData => 17,
            Tag::Send => 18,
            Tag::AgentGet => 32,
            Tag::AgentEvent => 33,
            Tag::AgentWatch => 34,
            Tag::AgentAck => 35,
            Tag::AgentYolo => 36,
            Tag::SessionExit => 37,
            Tag::Status => 38,
            Tag::Follow => 39,
            Tag::TaskStarted => 40,
            Tag::RunStdin => 41,
            Tag::Interrupt => 42,
            Tag::Unknown(byte) => byte,
        }
    }
}

impl From<u8> for Tag {
    fn from(byte: u8) -> Tag {
        Tag::from_u8(byte)
    }
}

impl From<Tag> for u8 {
    fn from(tag: Tag) -> u8 {
        tag.as_u8()
    }
}

impl fmt::Display for Tag {
    /// The Go tsm's names (`Input`, `Rename`, ...); an unknown byte prints as `Tag(N)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tag::Unknown(byte) => write!(f, "Tag({byte})"),
            known => fmt::Debug::fmt(known, f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Tag;

    #[test]
    fn every_byte_round_trips() {
        for byte in 0..=u8::MAX {
            assert_eq!(Tag::from_u8(byte).as_u8(), byte);
        }
    }

    #[test]
    fn numbers_match_the_wire_table() {
        assert_eq!(Tag::Run.as_u8(), 9);
        assert_eq!(Tag::Ack.as_u8(), 10);
        assert_eq!(Tag::Rename.as_u8(), 11);
        assert_eq!(Tag::Send.as_u8(), 18);
        assert_eq!(Tag::AgentYolo.as_u8(), 36);
        assert_eq!(Tag::from_u8(19), Tag::Unknown(19));
        assert_eq!(Tag::from_u8(31), Tag::Unknown(31));
    }

    #[test]
    fn display_uses_go_names() {
        assert_eq!(Tag::DetachAll.to_string(), "DetachAll");
        assert_eq!(Tag::Unknown(99).to_string(), "Tag(99)");
    }
}
