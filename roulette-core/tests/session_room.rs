//! Chat, typing, presence, leaving, reporting, and chat-only rooms.

mod common;
use common::*;
use roulette_core::session::{Audience, EndReason, Event, Output, Phase, Report};
use roulette_core::{IdeaId, RateLimit, SessionConfig, SessionError, Vote};

#[test]
fn chat_is_sanitised_and_reaches_both() {
    let mut h = Harness::pairing(SessionConfig::default());
    h.take();
    h.session
        .handle_chat(
            h.now,
            BOB,
            "hi \x1b]52;c;ZXZpbA==\x07there\u{202E}\u{200B}\ttab\nline",
        )
        .unwrap();
    let outputs = h.take();
    assert_eq!(
        outputs,
        vec![Output::Event {
            to: Audience::Both,
            event: Event::Chat {
                from: BOB,
                text: "hi there tabline".into()
            }
        }]
    );
}

#[test]
fn chat_is_capped_in_length_and_refuses_empty_messages() {
    let config = SessionConfig {
        chat_max_chars: 5,
        ..SessionConfig::default()
    };
    let mut h = Harness::pairing(config);
    h.refused(SessionError::TextTooLong { max: 5 }, |s, now| {
        s.handle_chat(now, ALICE, "123456")
    });
    // Characters, not bytes, count.
    h.session.handle_chat(h.now, ALICE, "ééééé").unwrap();
    h.refused(SessionError::EmptyText, |s, now| {
        s.handle_chat(now, ALICE, " \x1b[0m ")
    });
    h.refused(SessionError::NotMember, |s, now| {
        s.handle_chat(now, MALLORY, "hi")
    });
}

#[test]
fn chat_is_rate_limited_per_participant() {
    let config = SessionConfig {
        chat_rate: RateLimit::new(3, secs(1)),
        ..SessionConfig::default()
    };
    let mut h = Harness::pairing(config);
    for n in 0..3 {
        h.session
            .handle_chat(h.now, ALICE, &format!("m{n}"))
            .unwrap();
    }
    h.refused(
        SessionError::RateLimited {
            retry_after: secs(1),
        },
        |s, now| s.handle_chat(now, ALICE, "too fast"),
    );
    // Bob has his own allowance.
    h.session.handle_chat(h.now, BOB, "me too").unwrap();
    h.advance(secs(1));
    h.session.handle_chat(h.now, ALICE, "again").unwrap();
}

#[test]
fn typing_is_shown_to_the_partner_only() {
    let mut h = Harness::pairing(SessionConfig::default());
    h.take();
    h.session.handle_typing(h.now, ALICE).unwrap();
    assert_eq!(
        h.take(),
        vec![Output::Event {
            to: Audience::Only(BOB),
            event: Event::Typing { who: ALICE }
        }]
    );
}

#[test]
fn a_dropped_partner_has_a_grace_period() {
    let mut h = Harness::building(SessionConfig::default());
    h.session.handle_disconnect(h.now, BOB).unwrap();
    assert!(
        has_event!(h.events_for(ALICE), Event::PartnerAway { who: BOB, grace } if *grace == secs(60))
    );
    h.advance(secs(59));
    h.session.handle_reconnect(h.now, BOB).unwrap();
    assert!(has_event!(
        h.events_for(ALICE),
        Event::PartnerBack { who: BOB }
    ));
    h.advance(secs(120));
    assert_eq!(h.session.phase(), Phase::Building);
    h.session.handle_disconnect(h.now, BOB).unwrap();
    h.advance(secs(60));
    assert_eq!(
        h.session.end_reason(),
        Some(EndReason::PartnerLeft { who: BOB })
    );
}

#[test]
fn the_host_agent_has_a_grace_period_then_the_host_is_gone() {
    let mut h = Harness::building(SessionConfig::default());
    h.session.handle_agent_disconnect(h.now).unwrap();
    assert!(has_event!(h.events(), Event::AgentAway { .. }));
    h.advance(secs(100));
    h.session.handle_agent_reconnect(h.now).unwrap();
    assert!(has_event!(h.events(), Event::AgentBack));
    h.session.handle_agent_disconnect(h.now).unwrap();
    h.advance(secs(119));
    assert_eq!(h.session.phase(), Phase::Building);
    h.advance(secs(1));
    assert_eq!(h.session.end_reason(), Some(EndReason::HostGone {}));
}

#[test]
fn leaving_ends_the_session_for_both() {
    let mut h = Harness::pairing(SessionConfig::default());
    h.take();
    h.session.handle_leave(h.now, ALICE).unwrap();
    assert_eq!(
        h.take(),
        vec![Output::Event {
            to: Audience::Both,
            event: Event::Ended {
                reason: EndReason::PartnerLeft { who: ALICE }
            }
        }]
    );
}

#[test]
fn a_report_removes_the_reporter_and_only_records_the_report() {
    let mut h = Harness::building(SessionConfig::default());
    h.session
        .handle_report(h.now, BOB, "rude\x1b[8m hidden\u{202E}")
        .unwrap();
    let outputs = h.take();
    assert_eq!(
        outputs[0],
        Output::Report(Report {
            reporter: BOB,
            reported: ALICE,
            reason: "rude hidden".into()
        })
    );
    assert_eq!(
        h.session.end_reason(),
        Some(EndReason::Reported { by: BOB })
    );
    // Nothing else: no ban or other sanction comes out of the session.
    assert_eq!(outputs.len(), 2);
}

