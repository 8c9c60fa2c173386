//! `run` tasks (spec/wire.md, "Run"): the daemon types a command into the session's shell
//! between two markers, finds the markers in the shell's output, streams what lies between
//! them to the client that asked, and records the exit code.
//!
//! What is typed: two lines. The first prints a begin marker, runs the command and prints
//! a middle marker with its code, which ends the task's output. When the command dies of
//! SIGINT an interactive shell abandons the rest of that line; it then reads the second
//! line, whose end marker reports `$?` = 130, and the task's output ends where the echo of
//! that second line starts. Otherwise the end marker is read and ignored.
//!
//! ```text
//!  printf 'TSM_TASK_BEGIN:%s\n' ID; { COMMAND
//! } </dev/null; printf 'TSM_TASK_MID:%s:%d\n' ID "$?"
//!  printf 'TSM_TASK_END:%s:%d\n' ID "$?"
//! ```
//!
//! - The markers carry the id as a printf argument, so the echo of the typed lines never
//!   contains `TSM_TASK_BEGIN:ID` or `TSM_TASK_END:ID:` (the echo shows `%s`); only the
//!   shell's output does. The id is 16 random hex digits, so output that merely looks like
//!   a marker never matches.
//! - `COMMAND` sits on its own line(s) inside `{ ... }`, so a trailing comment or a heredoc
//!   (whose body and terminator follow the first line) cannot swallow the end marker; its
//!   stdin is /dev/null, so it cannot read the second line as input.
//! - Ctrl-C in `tsm run` is sent as SIGINT to the terminal's foreground process group
//!   (tag 42, Interrupt), not typed as `^C`: the terminal would flush its input queue on a
//!   typed interrupt, the second line with it.
//! - For RunStdin (`tsm write`), whose command reads the terminal, there is no second line
//!   (the command would read it as input); such a task must not be interrupted.
//! - The lines start with a space, so shells with `HISTCONTROL=ignorespace` keep them out
//!   of their history.
//! - Tasks run one at a time, in order; a Run while one runs is queued.
//!
//! The markers are found in the raw output bytes, across reads (a carry of the last bytes
//! is kept), never in the screen model.

use std::collections::VecDeque;
use std::hash::BuildHasher;

use tsm_proto::Tag;
use tsm_scrollback::{Offset, Writer};

use crate::client::ClientId;
use crate::session::{Session, unix_now};

/// The marker printed when the command starts.
const BEGIN: &[u8] = b"TSM_TASK_BEGIN:";
/// The marker printed right after the command, followed by `:<code>`.
const MID: &[u8] = b"TSM_TASK_MID:";
/// The marker of the second typed line, followed by `:<code>`.
const END: &[u8] = b"TSM_TASK_END:";
/// The echo of the second typed line, which precedes its output.
const END_ECHO: &[u8] = b" printf 'TSM_TASK_END:%s:%d";
/// A `run` client this far behind pauses PTY reads until it catches up (a task's output
/// must arrive whole, like a pipe's), for at most [`MAX_TASK_PAUSE`].
pub(crate) const TASK_PAUSE_BYTES: u64 = 256 * 1024;
/// The longest a lagging `run` client may pause the PTY; after that it loses output (a
/// stopped client never stalls the session for long).
pub(crate) const MAX_TASK_PAUSE: std::time::Duration = std::time::Duration::from_secs(5);

/// How far back from an end marker the echo of its line is looked for, in bytes.
const ECHO_SEARCH_BYTES: u64 = 8 * 1024;
/// How many bytes of earlier output the scanner keeps to find markers split across reads.
const CARRY_BYTES: usize = 64;

/// A task waiting or running.
#[derive(Debug)]
pub(crate) struct Task {
    /// 16 hex digits.
    pub(crate) id: String,
    /// The connection that asked, if it still waits for the result.
    pub(crate) requester: Option<ClientId>,
    /// The shell text to run.
    command: Vec<u8>,
    /// Whether stdin comes from the terminal (`tsm write`) instead of /dev/null.
    pub(crate) stdin_from_terminal: bool,
    /// Where it is.
    state: TaskState,
}

