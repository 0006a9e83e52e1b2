//! Building: roles and swaps, write permission, the timer, the check-in, the warning, the
//! extension, the rematch window and resizes.

mod common;
use common::*;
use roulette_core::session::{DriverChange, EndReason, Event, Output, Phase, Role};
use roulette_core::{SessionConfig, SessionError, WriteAction};

#[test]
fn the_host_starts_as_driver() {
    let h = Harness::building(SessionConfig::default());
    assert_eq!(h.session.driver(), Some(ALICE));
    assert_eq!(h.session.role_of(ALICE), Some(Role::Driver));
    assert_eq!(h.session.role_of(BOB), Some(Role::Navigator));
    assert_eq!(h.session.role_of(MALLORY), None);
}

#[test]
fn only_the_driver_may_write_and_only_while_building() {
    let mut h = Harness::pairing(SessionConfig::default());
    for action in [WriteAction::Input, WriteAction::Prompt, WriteAction::Resize] {
        assert_eq!(
            h.session.check_write(ALICE, action),
            Err(SessionError::WrongPhase {
                actual: Phase::Planning
            })
        );
    }
    h = Harness::building(SessionConfig::default());
    for action in [WriteAction::Input, WriteAction::Prompt, WriteAction::Resize] {
        assert_eq!(h.session.check_write(ALICE, action), Ok(()));
        assert_eq!(
            h.session.check_write(BOB, action),
            Err(SessionError::NotDriver)
        );
        assert_eq!(
            h.session.check_write(MALLORY, action),
            Err(SessionError::NotMember)
        );
    }
}

#[test]
fn navigator_input_never_reaches_the_agent() {
    let mut h = Harness::building(SessionConfig::default());
    h.refused(SessionError::NotDriver, |s, now| {
        s.handle_terminal_input(now, BOB, b"rm -rf ~\r")
    });
    h.refused(SessionError::NotDriver, |s, now| {
        s.handle_resize(now, BOB, 10, 5)
    });
    h.refused(SessionError::NotDriver, |s, now| {
        s.handle_submit_prompt(now, BOB, "delete everything", true)
    });
    h.refused(SessionError::NotMember, |s, now| {
        s.handle_terminal_input(now, MALLORY, b"x")
    });
    h.session
        .handle_terminal_input(h.now, ALICE, b"echo hello\r")
        .unwrap();
    let outputs = h.take();
    assert_eq!(
        outputs,
        vec![Output::AgentInput {
            author: ALICE,
            bytes: b"echo hello\r".to_vec()
        }]
    );
}

#[test]
fn a_swap_needs_the_partners_accept() {
    let mut h = Harness::building(SessionConfig::default());
    h.session.handle_request_swap(h.now, BOB).unwrap();
    assert!(has_event!(h.events(), Event::SwapRequested { by: BOB, .. }));
    // The requester cannot answer their own request; a second request waits its turn.
    h.refused(SessionError::NoRequest, |s, now| {
        s.handle_answer_swap(now, BOB, true)
    });
    h.refused(SessionError::RequestPending, |s, now| {
        s.handle_request_swap(now, ALICE)
    });
    h.session.handle_answer_swap(h.now, ALICE, true).unwrap();
    assert_eq!(h.session.driver(), Some(BOB));
    assert!(has_event!(
        h.events(),
        Event::DriverChanged {
            driver: BOB,
            why: DriverChange::Swapped
        }
    ));
    // The former driver loses write access the moment the swap completes.
    h.refused(SessionError::NotDriver, |s, now| {
        s.handle_terminal_input(now, ALICE, b"x")
    });
    h.session.handle_terminal_input(h.now, BOB, b"ls").unwrap();
    assert_eq!(h.agent_bytes(), b"ls");
}

#[test]
fn the_driver_may_offer_the_wheel_too() {
    let mut h = Harness::building(SessionConfig::default());
    h.session.handle_request_swap(h.now, ALICE).unwrap();
    h.session.handle_answer_swap(h.now, BOB, true).unwrap();
    assert_eq!(h.session.driver(), Some(BOB));
}