#[test]
fn a_report_reason_may_be_empty_but_not_too_long() {
    let config = SessionConfig {
        report_max_chars: 4,
        ..SessionConfig::default()
    };
    let mut h = Harness::pairing(config);
    h.refused(SessionError::TextTooLong { max: 4 }, |s, now| {
        s.handle_report(now, ALICE, "abcde")
    });
    h.session.handle_report(h.now, ALICE, "").unwrap();
    assert!(has_event!(
        h.events(),
        Event::Ended {
            reason: EndReason::Reported { by: ALICE }
        }
    ));
}

#[test]
fn a_chat_room_chats_skips_and_closes_when_idle() {
    let mut h = Harness::chat(SessionConfig::default());
    assert_eq!(h.session.phase(), Phase::Chatting);
    assert_eq!(h.events(), vec![Event::ChatStarted]);
    // Nothing of a pairing session exists here.
    h.refused(SessionError::WrongRoomKind, |s, now| {
        s.handle_vote(now, ALICE, IdeaId(1), Vote::Up)
    });
    h.refused(SessionError::WrongRoomKind, |s, now| {
        s.handle_terminal_input(now, ALICE, b"x")
    });
    h.refused(SessionError::WrongRoomKind, |s, now| {
        s.handle_rematch(now, ALICE)
    });
    h.refused(SessionError::WrongRoomKind, |s, now| {
        s.handle_request_swap(now, ALICE)
    });
    h.refused(SessionError::WrongRoomKind, |s, now| {
        s.handle_agent_disconnect(now)
    });
    // A message keeps the room open for another ten minutes.
    h.advance(mins(9));
    h.session.handle_chat(h.now, ALICE, "still here").unwrap();
    h.advance(mins(9));
    assert_eq!(h.session.phase(), Phase::Chatting);
    h.advance(mins(1));
    assert_eq!(h.session.end_reason(), Some(EndReason::Idle {}));

    let mut h = Harness::chat(SessionConfig::default());
    h.session.handle_skip(h.now, BOB).unwrap();
    assert_eq!(h.session.end_reason(), Some(EndReason::Skipped { by: BOB }));
}

#[test]
fn skipping_is_for_chat_rooms() {
    let mut h = Harness::pairing(SessionConfig::default());
    h.refused(SessionError::WrongRoomKind, |s, now| {
        s.handle_skip(now, ALICE)
    });
}

#[test]
fn a_wrong_phase_is_reported_before_anything_about_the_text() {
    let mut h = Harness::building(SessionConfig::default());
    h.refused(
        SessionError::WrongPhase {
            actual: Phase::Building,
        },
        |s, now| s.handle_add_idea(now, ALICE, ""),
    );
    let mut h = Harness::pairing(SessionConfig::default());
    h.refused(
        SessionError::WrongPhase {
            actual: Phase::Planning,
        },
        |s, now| s.handle_suggest_prompt(now, BOB, ""),
    );
}

#[test]
fn the_current_state_brings_a_rejoining_participant_up_to_date() {
    let mut h = Harness::pairing(SessionConfig::default());
    h.session
        .handle_vote(h.now, ALICE, IdeaId(2), Vote::Up)
        .unwrap();
    h.advance(secs(60));
    let before = format!("{:?}", h.session);
    let state = h.session.current_state(h.now);
    assert_eq!(
        format!("{:?}", h.session),
        before,
        "describing changes nothing"
    );
    assert!(
        matches!(&state[0], Event::PlanningStarted { ideas, ends_in } if ideas.len() == 3 && *ends_in == secs(120))
    );
    assert!(state.contains(&Event::Tally {
        idea: IdeaId(2),
        up: 1,
        down: 0
    }));

    let mut h = Harness::bob_driving(SessionConfig::default());
    h.session.handle_resize(h.now, BOB, 100, 30).unwrap();
    h.session
        .handle_suggest_prompt(h.now, ALICE, "add tests")
        .unwrap();
    h.session
        .handle_terminal_input(h.now, BOB, b"make\r")
        .unwrap();
    h.advance(mins(1));
    let state = h.session.current_state(h.now);
    assert!(
        matches!(&state[0], Event::BuildingStarted { driver: BOB, host: ALICE, ends_in, .. } if *ends_in == mins(29))
    );
    assert!(state.contains(&Event::Resized {
        cols: 100,
        rows: 30
    }));
    assert!(
        state
            .iter()
            .any(|e| matches!(e, Event::PromptWaiting { prompt } if prompt.text == "add tests"))
    );
    assert!(
        state
            .iter()
            .any(|e| matches!(e, Event::LineHeld { preview, .. } if preview == "make"))
    );

    h.session.handle_leave(h.now, ALICE).unwrap();
    assert_eq!(
        h.session.current_state(h.now),
        vec![Event::Ended {
            reason: EndReason::PartnerLeft { who: ALICE }
        }]
    );
    assert_eq!(
        Harness::chat(SessionConfig::default())
            .session
            .current_state(h.now),
        vec![Event::ChatStarted]
    );
}
