//! The agent's environment: an allow-list, plus what the host names explicitly.
//!
//! The host's shell usually holds secrets (cloud credentials, tokens, API keys). A stranger
//! steering the agent could print them, so by default only what a terminal program needs to run
//! reaches the PTY.

/// Variables passed through by default: what a terminal program needs to run.
pub const ALLOWED: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TMPDIR",
    "COLORTERM",
];

/// Variable prefixes passed through by default (locale settings).
pub const ALLOWED_PREFIXES: &[&str] = &["LC_"];

/// The terminal type the agent sees.
pub const TERM: &str = "xterm-256color";

/// The environment for the agent: from `host`, the allowed variables and those named in
/// `pass`; then every pair in `set`; and `TERM`.
pub fn child_env(
    host: impl IntoIterator<Item = (String, String)>,
    pass: &[String],
    set: &[(String, String)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = host
        .into_iter()
        .filter(|(k, _)| {
            ALLOWED.contains(&k.as_str())
                || ALLOWED_PREFIXES.iter().any(|p| k.starts_with(p))
                || pass.iter().any(|p| p == k)
        })
        .collect();
    for (k, v) in set {
        env.retain(|(existing, _)| existing != k);
        env.push((k.clone(), v.clone()));
    }
    env.retain(|(k, _)| k != "TERM");
    env.push(("TERM".into(), TERM.into()));
    env
}
