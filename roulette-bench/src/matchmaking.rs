//! Matchmaking: 1,000 clients joining the queue in a closed loop (each, once paired, joins
//! again at once), through the core matchmaker; joins a second and time to match.

use roulette_core::{
    Candidate, MatchKey, Matchmaker, MatchmakerConfig, MatchmakerOutput, ParticipantId, RoomKind,
};
use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::stats::{Row, Summary, percentile, us};

fn candidate(n: u64) -> Candidate {
    Candidate {
        participant: ParticipantId(n),
        key: MatchKey::new(format!("client-{n}")),
        kind: RoomKind::Pairing,
        // Half of the clients have a host agent.
        can_host: n.is_multiple_of(2),
        latency: Duration::from_millis(10 + n % 90),
    }
}

fn once(joins: usize) -> (f64, f64) {
    let clients = 1000u64;
    let mut mm = Matchmaker::new(MatchmakerConfig::default());
    let mut waiting_since: HashMap<u64, Instant> = HashMap::new();
    let mut waits = Vec::with_capacity(joins);
    let mut next: Vec<u64> = (0..clients).collect();
    let start = Instant::now();
    let mut done = 0usize;
    while done < joins {
        let Some(n) = next.pop() else { break };
        let now = Instant::now();
        waiting_since.insert(n, now);
        if mm.enqueue(now, candidate(n)).is_ok() {
            done += 1;
        }
        while let Some(MatchmakerOutput::Matched(m)) = mm.poll_output() {
            let matched_at = Instant::now();
            for c in &m.partners {
                if let Some(since) = waiting_since.remove(&c.participant.0) {
                    waits.push(us(matched_at - since));
                }
                next.push(c.participant.0);
            }
        }
    }
    let elapsed = start.elapsed();
    (
        done as f64 / elapsed.as_secs_f64(),
        percentile(&waits, 99.0),
    )
}

/// Runs the workload.
pub async fn run(quick: bool, reps: usize) -> anyhow::Result<Vec<Row>> {
    let joins = if quick { 100_000 } else { 2_000_000 };
    let (mut rate, mut p99) = (vec![], vec![]);
    for _ in 0..reps {
        let (r, p) = once(joins);
        rate.push(r);
        p99.push(p);
    }
    let (r, p) = (Summary::of(&rate), Summary::of(&p99));
    Ok(vec![
        Row {
            name: "matchmaking, 1,000 clients in a closed loop: joins".into(),
            unit: "join/s",
            roulette: r,
            baseline: None,
            goal: "> 50,000 a second".into(),
            met: Some(r.median > 50_000.0),
        },
        Row {
            name: "matchmaking: p99 time to match".into(),
            unit: "us",
            roulette: p,
            baseline: None,
            goal: "< 5000 us".into(),
            met: Some(p.median < 5000.0),
        },
    ])
}
