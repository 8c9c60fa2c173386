//! Benchmarks of tsm: criterion micro benches live in `benches/`, one file per area
//! (`codec.rs` is spec/bench.md B8). See `BENCHMARKS.md` at the repository root for figures.
