//! Forwarding an agent's event to its session's daemon (spec/agents.md §6.3): what
//! `tsm hook` and `tsm statusline` share.
//!
//! The session is `$TSM_SESSION` (checked against the session-name rules before it
//! becomes a path), its socket `$TSM_DIR/<name>` (or the usual socket directory). When
//! that socket is gone (the session was renamed after the agent started), every socket
//! of the directory is asked for its Info, and the session whose child is one of our
//! ancestors gets the event. The event is one AgentEvent frame (tag 33); its reply may
//! carry text to print (a hook decision, §7.3). Nothing here reports an error: an agent
//! must never see its hook fail because of tsm.

use std::io::{self, IsTerminal, Read, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tsm_agents::events::MAX_EVENT_PAYLOAD_LEN;
use tsm_agents::{EventSource, HookEnvelope, encode_envelope};
use tsm_proto::{ClientError, Connection, Info, SessionName, SocketDir, Tag};

/// Parent pids collected for attribution (§6.3).
const ANCESTRY_DEPTH: usize = 8;

/// How long one socket may take to answer Info while looking for a renamed session.
const SCAN_PROBE_TIMEOUT: Duration = Duration::from_millis(200);

/// How long the whole search for a renamed session may take.
const SCAN_BUDGET: Duration = Duration::from_secs(1);

/// Set once something was printed, so the watchdog prints nothing more.
static PRINTED: Mutex<bool> = Mutex::new(false);

/// Milliseconds since the Unix epoch, now.
pub(crate) fn unix_ms_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// `$TSM_SESSION`, if set and a valid session name.
pub(crate) fn session_from_env() -> Option<SessionName> {
    let name = std::env::var("TSM_SESSION").ok()?;
    SessionName::new(&name).ok()
}

/// Reads stdin up to [`MAX_EVENT_PAYLOAD_LEN`] bytes: `None` when there is more (or it
/// cannot be read). A terminal is not read at all (someone ran the command by hand).
pub(crate) fn read_stdin() -> Option<Vec<u8>> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        return Some(Vec::new());
    }
    read_bounded(stdin.lock(), MAX_EVENT_PAYLOAD_LEN)
}

/// Reads at most `limit` + 1 bytes; `None` when there were more than `limit`.
fn read_bounded(reader: impl Read, limit: usize) -> Option<Vec<u8>> {
    let mut bytes = Vec::new();
    reader.take(limit as u64 + 1).read_to_end(&mut bytes).ok()?;
    (bytes.len() <= limit).then_some(bytes)
}

/// Our parent, its parent, …: at most [`ANCESTRY_DEPTH`] pids, from `/proc/<pid>/stat`,
/// stopping before pid 1.
pub(crate) fn ancestry() -> Vec<u32> {
    let mut pids = Vec::new();
    let mut pid = rustix::process::Pid::as_raw(rustix::process::getppid()) as u32;
    while pid > 1 && pids.len() < ANCESTRY_DEPTH {
        pids.push(pid);
        pid = parent_of(pid).unwrap_or(0);
    }
    pids
}

/// The parent pid of `pid`: the field after the state, which follows the command name
/// in parentheses (which may itself hold anything, parentheses included).
fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Sends the event to session `name` and returns the `print` text of the reply, if any.
/// Waits at most `reply_wait` for the reply (zero: none), and gives up at `deadline`.
pub(crate) fn forward(
    name: &SessionName,
    source: EventSource,
    env: &HookEnvelope,
    reply_wait: Duration,
    deadline: Instant,
) -> Option<String> {
    let dir = SocketDir::from_env();
    let mut conn = match dir.socket_path(name).map(|path| Connection::connect(&path)) {
        Ok(Ok(conn)) => conn,
        // Gone: the session may have been renamed since the agent started.
        Ok(Err(ClientError::NotFound | ClientError::Refused)) => {
            find_by_ancestry(&dir, name, &env.ancestry, deadline)?
        }
        _ => return None,
    };
    let remaining = deadline.checked_duration_since(Instant::now())?;
    conn.send(Tag::AgentEvent, &encode_envelope(source, env), remaining).ok()?;
    if reply_wait.is_zero() {
        return None;
    }
    let reply = conn.recv(deadline.min(Instant::now() + reply_wait)).ok()?;
    if reply.tag != Tag::AgentEvent {
        return None;
    }
    print_of(&reply.payload)
}

/// The `print` string of an AgentEvent reply (`{"ok": true, "print": "…"}`).
fn print_of(reply: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(reply).ok()?;
    value.get("print")?.as_str().map(str::to_owned)
}

/// The session whose child process is one of `ancestry`, asking each socket but `skip`
/// for its Info.
fn find_by_ancestry(
    dir: &SocketDir,
    skip: &SessionName,
    ancestry: &[u32],
    deadline: Instant,
) -> Option<Connection> {
    let deadline = deadline.min(Instant::now() + SCAN_BUDGET);
    for name in dir.session_names().ok()? {
        let remaining = deadline.checked_duration_since(Instant::now())?;
        if name == skip.as_str() {
            continue;
        }
        if let Some(conn) = probe_child(&dir.path().join(&name), ancestry, remaining) {
            return Some(conn);
        }
    }
    None
}

/// A connection to the daemon at `path` if its child is one of `ancestry`.
fn probe_child(path: &Path, ancestry: &[u32], remaining: Duration) -> Option<Connection> {
    let mut conn = Connection::connect(path).ok()?;
    let payload =
        conn.request(Tag::Info, &[], Tag::Info, SCAN_PROBE_TIMEOUT.min(remaining)).ok()?;
    let child = u32::try_from(Info::parse(&payload).ok()?.pid).ok()?;
    ancestry.contains(&child).then_some(conn)
}

/// Prints `text` (with a final newline) unless something was printed already; `None`
/// prints nothing but still stops a later call (the watchdog's) from printing.
pub(crate) fn print_once(text: Option<&str>) {
    let mut printed = PRINTED.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if *printed {
        return;
    }
    *printed = true;
    let Some(text) = text else { return };
    let mut out = io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = out.write_all(b"\n");
    }
    let _ = out.flush();
}

/// Makes sure the process ends at `exit_at` whatever it is waiting for, printing
/// `fallback` first if nothing was printed yet.
pub(crate) fn start_watchdog(exit_at: Instant, fallback: Option<&'static str>) {
    std::thread::spawn(move || {
        std::thread::sleep(exit_at.saturating_duration_since(Instant::now()));
        print_once(fallback);
        std::process::exit(0);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_up_to_the_limit_and_refuses_more() {
        assert_eq!(read_bounded(&b"abc"[..], 3), Some(b"abc".to_vec()));
        assert_eq!(read_bounded(&b"abcd"[..], 3), None);
        assert_eq!(read_bounded(&b""[..], 3), Some(Vec::new()));
    }

    #[test]
    fn the_reply_print_is_a_string_or_nothing() {
        assert_eq!(print_of(br#"{"ok":true,"print":"{\"a\":1}"}"#).as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(print_of(br#"{"ok":true,"print":null}"#), None);
        assert_eq!(print_of(br#"{"ok":false,"error":"bad"}"#), None);
        assert_eq!(print_of(b"garbage"), None);
    }

    #[test]
    fn our_ancestry_starts_with_our_parent() {
        let parent = rustix::process::Pid::as_raw(rustix::process::getppid()) as u32;
        let ancestry = ancestry();
        assert!(ancestry.len() <= ANCESTRY_DEPTH);
        if parent > 1 {
            assert_eq!(ancestry.first(), Some(&parent));
            assert_eq!(parent_of(std::process::id()), Some(parent));
        }
    }
}
