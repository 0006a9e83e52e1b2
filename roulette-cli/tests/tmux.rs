//! The terminal frontends as a person uses them: `roulette demo` in one tmux pane,
//! `roulette join` in another, typed into with send-keys and read with capture-pane.

use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_roulette");

mod common;
use common::Tmux;

#[test]
fn a_session_between_two_terminals() {
    let tmux = Tmux::new();
    let data = tempfile::tempdir().unwrap();
    tmux.start(
        "host",
        &format!(
            "env XDG_DATA_HOME={} SHELL=/bin/sh {BIN} demo --listen 127.0.0.1:0",
            data.path().display()
        ),
    );
    let screen = tmux.wait_for("host", "waiting for a partner");
    let join = screen
        .lines()
        .find(|l| l.starts_with("roulette join --server "))
        .expect("the demo prints how to join")
        .trim()
        .replacen("roulette", BIN, 1);
    tmux.start("partner", &join);
    tmux.wait_for("partner", "vote within");
    tmux.wait_for("host", "vote within");
    tmux.keys("partner", &["C-]", "/vote 1", "Enter"]);
    tmux.keys("host", &["C-]", "/vote 1", "Enter"]);
    tmux.wait_for("partner", "building");

    // The host drives: its command runs and both screens show the result.
    tmux.keys("host", &["echo hel''lo-from-host", "Enter"]);
    tmux.wait_for("host", "hello-from-host");
    tmux.wait_for("partner", "hello-from-host");
    // The partner navigates: refused.
    tmux.keys("partner", &["x", "Enter"]);
    tmux.wait_for("partner", "refused: only the driver may do this");
    // Chat both ways.
    tmux.keys("partner", &["C-]", "/chat nice one", "Enter"]);
    tmux.wait_for("host", "nice one");
    // Swap, and the partner drives.
    tmux.keys("partner", &["C-]", "/swap", "Enter"]);
    tmux.wait_for("host", "asks to swap roles");
    tmux.keys("host", &["C-]", "/accept", "Enter"]);
    tmux.wait_for("partner", "drives now");
    tmux.keys("partner", &["echo par''tner-drives", "Enter"]);
    // By default a line from a driver who is not the host waits for the host's approval.
    tmux.wait_for(
        "host",
        "your partner wants to submit: echo par''tner-drives",
    );
    assert!(!tmux.screen("host").contains("\npartner-drives"));
    tmux.keys("host", &["C-y"]);
    tmux.wait_for("partner", "\npartner-drives");
    tmux.wait_for("host", "\npartner-drives");
    // The partner quits; the host goes back to waiting.
    tmux.keys("partner", &["C-]", "/quit", "Enter"]);
    tmux.wait_for("host", "session over");
}

#[test]
fn host_and_partner_come_back_by_themselves_after_a_server_restart() {
    let tmux = Tmux::new();
    let data = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let serve = format!(
        "{BIN} serve --listen 127.0.0.1:{port} --data-dir {}",
        data.path().display()
    );
    tmux.start("server", &serve);
    tmux.wait_for("server", "listening");
    let token = roulette_server::mint_host_token(data.path(), Duration::from_secs(3600)).unwrap();
    let url = format!("http://127.0.0.1:{port}");
    tmux.start(
        "host",
        &format!("env ROULETTE_TOKEN={token} {BIN} host --server {url} --cmd sh"),
    );
    tmux.wait_for("host", "waiting for a partner");
    tmux.start("partner", &format!("{BIN} join --server {url}"));
    tmux.wait_for("partner", "matched with");
    // The server dies abruptly (its terminal goes away: SIGHUP, no goodbye); then a new one
    // comes up on the same port and data.
    tmux.run(&["kill-session", "-t", "server"]);
    tmux.wait_for("host", "reconnecting");
    tmux.wait_for("partner", "reconnecting");
    tmux.start("server-again", &serve);
    tmux.wait_for("server-again", "listening");
    // Both reconnect on their own, the host with the same token.
    tmux.wait_count("host", "connected to the relay as", 2);
    tmux.wait_count("partner", "connected as", 2);
    // The session lived in the old process; the two are paired again.
    tmux.wait_count("partner", "matched with", 2);
    tmux.wait_count("host", "matched with", 2);
    assert!(!tmux.screen("host").contains("refused the host token"));
}
