//! A token bucket that runs on passed-in time.
//!
//! Hand-written rather than taken from `governor`: core must not read a clock, and a bucket that
//! takes `now` as an argument is a few lines, where adapting a clock-driven crate is not.

use std::time::{Duration, Instant};

/// How many actions a participant may take: `burst` at once, refilled at one per `per`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    /// Actions allowed back to back.
    pub burst: u32,
    /// Time to regain one action.
    pub per: Duration,
}

impl RateLimit {
    /// `burst` actions at once, one more every `per`.
    pub const fn new(burst: u32, per: Duration) -> Self {
        Self { burst, per }
    }
}

/// The state of one bucket.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    limit: RateLimit,
    /// The instant at which the bucket would be full again; before `now` means full.
    full_at: Option<Instant>,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            full_at: None,
        }
    }

    /// Takes one token if there is one. On refusal returns how long until one is available and
    /// leaves the bucket as it was.
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        if self.limit.burst == 0 {
            return Err(Duration::MAX);
        }
        let window = self.limit.per.saturating_mul(self.limit.burst);
        // GCRA: the bucket is a "full at" time; taking a token pushes it one period later.
        let base = match self.full_at {
            Some(t) if t > now => t,
            _ => now,
        };
        let next = base + self.limit.per;
        let debt = next.saturating_duration_since(now);
        if debt > window {
            return Err(debt - window);
        }
        self.full_at = Some(next);
        Ok(())
    }
}