#[test]
fn a_declined_swap_changes_no_roles() {
    let mut h = Harness::building(SessionConfig::default());
    h.session.handle_request_swap(h.now, BOB).unwrap();
    h.session.handle_answer_swap(h.now, ALICE, false).unwrap();
    assert_eq!(h.session.driver(), Some(ALICE));
    assert!(has_event!(h.events(), Event::SwapDeclined { by: ALICE }));
    h.refused(SessionError::NoRequest, |s, now| {
        s.handle_answer_swap(now, ALICE, true)
    });
}

#[test]
fn an_unanswered_swap_expires() {
    let config = SessionConfig {
        request_timeout: secs(30),
        ..SessionConfig::default()
    };
    let mut h = Harness::building(config);
    h.session.handle_request_swap(h.now, BOB).unwrap();
    h.advance(secs(29));
    assert!(!has_event!(h.events(), Event::SwapExpired));
    h.advance(secs(1));
    assert!(has_event!(h.events(), Event::SwapExpired));
    h.refused(SessionError::NoRequest, |s, now| {
        s.handle_answer_swap(now, ALICE, true)
    });
    assert_eq!(h.session.driver(), Some(ALICE));
}

#[test]
fn the_host_may_reclaim_the_wheel_at_any_time() {
    let mut h = Harness::bob_driving(SessionConfig::default());
    h.refused(SessionError::NotHost, |s, now| s.handle_reclaim(now, BOB));
    // A pending request is overtaken by the reclaim.
    h.session.handle_request_swap(h.now, ALICE).unwrap();
    h.session.handle_reclaim(h.now, ALICE).unwrap();
    assert_eq!(h.session.driver(), Some(ALICE));
    let events = h.events();
    assert!(has_event!(events, Event::SwapExpired));
    assert!(has_event!(
        events,
        Event::DriverChanged {
            driver: ALICE,
            why: DriverChange::Reclaimed
        }
    ));
    h.refused(SessionError::NotDriver, |s, now| {
        s.handle_terminal_input(now, BOB, b"x")
    });
    h.refused(SessionError::AlreadyDriver, |s, now| {
        s.handle_reclaim(now, ALICE)
    });
}

#[test]
fn the_timer_ends_the_session_after_thirty_minutes() {
    let mut h = Harness::building(SessionConfig::default());
    assert_eq!(h.session.ends_at(), Some(h.start + mins(30)));
    h.advance(mins(15));
    h.session.handle_check_in(h.now, ALICE, true).unwrap();
    h.session.handle_check_in(h.now, BOB, true).unwrap();
    h.advance(mins(15) - secs(1));
    assert_eq!(h.session.phase(), Phase::Building);
    h.advance(secs(1));
    assert_eq!(h.session.end_reason(), Some(EndReason::Timer {}));
    assert_eq!(h.session.poll_timeout(), None);
}

#[test]
fn the_check_in_comes_at_fifteen_minutes_and_both_must_continue() {
    let mut h = Harness::building(SessionConfig::default());
    h.refused(SessionError::NoCheckIn, |s, now| {
        s.handle_check_in(now, ALICE, true)
    });
    h.advance(mins(15) - secs(1));
    assert!(!has_event!(h.events(), Event::CheckIn { .. }));
    h.advance(secs(1));
    assert!(
        has_event!(h.events(), Event::CheckIn { respond_within } if *respond_within == mins(2))
    );
    h.session.handle_check_in(h.now, ALICE, true).unwrap();
    h.refused(SessionError::NoCheckIn, |s, now| {
        s.handle_check_in(now, ALICE, true)
    });
    assert!(!has_event!(h.events(), Event::CheckInPassed));
    h.session.handle_check_in(h.now, BOB, true).unwrap();
    assert!(has_event!(h.events(), Event::CheckInPassed));
    // Passing the check-in cancels its deadline.
    h.advance(mins(5));
    assert_eq!(h.session.phase(), Phase::Building);
}

