//! Errors of the PTY bridge.

use std::path::PathBuf;

/// Why an agent could not be started or driven.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PtyError {
    /// The command line is empty.
    #[error("no command to run")]
    EmptyCommand,
    /// The working directory is one the agent must never run in.
    #[error("refusing to run the agent in {dir}: {why}")]
    WorkDirRefused {
        /// The directory asked for.
        dir: PathBuf,
        /// Why it is refused.
        why: &'static str,
    },
    /// The working directory does not exist or cannot be read.
    #[error("working directory {dir} is not usable: {source}")]
    WorkDirUnusable {
        /// The directory asked for.
        dir: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The private temporary directory could not be created.
    #[error("could not create a private temporary directory: {0}")]
    TempDir(std::io::Error),
    /// The pseudo-terminal could not be opened.
    #[error("could not open a pseudo-terminal: {0}")]
    OpenPty(String),
    /// The command could not be started.
    #[error("could not start {command}: {reason}")]
    Spawn {
        /// The program.
        command: String,
        /// What went wrong.
        reason: String,
    },
    /// The agent has exited; it takes no more input.
    #[error("the agent has exited")]
    Closed,
}
