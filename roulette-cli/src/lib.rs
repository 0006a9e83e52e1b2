//! The `roulette` command's library: the host agent ([`host`]), the terminal participant
//! ([`join`]), the chat roulette's window ([`chat`]) and the host's replay buffer ([`replay`]). `main.rs` only parses arguments and
//! calls these, so embedders (and the Node and Python bindings) can run them too.
#![warn(missing_docs)]

pub mod chat;
pub mod claude;
pub mod console;
pub mod gatekeeper;
pub mod hook;
pub mod hookchan;
pub mod host;
pub mod join;
pub mod preflight;
pub mod replay;
pub mod waiter;
