//! The matchmaker's rules: FIFO, host choice, chat rooms, one slot per key, invites,
//! separations and requeueing.

use roulette_core::invite::{INVITE_CODE_LEN, InviteCode};
use roulette_core::{
    Candidate, Match, MatchError, MatchKey, MatchVia, Matchmaker, MatchmakerConfig,
    MatchmakerOutput, ParticipantId, RoomKind, Separation,
};
use std::collections::HashSet;
use std::time::{Duration, Instant};

fn who(n: u64, can_host: bool, latency_ms: u64) -> Candidate {
    Candidate {
        participant: ParticipantId(n),
        key: MatchKey::new(format!("key-{n}")),
        kind: RoomKind::Pairing,
        can_host,
        latency: Duration::from_millis(latency_ms),
    }
}

fn chatter(n: u64) -> Candidate {
    Candidate {
        kind: RoomKind::Chat,
        can_host: false,
        ..who(n, false, 10)
    }
}

fn matches(m: &mut Matchmaker) -> Vec<Match> {
    std::iter::from_fn(|| m.poll_output())
        .filter_map(|o| match o {
            MatchmakerOutput::Matched(x) => Some(x),
            _ => None,
        })
        .collect()
}

fn pair_of(m: &Match) -> (u64, u64) {
    (m.partners[0].participant.0, m.partners[1].participant.0)
}

fn code(n: u8) -> InviteCode {
    InviteCode::from_entropy([n; 16])
}

#[test]
fn two_entries_pair_only_when_one_can_host() {
    let t = Instant::now();
    let mut mm = Matchmaker::new(MatchmakerConfig::default());
    mm.enqueue(t, who(1, false, 10)).unwrap();
    mm.enqueue(t, who(2, false, 10)).unwrap();
    assert!(matches(&mut mm).is_empty());
    assert_eq!(mm.queue_len(), 2);
    mm.enqueue(t, who(3, true, 50)).unwrap();
    let made = matches(&mut mm);
    assert_eq!(made.len(), 1);
    // FIFO: the newcomer pairs with the one who waited longest; the one who can host hosts.
    assert_eq!(pair_of(&made[0]), (3, 1));
    assert_eq!(made[0].host, Some(ParticipantId(3)));
    assert_eq!(made[0].via, MatchVia::Queue);
    assert_eq!(mm.queue_len(), 1);
    assert_eq!(mm.position(ParticipantId(2)), Some(1));
}

#[test]
fn when_both_can_host_the_lower_latency_hosts_and_queue_order_breaks_ties() {
    let t = Instant::now();
    let mut mm = Matchmaker::new(MatchmakerConfig::default());
    mm.enqueue(t, who(1, true, 80)).unwrap();
    mm.enqueue(t, who(2, true, 20)).unwrap();
    assert_eq!(matches(&mut mm)[0].host, Some(ParticipantId(2)));

    mm.enqueue(t, who(3, true, 20)).unwrap();
    mm.enqueue(t, who(4, true, 80)).unwrap();
    assert_eq!(matches(&mut mm)[0].host, Some(ParticipantId(3)));

    mm.enqueue(t, who(5, true, 30)).unwrap();
    mm.enqueue(t, who(6, true, 30)).unwrap();
    assert_eq!(matches(&mut mm)[0].host, Some(ParticipantId(5)));
}

#[test]
fn latency_updates_change_who_hosts() {
    let t = Instant::now();
    let mut mm = Matchmaker::new(MatchmakerConfig::default());
    mm.enqueue(t, who(1, true, 10)).unwrap();
    mm.update_latency(ParticipantId(1), Duration::from_millis(500));
    mm.enqueue(t, who(2, true, 100)).unwrap();
    assert_eq!(matches(&mut mm)[0].host, Some(ParticipantId(2)));
}

#[test]
fn a_host_agent_connecting_pairs_someone_already_waiting() {
    let t = Instant::now();
    let mut mm = Matchmaker::new(MatchmakerConfig::default());
    mm.enqueue(t, who(1, false, 10)).unwrap();
    mm.enqueue(t, who(2, false, 10)).unwrap();
    mm.set_can_host(t, ParticipantId(2), true);
    let made = matches(&mut mm);
    assert_eq!(pair_of(&made[0]), (2, 1));
    assert_eq!(made[0].host, Some(ParticipantId(2)));
}

