//! GitHub sign-in, the OAuth web flow: `GET /auth/github` sends the browser to GitHub with a
//! fresh `state` (also kept in a short-lived HttpOnly cookie); GitHub sends it back to
//! `GET /auth/github/callback` with a code, which the server exchanges for an access token
//! (with the client secret, server to server) and uses once to read the user's id and login.
//! The person is then `github:<id>`, shown by their login, and the page gets a participant
//! token in its address fragment (`/#login=...`), which it stores and removes.
//!
//! The access token is dropped at once; nothing from GitHub is stored or logged.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::Shared;
use crate::auth::{Audience, random_id};
use crate::config::GithubConfig;

const STATE_COOKIE: &str = "roulette_oauth_state";

/// The query GitHub sends back.
#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct TokenReply {
    access_token: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct User {
    id: u64,
    login: String,
}

fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("roulette/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default()
    })
}

/// The address the browser used to reach this server (behind a TLS proxy, the proxy says
/// `X-Forwarded-Proto: https`).
fn origin(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    if host.is_empty() || host.contains(['/', '\\', '@', ' ']) {
        return None;
    }
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|p| p.eq_ignore_ascii_case("https"));
    Some(format!("{}://{host}", if https { "https" } else { "http" }))
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (status, text).into_response()
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// `GET /auth/github`.
pub async fn start(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let Some(gh) = &shared.config.github else {
        return plain(StatusCode::NOT_FOUND, "GitHub sign-in is not configured\n");
    };
    let Some(origin) = origin(&headers) else {
        return plain(StatusCode::BAD_REQUEST, "bad Host header\n");
    };
    let state = random_id();
    let redirect = format!("{origin}/auth/github/callback");
    let Ok(url) = reqwest::Url::parse_with_params(
        &gh.authorize_url,
        &[
            ("client_id", gh.client_id.as_str()),
            ("redirect_uri", redirect.as_str()),
            ("state", state.as_str()),
            ("allow_signup", "true"),
        ],
    ) else {
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "bad GitHub address\n");
    };
    let mut res = StatusCode::FOUND.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(url.as_str()) {
        h.insert(header::LOCATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{STATE_COOKIE}={state}; Path=/auth/github; HttpOnly; SameSite=Lax; Max-Age=600"
    )) {
        h.insert(header::SET_COOKIE, v);
    }
    res
}

/// `GET /auth/github/callback`.
pub async fn callback(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> Response {
    let Some(gh) = &shared.config.github else {
        return plain(StatusCode::NOT_FOUND, "GitHub sign-in is not configured\n");
    };
    if query.error.is_some() {
        return plain(StatusCode::FORBIDDEN, "GitHub sign-in was cancelled\n");
    }
    let (Some(code), Some(state)) = (query.code, query.state) else {
        return plain(StatusCode::BAD_REQUEST, "missing code or state\n");
    };
    // The state must be the one this browser was sent off with.
    if cookie(&headers, STATE_COOKIE).as_deref() != Some(state.as_str()) || state.len() != 32 {
        return plain(
            StatusCode::BAD_REQUEST,
            "sign-in state does not match; start again\n",
        );
    }
    let Some(origin) = origin(&headers) else {
        return plain(StatusCode::BAD_REQUEST, "bad Host header\n");
    };
    let user = match fetch_user(gh, &code, &format!("{origin}/auth/github/callback")).await {
        Ok(user) => user,
        Err(why) => {
            tracing::warn!(why, "GitHub sign-in failed");
            return plain(
                StatusCode::BAD_GATEWAY,
                "GitHub sign-in failed; try again\n",
            );
        }
    };
    let token = shared.auth.mint_named(
        Audience::Participant,
        &format!("github:{}", user.id),
        Some(&user.login),
        shared.config.guest_token_ttl,
    );
    let mut res = StatusCode::FOUND.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&format!("/#login={token}")) {
        h.insert(header::LOCATION, v);
    }
    h.insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "roulette_oauth_state=; Path=/auth/github; HttpOnly; SameSite=Lax; Max-Age=0",
        ),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// Exchanges the code and reads the user. Errors say what failed, never with a secret.
async fn fetch_user(gh: &GithubConfig, code: &str, redirect: &str) -> Result<User, &'static str> {
    let reply: TokenReply = client()
        .post(&gh.token_url)
        .header(header::ACCEPT, "application/json")
        .form(&[
            ("client_id", gh.client_id.as_str()),
            ("client_secret", gh.client_secret.as_str()),
            ("code", code),
            ("redirect_uri", redirect),
        ])
        .send()
        .await
        .map_err(|_| "token request failed")?
        .error_for_status()
        .map_err(|_| "token request refused")?
        .json()
        .await
        .map_err(|_| "token reply unreadable")?;
    if reply.error.is_some() {
        return Err("code refused");
    }
    let access = reply.access_token.ok_or("no access token")?;
    let user: User = client()
        .get(format!("{}/user", gh.api_url))
        .header(header::ACCEPT, "application/vnd.github+json")
        .bearer_auth(access)
        .send()
        .await
        .map_err(|_| "user request failed")?
        .error_for_status()
        .map_err(|_| "user request refused")?
        .json()
        .await
        .map_err(|_| "user reply unreadable")?;
    if user.login.is_empty() || user.login.len() > 64 {
        return Err("odd login");
    }
    Ok(user)
}
