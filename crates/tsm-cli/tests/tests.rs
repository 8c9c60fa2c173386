//! Integration tests of `tsm`: real daemons on real PTYs, each test in its own temp dir.
//! One test binary for the crate (saves link time): the topics live in `cases/`, out of
//! Cargo's reach, so it does not build each as a binary of its own.

mod support;

mod cases {
    mod agents;
    mod attach_pty;
    mod cli_texts;
    mod exited;
    mod go_compat;
    mod hook;
    mod hooks;
    mod labels;
    mod lifecycle;
    mod robustness;
    mod scripting;
    mod security;
    mod slow_client;
    mod stale_busy;
    mod switch;
    mod tmux_restore;
}
