//! The only place the ring's synchronization primitives come from.
//!
//! Normally these are `std`'s. Under `--cfg loom` they are loom's, so that `tests/loom.rs` can
//! explore every interleaving (and every weak-memory outcome loom models) of one writer and
//! several readers. Nothing else in the crate names `std::sync` directly.

#[cfg(not(loom))]
pub(crate) use std::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering, fence};

#[cfg(loom)]
pub(crate) use loom::sync::Arc;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, AtomicUsize, Ordering, fence};
