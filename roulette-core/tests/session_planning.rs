//! Planning: drawn ideas, own ideas, votes, agreement, the deadline and its tie-break.

mod common;
use common::*;
use roulette_core::ideas::BUILT_IN_IDEAS;
use roulette_core::session::{Event, Phase};
use roulette_core::{
    IdeaId, ParticipantId, RoomId, RoomKind, RoomSetup, Session, SessionConfig, SessionError, Vote,
};
use std::collections::HashSet;

#[test]
fn the_built_in_list_has_at_least_twenty_distinct_ideas() {
    let unique: HashSet<_> = BUILT_IN_IDEAS.iter().collect();
    assert!(BUILT_IN_IDEAS.len() >= 20);
    assert_eq!(unique.len(), BUILT_IN_IDEAS.len());
}

#[test]
fn planning_starts_with_three_distinct_drawn_ideas() {
    let mut h = Harness::pairing(SessionConfig::default());
    assert_eq!(h.session.phase(), Phase::Planning);
    let ideas = h.session.ideas().unwrap().to_vec();
    assert_eq!(ideas.len(), 3);
    let texts: HashSet<_> = ideas.iter().map(|i| i.text.clone()).collect();
    assert_eq!(texts.len(), 3);
    assert!(
        ideas
            .iter()
            .all(|i| BUILT_IN_IDEAS.contains(&i.text.as_str()))
    );
    assert!(ideas.iter().all(|i| i.author.is_none()));
    // The session's first output announces them.
    let _ = h.take();
}

