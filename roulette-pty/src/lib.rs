//! Roulette's PTY bridge: runs the agent (Claude Code, or any terminal program) in a
//! pseudo-terminal on the host's machine and streams it.
//!
//! It is **not** a terminal emulator or a network client: it starts the program, hands out its
//! output, takes input and resizes, and cleans up. The host agent in `roulette-cli` connects it
//! to the relay.
//!
//! What it guarantees:
//! - The agent runs in a new private temporary directory (mode 0700) unless the host names one;
//!   a directory equal to home, `/`, or a parent of home is refused ([`check_workdir`]).
//! - The agent's environment is an allow-list plus what the host names ([`child_env`]); the
//!   host's other secrets stay out of the PTY.
//! - Output is read on a dedicated thread and handed out coalesced up to 64 KiB; every byte
//!   comes out before [`PtyEvent::Exited`], which is always last.
//! - When the agent exits, is killed, or its [`Agent`] is dropped, its whole process group ends
//!   and its temporary directory is removed.
//!
//! # Layout
//!
//! - [`agent`]: [`Agent`], the running program and its threads; the echo backend for tests.
//! - [`workdir`]: where the agent may run. [`env`]: what it may see. [`error`]: [`PtyError`].
//!
//! # Example
//!
//! ```no_run
//! use roulette_pty::{Agent, AgentConfig, PtyEvent};
//! # async fn run() -> Result<(), roulette_pty::PtyError> {
//! let mut agent = Agent::spawn(AgentConfig {
//!     command: vec!["bash".into()],
//!     ..AgentConfig::default()
//! })?;
//! let input = agent.input();
//! input.write("echo hello; exit\r".into()).await?;
//! while let Some(event) = agent.next_event().await {
//!     match event {
//!         PtyEvent::Output(bytes) => print!("{}", String::from_utf8_lossy(&bytes)),
//!         PtyEvent::Exited(status) => println!("\nexited: {status:?}"),
//!     }
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

pub mod agent;
pub mod env;
pub mod error;
pub mod workdir;

pub use agent::{Agent, AgentConfig, AgentInput, ExitStatus, MAX_CHUNK, PtyEvent, TermSize};
pub use env::child_env;
pub use error::PtyError;
pub use workdir::{WorkDir, check_workdir};
