//! One function per request tag (spec/wire.md, "Tags"; reference/go-tsm.md 1.4 for the Go
//! daemon's semantics, kept where that page does not say to fix them).
//!
//! Each handler runs to completion on the daemon's thread. An error in one request is
//! answered to that client (or closes that connection); it never touches the others.

use std::fs;

use tsm_proto::{Frame, HistoryRequest, Labels, Size, Tag};

use crate::client::{ClientId, Close};
use crate::input::is_user_input;
use crate::lifecycle;
use crate::session::{INPUT_QUEUE_LIMIT, Phase, Session};
use crate::{agents, attach};

/// What to do with the connection after a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Next {
    /// Keep reading from it.
    Continue,
    /// Close it now.
    Close,
}

/// Handles one frame from client `id`.
pub(crate) fn handle(session: &mut Session, id: ClientId, frame: Frame<'_>) -> Next {
    match frame.tag {
        Tag::Input => on_input(session, id, frame.payload, true),
        Tag::Send => on_input(session, id, frame.payload, false),
        Tag::Resize => on_resize(session, id, frame.payload),
        Tag::Init => on_init(session, id, frame.payload),
        Tag::Detach => return Next::Close,
        Tag::DetachAll => return on_detach_all(session),
        Tag::Kill => lifecycle::begin_kill(session),
        Tag::Info => on_info(session, id),
        Tag::History => on_history(session, id, frame.payload),
        Tag::Rename => on_rename(session, id, frame.payload),
        Tag::LabelGet => on_label_get(session, id),
        Tag::LabelSet => on_label_set(session, id, frame.payload),
        Tag::LabelClear => on_label_clear(session, id),
        Tag::Status => on_status(session, id, frame.payload),
        Tag::Follow => on_follow(session, id),
        Tag::AgentGet => agents::on_get(session, id, frame.payload),
        Tag::AgentWatch => agents::on_watch(session, id),
        Tag::AgentAck => agents::on_ack(session, id),
        Tag::AgentYolo => agents::on_yolo(session, id, frame.payload),
        Tag::AgentEvent => agents::on_event(session, id, frame.payload),
        Tag::Run => on_run(session, id, frame.payload, false),
        Tag::RunStdin => on_run(session, id, frame.payload, true),
        Tag::Interrupt => on_interrupt(session, id),
        Tag::Write => ack(
            session,
            id,
            "Write is not supported; tsm write sends the file with RunStdin and Send",
        ),
        // Output from a client (zmx's `print`), Ack, TaskComplete, LabelData and unknown
        // tags: read and ignored; old daemons must survive new clients.
        _ => {}
    }
    Next::Continue
}

/// Queues a reply frame for client `id`.
fn reply(session: &mut Session, id: ClientId, tag: Tag, payload: &[u8]) {
    if let Some(client) = session.clients.get_mut(&id) {
        client.queue_frame(tag, payload);
        client.wake.notify_one();
    }
}

/// Queues an Ack: `""` is success, anything else the error text.
fn ack(session: &mut Session, id: ClientId, error: &str) {
    reply(session, id, Tag::Ack, error.as_bytes());
}

/// Input (takes the leader role when it is user input) and Send (never does).
fn on_input(session: &mut Session, id: ClientId, bytes: &[u8], may_lead: bool) {
    if bytes.is_empty() || !matches!(session.phase, Phase::Running) {
        return;
    }
    if may_lead && is_user_input(bytes) {
        attach::take_lead(session, id);
    }
    // The reader stops reading clients while the queue is full, so this bound holds up to
    // one frame's worth.
    debug_assert!(session.input.len() <= INPUT_QUEUE_LIMIT + tsm_proto::MAX_PAYLOAD_LEN);
    session.queue_input(bytes);
    // Focus, mouse and query replies a terminal sends by itself are not the user's input
    // (they neither acknowledge a finished turn nor interrupt one).
    if is_user_input(bytes) {
        agents::on_client(session, tsm_agents::tracker::ClientEvent::Input(bytes.to_vec()));
    }
}

fn on_resize(session: &mut Session, id: ClientId, payload: &[u8]) {
    // Shorter payloads are ignored, as the Go daemon does.
    if let Ok(size) = Size::parse(payload) {
        attach::resize(session, id, size);
    }
}

