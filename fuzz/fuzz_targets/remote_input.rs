//! Any input from a remote driver, cut into frames at 0xff bytes: the bytes that reach the
//! agent never contain a back-tab (which would switch the agent's permission mode), and the
//! session never panics.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roulette_core::session::Output;
use roulette_core::{ParticipantId, RoomId, RoomKind, RoomSetup, Session, SessionConfig, Vote};
use std::time::Instant;

/// Whether a back-tab (`CSI ... Z`, or kitty's `CSI 9;<shift> u`) starts at `i`.
fn back_tab_at(bytes: &[u8], i: usize) -> bool {
    if bytes.get(i..i + 2) != Some(&b"\x1b["[..]) {
        return false;
    }
    let rest = &bytes[i + 2..];
    let n = rest.iter().take_while(|b| (0x20..=0x3f).contains(*b)).count();
    match rest.get(n) {
        Some(b'Z') => true,
        Some(b'u') => {
            let params = std::str::from_utf8(&rest[..n]).unwrap_or("");
            let mut parts = params.split(';');
            let key = parts.next();
            let mods = parts
                .next()
                .and_then(|m| m.split(':').next())
                .and_then(|m| m.parse::<u32>().ok())
                .unwrap_or(1);
            key == Some("9") && (mods.saturating_sub(1) & 1) == 1
        }
        _ => false,
    }
}

fuzz_target!(|data: &[u8]| {
    let (alice, bob) = (ParticipantId(1), ParticipantId(2));
    let now = Instant::now();
    let config = SessionConfig {
        host_approves_remote_lines: data.first().is_some_and(|b| b & 1 == 1),
        ..SessionConfig::default()
    };
    let setup = RoomSetup { room: RoomId(1), kind: RoomKind::Pairing, partners: [alice, bob], host: Some(alice) };
    let mut s = Session::new(config, now, setup).expect("valid setup");
    let idea = s.ideas().expect("planning")[0].id;
    s.handle_vote(now, alice, idea, Vote::Up).expect("vote");
    s.handle_vote(now, bob, idea, Vote::Up).expect("vote");
    s.handle_request_swap(now, bob).expect("swap");
    s.handle_answer_swap(now, alice, true).expect("swap");
    let mut sent = Vec::new();
    for frame in data.split(|b| *b == 0xff) {
        let _ = s.handle_terminal_input(now, bob, frame);
        if let Some(line) = s.held_line() {
            let _ = s.handle_decide_line(now, alice, line, true);
        }
        while let Some(output) = s.poll_output() {
            if let Output::AgentInput { bytes, .. } = output {
                sent.extend_from_slice(&bytes);
            }
        }
    }
    let found = (0..sent.len()).find(|&i| back_tab_at(&sent, i));
    assert!(found.is_none(), "back-tab reached the agent: {sent:?}");
});
