//! Server configuration, with embedded defaults: `ServerConfig::default()` runs a working server.

use roulette_core::{MatchmakerConfig, SessionConfig};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Everything the server can be told. The defaults need no file, flag or environment.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where to listen. Default: `127.0.0.1:7878`.
    pub listen: SocketAddr,
    /// Where the SQLite database (signing key, invites, reports, counters) lives.
    pub data_dir: PathBuf,
    /// Origins allowed to open WebSockets, besides the server's own. Requests without an
    /// `Origin` header (non-browser clients) are allowed.
    pub allowed_origins: Vec<String>,
    /// Session durations and limits.
    pub session: SessionConfig,
    /// Matchmaking durations and limits.
    pub matchmaker: MatchmakerConfig,
    /// Connection limits.
    pub limits: Limits,
    /// How long tokens minted by guest sign-in stay valid.
    pub guest_token_ttl: Duration,
    /// How long a single-use ticket stays valid.
    pub ticket_ttl: Duration,
    /// How long a host token minted by `roulette token` stays valid.
    pub host_token_ttl: Duration,
    /// GitHub sign-in, when a client id and secret are configured.
    pub github: Option<GithubConfig>,
    /// The chat roulette's limits (the `/chat` endpoint).
    pub chat: ChatLimits,
    /// Reverse proxies in front of the server whose `X-Forwarded-For` entries are trusted,
    /// counted from the right. Zero: the header is ignored and the socket's peer is the client.
    pub trusted_proxy_hops: usize,
}

/// The chat roulette's limits: anonymous strangers get little, and pay a little to queue.
#[derive(Clone, Debug)]
pub struct ChatLimits {
    /// Chat messages a socket may send: one per this interval (no burst).
    pub message_interval: Duration,
    /// Longest chat message, in characters.
    pub max_chars: usize,
    /// Largest WebSocket message or frame, in bytes; larger ones close the socket (1009).
    pub max_frame: usize,
    /// Least time between two skips (or reports) of one socket.
    pub skip_interval: Duration,
    /// Most sockets open at once from one client address.
    pub sockets_per_address: usize,
    /// Most queue joins per client address per minute.
    pub joins_per_minute: u32,
    /// Most invite redemptions per client address per minute (on every endpoint): guessing
    /// codes is slow even before their 128 bits.
    pub redeems_per_minute: u32,
    /// Violations from one address (within `ban_for`) that earn it a temporary ban.
    pub violations_before_ban: u32,
    /// How long a ban lasts.
    pub ban_for: Duration,
    /// Leading zero bits the proof of work needs.
    pub pow_bits: u8,
    /// Time a socket has to solve it.
    pub pow_deadline: Duration,
    /// How often the server pings a chat socket.
    pub heartbeat: Duration,
    /// Pings that may go unanswered before the socket is closed.
    pub missed_heartbeats: u32,
}

impl Default for ChatLimits {
    fn default() -> Self {
        Self {
            message_interval: Duration::from_secs(1),
            max_chars: 500,
            max_frame: 16 * 1024,
            skip_interval: Duration::from_millis(500),
            sockets_per_address: 3,
            joins_per_minute: 5,
            redeems_per_minute: 10,
            violations_before_ban: 10,
            ban_for: Duration::from_secs(15 * 60),
            pow_bits: 16,
            pow_deadline: Duration::from_secs(10),
            heartbeat: Duration::from_secs(15),
            missed_heartbeats: 2,
        }
    }
}

/// An OAuth app on GitHub (or a stand-in speaking the same protocol, for tests).
#[derive(Clone)]
pub struct GithubConfig {
    /// The OAuth app's client id.
    pub client_id: String,
    /// The OAuth app's client secret.
    pub client_secret: String,
    /// Where users authorize the app.
    pub authorize_url: String,
    /// Where the server exchanges a code for an access token.
    pub token_url: String,
    /// The API's base address (`/user` is read from it).
    pub api_url: String,
}

impl GithubConfig {
    /// GitHub itself, for this client id and secret.
    pub fn new(client_id: String, client_secret: String) -> Self {
        Self {
            client_id,
            client_secret,
            authorize_url: "https://github.com/login/oauth/authorize".into(),
            token_url: "https://github.com/login/oauth/access_token".into(),
            api_url: "https://api.github.com".into(),
        }
    }
}

impl std::fmt::Debug for GithubConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log.
        f.debug_struct("GithubConfig")
            .field("client_id", &self.client_id)
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

/// Per-connection and global limits.
#[derive(Clone, Debug)]
pub struct Limits {
    /// A connection must complete `hello` within this time.
    pub auth_deadline: Duration,
    /// Most connections at once.
    pub max_connections: usize,
    /// Control messages a connection may send per second (burst and sustained).
    pub messages_per_second: u32,
    /// Terminal input frames a connection may send per second.
    pub input_frames_per_second: u32,
    /// Violations (bad frames, refused messages over the rate) before a connection is closed.
    pub max_violations: u32,
    /// Outbound messages queued per connection before terminal output is skipped for it.
    pub outbound_queue: usize,
    /// Bytes of recent terminal output each room keeps for resuming viewers.
    pub replay_bytes: usize,
    /// Most output a viewer that acknowledges may have unacknowledged: what can sit between
    /// the relay and a slow screen.
    pub viewer_window: usize,
    /// A viewer whose backlog would take longer than this to deliver at its own pace skips
    /// ahead to a snapshot of the screen.
    pub max_backlog: Duration,
    /// How often the server pings each connection to measure latency.
    pub ping_interval: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            auth_deadline: Duration::from_secs(10),
            max_connections: 20_000,
            messages_per_second: 20,
            input_frames_per_second: 200,
            max_violations: 10,
            outbound_queue: 64,
            replay_bytes: 8 * 1024 * 1024,
            viewer_window: 512 * 1024,
            max_backlog: Duration::from_millis(150),
            ping_interval: Duration::from_secs(15),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
            data_dir: default_data_dir(),
            allowed_origins: Vec::new(),
            session: SessionConfig::default(),
            matchmaker: MatchmakerConfig::default(),
            limits: Limits::default(),
            guest_token_ttl: Duration::from_secs(24 * 60 * 60),
            ticket_ttl: Duration::from_secs(60),
            host_token_ttl: Duration::from_secs(30 * 24 * 60 * 60),
            github: None,
            chat: ChatLimits::default(),
            trusted_proxy_hops: 0,
        }
    }
}

/// `$XDG_DATA_HOME/roulette`, else `~/.local/share/roulette`, else `./roulette-data`.
pub fn default_data_dir() -> PathBuf {
    if let Some(xdg) = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(xdg).join("roulette");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|v| !v.is_empty()) {
        return PathBuf::from(home).join(".local/share/roulette");
    }
    PathBuf::from("roulette-data")
}