#[test]
fn one_no_at_the_check_in_ends_the_session() {
    let mut h = Harness::building(SessionConfig::default());
    h.advance(mins(15));
    h.session.handle_check_in(h.now, ALICE, true).unwrap();
    h.session.handle_check_in(h.now, BOB, false).unwrap();
    assert_eq!(
        h.session.end_reason(),
        Some(EndReason::CheckInDeclined { by: Some(BOB) })
    );
}

#[test]
fn an_unanswered_check_in_ends_the_session() {
    let mut h = Harness::building(SessionConfig::default());
    h.advance(mins(15));
    h.session.handle_check_in(h.now, ALICE, true).unwrap();
    h.advance(mins(2) - secs(1));
    assert_eq!(h.session.phase(), Phase::Building);
    h.advance(secs(1));
    assert_eq!(
        h.session.end_reason(),
        Some(EndReason::CheckInDeclined { by: None })
    );
}

fn pass_check_in(h: &mut Harness) {
    h.advance_to(mins(15));
    h.session.handle_check_in(h.now, ALICE, true).unwrap();
    h.session.handle_check_in(h.now, BOB, true).unwrap();
}

#[test]
fn a_warning_comes_five_minutes_before_the_end() {
    let mut h = Harness::building(SessionConfig::default());
    pass_check_in(&mut h);
    h.take();
    h.advance_to(mins(25) - secs(1));
    assert!(!has_event!(h.events(), Event::Warning { .. }));
    h.advance(secs(1));
    assert!(has_event!(h.events(), Event::Warning { remaining } if *remaining == mins(5)));
}

#[test]
fn one_extension_by_consent_adds_fifteen_minutes() {
    let mut h = Harness::building(SessionConfig::default());
    pass_check_in(&mut h);
    h.advance_to(mins(26));
    h.session.handle_request_extension(h.now, BOB).unwrap();
    h.refused(SessionError::NoRequest, |s, now| {
        s.handle_answer_extension(now, BOB, true)
    });
    h.refused(SessionError::RequestPending, |s, now| {
        s.handle_request_extension(now, ALICE)
    });
    h.session
        .handle_answer_extension(h.now, ALICE, true)
        .unwrap();
    assert!(has_event!(h.events(), Event::Extended { ends_in } if *ends_in == mins(19)));
    assert_eq!(h.session.ends_at(), Some(h.start + mins(45)));
    h.refused(SessionError::ExtensionUsed, |s, now| {
        s.handle_request_extension(now, ALICE)
    });
    // The warning comes again, five minutes before the new end.
    h.advance_to(mins(40));
    assert!(has_event!(h.events(), Event::Warning { remaining } if *remaining == mins(5)));
    h.advance_to(mins(45) - secs(1));
    assert_eq!(h.session.phase(), Phase::Building);
    h.advance(secs(1));
    assert_eq!(h.session.end_reason(), Some(EndReason::Timer {}));
}

#[test]
fn a_declined_or_expired_extension_leaves_the_end_where_it_was() {
    let mut h = Harness::building(SessionConfig::default());
    h.session.handle_request_extension(h.now, ALICE).unwrap();
    h.session
        .handle_answer_extension(h.now, BOB, false)
        .unwrap();
    assert!(has_event!(h.events(), Event::ExtensionDeclined { by: BOB }));
    assert_eq!(h.session.ends_at(), Some(h.start + mins(30)));
    // Declined is not used: it may be asked again, and left to expire.
    h.session.handle_request_extension(h.now, ALICE).unwrap();
    h.advance(secs(30));
    assert!(has_event!(h.events(), Event::ExtensionExpired));
    h.refused(SessionError::NoRequest, |s, now| {
        s.handle_answer_extension(now, BOB, true)
    });
    assert_eq!(h.session.ends_at(), Some(h.start + mins(30)));
}