#[test]
fn chat_rooms_pair_any_two_chatters_and_never_mix_with_pairing() {
    let t = Instant::now();
    let mut mm = Matchmaker::new(MatchmakerConfig::default());
    mm.enqueue(t, who(1, true, 10)).unwrap();
    mm.enqueue(t, chatter(2)).unwrap();
    assert!(matches(&mut mm).is_empty());
    mm.enqueue(t, chatter(3)).unwrap();
    let made = matches(&mut mm);
    assert_eq!(pair_of(&made[0]), (2, 3));
    assert_eq!(made[0].kind, RoomKind::Chat);
    assert_eq!(made[0].host, None);
}

#[test]
fn one_queue_slot_per_match_key() {
    let t = Instant::now();
    let mut mm = Matchmaker::new(MatchmakerConfig::default());
    mm.enqueue(t, who(1, false, 10)).unwrap();
    assert_eq!(
        mm.enqueue(t, who(1, false, 10)),
        Err(MatchError::AlreadyWaiting)
    );
    // A second device of the same person (same key, new participant) is refused too.
    let same_person = Candidate {
        participant: ParticipantId(77),
        ..who(1, true, 10)
    };
    assert_eq!(mm.enqueue(t, same_person), Err(MatchError::AlreadyWaiting));
    assert_eq!(mm.queue_len(), 1);
}

#[test]
fn leaving_frees_the_slot() {
    let t = Instant::now();
    let mut mm = Matchmaker::new(MatchmakerConfig::default());
    mm.enqueue(t, who(1, false, 10)).unwrap();
    mm.leave(ParticipantId(1)).unwrap();
    assert_eq!(mm.leave(ParticipantId(1)), Err(MatchError::NotWaiting));
    assert_eq!(mm.queue_len(), 0);
    mm.enqueue(t, who(1, false, 10)).unwrap();
}

#[test]
fn the_queue_is_bounded() {
    let t = Instant::now();
    let mut mm = Matchmaker::new(MatchmakerConfig {
        max_queue: 2,
        ..MatchmakerConfig::default()
    });
    mm.enqueue(t, who(1, false, 10)).unwrap();
    mm.enqueue(t, who(2, false, 10)).unwrap();
    assert_eq!(mm.enqueue(t, who(3, false, 10)), Err(MatchError::QueueFull));
}

#[test]
fn invite_codes_carry_128_bits_and_only_their_hash_is_kept() {
    let a = InviteCode::from_entropy([1; 16]);
    assert_eq!(a.as_str().len(), INVITE_CODE_LEN);
    assert!(
        a.as_str()
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    );
    // Every one of the 128 bits matters: flipping any one gives a different code.
    let mut codes = HashSet::new();
    for bit in 0..128 {
        let mut bytes = [0u8; 16];
        bytes[bit / 8] |= 1 << (bit % 8);
        codes.insert(InviteCode::from_entropy(bytes).as_str().to_string());
    }
    assert_eq!(codes.len(), 128);
    assert!(
        !format!("{a:?}").contains(a.as_str()),
        "Debug leaks the code"
    );

    let t = Instant::now();
    let mut mm = Matchmaker::new(MatchmakerConfig::default());
    let invite = mm.create_invite(t, who(1, true, 10), &a).unwrap();
    assert_eq!(invite.hash, a.hash());
    let stored = format!("{:?}", mm.invites().collect::<Vec<_>>());
    assert!(!stored.contains(a.as_str()));
    assert_eq!(mm.invites().next().unwrap().hash.to_hex().len(), 64);
}

