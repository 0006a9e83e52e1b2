//! The HTTP routes on the one port: the page, health, metrics, sign-in, tickets, and the two
//! WebSocket endpoints behind an exact Origin check.

use axum::Json;
use axum::Router;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use std::sync::Arc;

use crate::Shared;
use crate::auth::{Audience, random_id};
use crate::conn::run_connection;
use crate::wiring::Endpoint;
use roulette_transport::limits::{MAX_CONTROL_MESSAGE, MAX_PACKET};

/// The router for a server.
pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/metrics", get(metrics))
        .route("/api/guest", post(guest))
        .route("/api/ticket", post(ticket))
        .route("/ws", get(ws_participant))
        .route("/host", get(ws_host))
        .with_state(shared)
}

async fn index() -> Html<&'static str> {
    Html(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Roulette</title></head>\
         <body><h1>Roulette</h1><p>The relay is running. The browser app arrives with the next \
         release; until then join with <code>roulette join</code>.</p></body></html>",
    )
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

/// Exchanges a token (in the `Authorization: Bearer` header) for a single-use ticket.
async fn ticket(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let identity = token.and_then(|t| {
        shared
            .auth
            .verify(t, &[Audience::Participant, Audience::Host])
            .ok()
    });
    let Some(identity) = identity else {
        return (StatusCode::UNAUTHORIZED, "invalid or expired token\n").into_response();
    };
    let Some(audience) = identity.audience.ticket_for() else {
        return (StatusCode::UNAUTHORIZED, "invalid or expired token\n").into_response();
    };
    Json(TicketReply {
        ticket: shared
            .auth
            .mint(audience, &identity.subject, shared.config.ticket_ttl),
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

fn upgrade(
    shared: Arc<Shared>,
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
        .on_upgrade(move |socket| run_connection(socket, endpoint, shared))
}

async fn ws_participant(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(shared, headers, ws, Endpoint::Participant)
}

async fn ws_host(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(shared, headers, ws, Endpoint::Host)
}
