//! Loom models of the ring: one writer and two readers on a 16-byte ring.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p tsm-scrollback --test loom --release`.
//! Each model sets its own preemption bound so the whole file takes about 80 s on 2 cores (the
//! first model: bound 2, about 75 s, and about 8 minutes with bound 3; the second: bound 3, about
//! 6 s); `LOOM_MAX_PREEMPTIONS` overrides both. Every mutant tried so far (no Release fence, no
//! Acquire fence, a Relaxed head store, the reservation stored after the data) fails both models
//! within a second at bound 2.
//!
//! The writer writes the pattern `offset % 251`, so every byte a reader gets can be checked
//! against the offset it was read from: a reader must get exactly those bytes, or `Lagged` with
//! consistent numbers, in every interleaving and every weak-memory outcome loom explores.

#![cfg(loom)]

use loom::thread;
use tsm_scrollback::{Lagged, Offset, Reader, Writer};

const CAPACITY: usize = 16;

fn pattern(p: u64) -> u8 {
    (p % 251) as u8
}

fn write_pattern(w: &mut Writer, len: u64) {
    let h = w.head().get();
    let data: Vec<u8> = (h..h + len).map(pattern).collect();
    w.write(&data);
}

/// One `read_at` from `pos`, checked; returns the next position to read from.
fn checked_read(r: &Reader, pos: Offset) -> Offset {
    let mut buf = [0u8; CAPACITY];
    match r.read_at(pos, &mut buf) {
        Ok(n) => {
            for (i, &b) in buf[..n].iter().enumerate() {
                let p = pos.get() + i as u64;
                assert_eq!(b, pattern(p), "torn byte at offset {p}");
            }
            pos + n as u64
        }
        Err(Lagged { lost, resume_at }) => {
            assert!(resume_at > pos, "lagged at {pos} but resume_at is {resume_at}");
            assert_eq!(lost, resume_at - pos);
            resume_at
        }
    }
}

/// Runs `f` under loom with at most `preemptions` preemptions per execution, unless
/// `LOOM_MAX_PREEMPTIONS` sets another bound.
fn model(preemptions: usize, f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(preemptions);
    }
    builder.check(f);
}

/// Writes that wrap and overwrite, with partial words at both ends, against readers that start
/// at the oldest byte and read twice, so each can see fresh bytes, overwritten ones, or both.
#[test]
fn readers_get_exact_bytes_or_lagged_while_the_writer_wraps() {
    model(2, || {
        let mut w = Writer::new(CAPACITY);
        write_pattern(&mut w, 13);
        let readers: Vec<_> = (0..2)
            .map(|_| {
                let r = w.reader();
                thread::spawn(move || {
                    let pos = checked_read(&r, Offset(0));
                    checked_read(&r, pos);
                })
            })
            .collect();
        write_pattern(&mut w, 6); // 13..19: wraps, overwrites 0..3
        write_pattern(&mut w, 9); // 19..28: overwrites 3..12
        for r in readers {
            r.join().unwrap();
        }
    });
}

/// A whole-capacity overwrite racing with a reader of the whole ring, and a reader of the tail
/// lines (the pattern has a newline at offset 10).
#[test]
fn a_full_overwrite_is_never_returned_as_old_bytes() {
    model(3, || {
        let mut w = Writer::new(CAPACITY);
        write_pattern(&mut w, 16);
        let r = w.reader();
        let reader = thread::spawn(move || {
            checked_read(&r, Offset(0));
        });
        let r = w.reader();
        let lines = thread::spawn(move || {
            // Whatever the interleaving: a run of consecutive pattern bytes, at most one line.
            // It may be empty if the writer overwrote everything during each attempt.
            let got = r.tail_lines(1);
            if let Some(&first) = got.first() {
                for (i, &b) in got.iter().enumerate() {
                    assert_eq!(b, pattern(u64::from(first) + i as u64), "torn tail_lines byte {i}");
                }
            }
            let body = got.strip_suffix(b"\n").unwrap_or(&got);
            assert!(!body.contains(&b'\n'), "more than one line: {got:?}");
        });
        write_pattern(&mut w, 16); // 16..32: every byte replaced
        reader.join().unwrap();
        lines.join().unwrap();
    });
}