fn on_init(session: &mut Session, id: ClientId, payload: &[u8]) {
    attach::attach(session, id, Size::parse(payload).ok());
    agents::on_client(session, tsm_agents::tracker::ClientEvent::Attached);
    if let Some(client) = session.clients.get(&id) {
        client.wake.notify_one();
    }
}

/// DetachAll: closes every connection, the sender and any probe included.
fn on_detach_all(session: &mut Session) -> Next {
    for client in session.clients.values_mut() {
        client.close = Close::Now;
        client.wake.notify_one();
    }
    Next::Close
}

fn on_info(session: &mut Session, id: ClientId) {
    let info = session.info().encode();
    reply(session, id, Tag::Info, &info);
}

/// History: the formatted history; reading it counts as seeing an exited session's end.
fn on_history(session: &mut Session, id: ClientId, payload: &[u8]) {
    let request = match HistoryRequest::parse(payload) {
        Ok(request) => request,
        Err(err) => return reply(session, id, Tag::History, err.to_string().as_bytes()),
    };
    let mut text = session.screen().history(&request);
    text.truncate(tsm_proto::MAX_PAYLOAD_LEN);
    reply(session, id, Tag::History, &text);
    if session.phase == Phase::ExitedUnseen {
        session.end_seen();
    }
}

/// Rename: validated like any name, atomic (the socket moves with `renameat2(NOREPLACE)`,
/// so an existing session is never replaced), then the daemon's state follows.
fn on_rename(session: &mut Session, id: ClientId, payload: &[u8]) {
    let result = rename(session, payload);
    ack(session, id, result.err().as_deref().unwrap_or(""));
}

fn rename(session: &mut Session, payload: &[u8]) -> Result<(), String> {
    let new_name = tsm_proto::parse_rename(payload).map_err(|e| e.to_string())?;
    if new_name.is_empty() {
        return Err("empty session name".to_owned());
    }
    let name =
        session.dir.session_name(new_name).map_err(|e| format!("invalid session name: {e}"))?;
    if name == session.name {
        return Ok(());
    }
    let new_path = session.dir.socket_path(&name).map_err(|e| e.to_string())?;
    match rustix::fs::renameat_with(
        rustix::fs::CWD,
        &session.socket_path,
        rustix::fs::CWD,
        &new_path,
        rustix::fs::RenameFlags::NOREPLACE,
    ) {
        Ok(()) => {}
        Err(rustix::io::Errno::EXIST) => return Err(format!("session \"{name}\" already exists")),
        Err(errno) => return Err(format!("rename socket: {}", std::io::Error::from(errno))),
    }
    tracing::info!(from = %session.name, to = %name, "renamed");
    // The log follows the name, so `<dir>.logs/<name>.log` stays true.
    let _ = fs::rename(session.dir.log_path(&session.name), session.dir.log_path(&name));
    session.name = name;
    session.socket_path = new_path;
    Ok(())
}

/// Run (and our RunStdin): queue the command as a task; Ack once accepted. Refused when
/// the session has exited, or when no task runs and the terminal's foreground program is
/// not the session's shell (typing into a full-screen program would be wrong).
fn on_run(session: &mut Session, id: ClientId, payload: &[u8], stdin_from_terminal: bool) {
    if session.exit.is_some() || !matches!(session.phase, Phase::Running) {
        return ack(session, id, "the session has exited");
    }
    if payload.iter().all(u8::is_ascii_whitespace) {
        return ack(session, id, "empty command");
    }
    if !session.tasks.busy() {
        let shell = session.child.pid();
        match session.pty.get_ref().foreground_process_group() {
            Some(pgrp) if pgrp == shell => {}
            other => {
                let program = other
                    .and_then(|pgrp| fs::read_to_string(format!("/proc/{pgrp}/comm")).ok())
                    .map_or_else(
                        || "another program".to_owned(),
                        |comm| format!("\"{}\"", comm.trim()),
                    );
                return ack(
                    session,
                    id,
                    &format!(
                        "the session's foreground program is {program}, not its shell; not typing into it"
                    ),
                );
            }
        }
    }
    // Commands are typed as text; a stray carriage return would run a half command.
    let command: Vec<u8> = payload.iter().copied().filter(|&b| b != b'\r').collect();
    let command = command.strip_suffix(b"\n").map(<[u8]>::to_vec).unwrap_or(command);
    session.tasks.push(command, id, stdin_from_terminal);
    ack(session, id, "");
    crate::task::start_next(session);
}