#[test]
fn the_rematch_is_open_in_planning_and_the_first_three_minutes() {
    let mut h = Harness::pairing(SessionConfig::default());
    h.session.handle_rematch(h.now, BOB).unwrap();
    assert_eq!(h.session.end_reason(), Some(EndReason::Rematch { by: BOB }));

    let mut h = Harness::building(SessionConfig::default());
    h.advance(mins(3) - secs(1));
    h.session.handle_rematch(h.now, ALICE).unwrap();
    assert_eq!(
        h.session.end_reason(),
        Some(EndReason::Rematch { by: ALICE })
    );

    let mut h = Harness::building(SessionConfig::default());
    h.advance(mins(3));
    assert!(has_event!(h.events(), Event::RematchClosed));
    h.refused(SessionError::RematchClosed, |s, now| {
        s.handle_rematch(now, ALICE)
    });
}

#[test]
fn the_driver_sets_the_terminal_size() {
    let mut h = Harness::building(SessionConfig::default());
    h.session.handle_resize(h.now, ALICE, 120, 40).unwrap();
    let outputs = h.take();
    assert!(outputs.contains(&Output::AgentResize {
        cols: 120,
        rows: 40
    }));
    // The same size again is not news.
    h.session.handle_resize(h.now, ALICE, 120, 40).unwrap();
    assert!(h.take().is_empty());
    h.refused(SessionError::InvalidSize { cols: 0, rows: 40 }, |s, now| {
        s.handle_resize(now, ALICE, 0, 40)
    });
    h.refused(
        SessionError::InvalidSize {
            cols: 80,
            rows: 60000,
        },
        |s, now| s.handle_resize(now, ALICE, 80, 60000),
    );
}

#[test]
fn durations_are_configuration() {
    let config = SessionConfig {
        planning_duration: secs(10),
        building_duration: secs(60),
        check_in_after: secs(20),
        check_in_timeout: secs(5),
        warning_before_end: secs(15),
        extension: secs(30),
        rematch_window: secs(5),
        ..SessionConfig::default()
    };
    let mut h = Harness::pairing(config);
    h.advance(secs(10));
    assert_eq!(h.session.phase(), Phase::Building);
    h.advance(secs(5));
    assert!(has_event!(h.events(), Event::RematchClosed));
    h.advance(secs(15));
    assert!(has_event!(h.events(), Event::CheckIn { .. }));
    h.session.handle_check_in(h.now, ALICE, true).unwrap();
    h.session.handle_check_in(h.now, BOB, true).unwrap();
    h.advance(secs(25));
    assert!(has_event!(h.events(), Event::Warning { remaining } if *remaining == secs(15)));
    h.session.handle_request_extension(h.now, ALICE).unwrap();
    h.session.handle_answer_extension(h.now, BOB, true).unwrap();
    h.advance(secs(15 + 30) - secs(1));
    assert_eq!(h.session.phase(), Phase::Building);
    h.advance(secs(1));
    assert_eq!(h.session.end_reason(), Some(EndReason::Timer {}));
}

#[test]
fn an_early_or_repeated_timeout_changes_nothing() {
    let mut h = Harness::building(SessionConfig::default());
    h.take();
    let before = format!("{:?}", h.session);
    h.session.handle_timeout(h.now);
    h.session.handle_timeout(h.now + mins(1));
    assert_eq!(format!("{:?}", h.session), before);
    assert!(h.take().is_empty());
}

#[test]
fn nothing_is_accepted_once_ended() {
    let mut h = Harness::building(SessionConfig::default());
    h.session.handle_leave(h.now, BOB).unwrap();
    let ended = SessionError::WrongPhase {
        actual: Phase::Ended,
    };
    h.refused(ended.clone(), |s, now| s.handle_chat(now, ALICE, "hi"));
    h.refused(ended.clone(), |s, now| {
        s.handle_terminal_input(now, ALICE, b"x")
    });
    h.refused(ended.clone(), |s, now| s.handle_request_swap(now, ALICE));
    h.refused(ended.clone(), |s, now| s.handle_rematch(now, ALICE));
    h.refused(ended, |s, now| s.handle_leave(now, ALICE));
    assert_eq!(h.session.poll_timeout(), None);
}
