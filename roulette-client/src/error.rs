//! The one error type of the client, with a stable code for every kind, which the Node and
//! Python bindings hand on (`err.code`, `exc.code`).

use roulette_transport::CloseCode;
use roulette_transport::connect::ClientError;

/// Why a client call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server could not be reached or the WebSocket failed.
    #[error("cannot connect to {server}: {reason}")]
    Connect {
        /// The server.
        server: String,
        /// What went wrong.
        reason: String,
    },
    /// The token or ticket was refused.
    #[error("the server refused the credentials")]
    Unauthorized,
    /// The connection is closed (by `close`, or for good by the server).
    #[error("the connection is closed{}", .0.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Closed(Option<String>),
    /// A message to send did not decode as a client message (unknown type or field, too long).
    #[error("not a valid message: {0}")]
    BadMessage(String),
    /// An argument was out of range.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The host agent could not start.
    #[error("the host agent failed: {0}")]
    Host(String),
}

impl Error {
    /// The stable code: `connect_failed`, `unauthorized`, `closed`, `bad_message`,
    /// `invalid_argument`, `host_failed`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Connect { .. } => "connect_failed",
            Error::Unauthorized => "unauthorized",
            Error::Closed(_) => "closed",
            Error::BadMessage(_) => "bad_message",
            Error::InvalidArgument(_) => "invalid_argument",
            Error::Host(_) => "host_failed",
        }
    }

    pub(crate) fn from_connect(server: &str, e: ClientError) -> Error {
        match e.close_code() {
            Some(CloseCode::Unauthorized) => Error::Unauthorized,
            _ if e.to_string().contains("4001") => Error::Unauthorized,
            _ => Error::Connect {
                server: server.to_string(),
                reason: e.to_string(),
            },
        }
    }
}
