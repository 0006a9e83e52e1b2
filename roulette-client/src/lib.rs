//! Roulette's client logic for embedders and the language bindings: connect to a relay as a
//! participant (pairing or chat roulette) or as a host, authenticate, resume after a dropped
//! connection, solve the chat endpoint's proof of work, and decode everything into one
//! [`Event`] enum. The Node (`bindings/node`) and Python (`bindings/python`) packages only wrap
//! this crate.
//!
//! ```no_run
//! # async fn run() -> Result<(), roulette_client::Error> {
//! use roulette_client::{ConnectOptions, Event, Kind, Participant};
//! let me = Participant::connect(ConnectOptions {
//!     server: "http://127.0.0.1:7878".into(),
//!     token: None,
//!     kind: Kind::Participant,
//! })
//! .await?;
//! me.send_json(r#"{"type":"find_partner","kind":"pairing"}"#).await?;
//! while let Some(event) = me.next_event().await {
//!     println!("{}", event.to_json());
//!     if event.kind() == "building" {
//!         me.chat("hello!").await?;
//!     }
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod error;
pub mod event;
pub mod host;
pub mod participant;

pub use error::Error;
pub use event::{Event, Local};
pub use host::{Host, HostConfig};
pub use participant::{ConnectOptions, Identity, Kind, Participant};