/// Interrupt (tag 42): SIGINT to the terminal's foreground process group; to the shell
/// itself only while a task runs (at its prompt there is nothing to interrupt). A `run` client that interrupts
/// its task gets no output after this point: what follows is the shell's prompt and the
/// echo of the end-marker line, not the command's output.
fn on_interrupt(session: &mut Session, id: ClientId) {
    let head = session.ring.head();
    if let Some(client) = session.clients.get_mut(&id)
        && client.runs_task()
    {
        client.window_end = Some(client.window_end.map_or(head, |end| end.min(head)));
    }
    let shell = session.child.pid();
    let foreground = session.pty.get_ref().foreground_process_group();
    // Between two commands of a task the shell itself is in the foreground: interrupting
    // it abandons the rest of the task's line, as Ctrl-C at a terminal would.
    let target = match foreground {
        Some(pgrp) if pgrp != shell => Some(pgrp),
        Some(_) if session.tasks.busy() => Some(shell),
        _ => None,
    };
    if let Some(pgrp) = target.and_then(rustix::process::Pid::from_raw) {
        let _ = rustix::process::kill_process_group(pgrp, rustix::process::Signal::INT);
    }
}

/// Follow (tag 39): live output from now on, read-only; an exited session answers with
/// its exit notice and closes.
fn on_follow(session: &mut Session, id: ClientId) {
    let head = session.ring.head();
    let exit = session.exit;
    let Some(client) = session.clients.get_mut(&id) else { return };
    match exit {
        Some(exit) => {
            client.queue_frame(Tag::SessionExit, &[exit.status.code() as u8]);
            client.close = Close::AfterFlush;
        }
        None => {
            client.following = true;
            client.sent = head;
        }
    }
    client.wake.notify_one();
}

/// Status (tag 38): what Info cannot carry, as JSON. With payload `collect` and no task
/// running, the task codes reported are forgotten afterwards (`tsm wait` collected them).
fn on_status(session: &mut Session, id: ClientId, payload: &[u8]) {
    let labels: serde_json::Map<String, serde_json::Value> =
        session.labels.iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
    let status = serde_json::json!({
        "name": session.name.as_str(),
        "state": if session.exit.is_some() { "exited" } else { "running" },
        "exit_code": session.exit.map(|exit| exit.status.code()),
        "daemon_pid": std::process::id(),
        "pid": session.child.pid(),
        "rows": session.size.rows,
        "cols": session.size.cols,
        "clients": session.attached_count(),
        "rss_bytes": resident_bytes(),
        "version": env!("CARGO_PKG_VERSION"),
        "labels": labels,
        "tasks": session.tasks.len(),
        "last_task_exit_code": session.last_task.map(|(code, _)| code),
        "uncollected_exit_code": session.uncollected_exit_code,
    });
    reply(session, id, Tag::Status, status.to_string().as_bytes());
    if payload == b"collect" && !session.tasks.busy() {
        session.uncollected_exit_code = None;
    }
}

/// The daemon's resident memory in bytes, from `/proc/self/statm`.
fn resident_bytes() -> Option<u64> {
    let statm = fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * rustix::param::page_size() as u64)
}

fn on_label_get(session: &mut Session, id: ClientId) {
    let data = session.labels.to_string();
    reply(session, id, Tag::LabelData, data.as_bytes());
}

fn on_label_set(session: &mut Session, id: ClientId, payload: &[u8]) {
    let result = std::str::from_utf8(payload)
        .map_err(|_| "labels are not valid UTF-8".to_owned())
        .and_then(|text| Labels::parse_changes(text).map_err(|e| e.to_string()));
    match result {
        Ok(changes) => {
            session.labels.apply(&changes);
            ack(session, id, "");
        }
        Err(err) => ack(session, id, &err),
    }
}

fn on_label_clear(session: &mut Session, id: ClientId) {
    session.labels.clear();
    ack(session, id, "");
}
