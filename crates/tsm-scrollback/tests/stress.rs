//! One writer and four readers on real threads, bounded by bytes rather than time.
//!
//! The writer writes a known pattern (byte at offset `p` is `p % 251`) in chunks of varying
//! sizes; each reader follows with reads of varying sizes and checks every byte it gets, and
//! every `Lagged` it gets, against the pattern. The ring is small next to the stream, so
//! readers do lag and the validation path is exercised as much as the happy one.

#![cfg(not(loom))]

use std::thread;
use tsm_scrollback::{Lagged, Offset, Reader, Writer};

/// Bytes the writer writes in all.
const TOTAL_BYTES: u64 = 24 << 20;
/// Ring capacity: small enough that readers fall behind now and then.
const CAPACITY: usize = 16 << 10;
const READERS: usize = 4;

fn pattern(p: u64) -> u8 {
    (p % 251) as u8
}

/// A tiny deterministic generator, so a failure reproduces with the same sizes.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

#[derive(Debug, Default)]
struct ReaderStats {
    bytes_verified: u64,
    lags: u64,
    bytes_lost: u64,
}

fn follow(reader: Reader, seed: u64) -> ReaderStats {
    let mut rng = Lcg(seed);
    let mut buf = vec![0u8; 3 * CAPACITY / 2];
    let mut pos = Offset::ZERO;
    let mut stats = ReaderStats::default();
    while pos.get() < TOTAL_BYTES {
        let len = 1 + rng.next(buf.len() as u64) as usize;
        match reader.read_at(pos, &mut buf[..len]) {
            Ok(0) => thread::yield_now(), // caught up with the writer
            Ok(n) => {
                for (i, &b) in buf[..n].iter().enumerate() {
                    let p = pos.get() + i as u64;
                    assert_eq!(b, pattern(p), "reader {seed}: torn byte at offset {p}");
                }
                stats.bytes_verified += n as u64;
                pos += n as u64;
            }
            Err(Lagged { lost, resume_at }) => {
                assert!(
                    resume_at > pos,
                    "reader {seed}: lagged at {pos} but resume_at {resume_at}"
                );
                assert_eq!(lost, resume_at - pos, "reader {seed}: lost does not match resume_at");
                assert!(resume_at <= reader.head() + CAPACITY as u64);
                stats.lags += 1;
                stats.bytes_lost += lost;
                pos = resume_at;
            }
        }
        if rng.next(64) == 0 {
            check_tail_lines(&reader);
        }
    }
    assert_eq!(pos.get(), TOTAL_BYTES);
    stats
}

/// The pattern has a `\n` (10) every 251 bytes, so `tail_lines` must return a run of consecutive
/// pattern bytes that ends right after a newline or at the head and holds at most `n` newlines.
fn check_tail_lines(reader: &Reader) {
    let got = reader.tail_lines(2);
    for w in got.windows(2) {
        assert_eq!(w[1], ((u32::from(w[0]) + 1) % 251) as u8, "tail_lines is not contiguous");
    }
    let body = got.strip_suffix(b"\n").unwrap_or(&got);
    assert!(body.iter().filter(|&&b| b == b'\n').count() <= 1, "tail_lines(2) has too many lines");
}

#[test]
fn readers_following_a_writer_get_exact_bytes_or_lagged() {
    let mut writer = Writer::new(CAPACITY);
    let readers: Vec<_> = (0..READERS)
        .map(|i| {
            let reader = writer.reader();
            thread::spawn(move || follow(reader, i as u64 + 1))
        })
        .collect();

    let mut rng = Lcg(99);
    let mut chunk = Vec::with_capacity(2 * CAPACITY);
    while writer.head().get() < TOTAL_BYTES {
        let head = writer.head().get();
        // Mostly small writes, sometimes one larger than the ring.
        let len = if rng.next(200) == 0 { 2 * CAPACITY as u64 } else { 1 + rng.next(4096) };
        let len = len.min(TOTAL_BYTES - head);
        chunk.clear();
        chunk.extend((head..head + len).map(pattern));
        writer.write(&chunk);

        // The zero-copy path on the writer's own thread sees the same bytes.
        if rng.next(32) == 0 {
            let from = writer.tail() + rng.next(CAPACITY as u64);
            let (a, b) = writer.slices(from, writer.head()).expect("from is within the ring");
            for (i, &byte) in a.iter().chain(b).enumerate() {
                assert_eq!(byte, pattern(from.get() + i as u64));
            }
        }
        // Give the readers a chance on a machine with fewer cores than threads.
        if rng.next(8) == 0 {
            thread::yield_now();
        }
    }

    let mut total = ReaderStats::default();
    for r in readers {
        let s = r.join().expect("a reader failed");
        assert_eq!(s.bytes_verified + s.bytes_lost, TOTAL_BYTES);
        total.bytes_verified += s.bytes_verified;
        total.lags += s.lags;
        total.bytes_lost += s.bytes_lost;
    }
    // Printed with --nocapture: how much of each path the run exercised.
    println!("{total:?}");
    assert!(total.bytes_verified > 0);
}