#[test]
fn the_draw_is_seeded() {
    let draw = |seed: u64, room: u64| {
        let config = SessionConfig {
            seed,
            ..SessionConfig::default()
        };
        let setup = RoomSetup {
            room: RoomId(room),
            kind: RoomKind::Pairing,
            partners: [ALICE, BOB],
            host: Some(ALICE),
        };
        let h = Harness::with_setup(config, setup);
        h.session
            .ideas()
            .unwrap()
            .iter()
            .map(|i| i.text.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(draw(42, 1), draw(42, 1));
    // Over many seeds, the draws differ: randomness really comes from the seed.
    let distinct: HashSet<_> = (0..50).map(|s| draw(s, 1)).collect();
    assert!(
        distinct.len() > 10,
        "only {} distinct draws",
        distinct.len()
    );
    let by_room: HashSet<_> = (0..50).map(|r| draw(1, r)).collect();
    assert!(by_room.len() > 10);
}

#[test]
fn the_first_output_announces_the_plan() {
    let mut h = Harness::pairing(SessionConfig::default());
    let events = h.events();
    assert!(matches!(
        &events[..],
        [Event::PlanningStarted { ideas, ends_in }] if ideas.len() == 3 && *ends_in == mins(3)
    ));
}

#[test]
fn either_partner_may_add_an_idea_which_is_sanitised() {
    let mut h = Harness::pairing(SessionConfig::default());
    h.take();
    let id = h
        .session
        .handle_add_idea(h.now, BOB, "  A \x1b[31mred\x1b[0m chat bot\u{202E}  ")
        .unwrap();
    assert_eq!(id, IdeaId(4));
    let events = h.events();
    assert!(matches!(
        &events[..],
        [Event::IdeaAdded { idea }] if idea.text == "A red chat bot" && idea.author == Some(BOB)
    ));
    h.session.handle_add_idea(h.now, ALICE, "Mine").unwrap();
    assert_eq!(h.session.ideas().unwrap().len(), 5);
}

#[test]
fn adding_ideas_is_limited() {
    let config = SessionConfig {
        max_ideas: 4,
        idea_max_chars: 10,
        ..SessionConfig::default()
    };
    let mut h = Harness::pairing(config);
    h.refused(SessionError::TextTooLong { max: 10 }, |s, now| {
        s.handle_add_idea(now, ALICE, "eleven chars")
    });
    h.refused(SessionError::EmptyText, |s, now| {
        s.handle_add_idea(now, ALICE, " \x1b]0;title\x07 \u{200B} ")
    });
    h.refused(SessionError::NotMember, |s, now| {
        s.handle_add_idea(now, MALLORY, "sneaky")
    });
    h.session.handle_add_idea(h.now, ALICE, "fourth").unwrap();
    h.refused(SessionError::TooManyIdeas { max: 4 }, |s, now| {
        s.handle_add_idea(now, BOB, "fifth")
    });
}

#[test]
fn votes_are_tallied_and_can_change_or_be_withdrawn() {
    let mut h = Harness::pairing(SessionConfig::default());
    h.take();
    let idea = IdeaId(2);
    h.session.handle_vote(h.now, ALICE, idea, Vote::Up).unwrap();
    h.session.handle_vote(h.now, BOB, idea, Vote::Down).unwrap();
    let events = h.events();
    assert!(matches!(
        events.last(),
        Some(Event::Tally {
            idea: IdeaId(2),
            up: 1,
            down: 1
        })
    ));
    h.session
        .handle_vote(h.now, BOB, idea, Vote::Clear)
        .unwrap();
    assert!(matches!(
        h.events().last(),
        Some(Event::Tally { up: 1, down: 0, .. })
    ));
    h.session
        .handle_vote(h.now, ALICE, idea, Vote::Down)
        .unwrap();
    assert!(matches!(
        h.events().last(),
        Some(Event::Tally { up: 0, down: 1, .. })
    ));
    assert_eq!(h.session.phase(), Phase::Planning);
    h.refused(SessionError::UnknownIdea, |s, now| {
        s.handle_vote(now, ALICE, IdeaId(99), Vote::Up)
    });
    h.refused(SessionError::NotMember, |s, now| {
        s.handle_vote(now, MALLORY, IdeaId(1), Vote::Up)
    });
}

#[test]
fn planning_ends_as_soon_as_both_vote_the_same_idea_up() {
    let mut h = Harness::pairing(SessionConfig::default());
    h.take();
    let ideas = h.session.ideas().unwrap().to_vec();
    h.session
        .handle_vote(h.now, ALICE, ideas[0].id, Vote::Up)
        .unwrap();
    h.session
        .handle_vote(h.now, BOB, ideas[1].id, Vote::Up)
        .unwrap();
    assert_eq!(h.session.phase(), Phase::Planning);
    h.session
        .handle_vote(h.now, ALICE, ideas[1].id, Vote::Up)
        .unwrap();
    assert_eq!(h.session.phase(), Phase::Building);
    assert_eq!(h.session.chosen_idea(), Some(&ideas[1]));
    let events = h.events();
    assert!(has_event!(
        events,
        Event::BuildingStarted {
            host: ALICE,
            driver: ALICE,
            ..
        }
    ));
}

/// Runs planning to its deadline after `votes`, and returns the chosen idea's id.
fn winner_after(votes: &[(ParticipantId, u64, Vote)]) -> IdeaId {
    let mut h = Harness::pairing(SessionConfig::default());
    for (who, idea, vote) in votes {
        h.session
            .handle_vote(h.now, *who, IdeaId(*idea), *vote)
            .unwrap();
    }
    assert_eq!(h.session.phase(), Phase::Planning);
    h.advance(mins(3) - secs(1));
    assert_eq!(h.session.phase(), Phase::Planning);
    h.advance(secs(1));
    assert_eq!(h.session.phase(), Phase::Building);
    h.session.chosen_idea().unwrap().id
}

#[test]
fn at_the_deadline_the_best_score_wins() {
    use Vote::*;
    assert_eq!(winner_after(&[(ALICE, 3, Up), (BOB, 1, Down)]), IdeaId(3));
    assert_eq!(winner_after(&[(ALICE, 1, Down), (BOB, 2, Down)]), IdeaId(3));
}

#[test]
fn deadline_ties_break_on_up_votes_then_list_order() {
    use Vote::*;
    // Ideas 1 and 2 both score 0; idea 1 has an up vote, so it wins over 2 and 3.
    assert_eq!(
        winner_after(&[(ALICE, 1, Up), (BOB, 1, Down), (ALICE, 2, Clear)]),
        IdeaId(1)
    );
    // Idea 2 (up, down) beats idea 3 (no votes) on ups though both score 0.
    assert_eq!(
        winner_after(&[(ALICE, 1, Down), (ALICE, 2, Up), (BOB, 2, Down)]),
        IdeaId(2)
    );
    // Equal score and ups: the earlier in the list.
    assert_eq!(winner_after(&[(ALICE, 3, Up), (BOB, 2, Up)]), IdeaId(2));
    // No votes at all: the first idea.
    assert_eq!(winner_after(&[]), IdeaId(1));
}

#[test]
fn voting_after_planning_is_the_wrong_phase() {
    let mut h = Harness::building(SessionConfig::default());
    h.refused(
        SessionError::WrongPhase {
            actual: Phase::Building,
        },
        |s, now| s.handle_vote(now, ALICE, IdeaId(1), Vote::Up),
    );
    h.refused(
        SessionError::WrongPhase {
            actual: Phase::Building,
        },
        |s, now| s.handle_add_idea(now, ALICE, "late idea"),
    );
}

#[test]
fn a_pairing_room_needs_a_host_among_two_distinct_partners() {
    let t = std::time::Instant::now();
    let setup = |partners, host| RoomSetup {
        room: RoomId(1),
        kind: RoomKind::Pairing,
        partners,
        host,
    };
    for bad in [
        setup([ALICE, BOB], None),
        setup([ALICE, BOB], Some(MALLORY)),
        setup([ALICE, ALICE], Some(ALICE)),
        RoomSetup {
            kind: RoomKind::Chat,
            ..setup([ALICE, BOB], Some(ALICE))
        },
    ] {
        assert_eq!(
            Session::new(SessionConfig::default(), t, bad).unwrap_err(),
            SessionError::InvalidSetup
        );
    }
}

#[test]
fn with_no_ideas_at_all_the_deadline_still_starts_building() {
    let config = SessionConfig {
        ideas_drawn: 0,
        ..SessionConfig::default()
    };
    let mut h = Harness::pairing(config);
    assert!(h.session.ideas().unwrap().is_empty());
    h.advance(mins(3));
    assert_eq!(h.session.phase(), Phase::Building);
    assert_eq!(h.session.chosen_idea().unwrap().id, IdeaId(0));
}
