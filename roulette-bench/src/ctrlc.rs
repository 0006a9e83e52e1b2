//! Ctrl-C while the PTY floods, with a viewer that reads at 5 MB/s: the time from the Ctrl-C
//! until the shell's prompt shows on that viewer, and the bytes it received in between.

use anyhow::Context;
use futures::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

use crate::onehop::OneHop;
use crate::rig::{Out, Relay, bench_config, next_output};
use crate::stats::{Row, Summary, ms};

const SHELL: &str = "PS1='READY> ' exec sh -i";
const RATE: f64 = 5_000_000.0;
const PROMPT: &str = "READY> ";

/// Paces a reader to `RATE` bytes a second.
struct Pace {
    start: Instant,
    bytes: u64,
}

impl Pace {
    async fn took(&mut self, n: usize) {
        self.bytes += n as u64;
        let due = self.start + Duration::from_secs_f64(self.bytes as f64 / RATE);
        tokio::time::sleep_until(due.into()).await;
    }
}

async fn roulette(relay: &Relay) -> anyhow::Result<(f64, f64)> {
    let host = relay.host(&["sh", "-c", SHELL]);
    let mut viewer = relay.partner().await?;
    let mut seen = String::new();
    while !seen.contains(PROMPT) {
        let (Out::Bytes(_, b) | Out::Snapshot(b)) = next_output(&mut viewer).await?;
        seen.push_str(&String::from_utf8_lossy(&b));
    }
    host.keys(b"yes\r").await?;
    let mut pace = Pace {
        start: Instant::now(),
        bytes: 0,
    };
    let flood_until = Instant::now() + Duration::from_secs(1);
    // Read (slowly) through a second of flood, then press Ctrl-C.
    while Instant::now() < flood_until {
        let n = match next_output(&mut viewer).await? {
            Out::Bytes(_, b) | Out::Snapshot(b) => b.len(),
        };
        pace.took(n).await;
    }
    let pressed = Instant::now();
    host.keys(b"\x03").await?;
    let mut after = 0usize;
    let mut tail = String::new();
    loop {
        let data = match next_output(&mut viewer).await? {
            Out::Bytes(_, b) | Out::Snapshot(b) => b,
        };
        after += data.len();
        tail.push_str(&String::from_utf8_lossy(&data));
        if tail.contains(PROMPT) {
            break;
        }
        let keep = tail.len().saturating_sub(16);
        tail.drain(..tail.floor_char_boundary(keep));
        pace.took(data.len()).await;
    }
    let took = pressed.elapsed();
    host.keys(b"exit\r").await?;
    viewer
        .send(&roulette_transport::ClientMessage::Leave {})
        .await?;
    let mut host = host;
    host.finished().await;
    Ok((ms(took), after as f64 / 1e6))
}

async fn one_hop() -> anyhow::Result<(f64, f64)> {
    let server = OneHop::start(vec!["sh".into(), "-c".into(), SHELL.into()]).await?;
    let mut ws = server.connect().await?;
    let mut seen = String::new();
    while !seen.contains(PROMPT) {
        if let Message::Binary(b) = ws.next().await.context("ended")?? {
            seen.push_str(&String::from_utf8_lossy(&b));
        }
    }
    ws.send(Message::Binary(b"yes\r".to_vec().into())).await?;
    let mut pace = Pace {
        start: Instant::now(),
        bytes: 0,
    };
    let flood_until = Instant::now() + Duration::from_secs(1);
    while Instant::now() < flood_until {
        if let Message::Binary(b) = ws.next().await.context("ended")?? {
            pace.took(b.len()).await;
        }
    }
    let pressed = Instant::now();
    ws.send(Message::Binary(b"\x03".to_vec().into())).await?;
    let mut after = 0usize;
    let mut tail = String::new();
    let limit = Instant::now() + Duration::from_secs(30);
    loop {
        let Message::Binary(b) = ws.next().await.context("ended")?? else {
            continue;
        };
        after += b.len();
        tail.push_str(&String::from_utf8_lossy(&b));
        if tail.contains(PROMPT) || Instant::now() > limit {
            break;
        }
        let keep = tail.len().saturating_sub(16);
        tail.drain(..tail.floor_char_boundary(keep));
        pace.took(b.len()).await;
    }
    Ok((ms(pressed.elapsed()), after as f64 / 1e6))
}

/// Runs the workload.
pub async fn run(_quick: bool, reps: usize) -> anyhow::Result<Vec<Row>> {
    let relay = Relay::start(bench_config()).await?;
    let (mut ours, mut ours_mb, mut hop, mut hop_mb) = (vec![], vec![], vec![], vec![]);
    for _ in 0..reps {
        let (t, mb) = one_hop().await?;
        hop.push(t);
        hop_mb.push(mb);
        let (t, mb) = roulette(&relay).await?;
        ours.push(t);
        ours_mb.push(mb);
    }
    let s = Summary::of(&ours);
    Ok(vec![
        Row {
            name: "Ctrl-C under flood, viewer at 5 MB/s: prompt back".into(),
            unit: "ms",
            roulette: s,
            baseline: Some(("one-hop".into(), Summary::of(&hop))),
            goal: "< 300 ms".into(),
            met: Some(s.median < 300.0),
        },
        Row {
            name: "Ctrl-C under flood: bytes received after Ctrl-C".into(),
            unit: "MB",
            roulette: Summary::of(&ours_mb),
            baseline: Some(("one-hop".into(), Summary::of(&hop_mb))),
            goal: "(as few as possible)".into(),
            met: None,
        },
    ])
}
