//! The chat roulette as people use it: `roulette chat` windows in tmux, talking through a real
//! server on a loopback port. Typed into with send-keys, read with capture-pane.

mod common;
use common::{Server, Tmux, server_with};

const BIN: &str = env!("CARGO_BIN_EXE_roulette");

fn server() -> Server {
    server_with(|config| {
        // Every window here comes from 127.0.0.1; the per-address caps (3 sockets, 5 searches
        // a minute) have their own tests in roulette-server/tests/chat.rs.
        config.chat.sockets_per_address = 8;
        config.chat.joins_per_minute = 60;
    })
}

/// Starts `roulette chat` in a new tmux session; when it exits, its status stays on screen.
fn chat(tmux: &Tmux, name: &str, server: &Server) {
    tmux.start(
        name,
        &format!(
            "sh -c '{BIN} chat --server {}; echo chat-exited-with=$?; sleep 60'",
            server.url
        ),
    );
}

/// The handle shown on the status line.
fn handle(tmux: &Tmux, name: &str) -> String {
    // The challenge comes after the welcome that names this window.
    let screen = tmux.wait_for(name, "Looking for someone who is waiting too");
    let line = screen.lines().find(|l| l.starts_with(" you: ")).unwrap();
    line.trim_start_matches(" you: ")
        .split(' ')
        .next()
        .unwrap()
        .to_string()
}

/// Who the window is talking to, once it is.
fn partner(tmux: &Tmux, name: &str, nth: usize) -> String {
    let screen = tmux.wait_count(name, "You are talking to ", nth);
    let line = screen
        .lines()
        .filter(|l| l.contains("You are talking to "))
        .nth(nth - 1)
        .unwrap();
    line.split("You are talking to ")
        .nth(1)
        .unwrap()
        .split('.')
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn two_windows_talk_skip_to_someone_new_and_quit_cleanly() {
    let server = server();
    let tmux = Tmux::new();
    chat(&tmux, "a", &server);
    chat(&tmux, "b", &server);
    let (a, b) = (handle(&tmux, "a"), handle(&tmux, "b"));
    assert_eq!(partner(&tmux, "a", 1), b);
    assert_eq!(partner(&tmux, "b", 1), a);

    tmux.keys("a", &["hello from the first window", "Enter"]);
    tmux.wait_for("b", &format!("{a}: hello from the first window"));
    tmux.keys("b", &["and hello back", "Enter"]);
    tmux.wait_for("a", &format!("{b}: and hello back"));
    tmux.keys("b", &["/insights", "Enter"]);
    tmux.wait_for("b", "2 online");
    tmux.wait_for("b", "2 messages");

    // A third person waits; a skips: someone is paired with the newcomer, a and b are not
    // paired again.
    chat(&tmux, "c", &server);
    let c = handle(&tmux, "c");
    tmux.wait_for("c", "looking for someone to talk to");
    tmux.keys("a", &["/skip", "Enter"]);
    tmux.wait_for("a", &format!("You skipped {b}"));
    tmux.wait_for("b", &format!("{a} moved on"));
    let with_c = partner(&tmux, "c", 1);
    assert!(with_c == a || with_c == b, "{with_c}");
    let (paired, waiting) = if with_c == a { ("a", "b") } else { ("b", "a") };
    assert_eq!(partner(&tmux, paired, 2), c);
    assert!(
        tmux.screen(waiting)
            .contains("looking for someone to talk to")
    );

    // c quits: its program ends cleanly and its partner looks for someone new.
    tmux.keys("c", &["/quit", "Enter"]);
    tmux.wait_for("c", "chat-exited-with=0");
    tmux.wait_for(paired, &format!("{c} left. Looking for someone new"));
}

#[test]
fn a_report_keeps_the_two_apart_for_good() {
    let server = server();
    let tmux = Tmux::new();
    chat(&tmux, "a", &server);
    chat(&tmux, "b", &server);
    let (a, b) = (handle(&tmux, "a"), handle(&tmux, "b"));
    assert_eq!(partner(&tmux, "a", 1), b);
    tmux.keys("a", &["/report rude words", "Enter"]);
    tmux.wait_for("a", &format!("You reported {b}"));
    tmux.wait_for("b", &format!("{a} left. Looking for someone new"));
    // Both look again; newcomers are paired with them, never they with each other.
    chat(&tmux, "c", &server);
    chat(&tmux, "d", &server);
    let (c, d) = (handle(&tmux, "c"), handle(&tmux, "d"));
    let (pa, pb) = (partner(&tmux, "a", 2), partner(&tmux, "b", 2));
    let mut got = [pa.clone(), pb.clone()];
    got.sort();
    let mut want = [c, d];
    want.sort();
    assert_eq!(got, want, "a met {pa}, b met {pb}");
}
