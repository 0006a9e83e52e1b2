//! Exponential backoff with jitter for reconnecting clients, so that a server restart is not
//! met by every client at the same instant.

use std::time::Duration;

/// Delays that double from `base` up to `max`, each scaled by a random factor in [0.5, 1.0].
#[derive(Clone, Debug)]
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
    state: u64,
}

impl Backoff {
    /// A backoff starting at `base`, capped at `max`, with jitter from `seed`.
    pub fn new(base: Duration, max: Duration, seed: u64) -> Self {
        Self {
            base,
            max,
            attempt: 0,
            state: seed | 1,
        }
    }

    /// The delay before the next attempt.
    pub fn next_delay(&mut self) -> Duration {
        let exp = self.base.saturating_mul(1u32 << self.attempt.min(20));
        self.attempt = self.attempt.saturating_add(1);
        let capped = exp.min(self.max);
        // xorshift64: the jitter needs spread, not secrecy.
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let factor = 0.5 + (self.state % 1000) as f64 / 2000.0;
        capped.mul_f64(factor)
    }

    /// Back to the first delay, after a connection that worked.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}
