#!/usr/bin/env bash
# Every test of the workspace: nextest for unit and integration tests, then doc tests
# (nextest does not run those).
set -euo pipefail
cd "$(dirname "$0")/.."
# The whole-daemon agent tests run this test tool as a session's program; no test of its
# own package makes cargo build it.
cargo build --locked -p tsm-fake-agent
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast "$@"
else
    cargo test --workspace --locked --no-fail-fast --lib --bins --tests "$@"
fi
cargo test --workspace --locked --doc
