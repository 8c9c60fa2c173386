//! The Info struct: exactly 552 bytes, little-endian, C layout (spec/wire.md, "Info").
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 8 | clients (u64): attached clients |
//! | 8 | 4 | pid (i32): the session's child, not the daemon |
//! | 12 | 2 | cmd_len (u16), at most 256 |
//! | 14 | 2 | cwd_len (u16), at most 256 |
//! | 16 | 256 | cmd, zero-filled |
//! | 272 | 256 | cwd, zero-filled |
//! | 528 | 8 | created_at (u64), unix seconds |
//! | 536 | 8 | task_ended_at (u64), unix seconds, 0 while running |
//! | 544 | 1 | task_exit_code (u8) |
//! | 545 | 7 | padding, always zero |
//!
//! Never add a field: new facts get new tags, because listing depends on the size.

use crate::error::InfoError;

/// The length of an Info payload in bytes.
pub const INFO_LEN: usize = 552;
/// Capacity of the cmd and cwd text fields in bytes.
pub const INFO_TEXT_LEN: usize = 256;

/// Offset of `clients`, u64 LE.
const CLIENTS_AT: usize = 0;
/// Offset of `pid`, i32 LE.
const PID_AT: usize = 8;
/// Offset of `cmd_len`, u16 LE.
const CMD_LEN_AT: usize = 12;
/// Offset of `cwd_len`, u16 LE.
const CWD_LEN_AT: usize = 14;
/// Offset of `cmd`, 256 bytes.
const CMD_AT: usize = 16;
/// Offset of `cwd`, 256 bytes.
const CWD_AT: usize = CMD_AT + INFO_TEXT_LEN;
/// Offset of `created_at`, u64 LE.
const CREATED_AT_AT: usize = CWD_AT + INFO_TEXT_LEN;
/// Offset of `task_ended_at`, u64 LE.
const TASK_ENDED_AT_AT: usize = CREATED_AT_AT + 8;
/// Offset of `task_exit_code`, u8.
const TASK_EXIT_CODE_AT: usize = TASK_ENDED_AT_AT + 8;
/// Offset of the zero padding.
const PADDING_AT: usize = TASK_EXIT_CODE_AT + 1;
/// Length of the zero padding.
const PADDING_LEN: usize = 7;

const _: () = assert!(CWD_AT == 272 && CREATED_AT_AT == 528 && TASK_ENDED_AT_AT == 536);
const _: () = assert!(TASK_EXIT_CODE_AT == 544 && PADDING_AT + PADDING_LEN == INFO_LEN);

/// What a session's daemon says about itself in reply to an Info request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Info {
    /// Attached clients: connections that sent Init and are still open.
    pub clients: u64,
    /// Pid of the session's child process (not the daemon).
    pub pid: i32,
    /// The child's argv joined by spaces.
    pub cmd: String,
    /// The child's current directory.
    pub cwd: String,
    /// When the session was created, unix seconds.
    pub created_at: u64,
    /// When the child or the last `run` task ended, unix seconds; 0 while none has.
    pub task_ended_at: u64,
    /// Exit code of what ended (128 + signal for a signal).
    pub task_exit_code: u8,
}

impl Info {
    /// Parses an Info payload. Longer payloads are accepted (the rest is ignored) and text
    /// lengths are clamped to 256; text that is not UTF-8 (a peer may cut a character in
    /// two) is converted lossily.
    ///
    /// # Errors
    ///
    /// [`InfoError::TooShort`] for a payload under 552 bytes.
    pub fn parse(payload: &[u8]) -> Result<Info, InfoError> {
        if payload.len() < INFO_LEN {
            return Err(InfoError::TooShort { len: payload.len(), expected: INFO_LEN });
        }
        let cmd_len = usize::from(read_u16(payload, CMD_LEN_AT)).min(INFO_TEXT_LEN);
        let cwd_len = usize::from(read_u16(payload, CWD_LEN_AT)).min(INFO_TEXT_LEN);
        Ok(Info {
            clients: read_u64(payload, CLIENTS_AT),
            pid: i32::from_le_bytes(payload[PID_AT..PID_AT + 4].try_into().expect("4 bytes")),
            cmd: String::from_utf8_lossy(&payload[CMD_AT..CMD_AT + cmd_len]).into_owned(),
            cwd: String::from_utf8_lossy(&payload[CWD_AT..CWD_AT + cwd_len]).into_owned(),
            created_at: read_u64(payload, CREATED_AT_AT),
            task_ended_at: read_u64(payload, TASK_ENDED_AT_AT),
            task_exit_code: payload[TASK_EXIT_CODE_AT],
        })
    }

