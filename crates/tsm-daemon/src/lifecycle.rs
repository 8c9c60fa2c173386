//! The session's life: the program's exit, Kill with a grace period, SIGTERM/SIGHUP to the
//! daemon, and the end (socket removed before the process exits).
//!
//! When the program exits while clients are attached they get its last output and an exit
//! notice, and the daemon ends. When none is attached the session stays, listed as exited
//! with its code and last screen, until someone attaches, reads its history or kills it:
//! nothing a program printed is lost because no one was watching.

use std::time::{Duration, Instant};

use tsm_proto::Tag;
use tsm_pty::Signal;

use crate::attach::END_FLUSH_GRACE;
use crate::client::Close;
use crate::data_path::{self, READ_BUF_BYTES};
use crate::session::{ExitRecord, Phase, Session, unix_now};

/// How long the program has after SIGHUP before SIGKILL.
pub(crate) const KILL_GRACE: Duration = Duration::from_millis(500);

/// Kill (and SIGTERM/SIGHUP to the daemon): SIGHUP to the program's process group, SIGKILL
/// after [`KILL_GRACE`]. An exited session ends at once.
pub(crate) fn begin_kill(session: &mut Session) {
    match session.phase {
        Phase::Running => {
            tracing::info!("kill requested");
            signal_program(session, Signal::HUP);
            session.phase = Phase::Killing { sigkill_at: Some(Instant::now() + KILL_GRACE) };
        }
        Phase::ExitedUnseen | Phase::Ending { .. } => session.phase = Phase::Finished,
        Phase::Killing { .. } | Phase::Finished => {}
    }
    session.changed.notify_one();
}

/// The grace period after SIGHUP is over: SIGKILL to the program's group.
pub(crate) fn on_kill_grace_elapsed(session: &mut Session) {
    if let Phase::Killing { sigkill_at: Some(at) } = session.phase
        && Instant::now() >= at
    {
        tracing::info!("grace period over; sending SIGKILL");
        signal_program(session, Signal::KILL);
        session.phase = Phase::Killing { sigkill_at: None };
    }
}

fn signal_program(session: &Session, signal: Signal) {
    if session.exit.is_some() {
        return;
    }
    if session.child.signal_group(signal).is_err() {
        let _ = session.child.signal(signal);
    }
}

/// The program exited (its pidfd became readable): reap it, take its last output, and
/// either end (someone sees it) or stay as an exited session.
pub(crate) fn on_child_exit(session: &mut Session) {
    let status = match session.child.try_wait() {
        Ok(Some(status)) => status,
        Ok(None) => return, // spurious
        Err(err) => {
            tracing::error!(%err, "waitpid failed");
            session.phase = Phase::Finished;
            return;
        }
    };
    tracing::info!(code = status.code(), "program exited");
    session.exit = Some(ExitRecord { status, at: unix_now() });
    drain_last_output(session);
    if matches!(session.phase, Phase::Killing { .. }) {
        session.phase = Phase::Finished;
        session.changed.notify_one();
        return;
    }
    let code = status.code() as u8;
    crate::task::on_program_exit(session, code);
    let head = session.ring.head();
    let mut seen = false;
    for client in
        session.clients.values_mut().filter(|c| c.follows_output() && c.close == Close::No)
    {
        // After the last output, never before it.
        client.defer_frame(head, Tag::SessionExit, &[code], false);
        client.close = Close::AfterFlush;
        client.wake.notify_one();
        seen |= client.attached;
    }
    session.phase = if seen {
        Phase::Ending { deadline: Instant::now() + END_FLUSH_GRACE }
    } else {
        Phase::ExitedUnseen
    };
    session.changed.notify_one();
}

/// Reads what the program wrote before it exited and is still in the PTY. Stops at the
/// end of output, or when the PTY is empty (a background job may keep it open).
fn drain_last_output(session: &mut Session) {
    let mut buf = vec![0u8; READ_BUF_BYTES];
    loop {
        let pty = session.pty.clone();
        match data_path::on_pty_readable(
            pty.get_ref(),
            &mut buf,
            &mut session.ring,
            &mut session.screen,
        ) {
            Ok(drain) if drain.would_block || drain.closed || drain.bytes == 0 => break,
            Ok(_) => {}
            Err(err) => {
                tracing::debug!(%err, "reading the last output");
                break;
            }
        }
    }
    crate::task::on_output(session); // the last output may hold a task's markers
    session.screen_after_output();
    session.wake_all();
}

/// While ending: done once no client has bytes pending (the last output, the exit
/// notice, a History reply), or at the deadline.
pub(crate) fn check_ending(session: &mut Session) {
    let Phase::Ending { deadline } = session.phase else { return };
    let head = session.ring.head();
    let pending = session.clients.values().any(|c| c.close != Close::Now && c.wants_write(head));
    if !pending || Instant::now() >= deadline {
        session.phase = Phase::Finished;
    }
}

/// The deadline the event loop must wake up at, if any.
pub(crate) fn next_deadline(session: &Session) -> Option<Instant> {
    match session.phase {
        Phase::Killing { sigkill_at } => sigkill_at,
        Phase::Ending { deadline } => Some(deadline),
        _ => None,
    }
}
