//! B8 (spec/bench.md): decode + encode of 32 KiB Output frames, and of empty frames.
//! Targets: >= 4 GB/s for 32 KiB frames, <= 30 ns a small frame.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tsm_proto::{FrameDecoder, Tag, encode_into, write_frame};

/// Frames per iteration, so that per-iteration overhead does not dominate small frames.
const BATCH: usize = 64;

fn bench_output_32k(c: &mut Criterion) {
    let payload: Vec<u8> = (0..32 * 1024).map(|i| (i % 251) as u8).collect();
    let mut wire = Vec::new();
    for _ in 0..BATCH {
        encode_into(Tag::Output, &payload, &mut wire);
    }
    let mut group = c.benchmark_group("codec/output_32k");
    group.throughput(Throughput::Bytes((payload.len() * BATCH) as u64));
    group.bench_function("decode", |b| {
        let mut decoder = FrameDecoder::new();
        b.iter(|| {
            decoder.push(black_box(&wire));
            let mut total = 0;
            while let Some(frame) = decoder.next_frame().unwrap() {
                total += frame.payload.len();
            }
            black_box(total)
        })
    });
    group.bench_function("encode_vectored", |b| {
        // A sink like a socket: takes the slices, copies nothing, keeps nothing.
        let mut sink = std::io::sink();
        b.iter(|| {
            for _ in 0..BATCH {
                write_frame(&mut sink, Tag::Output, black_box(&payload)).unwrap();
            }
        })
    });
    group.bench_function("encode_into_buffer", |b| {
        let mut out = Vec::with_capacity(wire.len());
        b.iter(|| {
            out.clear();
            for _ in 0..BATCH {
                encode_into(Tag::Output, black_box(&payload), &mut out);
            }
            black_box(out.len())
        })
    });
    group.finish();
}

fn bench_empty(c: &mut Criterion) {
    let mut wire = Vec::new();
    for _ in 0..BATCH {
        encode_into(Tag::Info, &[], &mut wire);
    }
    let mut group = c.benchmark_group("codec/empty");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("decode", |b| {
        let mut decoder = FrameDecoder::new();
        b.iter(|| {
            decoder.push(black_box(&wire));
            let mut n = 0;
            while let Some(frame) = decoder.next_frame().unwrap() {
                n += usize::from(frame.tag.as_u8());
            }
            black_box(n)
        })
    });
    group.bench_function("encode", |b| {
        let mut out = Vec::with_capacity(wire.len());
        b.iter(|| {
            out.clear();
            for _ in 0..BATCH {
                encode_into(black_box(Tag::Info), &[], &mut out);
            }
            black_box(out.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_output_32k, bench_empty);
criterion_main!(benches);
