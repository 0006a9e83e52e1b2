use roulette_core::rate_limit::{RateLimit, TokenBucket};
use std::time::{Duration, Instant};

#[test]
fn allows_burst_then_refuses_until_refilled() {
    let t0 = Instant::now();
    let mut b = TokenBucket::new(RateLimit::new(3, Duration::from_secs(1)));
    for _ in 0..3 {
        assert!(b.try_take(t0).is_ok());
    }
    assert_eq!(b.try_take(t0).unwrap_err(), Duration::from_secs(1));
    assert!(b.try_take(t0 + Duration::from_millis(999)).is_err());
    assert!(b.try_take(t0 + Duration::from_secs(1)).is_ok());
    assert!(b.try_take(t0 + Duration::from_secs(1)).is_err());
    // A long pause refills to the burst, never beyond it.
    let later = t0 + Duration::from_secs(100);
    for _ in 0..3 {
        assert!(b.try_take(later).is_ok());
    }
    assert!(b.try_take(later).is_err());
}

#[test]
fn a_refused_take_changes_nothing() {
    let t0 = Instant::now();
    let mut b = TokenBucket::new(RateLimit::new(1, Duration::from_secs(2)));
    assert!(b.try_take(t0).is_ok());
    for _ in 0..10 {
        assert!(b.try_take(t0 + Duration::from_secs(1)).is_err());
    }
    // Refusals did not push the refill further away.
    assert!(b.try_take(t0 + Duration::from_secs(2)).is_ok());
}

#[test]
fn zero_burst_refuses_everything() {
    let mut b = TokenBucket::new(RateLimit::new(0, Duration::from_secs(1)));
    assert!(b.try_take(Instant::now()).is_err());
}
