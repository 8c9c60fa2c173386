//! Integration tests of tsm-proto: golden frame bytes of every tag, properties of the
//! decoder, and the blocking client against a scripted listener.

mod client;
mod golden;
mod properties;
