//! The ring against a model: a `VecDeque<u8>` of the retained bytes plus the head offset.
//!
//! Any sequence of writes (of any size, including larger than the capacity) and reads at any
//! offset must give the model's bytes, or `Lagged` with `lost` = exactly the bytes overwritten
//! from the requested offset on and `resume_at` = the model's tail.

#![cfg(not(loom))]

use proptest::prelude::*;
use std::collections::VecDeque;
use tsm_scrollback::{Lagged, Offset, Writer};

/// What the ring should hold: the last `capacity` bytes and the total written.
struct Model {
    capacity: usize,
    retained: VecDeque<u8>,
    head: u64,
}

impl Model {
    fn new(capacity: usize) -> Model {
        Model { capacity, retained: VecDeque::new(), head: 0 }
    }

    fn tail(&self) -> u64 {
        self.head - self.retained.len() as u64
    }

    fn write(&mut self, data: &[u8]) {
        self.retained.extend(data);
        let excess = self.retained.len().saturating_sub(self.capacity);
        self.retained.drain(..excess);
        self.head += data.len() as u64;
    }

    /// What `read_at(from, buf)` with `buf.len() == len` must return.
    fn read(&self, from: u64, len: usize) -> Result<Vec<u8>, Lagged> {
        if from < self.tail() {
            return Err(Lagged { lost: self.tail() - from, resume_at: Offset(self.tail()) });
        }
        let start = (from - self.tail()) as usize;
        Ok(self.retained.iter().skip(start).take(len).copied().collect())
    }

    /// The last `n` lines of the retained bytes, by a different method than the ring's: split
    /// the bytes without their final newline, and keep the last `n` pieces.
    fn tail_lines(&self, n: usize) -> Vec<u8> {
        let all: Vec<u8> = self.retained.iter().copied().collect();
        if n == 0 || all.is_empty() {
            return Vec::new();
        }
        let body = all.strip_suffix(b"\n").unwrap_or(&all);
        let pieces: Vec<&[u8]> = body.split(|&b| b == b'\n').collect();
        let keep = pieces.len().min(n);
        let mut out = pieces[pieces.len() - keep..].join(&b'\n');
        if all.ends_with(b"\n") {
            out.push(b'\n');
        }
        out
    }
}

#[derive(Debug, Clone)]
enum Op {
    Write(Vec<u8>),
    /// Read `len` bytes from `head - back` (saturating), or past the head if `back` is negative.
    Read {
        back: i64,
        len: usize,
    },
    TailLines(usize),
}

/// Bytes with plenty of newlines, so `tail_lines` has lines of every length to find.
fn bytes(max_len: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![3 => any::<u8>(), 1 => Just(b'\n')], 0..=max_len)
}

fn op(capacity: usize) -> impl Strategy<Value = Op> {
    let cap = capacity as i64;
    prop_oneof![
        4 => bytes(2 * capacity + 3).prop_map(Op::Write),
        // Offsets around the head, the tail and everything between, and a little past each.
        4 => (-3..=cap + 3, 0..=capacity + 3).prop_map(|(back, len)| Op::Read { back, len }),
        // Far behind: many capacities.
        1 => (cap..=20 * cap, 0..=capacity).prop_map(|(back, len)| Op::Read { back, len }),
        1 => (0..=8usize).prop_map(Op::TailLines),
    ]
}

fn scenario() -> impl Strategy<Value = (usize, Vec<Op>)> {
    prop::sample::select(vec![16usize, 32, 64, 128])
        .prop_flat_map(|capacity| (Just(capacity), prop::collection::vec(op(capacity), 1..60)))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ring_matches_the_model((capacity, ops) in scenario()) {
        let mut writer = Writer::new(capacity);
        let reader = writer.reader();
        let mut model = Model::new(capacity);
        for op in ops {
            match op {
                Op::Write(data) => {
                    writer.write(&data);
                    model.write(&data);
                }
                Op::Read { back, len } => {
                    let from = if back >= 0 {
                        model.head.saturating_sub(back as u64)
                    } else {
                        model.head + back.unsigned_abs()
                    };
                    let mut buf = vec![0xAA; len];
                    let got = reader.read_at(Offset(from), &mut buf).map(|n| buf[..n].to_vec());
                    prop_assert_eq!(&got, &model.read(from, len), "read_at({}, {})", from, len);

                    let to = Offset(from + len as u64);
                    let slices = writer.slices(Offset(from), to).map(|(a, b)| [a, b].concat());
                    prop_assert_eq!(slices, model.read(from, len), "slices({}, {})", from, to);
                }
                Op::TailLines(n) => {
                    prop_assert_eq!(writer.tail_lines(n), model.tail_lines(n), "writer tail_lines({})", n);
                    prop_assert_eq!(reader.tail_lines(n), model.tail_lines(n), "reader tail_lines({})", n);
                }
            }
            prop_assert_eq!(writer.head(), Offset(model.head));
            prop_assert_eq!(reader.head(), Offset(model.head));
            prop_assert_eq!(writer.tail(), Offset(model.tail()));
            prop_assert_eq!(reader.tail(), Offset(model.tail()));
        }
    }
}
