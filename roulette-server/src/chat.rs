//! The rules of a chat-roulette socket (`/chat`), checked on the connection's own task before
//! anything reaches the lobby or a room: a proof of work before queueing, one message a second,
//! a length cap, a pause between skips, a short list of allowed messages, and heartbeats.

use roulette_core::{RateLimit, TokenBucket};
use roulette_transport::{ClientMessage, ErrorCode, ServerMessage, Text};
use std::time::{Duration, Instant};

use crate::config::ChatLimits;

/// What to do with a message from a chat socket.
#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Pass it on to the lobby or the room.
    Pass,
    /// Answer it here; it goes no further.
    Answer(ServerMessage),
    /// Refuse it with this error; `true` when it counts as a violation.
    Refuse(ErrorCode, String, bool),
}

/// One chat socket's state.
#[derive(Debug)]
pub struct ChatRules {
    limits: ChatLimits,
    prefix: String,
    deadline: Instant,
    solved: bool,
    messages: TokenBucket,
    skips: TokenBucket,
    last_heard: Instant,
}

impl ChatRules {
    /// Rules for a socket that said hello at `now`, with a fresh challenge.
    pub fn new(limits: ChatLimits, now: Instant, prefix: String) -> Self {
        Self {
            messages: TokenBucket::new(RateLimit::new(1, limits.message_interval)),
            skips: TokenBucket::new(RateLimit::new(1, limits.skip_interval)),
            deadline: now + limits.pow_deadline,
            limits,
            prefix,
            solved: false,
            last_heard: now,
        }
    }

    /// The challenge to send after `welcome`.
    pub fn challenge(&self, now: Instant) -> ServerMessage {
        ServerMessage::Challenge {
            prefix: Text::truncate(self.prefix.clone()),
            bits: self.limits.pow_bits,
            expires_in_ms: u64::try_from(self.deadline.saturating_duration_since(now).as_millis())
                .unwrap_or(u64::MAX),
        }
    }

    /// When the unsolved challenge lapses (`None` once solved).
    pub fn pow_deadline(&self) -> Option<Instant> {
        (!self.solved).then_some(self.deadline)
    }

    /// Anything arrived from the peer (a pong included).
    pub fn heard(&mut self, now: Instant) {
        self.last_heard = now;
    }

    /// Whether the peer has been silent through more pings than it may miss.
    pub fn heartbeats_missed(&self, now: Instant) -> bool {
        let allowed =
            self.limits.heartbeat * self.limits.missed_heartbeats + self.limits.heartbeat / 2;
        now.saturating_duration_since(self.last_heard) > allowed
    }

    /// Checks a message.
    pub fn check(&mut self, now: Instant, message: &ClientMessage) -> Verdict {
        match message {
            ClientMessage::Solve { nonce } => {
                if self.solved {
                    return Verdict::Answer(ServerMessage::Solved {});
                }
                if now > self.deadline {
                    return Verdict::Refuse(
                        ErrorCode::ProofInvalid,
                        "the challenge has lapsed".into(),
                        true,
                    );
                }
                if roulette_transport::pow::verify(
                    &self.prefix,
                    nonce.as_str(),
                    self.limits.pow_bits,
                ) {
                    self.solved = true;
                    Verdict::Answer(ServerMessage::Solved {})
                } else {
                    Verdict::Refuse(
                        ErrorCode::ProofInvalid,
                        "that nonce does not solve the challenge".into(),
                        true,
                    )
                }
            }
            ClientMessage::FindPartner { .. } if !self.solved => Verdict::Refuse(
                ErrorCode::ProofRequired,
                "solve the challenge before looking for a partner".into(),
                false,
            ),
            ClientMessage::FindPartner { .. }
            | ClientMessage::CancelSearch {}
            | ClientMessage::Typing {}
            | ClientMessage::Leave {}
            | ClientMessage::Insights {} => Verdict::Pass,
            ClientMessage::Chat { text } => {
                let chars = text.as_str().chars().count();
                if chars > self.limits.max_chars {
                    return Verdict::Refuse(
                        ErrorCode::TextTooLong,
                        format!(
                            "a message may have {} characters; this one has {chars}",
                            self.limits.max_chars
                        ),
                        true,
                    );
                }
                match self.messages.try_take(now) {
                    Ok(()) => Verdict::Pass,
                    Err(retry) => Verdict::Refuse(
                        ErrorCode::RateLimited,
                        format!("one message a second; retry in {} ms", retry.as_millis()),
                        true,
                    ),
                }
            }
            ClientMessage::Skip {} | ClientMessage::Report { .. } => {
                match self.skips.try_take(now) {
                    Ok(()) => Verdict::Pass,
                    Err(retry) => Verdict::Refuse(
                        ErrorCode::RateLimited,
                        format!(
                            "too soon after the last skip; retry in {} ms",
                            retry.as_millis()
                        ),
                        true,
                    ),
                }
            }
            other => Verdict::Refuse(
                ErrorCode::Forbidden,
                format!("`{}` is not part of the chat roulette", other.kind()),
                true,
            ),
        }
    }
}

