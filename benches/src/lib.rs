//! Benchmarks of tsm: criterion micro benches live in `benches/`, one file per area
//! (`codec.rs` is spec/bench.md B8). See `BENCHMARKS.md` at the repository root for figures.

/// About `bytes` of coloured log lines, as `tools/term_bench.py`'s `make_payload` writes
/// them: the stream of B1 and B10.
pub fn log_text(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 256);
    let mut n: u64 = 0;
    while out.len() < bytes {
        n += 1;
        let c = 31 + n % 7;
        out.extend_from_slice(
            format!(
                "\x1b[{c}m{n:09}\x1b[0m INFO request id={:06} path=/api/v1/items/{} status=200 \
                 \x1b[1mok\x1b[0m elapsed={}ms\r\n",
                n * 7919 % 100_003,
                n % 977,
                n % 97
            )
            .as_bytes(),
        );
    }
    out
}