#[test]
fn an_invite_pairs_the_inviter_with_whoever_redeems_it_once() {
    let t = Instant::now();
    let mut mm = Matchmaker::new(MatchmakerConfig::default());
    // Strangers waiting in the queue are not involved.
    mm.enqueue(t, who(9, false, 10)).unwrap();
    mm.create_invite(t, who(1, true, 10), &code(1)).unwrap();
    assert!(
        matches(&mut mm).is_empty(),
        "an inviter is not in the queue"
    );
    // Codes are accepted as typed: any case, surrounding spaces.
    let typed = format!("  {}  ", code(1).as_str().to_uppercase());
    mm.redeem_invite(t, &typed, who(2, false, 10)).unwrap();
    let made = matches(&mut mm);
    assert_eq!(pair_of(&made[0]), (1, 2));
    assert_eq!(made[0].via, MatchVia::Invite);
    assert_eq!(made[0].host, Some(ParticipantId(1)));
    assert_eq!(
        mm.redeem_invite(t, code(1).as_str(), who(3, true, 10)),
        Err(MatchError::InviteInvalid)
    );
    assert_eq!(mm.queue_len(), 1);
}

#[test]
fn every_invite_failure_answers_the_same() {
    let t = Instant::now();
    let ttl = Duration::from_secs(600);
    let mut mm = Matchmaker::new(MatchmakerConfig {
        invite_ttl: ttl,
        ..MatchmakerConfig::default()
    });
    mm.create_invite(t, who(1, true, 10), &code(1)).unwrap();
    let bad = [
        "".to_string(),
        "nonsense".to_string(),
        "x".repeat(5000),
        code(2).as_str().to_string(),
        format!("{}a", code(1).as_str()),
    ];
    for guess in &bad {
        assert_eq!(
            mm.redeem_invite(t, guess, who(2, false, 10)),
            Err(MatchError::InviteInvalid)
        );
    }
    // One's own code.
    assert_eq!(
        mm.redeem_invite(t, code(1).as_str(), who(1, false, 10)),
        Err(MatchError::InviteInvalid)
    );
    // Failures spent nothing; an expired code fails the same way.
    assert_eq!(mm.invites().count(), 1);
    assert_eq!(
        mm.redeem_invite(t + ttl, code(1).as_str(), who(2, false, 10)),
        Err(MatchError::InviteInvalid)
    );
}

#[test]
fn an_unredeemed_invite_expires() {
    let t = Instant::now();
    let ttl = Duration::from_secs(600);
    let mut mm = Matchmaker::new(MatchmakerConfig {
        invite_ttl: ttl,
        ..MatchmakerConfig::default()
    });
    mm.create_invite(t, who(1, true, 10), &code(1)).unwrap();
    assert_eq!(mm.poll_timeout(), Some(t + ttl));
    mm.handle_timeout(t + ttl - Duration::from_secs(1));
    assert_eq!(mm.invites().count(), 1);
    mm.handle_timeout(t + ttl);
    assert_eq!(mm.invites().count(), 0);
    assert_eq!(
        mm.poll_output(),
        Some(MatchmakerOutput::InviteExpired(code(1).hash()))
    );
    // The inviter may wait again.
    mm.enqueue(t + ttl, who(1, true, 10)).unwrap();
}

#[test]
fn a_pairing_invite_needs_a_host_and_stays_open_until_there_is_one() {
    let t = Instant::now();
    let mut mm = Matchmaker::new(MatchmakerConfig::default());
    mm.create_invite(t, who(1, false, 10), &code(1)).unwrap();
    assert_eq!(
        mm.redeem_invite(t, code(1).as_str(), who(2, false, 10)),
        Err(MatchError::NoHost)
    );
    mm.set_can_host(t, ParticipantId(1), true);
    mm.redeem_invite(t, code(1).as_str(), who(2, false, 10))
        .unwrap();
    assert_eq!(matches(&mut mm).len(), 1);
}

#[test]
fn an_inviter_holds_one_slot() {
    let t = Instant::now();
    let mut mm = Matchmaker::new(MatchmakerConfig::default());
    mm.create_invite(t, who(1, true, 10), &code(1)).unwrap();
    assert_eq!(
        mm.enqueue(t, who(1, true, 10)),
        Err(MatchError::AlreadyWaiting)
    );
    assert_eq!(
        mm.create_invite(t, who(1, true, 10), &code(2)),
        Err(MatchError::AlreadyWaiting)
    );
    mm.leave(ParticipantId(1)).unwrap();
    assert_eq!(mm.invites().count(), 0);
}

