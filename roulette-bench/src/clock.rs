//! A clock shared by processes on one machine (CLOCK_MONOTONIC), for latencies measured from
//! a writer in one process to a reader in another.

/// Nanoseconds on the system's monotonic clock.
pub fn mono_ns() -> u64 {
    match nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC) {
        Ok(t) => (t.tv_sec() as u64) * 1_000_000_000 + t.tv_nsec() as u64,
        Err(_) => 0,
    }
}
