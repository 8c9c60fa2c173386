//! B9 (spec/bench.md): the ring with one writer and 4 KiB writes, alone and with 8 readers
//! following on other threads. Targets: >= 8 GB/s; readers slow the writer by < 10 %.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tsm_scrollback::{Offset, Writer};

/// Bytes per write, as the daemon's PTY reads deliver them at the small end.
const CHUNK: usize = 4096;
/// The daemon's ring size.
const RING_BYTES: usize = 1 << 20;
/// Readers in the "following" case.
const READERS: usize = 8;

fn ring(c: &mut Criterion) {
    let data = vec![b'x'; CHUNK];
    let mut group = c.benchmark_group("ring");
    group.throughput(Throughput::Bytes(CHUNK as u64));
    let mut writer = Writer::new(RING_BYTES);
    group.bench_function("write_4k", |b| b.iter(|| writer.write(black_box(&data))));

    let reader = writer.reader();
    let mut buf = vec![0; CHUNK];
    group.bench_function("read_at_4k", |b| {
        b.iter(|| reader.read_at(writer.head().saturating_sub(CHUNK as u64), &mut buf))
    });
    group.bench_function("slices_4k", |b| {
        b.iter(|| {
            black_box(writer.slices(writer.head().saturating_sub(CHUNK as u64), writer.head()))
        })
    });

    // Readers that follow the head and resync on Lagged, as clients of the daemon do; they
    // yield when caught up, like a task that waits to be woken.
    let stop = Arc::new(AtomicBool::new(false));
    let followers: Vec<_> = (0..READERS)
        .map(|_| {
            let (reader, stop) = (writer.reader(), stop.clone());
            std::thread::spawn(move || {
                let (mut pos, mut buf) = (Offset::ZERO, vec![0; 64 << 10]);
                while !stop.load(Ordering::Relaxed) {
                    match reader.read_at(pos, &mut buf) {
                        Ok(0) => std::thread::yield_now(),
                        Ok(n) => pos += n as u64,
                        Err(_) => pos = reader.head(),
                    }
                }
            })
        })
        .collect();
    group.bench_function("write_4k_with_8_readers", |b| b.iter(|| writer.write(black_box(&data))));
    stop.store(true, Ordering::Relaxed);
    for follower in followers {
        follower.join().expect("reader thread");
    }
    group.finish();
}

criterion_group!(benches, ring);
criterion_main!(benches);