    /// The 552 wire bytes: zero-filled, with cmd and cwd cut at 256 bytes on a UTF-8
    /// character boundary.
    pub fn encode(&self) -> [u8; INFO_LEN] {
        let mut out = [0u8; INFO_LEN];
        out[CLIENTS_AT..CLIENTS_AT + 8].copy_from_slice(&self.clients.to_le_bytes());
        out[PID_AT..PID_AT + 4].copy_from_slice(&self.pid.to_le_bytes());
        let cmd = cut_on_char_boundary(&self.cmd, INFO_TEXT_LEN);
        let cwd = cut_on_char_boundary(&self.cwd, INFO_TEXT_LEN);
        // Both lengths are <= 256, so they fit in u16.
        out[CMD_LEN_AT..CMD_LEN_AT + 2].copy_from_slice(&(cmd.len() as u16).to_le_bytes());
        out[CWD_LEN_AT..CWD_LEN_AT + 2].copy_from_slice(&(cwd.len() as u16).to_le_bytes());
        out[CMD_AT..CMD_AT + cmd.len()].copy_from_slice(cmd.as_bytes());
        out[CWD_AT..CWD_AT + cwd.len()].copy_from_slice(cwd.as_bytes());
        out[CREATED_AT_AT..CREATED_AT_AT + 8].copy_from_slice(&self.created_at.to_le_bytes());
        out[TASK_ENDED_AT_AT..TASK_ENDED_AT_AT + 8]
            .copy_from_slice(&self.task_ended_at.to_le_bytes());
        out[TASK_EXIT_CODE_AT] = self.task_exit_code;
        out
    }
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
pub(crate) fn cut_on_char_boundary(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn read_u16(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(bytes[at..at + 2].try_into().expect("2 bytes"))
}

fn read_u64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_sit_at_the_wire_offsets() {
        let info = Info {
            clients: 3,
            pid: 12345,
            cmd: "bash".into(),
            cwd: "/home".into(),
            created_at: 1000,
            task_ended_at: 2000,
            task_exit_code: 42,
        };
        let bytes = info.encode();
        assert_eq!(&bytes[0..8], &3u64.to_le_bytes());
        assert_eq!(&bytes[8..12], &12345i32.to_le_bytes());
        assert_eq!(&bytes[12..14], &[4, 0]);
        assert_eq!(&bytes[14..16], &[5, 0]);
        assert_eq!(&bytes[16..20], b"bash");
        assert!(bytes[20..272].iter().all(|&b| b == 0));
        assert_eq!(&bytes[272..277], b"/home");
        assert!(bytes[277..528].iter().all(|&b| b == 0));
        assert_eq!(&bytes[528..536], &1000u64.to_le_bytes());
        assert_eq!(&bytes[536..544], &2000u64.to_le_bytes());
        assert_eq!(bytes[544], 42);
        assert_eq!(&bytes[545..552], &[0; 7]);
        assert_eq!(Info::parse(&bytes), Ok(info));
    }

    #[test]
    fn parse_clamps_lengths_and_accepts_longer_payloads() {
        let mut bytes = Info { cmd: "x".repeat(300), ..Info::default() }.encode().to_vec();
        bytes[CMD_LEN_AT..CMD_LEN_AT + 2].copy_from_slice(&300u16.to_le_bytes());
        bytes.extend_from_slice(b"future fields");
        let info = Info::parse(&bytes).unwrap();
        assert_eq!(info.cmd.len(), 256);
    }

    #[test]
    fn parse_refuses_short_payloads() {
        assert_eq!(Info::parse(&[0; 551]), Err(InfoError::TooShort { len: 551, expected: 552 }));
    }

    #[test]
    fn encode_cuts_text_on_a_char_boundary() {
        // 255 ASCII bytes then a 3-byte character: the character does not fit.
        let cwd = format!("{}€", "a".repeat(255));
        let info = Info { cwd, ..Info::default() };
        let parsed = Info::parse(&info.encode()).unwrap();
        assert_eq!(parsed.cwd, "a".repeat(255));
    }
}
