//! The Node addon: a thin wrapper over `roulette-client`. Async methods return promises;
//! events come out as JSON text that the TypeScript layer (`lib/index.ts`) decodes. Errors
//! carry their stable code as a `[code] ` prefix of the message, which the TypeScript layer
//! turns into `RouletteError.code`.

use napi_derive::napi;
use roulette_client::{ConnectOptions, Kind};
use std::sync::Arc;

fn to_js(e: roulette_client::Error) -> napi::Error {
    napi::Error::from_reason(format!("[{}] {e}", e.code()))
}

/// A participant's connection (pairing session or chat roulette).
#[napi]
pub struct Participant {
    inner: Arc<roulette_client::Participant>,
}

#[napi]
impl Participant {
    /// Connects and says hello. Without a token the server signs in a new guest.
    #[napi(factory)]
    pub async fn connect(
        server: String,
        token: Option<String>,
        chat: Option<bool>,
    ) -> napi::Result<Participant> {
        let kind = if chat.unwrap_or(false) {
            Kind::Chat
        } else {
            Kind::Participant
        };
        let p = roulette_client::Participant::connect(ConnectOptions {
            server,
            token,
            kind,
        })
        .await
        .map_err(to_js)?;
        Ok(Participant { inner: Arc::new(p) })
    }

    /// The participant id.
    #[napi(getter)]
    pub fn participant(&self) -> i64 {
        i64::try_from(self.inner.identity().participant).unwrap_or(i64::MAX)
    }

    /// The handle.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.inner.identity().name.clone()
    }

    /// The token to come back with (for a new guest).
    #[napi(getter)]
    pub fn token(&self) -> Option<String> {
        self.inner.identity().token.clone()
    }

    /// The next event as JSON, or null once closed.
    #[napi]
    pub async fn next_event(&self) -> Option<String> {
        let inner = self.inner.clone();
        inner.next_event().await.map(|e| e.to_json())
    }

    /// Sends a client message given as JSON; it is checked first.
    #[napi]
    pub async fn send_json(&self, json: String) -> napi::Result<()> {
        let inner = self.inner.clone();
        inner.send_json(&json).await.map_err(to_js)
    }

    /// Sends terminal input (only the driver's reaches the agent).
    #[napi]
    pub async fn input(&self, data: String) -> napi::Result<()> {
        let inner = self.inner.clone();
        inner.input(data.into_bytes().into()).await.map_err(to_js)
    }

    /// Closes the connection.
    #[napi]
    pub fn close(&self) {
        self.inner.close();
    }
}

/// A host agent: a command in a PTY here, streamed through the relay.
#[napi]
pub struct Host {
    inner: Arc<roulette_client::Host>,
}

#[napi]
impl Host {
    /// Starts the host agent.
    #[napi(factory)]
    pub async fn start(
        server: String,
        token: String,
        command: Vec<String>,
        invite: Option<bool>,
        once: Option<bool>,
        output: Option<bool>,
    ) -> napi::Result<Host> {
        let host = roulette_client::Host::start(roulette_client::HostConfig {
            server,
            token,
            command,
            invite: invite.unwrap_or(false),
            once: once.unwrap_or(true),
            show_output: output.unwrap_or(false),
            allow_unsafe_flags: false,
        })
        .map_err(to_js)?;
        Ok(Host {
            inner: Arc::new(host),
        })
    }

    /// The next status or message as JSON, or null once stopped.
    #[napi]
    pub async fn next_event(&self) -> Option<String> {
        let inner = self.inner.clone();
        inner.next_event().await.map(|e| e.to_json())
    }

    /// Sends a message as the host, given as JSON.
    #[napi]
    pub async fn send_json(&self, json: String) -> napi::Result<()> {
        let inner = self.inner.clone();
        inner.send_json(&json).await.map_err(to_js)
    }

    /// Types at the host's own keyboard.
    #[napi]
    pub async fn keys(&self, data: String) -> napi::Result<()> {
        let inner = self.inner.clone();
        inner.keys(data.into_bytes().into()).await.map_err(to_js)
    }

    /// Allows or refuses a remote driver's held line.
    #[napi]
    pub async fn decide_line(&self, id: i64, allow: bool) -> napi::Result<()> {
        let id = u64::try_from(id)
            .map_err(|_| to_js(roulette_client::Error::InvalidArgument("a line id".into())))?;
        let inner = self.inner.clone();
        inner.decide_line(id, allow).await.map_err(to_js)
    }

    /// Stops the agent.
    #[napi]
    pub fn stop(&self) {
        self.inner.stop();
    }
}
