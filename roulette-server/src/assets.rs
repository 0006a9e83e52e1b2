//! The browser app, built from `web/` by the build script and embedded in the binary, served
//! with a strict Content-Security-Policy.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The page (every route of the app serves it).
pub const INDEX_HTML: &str = include_str!(concat!(env!("OUT_DIR"), "/web/index.html"));
/// The app's script (TypeScript and xterm.js, bundled).
pub const APP_JS: &str = include_str!(concat!(env!("OUT_DIR"), "/web/app.js"));
/// The app's stylesheet (xterm.js's included).
pub const STYLE_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/web/style.css"));

/// Scripts only from this origin, no inline script, no framing, connections only back here.
/// Inline styles stay allowed: xterm.js positions its rows with them.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

fn respond(body: &'static str, content_type: &'static str, cache: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Invite codes live in page addresses: they must not leak to other sites.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

/// `GET /`, `GET /invite/{code}`.
pub async fn index() -> Response {
    respond(INDEX_HTML, "text/html; charset=utf-8", "no-cache")
}

/// `GET /assets/app.js`.
pub async fn app_js() -> Response {
    respond(APP_JS, "text/javascript; charset=utf-8", "no-cache")
}

/// `GET /assets/style.css`.
pub async fn style_css() -> Response {
    respond(STYLE_CSS, "text/css; charset=utf-8", "no-cache")
}
