//! The in-process implementation of what several nodes would share.

use roulette_core::{
    Candidate, MatchKey, MatchmakerConfig, MatchmakerOutput, ParticipantId, RoomId, RoomKind,
};
use roulette_server::shared::{InProcess, SharedState};
use std::time::{Duration, Instant};

fn candidate(n: u64, can_host: bool) -> Candidate {
    Candidate {
        participant: ParticipantId(n),
        key: MatchKey::new(format!("k{n}")),
        kind: RoomKind::Pairing,
        can_host,
        latency: Duration::from_millis(10),
    }
}

#[test]
fn the_queue_pairs_through_the_interface() {
    let t = Instant::now();
    let mut shared: Box<dyn SharedState> =
        Box::new(InProcess::new("a", MatchmakerConfig::default()));
    shared.enqueue(t, candidate(1, false)).unwrap();
    assert_eq!(shared.position(ParticipantId(1)), Some(1));
    assert_eq!(shared.queue_len(), 1);
    shared.enqueue(t, candidate(2, true)).unwrap();
    assert!(
        matches!(shared.poll_output(), Some(MatchmakerOutput::Matched(m)) if m.host == Some(ParticipantId(2)))
    );
    assert_eq!(shared.queue_len(), 0);
}

#[test]
fn a_room_has_one_owner() {
    let mut node = InProcess::new("node-a", MatchmakerConfig::default());
    assert!(node.claim_room(RoomId(1)));
    assert!(
        node.claim_room(RoomId(1)),
        "claiming one's own room again is fine"
    );
    assert_eq!(node.room_owner(RoomId(1)).as_deref(), Some("node-a"));
    node.release_room(RoomId(1));
    assert_eq!(node.room_owner(RoomId(1)), None);
}

#[test]
fn bans_lapse_at_their_time() {
    let t = Instant::now();
    let mut node = InProcess::new("a", MatchmakerConfig::default());
    node.ban("client-x", t + Duration::from_secs(900));
    // A shorter ban never shortens a longer one.
    node.ban("client-x", t + Duration::from_secs(10));
    assert!(node.is_banned("client-x", t + Duration::from_secs(899)));
    assert!(!node.is_banned("client-y", t));
    assert_eq!(node.poll_timeout(), Some(t + Duration::from_secs(900)));
    node.handle_timeout(t + Duration::from_secs(900));
    assert!(!node.is_banned("client-x", t + Duration::from_secs(900)));
    assert_eq!(node.poll_timeout(), None);
}