#[test]
fn an_invite_survives_a_restart_through_its_hash() {
    let t = Instant::now();
    let mut before = Matchmaker::new(MatchmakerConfig::default());
    let invite = before.create_invite(t, who(1, true, 10), &code(1)).unwrap();
    let mut after = Matchmaker::new(MatchmakerConfig::default());
    after.restore_invite(t, invite);
    after
        .redeem_invite(t, code(1).as_str(), who(2, false, 10))
        .unwrap();
    assert_eq!(matches(&mut after).len(), 1);
}

#[test]
fn separated_pairs_are_not_paired_again_until_their_time_is_up() {
    let t = Instant::now();
    let config = MatchmakerConfig {
        rematch_separation: Duration::from_secs(600),
        report_separation: Duration::from_secs(6000),
        ..MatchmakerConfig::default()
    };
    let mut mm = Matchmaker::new(config);
    let (a, b) = (who(1, true, 10), who(2, false, 10));
    mm.keep_apart(t, &a.key, &b.key, Separation::Rematch);
    mm.enqueue(t, a.clone()).unwrap();
    mm.enqueue(t, b.clone()).unwrap();
    assert!(matches(&mut mm).is_empty());
    assert!(
        mm.are_kept_apart(t, &b.key, &a.key),
        "order does not matter"
    );
    // Someone else may pair with either.
    mm.enqueue(t, who(3, false, 10)).unwrap();
    assert_eq!(pair_of(&matches(&mut mm)[0]), (1, 3));
    mm.leave(ParticipantId(2)).unwrap();
    // When the separation lapses, waiting entries pair by themselves.
    mm.enqueue(t, a.clone()).unwrap();
    mm.enqueue(t, b.clone()).unwrap();
    assert_eq!(mm.poll_timeout(), Some(t + Duration::from_secs(600)));
    mm.handle_timeout(t + Duration::from_secs(599));
    assert!(matches(&mut mm).is_empty());
    mm.handle_timeout(t + Duration::from_secs(600));
    assert_eq!(pair_of(&matches(&mut mm)[0]), (1, 2));
}

#[test]
fn a_report_keeps_the_pair_apart_longer_than_a_rematch() {
    let t = Instant::now();
    let config = MatchmakerConfig {
        rematch_separation: Duration::from_secs(600),
        report_separation: Duration::from_secs(6000),
        ..MatchmakerConfig::default()
    };
    let mut mm = Matchmaker::new(config);
    let (a, b) = (MatchKey::new("a"), MatchKey::new("b"));
    mm.keep_apart(t, &a, &b, Separation::Report);
    // A later, shorter separation never shortens a longer one.
    mm.keep_apart(t, &a, &b, Separation::Rematch);
    assert!(mm.are_kept_apart(t + Duration::from_secs(5999), &a, &b));
    assert!(!mm.are_kept_apart(t + Duration::from_secs(6000), &a, &b));
}

#[test]
fn requeueing_after_a_rematch_goes_to_the_head_of_the_queue() {
    let t = Instant::now();
    let mut mm = Matchmaker::new(MatchmakerConfig::default());
    mm.enqueue(t, who(1, false, 10)).unwrap();
    mm.requeue(t, who(2, false, 10)).unwrap();
    assert_eq!(mm.position(ParticipantId(2)), Some(1));
    mm.enqueue(t, who(3, true, 10)).unwrap();
    assert_eq!(pair_of(&matches(&mut mm)[0]), (3, 2));
}

#[test]
fn room_ids_are_unique_and_start_where_configured() {
    let t = Instant::now();
    let mut mm = Matchmaker::new(MatchmakerConfig {
        first_room_id: 1000,
        ..MatchmakerConfig::default()
    });
    for n in 0..10 {
        mm.enqueue(t, chatter(n)).unwrap();
    }
    let rooms: Vec<u64> = matches(&mut mm).iter().map(|m| m.room.0).collect();
    assert_eq!(rooms, vec![1000, 1001, 1002, 1003, 1004]);
}
