//! Who a chat client is, as far as limits go: its address (through the trusted proxy hops),
//! kept only as a salted hash, and what that address is allowed: sockets at once, queue joins
//! a minute, and violations before a temporary ban. The lobby owns the [`Gate`]; bans go to the
//! shared state, so every node would see them.

use roulette_core::{RateLimit, TokenBucket};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

use crate::config::ChatLimits;
use crate::wiring::LobbyCmd;

/// A client address as a salted hash: what limits and bans are keyed by. The salt is random
/// for each start of the server and never stored, so the key cannot be turned back into an
/// address, and nothing about addresses outlives the process.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AddrKey(pub String);

/// Makes [`AddrKey`]s.
#[derive(Clone)]
pub struct AddrHasher {
    salt: [u8; 32],
}

impl std::fmt::Debug for AddrHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AddrHasher(..)")
    }
}

impl AddrHasher {
    /// A hasher with a fresh random salt.
    pub fn random() -> Self {
        let mut salt = [0u8; 32];
        if getrandom::fill(&mut salt).is_err() {
            tracing::error!("the operating system's random generator failed");
            std::process::abort();
        }
        Self { salt }
    }

    /// The key of an address. IPv6 addresses count by their /64 network, which is what one
    /// subscriber usually holds.
    pub fn key(&self, ip: IpAddr) -> AddrKey {
        let canonical = match ip {
            IpAddr::V4(v4) => v4.octets().to_vec(),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.octets().to_vec(),
                None => v6.octets()[..8].to_vec(),
            },
        };
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(&canonical);
        let digest = h.finalize();
        AddrKey(digest[..12].iter().map(|b| format!("{b:02x}")).collect())
    }

    /// A chat client's match key, hashed again with this server's salt: what the queue keeps.
    pub fn match_key(&self, client_key: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.salt);
        h.update(b"match:");
        h.update(client_key.as_bytes());
        let digest = h.finalize();
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("chat:{hex}")
    }
}

/// The client's address: the socket's peer, or, behind `hops` trusted reverse proxies, the
/// `X-Forwarded-For` entry that the outermost trusted proxy added (the `hops`-th from the
/// right). Entries further left were written by the client and are not believed.
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded_for: impl IntoIterator<Item = &'a str>,
    hops: usize,
) -> IpAddr {
    if hops == 0 {
        return peer;
    }
    let entries: Vec<&str> = forwarded_for
        .into_iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .collect();
    if entries.is_empty() {
        return peer;
    }
    let index = entries.len().saturating_sub(hops);
    parse_entry(entries[index]).unwrap_or(peer)
}

/// An `X-Forwarded-For` entry: an address, perhaps with a port (`1.2.3.4:80`, `[::1]:80`).
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if let Ok(ip) = entry.parse() {
        return Some(ip);
    }
    if let Ok(sa) = entry.parse::<std::net::SocketAddr>() {
        return Some(sa.ip());
    }
    entry
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()
}

/// Why a socket was not let in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The address is banned for this much longer.
    Banned(Duration),
    /// The address has its share of sockets open.
    TooManySockets,
}

#[derive(Debug)]
struct Entry {
    sockets: usize,
    joins: TokenBucket,
    redeems: TokenBucket,
    /// Violations within the current window, and when the window began.
    violations: u32,
    window_start: Instant,
}

/// Per-address accounting for the chat endpoint.
#[derive(Debug)]
pub struct Gate {
    limits: ChatLimits,
    entries: HashMap<AddrKey, Entry>,
}

impl Gate {
    /// A gate with these limits.
    pub fn new(limits: ChatLimits) -> Self {
        Self {
            limits,
            entries: HashMap::new(),
        }
    }

    fn entry(&mut self, now: Instant, addr: &AddrKey) -> &mut Entry {
        let per_join = Duration::from_secs(60) / self.limits.joins_per_minute.max(1);
        let joins = RateLimit::new(self.limits.joins_per_minute, per_join);
        let per_redeem = Duration::from_secs(60) / self.limits.redeems_per_minute.max(1);
        let redeems = RateLimit::new(self.limits.redeems_per_minute, per_redeem);
        self.entries.entry(addr.clone()).or_insert_with(|| Entry {
            sockets: 0,
            joins: TokenBucket::new(joins),
            redeems: TokenBucket::new(redeems),
            violations: 0,
            window_start: now,
        })
    }

    /// Lets a socket in (counting it) unless the address has its share open.
    pub fn admit(&mut self, now: Instant, addr: &AddrKey) -> Result<(), Refusal> {
        let cap = self.limits.sockets_per_address;
        let e = self.entry(now, addr);
        if e.sockets >= cap {
            return Err(Refusal::TooManySockets);
        }
        e.sockets += 1;
        Ok(())
    }

    /// A socket of the address closed.
    pub fn release(&mut self, now: Instant, addr: &AddrKey) {
        if let Some(e) = self.entries.get_mut(addr) {
            e.sockets = e.sockets.saturating_sub(1);
        }
        self.forget_idle(now);
    }

