//! A virtual-time harness: time moves only when a test says so, by jumping from one
//! `poll_timeout()` to the next. No test sleeps.
#![allow(dead_code)]

use roulette_core::session::{Event, Output};
use roulette_core::{ParticipantId, RoomId, RoomKind, RoomSetup, Session, SessionConfig, Vote};
use std::time::{Duration, Instant};

pub const ALICE: ParticipantId = ParticipantId(1);
pub const BOB: ParticipantId = ParticipantId(2);
pub const MALLORY: ParticipantId = ParticipantId(99);

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn mins(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

pub struct Harness {
    pub session: Session,
    pub start: Instant,
    pub now: Instant,
    outputs: Vec<Output>,
}

impl Harness {
    /// A pairing room: Alice hosts, Bob joins.
    pub fn pairing(config: SessionConfig) -> Self {
        Self::with_setup(
            config,
            RoomSetup {
                room: RoomId(7),
                kind: RoomKind::Pairing,
                partners: [ALICE, BOB],
                host: Some(ALICE),
            },
        )
    }

    pub fn chat(config: SessionConfig) -> Self {
        Self::with_setup(
            config,
            RoomSetup {
                room: RoomId(8),
                kind: RoomKind::Chat,
                partners: [ALICE, BOB],
                host: None,
            },
        )
    }

    pub fn with_setup(config: SessionConfig, setup: RoomSetup) -> Self {
        // The one clock read: an arbitrary origin for virtual time.
        let start = Instant::now();
        let session = Session::new(config, start, setup).expect("valid setup");
        let mut h = Self {
            session,
            start,
            now: start,
            outputs: Vec::new(),
        };
        h.collect();
        h
    }

    /// A pairing room already building (both voted the first idea up).
    pub fn building(config: SessionConfig) -> Self {
        let mut h = Self::pairing(config);
        let idea = h.session.ideas().expect("planning")[0].id;
        h.session.handle_vote(h.now, ALICE, idea, Vote::Up).unwrap();
        h.session.handle_vote(h.now, BOB, idea, Vote::Up).unwrap();
        h.take();
        h
    }

    /// A building room where Bob (not the host) drives.
    pub fn bob_driving(config: SessionConfig) -> Self {
        let mut h = Self::building(config);
        h.session.handle_request_swap(h.now, BOB).unwrap();
        h.session.handle_answer_swap(h.now, ALICE, true).unwrap();
        assert_eq!(h.session.driver(), Some(BOB));
        h.take();
        h
    }

    fn collect(&mut self) {
        while let Some(o) = self.session.poll_output() {
            self.outputs.push(o);
        }
    }

    /// Every output since the last call.
    pub fn take(&mut self) -> Vec<Output> {
        self.collect();
        std::mem::take(&mut self.outputs)
    }

    /// Every event since the last call, whoever it was for.
    pub fn events(&mut self) -> Vec<Event> {
        self.take()
            .into_iter()
            .filter_map(|o| match o {
                Output::Event { event, .. } => Some(event),
                _ => None,
            })
            .collect()
    }

    /// Events addressed to `who` since the last call (others are dropped).
    pub fn events_for(&mut self, who: ParticipantId) -> Vec<Event> {
        self.take()
            .into_iter()
            .filter_map(|o| match o {
                Output::Event { to, event } if to.includes(who) => Some(event),
                _ => None,
            })
            .collect()
    }

    /// All bytes sent to the agent since the last call.
    pub fn agent_bytes(&mut self) -> Vec<u8> {
        self.take()
            .into_iter()
            .filter_map(|o| match o {
                Output::AgentInput { bytes, .. } => Some(bytes),
                _ => None,
            })
            .flatten()
            .collect()
    }

    /// Moves virtual time forward by `d`, firing every timeout on the way at its own instant.
    pub fn advance(&mut self, d: Duration) {
        let target = self.now + d;
        while let Some(t) = self.session.poll_timeout() {
            if t > target {
                break;
            }
            self.now = self.now.max(t);
            self.session.handle_timeout(self.now);
            self.collect();
            if self.session.poll_timeout() == Some(t) {
                panic!("handle_timeout did not consume the timeout at {t:?}");
            }
        }
        self.now = target;
    }

    /// Moves to `start + at`.
    pub fn advance_to(&mut self, at: Duration) {
        let target = self.start + at;
        assert!(target >= self.now, "time only moves forward");
        self.advance(target - self.now);
    }

    /// Jumps to the next timeout and fires it; returns whether there was one.
    pub fn fire_next(&mut self) -> bool {
        match self.session.poll_timeout() {
            Some(t) => {
                self.now = self.now.max(t);
                self.session.handle_timeout(self.now);
                self.collect();
                true
            }
            None => false,
        }
    }

    /// Asserts that `action` fails with `expected` and changes nothing at all: the session's
    /// whole state and its outputs are as before.
    pub fn refused<T: std::fmt::Debug>(
        &mut self,
        expected: roulette_core::SessionError,
        action: impl FnOnce(&mut Session, Instant) -> Result<T, roulette_core::SessionError>,
    ) {
        self.collect();
        let before = format!("{:?}", self.session);
        let pending = self.outputs.len();
        let result = action(&mut self.session, self.now);
        assert_eq!(result.unwrap_err(), expected);
        assert_eq!(
            format!("{:?}", self.session),
            before,
            "a refused action changed the session"
        );
        self.collect();
        assert_eq!(
            self.outputs.len(),
            pending,
            "a refused action produced output"
        );
    }
}

/// Whether `events` holds one matching `pattern`.
#[macro_export]
macro_rules! has_event {
    ($events:expr, $pattern:pat) => {
        $events.iter().any(|e| matches!(e, $pattern))
    };
    ($events:expr, $pattern:pat if $guard:expr) => {
        $events.iter().any(|e| matches!(e, $pattern if $guard))
    };
}
