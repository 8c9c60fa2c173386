//! One module per command.

pub(crate) mod agents;
pub(crate) mod attach;
pub(crate) mod completions;
pub(crate) mod daemon;
pub(crate) mod detach;
pub(crate) mod doctor;
pub(crate) mod history;
pub(crate) mod hook;
pub(crate) mod hooks;
pub(crate) mod info;
pub(crate) mod kill;
pub(crate) mod label;
pub(crate) mod ls;
pub(crate) mod new;
pub(crate) mod rename;
pub(crate) mod run;
pub(crate) mod send;
pub(crate) mod statusline;
pub(crate) mod tail;
pub(crate) mod version;
pub(crate) mod wait;
pub(crate) mod write;
