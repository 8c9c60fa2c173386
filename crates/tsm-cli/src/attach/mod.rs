//! The attached client: the user's terminal in raw mode, wired to a session's daemon.

pub(crate) mod client;
pub(crate) mod detach_key;
pub(crate) mod switch;
pub(crate) mod terminal;