    /// A queue join: allowed, or how long until the next one is.
    pub fn join(&mut self, now: Instant, addr: &AddrKey) -> Result<(), Duration> {
        self.entry(now, addr).joins.try_take(now)
    }

    /// An invite redemption: allowed, or how long until the next one is.
    pub fn redeem(&mut self, now: Instant, addr: &AddrKey) -> Result<(), Duration> {
        self.entry(now, addr).redeems.try_take(now)
    }

    /// A violation; `true` when the address has now earned a ban (the count starts again).
    pub fn violation(&mut self, now: Instant, addr: &AddrKey) -> bool {
        let (window, limit) = (self.limits.ban_for, self.limits.violations_before_ban);
        let e = self.entry(now, addr);
        if now.saturating_duration_since(e.window_start) > window {
            e.violations = 0;
            e.window_start = now;
        }
        e.violations += 1;
        if e.violations >= limit {
            e.violations = 0;
            e.window_start = now;
            return true;
        }
        false
    }

    /// How many addresses are remembered (for tests of boundedness).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Drops addresses with no socket open whose join allowance and violation window have run
    /// out: nothing is kept about an address longer than its limits need.
    fn forget_idle(&mut self, now: Instant) {
        if self.entries.len() < 1024 {
            return;
        }
        let keep_for = self.limits.ban_for.max(Duration::from_secs(60));
        self.entries.retain(|_, e| {
            e.sockets > 0 || now.saturating_duration_since(e.window_start) < keep_for
        });
    }
}

/// A counted chat socket: when dropped, the lobby is told the address has one fewer.
#[derive(Debug)]
pub struct AddrPermit {
    /// The address.
    pub addr: AddrKey,
    lobby: mpsc::Sender<LobbyCmd>,
}

impl AddrPermit {
    /// A permit the lobby granted.
    pub fn new(addr: AddrKey, lobby: mpsc::Sender<LobbyCmd>) -> Self {
        Self { addr, lobby }
    }
}

impl Drop for AddrPermit {
    fn drop(&mut self) {
        let cmd = LobbyCmd::Release {
            addr: self.addr.clone(),
        };
        if let Err(mpsc::error::TrySendError::Full(cmd)) = self.lobby.try_send(cmd) {
            // A busy lobby still hears of it, a moment later.
            let lobby = self.lobby.clone();
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    let _ = lobby.send(cmd).await;
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_believed_only_through_the_trusted_hops() {
        let peer = ip("10.0.0.1");
        let xff = ["203.0.113.9, 198.51.100.7"];
        assert_eq!(client_ip(peer, xff, 0), peer);
        assert_eq!(client_ip(peer, xff, 1), ip("198.51.100.7"));
        assert_eq!(client_ip(peer, xff, 2), ip("203.0.113.9"));
        // More hops than entries: the leftmost entry there is.
        assert_eq!(client_ip(peer, xff, 5), ip("203.0.113.9"));
        // Several headers are one list; ports and brackets are understood; garbage is not.
        assert_eq!(
            client_ip(peer, ["1.1.1.1", "[2001:db8::1]:443"], 1),
            ip("2001:db8::1")
        );
        assert_eq!(client_ip(peer, ["1.2.3.4:80"], 1), ip("1.2.3.4"));
        assert_eq!(client_ip(peer, ["nonsense"], 1), peer);
        assert_eq!(client_ip(peer, [], 1), peer);
    }

    #[test]
    fn keys_are_salted_and_group_ipv6_by_network() {
        let (a, b) = (AddrHasher::random(), AddrHasher::random());
        assert_ne!(a.key(ip("1.2.3.4")), b.key(ip("1.2.3.4")));
        assert_eq!(a.key(ip("1.2.3.4")), a.key(ip("::ffff:1.2.3.4")));
        assert_eq!(a.key(ip("2001:db8::1")), a.key(ip("2001:db8::ffff")));
        assert_ne!(a.key(ip("2001:db8::1")), a.key(ip("2001:db8:0:1::1")));
        assert!(!a.key(ip("1.2.3.4")).0.contains("1.2.3.4"));
        assert_ne!(a.match_key("s1"), a.match_key("s2"));
        assert!(!a.match_key("session-id").contains("session-id"));
    }

    #[test]
    fn sockets_joins_and_violations_per_address() {
        let t = Instant::now();
        let mut g = Gate::new(ChatLimits::default());
        let (a, b) = (AddrKey("a".into()), AddrKey("b".into()));
        for _ in 0..3 {
            g.admit(t, &a).unwrap();
        }
        assert_eq!(g.admit(t, &a), Err(Refusal::TooManySockets));
        g.admit(t, &b).unwrap();
        g.release(t, &a);
        g.admit(t, &a).unwrap();
        for _ in 0..5 {
            g.join(t, &a).unwrap();
        }
        assert!(g.join(t, &a).is_err());
        assert!(g.join(t + Duration::from_secs(12), &a).is_ok());
        for i in 1..10 {
            assert!(!g.violation(t, &a), "ban after {i}");
        }
        assert!(g.violation(t, &a));
        assert!(!g.violation(t, &a), "the count starts again");
    }
}