/// Where a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskState {
    /// Waiting for the tasks before it.
    Queued,
    /// Typed; its begin marker has not shown yet.
    Typed,
    /// The begin marker showed; its output starts here.
    Running,
}

/// The session's tasks and the marker scanner.
#[derive(Debug, Default)]
pub(crate) struct Tasks {
    /// The running task first, then the queued ones.
    queue: VecDeque<Task>,
    /// Ring offset up to which output has been scanned.
    scanned: Option<Offset>,
    /// The last bytes scanned (at most [`CARRY_BYTES`]), ending at `scanned`.
    carry: Vec<u8>,
    /// Source of task ids.
    ids: std::collections::hash_map::RandomState,
    /// Tasks created, for ids.
    created: u64,
}

/// What the scanner found in new output.
enum Found {
    /// A begin marker; the task's output starts at this offset.
    Begin(Offset),
    /// An end marker: the task's output ends at `output_end`, with exit code `code`;
    /// scanning resumes at `resume`.
    End { output_end: Offset, resume: Offset, code: u8 },
}

impl Tasks {
    /// Whether a task is queued or running.
    pub(crate) fn busy(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Tasks queued or running.
    pub(crate) fn len(&self) -> usize {
        self.queue.len()
    }

    /// Queues a task; returns its id.
    pub(crate) fn push(
        &mut self,
        command: Vec<u8>,
        requester: ClientId,
        stdin_from_terminal: bool,
    ) -> String {
        self.created += 1;
        let id = format!("{:016x}", self.ids.hash_one((self.created, std::process::id())));
        self.queue.push_back(Task {
            id: id.clone(),
            requester: Some(requester),
            command,
            stdin_from_terminal,
            state: TaskState::Queued,
        });
        id
    }

    /// Forgets `client` as a requester (it went away; its tasks still run).
    pub(crate) fn forget_requester(&mut self, client: ClientId) {
        for task in &mut self.queue {
            if task.requester == Some(client) {
                task.requester = None;
            }
        }
    }
}

/// The text typed for `task`.
fn typed_text(task: &Task) -> Vec<u8> {
    let id = &task.id;
    let mut text = format!(" printf 'TSM_TASK_BEGIN:%s\\n' {id}; {{ ").into_bytes();
    text.extend_from_slice(&task.command);
    let (stdin, second_line) = if task.stdin_from_terminal {
        // The command reads the terminal: a second line would be its input.
        ("", String::new())
    } else {
        (" </dev/null", format!(" printf 'TSM_TASK_END:%s:%d\\n' {id} \"$?\"\r"))
    };
    text.extend_from_slice(
        format!("\n}}{stdin}; printf 'TSM_TASK_MID:%s:%d\\n' {id} \"$?\"\r{second_line}")
            .as_bytes(),
    );
    text
}

/// Types the first queued task if nothing runs.
pub(crate) fn start_next(session: &mut Session) {
    let Some(task) = session.tasks.queue.front_mut() else { return };
    if task.state != TaskState::Queued {
        return;
    }
    task.state = TaskState::Typed;
    let text = typed_text(task);
    if session.tasks.scanned.is_none() {
        session.tasks.scanned = Some(session.ring.head());
    }
    session.queue_input(&text);
}

/// Whether PTY reads wait for a lagging `run` client; returns the time the pause ends at.
pub(crate) fn pause_deadline(session: &mut Session) -> Option<std::time::Instant> {
    let head = session.ring.head();
    let lagging =
        session.clients.values().any(|c| c.runs_task() && c.backlog(head) > TASK_PAUSE_BYTES);
    if !lagging {
        session.paused_since = None;
        return None;
    }
    let since = *session.paused_since.get_or_insert_with(std::time::Instant::now);
    let until = since + MAX_TASK_PAUSE;
    (std::time::Instant::now() < until).then_some(until)
}

/// After new output: looks for the running task's markers in what arrived since the last
/// scan, and acts on them.
pub(crate) fn on_output(session: &mut Session) {
    while session.tasks.busy() {
        let Some(found) = scan(&mut session.tasks, &session.ring) else { return };
        match found {
            Found::Begin(from) => on_begin(session, from),
            Found::End { output_end, code, .. } => on_end(session, output_end, code),
        }
    }
    session.tasks.scanned = None;
    session.tasks.carry.clear();
}

/// Scans new ring bytes for the next marker of the first task.
fn scan(tasks: &mut Tasks, ring: &Writer) -> Option<Found> {
    let task = tasks.queue.front()?;
    let head = ring.head();
    let scanned = tasks.scanned.unwrap_or(head).max(ring.tail());
    if scanned >= head {
        return None;
    }
    let (first, second) = ring.slices(scanned, head).ok()?;
    let carry_len = tasks.carry.len() as u64;
    let mut window = std::mem::take(&mut tasks.carry);
    window.extend_from_slice(first);
    window.extend_from_slice(second);
    let base = scanned.get() - carry_len; // ring offset of window[0]
    let found = match task.state {
        TaskState::Typed => find_line(&window, BEGIN, task.id.as_bytes())
            .map(|(_, line_end)| Found::Begin(Offset(base + line_end as u64))),
        TaskState::Running => {
            let mid = find_code_line(&window, MID, task.id.as_bytes());
            let end = find_code_line(&window, END, task.id.as_bytes());
            let at = |start: usize| Offset(base + start as u64);
            match (mid, end) {
                (Some((start, code)), end) if end.is_none_or(|(e, _)| start < e) => {
                    Some(Found::End { output_end: at(start), resume: at(start + 1), code })
                }
                (_, Some((start, code))) => Some(Found::End {
                    output_end: echo_line_start(ring, at(start)),
                    resume: at(start + 1),
                    code,
                }),
                _ => None,
            }
        }
        TaskState::Queued => None,
    };
    match &found {
        // What follows the marker is scanned again on the next call.
        Some(Found::Begin(resume) | Found::End { resume, .. }) => tasks.scanned = Some(*resume),
        None => {
            tasks.carry = window[window.len().saturating_sub(CARRY_BYTES)..].to_vec();
            tasks.scanned = Some(head);
        }
    }
    found
}

/// Finds `marker` + `id` followed by a line end; returns (start, index after the line end).
fn find_line(window: &[u8], marker: &[u8], id: &[u8]) -> Option<(usize, usize)> {
    let mut needle = marker.to_vec();
    needle.extend_from_slice(id);
    let start = find(window, &needle)?;
    let rest = &window[start + needle.len()..];
    let newline = rest.iter().position(|&b| b == b'\n')?;
    if !rest[..newline].iter().all(|&b| b == b'\r') {
        return None;
    }
    Some((start, start + needle.len() + newline + 1))
}

/// Where the line holding the echo of the second typed line starts, looking back from its
/// end marker at `marker` (the task's output ends there); `marker` if the echo is not
/// found.
fn echo_line_start(ring: &Writer, marker: Offset) -> Offset {
    let from = Offset(marker.get().saturating_sub(ECHO_SEARCH_BYTES)).max(ring.tail());
    let Ok((first, second)) = ring.slices(from, marker) else { return marker };
    let before = [first, second].concat();
    let Some(echo) = before.windows(END_ECHO.len()).rposition(|w| w == END_ECHO) else {
        return marker;
    };
    let line_start = before[..echo].iter().rposition(|&b| b == b'\n').map_or(0, |nl| nl + 1);
    Offset(from.get() + line_start as u64)
}

/// Finds `<marker><id>:<digits>` followed by a line end; returns (start, code).
fn find_code_line(window: &[u8], marker: &[u8], id: &[u8]) -> Option<(usize, u8)> {
    let mut needle = marker.to_vec();
    needle.extend_from_slice(id);
    needle.push(b':');
    let mut from = 0;
    while let Some(pos) = find(&window[from..], &needle) {
        let start = from + pos;
        let rest = &window[start + needle.len()..];
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let after = &rest[digits..];
        let line_end = after.iter().position(|&b| b == b'\n');
        if digits > 0 && line_end.is_some_and(|n| after[..n].iter().all(|&b| b == b'\r')) {
            let code: u32 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
            return Some((start, code.min(255) as u8));
        }
        line_end?; // no line end yet: maybe complete in the next read
        from = start + 1;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The program (the shell) exited: tasks that will never end are dropped, and the clients
/// waiting for them learn it (after the output they were sent), instead of waiting forever.
pub(crate) fn on_program_exit(session: &mut Session, code: u8) {
    let head = session.ring.head();
    for task in session.tasks.queue.drain(..) {
        let Some(client) = task.requester.and_then(|id| session.clients.get_mut(&id)) else {
            continue;
        };
        if !client.follows_output() {
            client.defer_frame(head, Tag::SessionExit, &[code], false);
            client.close = crate::client::Close::AfterFlush;
            client.wake.notify_one();
        }
    }
}

/// The begin marker showed: the requester streams the task's output from `from` on.
fn on_begin(session: &mut Session, from: Offset) {
    let Some(task) = session.tasks.queue.front_mut() else { return };
    task.state = TaskState::Running;
    if let Some(client) = task.requester.and_then(|id| session.clients.get_mut(&id)) {
        client.queue_frame(Tag::TaskStarted, task.id.as_bytes());
        client.following = true;
        client.task_open = true;
        client.sent = from;
        client.window_end = None;
        client.wake.notify_one();
    }
}

/// The end marker showed: the requester gets the output up to `at`, then TaskComplete;
/// the code is recorded; the next task is typed.
fn on_end(session: &mut Session, at: Offset, code: u8) {
    let Some(task) = session.tasks.queue.pop_front() else { return };
    tracing::info!(id = %task.id, code, "task ended");
    session.last_task = Some((code, unix_now()));
    if session.uncollected_exit_code.is_none_or(|first| first == 0) {
        session.uncollected_exit_code = Some(code);
    }
    if let Some(client) = task.requester.and_then(|id| session.clients.get_mut(&id)) {
        // An interrupted task's window was already cut short (see Interrupt).
        let end = client.window_end.map_or(at, |cut| cut.min(at));
        client.window_end = Some(end);
        client.defer_frame(end, Tag::TaskComplete, &[code], true);
        client.wake.notify_one();
    }
    start_next(session);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_echo_of_the_typed_line_never_matches() {
        let task = Task {
            id: "00112233aabbccdd".into(),
            requester: None,
            command: b"echo hi".to_vec(),
            stdin_from_terminal: false,
            state: TaskState::Typed,
        };
        let echo = typed_text(&task);
        assert!(find_line(&echo, BEGIN, task.id.as_bytes()).is_none());
        assert!(find_code_line(&echo, END, task.id.as_bytes()).is_none());
        assert!(find_code_line(&echo, MID, task.id.as_bytes()).is_none());
    }

    #[test]
    fn markers_are_found_with_their_line_ends() {
        let id = b"00112233aabbccdd";
        let out = b"x\r\nTSM_TASK_BEGIN:00112233aabbccdd\r\nhello\r\nTSM_TASK_END:00112233aabbccdd:42\r\n";
        let (_, after_begin) = find_line(out, BEGIN, id).unwrap();
        assert_eq!(&out[after_begin..after_begin + 5], b"hello");
        let (start, code) = find_code_line(out, END, id).unwrap();
        assert_eq!(code, 42);
        assert_eq!(&out[after_begin..start], b"hello\r\n");
    }

    #[test]
    fn look_alike_markers_do_not_match() {
        let id = b"00112233aabbccdd";
        assert!(find_code_line(b"TSM_TASK_END:00112233aabbccdd:$?\r\n", END, id).is_none());
        assert!(find_code_line(b"TSM_TASK_END:ffffffffffffffff:0\r\n", END, id).is_none());
        assert!(find_code_line(b"TSM_TASK_END:00112233aabbccdd:1 and more\r\n", END, id).is_none());
        assert!(find_code_line(b"TSM_TASK_END:00112233aabbccdd:1", END, id).is_none());
    }
}