/// The heartbeat check's period: often enough to notice a silent peer soon after it is due.
pub fn heartbeat_check(limits: &ChatLimits) -> Duration {
    (limits.heartbeat / 2).max(Duration::from_millis(10))
}

#[cfg(test)]
mod tests {
    use super::*;
    use roulette_core::RoomKind;

    fn text<const N: usize>(s: &str) -> Text<N> {
        Text::new(s).unwrap()
    }

    fn find() -> ClientMessage {
        ClientMessage::FindPartner {
            kind: RoomKind::Chat,
            key: None,
        }
    }

    #[test]
    fn queueing_waits_for_the_proof_of_work() {
        let t = Instant::now();
        let limits = ChatLimits {
            pow_bits: 8,
            ..ChatLimits::default()
        };
        let mut r = ChatRules::new(limits, t, "prefix".into());
        assert!(matches!(
            r.check(t, &find()),
            Verdict::Refuse(ErrorCode::ProofRequired, _, false)
        ));
        let bad = (0..10_000u32)
            .map(|n| n.to_string())
            .find(|n| !roulette_transport::pow::verify("prefix", n, 8))
            .unwrap();
        assert!(matches!(
            r.check(t, &ClientMessage::Solve { nonce: text(&bad) }),
            Verdict::Refuse(ErrorCode::ProofInvalid, _, true)
        ));
        let good = roulette_transport::pow::solve("prefix", 8, 1 << 20).unwrap();
        assert_eq!(
            r.check(t, &ClientMessage::Solve { nonce: text(&good) }),
            Verdict::Answer(ServerMessage::Solved {})
        );
        assert_eq!(r.check(t, &find()), Verdict::Pass);
        assert_eq!(r.pow_deadline(), None);
    }

    #[test]
    fn one_message_a_second_of_at_most_500_characters() {
        let t = Instant::now();
        let mut r = ChatRules::new(ChatLimits::default(), t, "p".into());
        let hi = ClientMessage::Chat { text: text("hi") };
        assert_eq!(r.check(t, &hi), Verdict::Pass);
        assert!(matches!(
            r.check(t + Duration::from_millis(500), &hi),
            Verdict::Refuse(ErrorCode::RateLimited, _, true)
        ));
        assert_eq!(r.check(t + Duration::from_secs(1), &hi), Verdict::Pass);
        let long = ClientMessage::Chat {
            text: text(&"é".repeat(501)),
        };
        assert!(matches!(
            r.check(t + Duration::from_secs(5), &long),
            Verdict::Refuse(ErrorCode::TextTooLong, _, true)
        ));
        let just = ClientMessage::Chat {
            text: text(&"é".repeat(500)),
        };
        assert_eq!(r.check(t + Duration::from_secs(5), &just), Verdict::Pass);
    }

    #[test]
    fn skips_are_half_a_second_apart_and_pairing_messages_are_refused() {
        let t = Instant::now();
        let mut r = ChatRules::new(ChatLimits::default(), t, "p".into());
        assert_eq!(r.check(t, &ClientMessage::Skip {}), Verdict::Pass);
        assert!(matches!(
            r.check(t + Duration::from_millis(200), &ClientMessage::Skip {}),
            Verdict::Refuse(ErrorCode::RateLimited, _, true)
        ));
        assert_eq!(
            r.check(t + Duration::from_millis(500), &ClientMessage::Skip {}),
            Verdict::Pass
        );
        assert!(matches!(
            r.check(t, &ClientMessage::CreateInvite {}),
            Verdict::Refuse(ErrorCode::Forbidden, _, true)
        ));
    }

    #[test]
    fn silence_beyond_two_heartbeats_is_noticed() {
        let t = Instant::now();
        let limits = ChatLimits::default();
        let h = limits.heartbeat;
        let mut r = ChatRules::new(limits, t, "p".into());
        assert!(!r.heartbeats_missed(t + h * 2));
        assert!(r.heartbeats_missed(t + h * 3));
        r.heard(t + h * 2);
        assert!(!r.heartbeats_missed(t + h * 3));
    }
}
