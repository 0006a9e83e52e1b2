//! The HTTP routes on the one port: the page, health, metrics, sign-in, tickets, and the two
//! WebSocket endpoints behind an exact Origin check.

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use std::sync::Arc;

use crate::Shared;
use crate::assets;
use crate::auth::{Audience, random_id};
use crate::conn::run_connection;
use crate::wiring::Endpoint;
use roulette_transport::limits::{MAX_CONTROL_MESSAGE, MAX_PACKET};

/// The router for a server.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/invite/{code}", get(assets::index))
        .route("/assets/app.js", get(assets::app_js))
        .route("/assets/style.css", get(assets::style_css))
        .route("/api/config", get(config))
        .route("/api/host-token", post(host_token))
        .route("/auth/github", get(crate::github::start))
        .route("/auth/github/callback", get(crate::github::callback))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/api/guest", post(guest))
        .route("/api/ticket", post(ticket))
        .route("/ws", get(ws_participant))
        .route("/host", get(ws_host))
        .route("/chat", get(ws_chat))
        .with_state(shared)
}

async fn metrics(State(shared): State<Arc<Shared>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        shared.metrics.encode(),
    )
}

#[derive(Serialize)]
struct TokenReply {
    token: String,
}

#[derive(Serialize)]
struct TicketReply {
    ticket: String,
}

/// Anonymous guest sign-in: a participant token for a new subject.
async fn guest(State(shared): State<Arc<Shared>>) -> Json<TokenReply> {
    let subject = format!("guest:{}", random_id());
    Json(TokenReply {
        token: shared.auth.mint(
            Audience::Participant,
            &subject,
            shared.config.guest_token_ttl,
        ),
    })
}

#[derive(Serialize)]
struct ConfigReply {
    github: bool,
}

/// What the page needs to know about the server: which sign-ins it offers.
async fn config(State(shared): State<Arc<Shared>>) -> Json<ConfigReply> {
    Json(ConfigReply {
        github: shared.config.github.is_some(),
    })
}

/// The identity behind an `Authorization: Bearer` token of one of `audiences`.
fn bearer(
    shared: &Shared,
    headers: &HeaderMap,
    audiences: &[Audience],
) -> Option<crate::auth::Identity> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))?;
    shared.auth.verify(token, audiences).ok()
}

/// A host token for the signed-in person (the page's "Host" button): `roulette host` with it
/// hosts for the same person the page belongs to.
async fn host_token(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let Some(identity) = bearer(&shared, &headers, &[Audience::Participant]) else {
        return (StatusCode::UNAUTHORIZED, "invalid or expired token\n").into_response();
    };
    Json(TokenReply {
        token: shared.auth.mint_named(
            Audience::Host,
            &identity.subject,
            identity.name.as_deref(),
            shared.config.host_token_ttl,
        ),
    })
    .into_response()
}

/// Exchanges a token (in the `Authorization: Bearer` header) for a single-use ticket.
async fn ticket(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let identity = bearer(&shared, &headers, &[Audience::Participant, Audience::Host]);
    let Some(identity) = identity else {
        return (StatusCode::UNAUTHORIZED, "invalid or expired token\n").into_response();
    };
    let Some(audience) = identity.audience.ticket_for() else {
        return (StatusCode::UNAUTHORIZED, "invalid or expired token\n").into_response();
    };
    Json(TicketReply {
        ticket: shared.auth.mint_named(
            audience,
            &identity.subject,
            identity.name.as_deref(),
            shared.config.ticket_ttl,
        ),
    })
    .into_response()
}

/// Whether a browser page from `origin` may open a WebSocket here: the server's own origin
/// (same host as requested) or one configured. Requests without `Origin` come from programs,
/// not pages, and are allowed.
fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    if allowed.iter().any(|a| a == origin) {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    host.is_some_and(|host| {
        origin == format!("http://{host}") || origin == format!("https://{host}")
    })
}

/// The client's address key: the socket's peer, or through the trusted proxy hops.
fn client_addr(
    shared: &Shared,
    peer: std::net::SocketAddr,
    headers: &HeaderMap,
) -> crate::gate::AddrKey {
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    let ip = crate::gate::client_ip(peer.ip(), forwarded, shared.config.trusted_proxy_hops);
    shared.hasher.key(ip)
}

fn upgrade(
    shared: Arc<Shared>,
    peer: std::net::SocketAddr,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
    endpoint: Endpoint,
) -> Response {
    if !origin_allowed(&headers, &shared.config.allowed_origins) {
        shared.metrics.violations.inc();
        return (StatusCode::FORBIDDEN, "origin not allowed\n").into_response();
    }
    let open = shared.metrics.connections.get();
    if open >= 0 && open as usize >= shared.config.limits.max_connections {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections\n").into_response();
    }
    // The WebSocket layer's cap is four times the protocol's, so that messages just over the
    // protocol's limits reach the connection task, which closes with the documented code.
    ws.max_message_size(4 * MAX_PACKET.max(MAX_CONTROL_MESSAGE))
        .max_frame_size(4 * MAX_PACKET.max(MAX_CONTROL_MESSAGE))
        // Small buffers keep idle connections cheap; they grow for bursts.
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            let addr = client_addr(&shared, peer, &headers);
            run_connection(socket, endpoint, shared, addr, None)
        })
}

async fn ws_participant(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(shared, peer, headers, ws, Endpoint::Participant)
}

async fn ws_host(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(shared, peer, headers, ws, Endpoint::Host)
}

/// The chat roulette: before the upgrade, the client's address (through the trusted proxy
/// hops) must not be banned or have its share of sockets open; frames are capped small.
async fn ws_chat(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !origin_allowed(&headers, &shared.config.allowed_origins) {
        shared.metrics.violations.inc();
        return (StatusCode::FORBIDDEN, "origin not allowed\n").into_response();
    }
    let open = shared.metrics.connections.get();
    if open >= 0 && open as usize >= shared.config.limits.max_connections {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections\n").into_response();
    }
    let addr = client_addr(&shared, peer, &headers);
    let (reply, answer) = tokio::sync::oneshot::channel();
    if shared
        .lobby
        .send(crate::wiring::LobbyCmd::Admit {
            addr: addr.clone(),
            reply,
        })
        .await
        .is_err()
    {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    }
    match answer.await {
        Ok(Ok(())) => {}
        Ok(Err(crate::gate::Refusal::Banned(left))) => {
            let minutes = left.as_secs().div_ceil(60).max(1);
            return (
                StatusCode::FORBIDDEN,
                format!("banned after repeated violations; try again in {minutes} min\n"),
            )
                .into_response();
        }
        Ok(Err(crate::gate::Refusal::TooManySockets)) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                "too many connections from your address\n",
            )
                .into_response();
        }
        Err(_) => {
            return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
        }
    }
    let permit = crate::gate::AddrPermit::new(addr.clone(), shared.lobby.clone());
    let cap = shared.config.chat.max_frame;
    ws.max_message_size(cap)
        .max_frame_size(cap)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            run_connection(socket, Endpoint::Chat, shared, addr, Some(permit))
        })
}
