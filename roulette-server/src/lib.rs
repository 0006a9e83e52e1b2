//! The Roulette relay server: one port serving HTTP and WebSocket, a lobby actor around the
//! matchmaker, one actor per room around the core session, auth, limits, persistence and
//! metrics.
//!
//! It is a thin shell: every rule of matchmaking and of a session lives in `roulette-core`;
//! the wire format lives in `roulette-transport`. The server moves bytes and messages between
//! them and the network, and decides nothing the core has not decided.
//!
//! # Layout
//!
//! - [`http`] holds the routes (`/`, `/healthz`, `/metrics`, `/api/guest`, `/api/ticket`,
//!   `/ws`, `/host`) and the Origin check.
//! - [`conn`] runs one task per connection: handshake, limits, routing, ping.
//! - [`lobby`] is the lobby actor (matchmaker, participants, rooms).
//! - [`room`] is one actor per room (session, terminal fan-out, snapshots).
//! - [`terminal`] keeps the replay ring and the screen state; [`viewer`] is flow control by
//!   credit for each viewer.
//! - [`shared`] is what several nodes would share (queue, invites, bans, room ownership),
//!   behind one interface.
//! - [`auth`], [`store`], [`metrics`], [`config`], [`wiring`] and [`error`] are the rest.
//!
//! # Running
//!
//! ```no_run
//! # async fn run() -> Result<(), roulette_server::ServerError> {
//! let server = roulette_server::Server::bind(roulette_server::ServerConfig::default()).await?;
//! println!("listening on {}", server.local_addr());
//! let stop = server.shutdown_token();
//! tokio::spawn(async move {
//!     let _ = tokio::signal::ctrl_c().await;
//!     stop.cancel();
//! });
//! server.run().await
//! # }
//! ```
#![warn(missing_docs)]

pub mod assets;
pub mod auth;
pub mod chat;
pub mod config;
pub mod conn;
pub mod error;
pub mod gate;
pub mod github;
pub mod http;
pub mod lobby;
pub mod metrics;
pub mod room;
pub mod shared;
pub mod store;
pub mod terminal;
pub mod viewer;
pub mod wiring;

pub use config::{ChatLimits, GithubConfig, Limits, ServerConfig, default_data_dir};
pub use error::ServerError;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// What every connection task shares.
#[derive(Debug)]
pub struct Shared {
    /// The configuration.
    pub config: ServerConfig,
    /// Tokens and tickets.
    pub auth: auth::Auth,
    /// The lobby actor.
    pub lobby: mpsc::Sender<wiring::LobbyCmd>,
    /// Metrics.
    pub metrics: metrics::Metrics,
    /// Persistence.
    pub store: store::Store,
    /// Cancelled when the server shuts down.
    pub shutdown: CancellationToken,
    /// Connection ids.
    pub next_conn: AtomicU64,
    /// Hashes client addresses and chat match keys with this run's salt.
    pub hasher: gate::AddrHasher,
}

/// A bound server, ready to run.
#[derive(Debug)]
pub struct Server {
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
}

impl Server {
    /// Opens the data directory (making the signing key on first start) and binds the port.
    pub async fn bind(config: ServerConfig) -> Result<Server, ServerError> {
        let metrics = metrics::Metrics::default();
        let (store, key) =
            store::Store::open_counting(&config.data_dir, metrics.store_errors.clone())?;
        let listener = listen(config.listen).map_err(|source| ServerError::Listen {
            addr: config.listen,
            source,
        })?;
        let hasher = gate::AddrHasher::random();
        let lobby = lobby::spawn_lobby(
            config.clone(),
            metrics.clone(),
            store.clone(),
            hasher.clone(),
        );
        let shared = Arc::new(Shared {
            auth: auth::Auth::new(&key),
            config,
            lobby,
            metrics,
            store,
            shutdown: CancellationToken::new(),
            next_conn: AtomicU64::new(1),
            hasher,
        });
        Ok(Server { listener, shared })
    }

    /// The address it listens on (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or(self.shared.config.listen)
    }

    /// Cancel this to shut the server down gracefully: clients are told to reconnect.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shared.shutdown.clone()
    }

    /// Tokens for a local demo, for one new person: a host token for the agent, and a
    /// participant token for the page (`/#login=...`) that shows that person's side.
    pub fn demo_tokens(&self, ttl: Duration) -> (String, String) {
        let subject = format!("host:{}", auth::random_id());
        let auth = &self.shared.auth;
        (
            auth.mint(auth::Audience::Host, &subject, ttl),
            auth.mint(auth::Audience::Participant, &subject, ttl),
        )
    }

    /// What the connections share (metrics, store), for embedding and tests.
    pub fn shared(&self) -> Arc<Shared> {
        self.shared.clone()
    }

    /// Serves until the shutdown token is cancelled.
    pub async fn run(self) -> Result<(), ServerError> {
        let shutdown = self.shared.shutdown.clone();
        let app = http::router(self.shared.clone());
        use axum::serve::ListenerExt;
        // Terminal keystrokes and small frames must not wait for Nagle's algorithm.
        let listener = self.listener.tap_io(tune_socket);
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await?;
        // Give connection tasks a moment to send their goodbyes.
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(())
    }
}

/// Connections waiting to be accepted before the kernel drops new ones. A burst of reconnects
/// after a restart must not overflow it: a dropped connection attempt is retried only after a
/// second. The kernel caps it at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 4096;

fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Mints a host token against the signing key in `data_dir`, as `roulette token` does.
pub fn mint_host_token(data_dir: &Path, ttl: Duration) -> Result<String, ServerError> {
    let (_conn, key) = store::open_database(data_dir)?;
    let subject = format!("host:{}", auth::random_id());
    Ok(auth::Auth::new(&key).mint(auth::Audience::Host, &subject, ttl))
}

/// Sets every socket option the relay wants on an accepted stream.
pub fn tune_socket(stream: &mut tokio::net::TcpStream) {
    let _ = stream.set_nodelay(true);
}
