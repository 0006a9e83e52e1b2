//! Agent-like output: 60 redraws a second of ~5 KB coloured screens inside synchronized-output
//! markers, with a 256 KB burst every half second; latency per frame from the PTY write to
//! the viewer's receipt, on the machine's monotonic clock.

use anyhow::Context;
use futures::{SinkExt, StreamExt};
use std::io::Write;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

use crate::clock::mono_ns;
use crate::onehop::OneHop;
use crate::rig::{Out, Relay, bench_config, next_output};
use crate::stats::{Row, Summary, percentile};

const MARK: &[u8] = b"@@T";

/// The writer, run inside the PTY: waits for a line, then draws `frames` frames.
pub fn writer(frames: usize) -> anyhow::Result<()> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let mut out = std::io::stdout().lock();
    let period = Duration::from_micros(16_667);
    let start = Instant::now();
    let burst: Vec<u8> = (0..256 * 1024)
        .map(|i| if i % 100 == 99 { b'\n' } else { b'#' })
        .collect();
    for n in 0..frames {
        let mut frame = Vec::with_capacity(6000);
        frame.extend_from_slice(b"\x1b[?2026h\x1b[H");
        for row in 0..24 {
            frame.extend_from_slice(format!("\x1b[{}m", 31 + (row + n) % 7).as_bytes());
            frame.extend_from_slice(
                format!(
                    "{:>4} {:<70}\x1b[0m\r\n",
                    n, "redraw the agent's view of things "
                )
                .as_bytes(),
            );
        }
        if n % 30 == 29 {
            out.write_all(&burst)?;
        }
        frame.extend_from_slice(format!("@@T{}@@", mono_ns()).as_bytes());
        frame.extend_from_slice(b"\x1b[?2026l");
        out.write_all(&frame)?;
        out.flush()?;
        let due = start + period * (n as u32 + 1);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    out.write_all(b"@@END@@")?;
    out.flush()?;
    // Stay until the reader has seen the end.
    let _ = std::io::stdin().read_line(&mut line);
    Ok(())
}

/// Scans a byte stream for frame markers; returns latencies in microseconds.
#[derive(Default)]
struct Scanner {
    carry: Vec<u8>,
    latencies: Vec<f64>,
    ended: bool,
}

impl Scanner {
    fn feed(&mut self, data: &[u8]) {
        let now = mono_ns();
        self.carry.extend_from_slice(data);
        let mut i = 0;
        while let Some(pos) = find(&self.carry[i..], MARK) {
            let start = i + pos + MARK.len();
            let Some(end) = find(&self.carry[start..], b"@@") else {
                break;
            };
            if let Ok(t) = std::str::from_utf8(&self.carry[start..start + end])
                .unwrap_or("")
                .parse::<u64>()
            {
                self.latencies.push(now.saturating_sub(t) as f64 / 1000.0);
            }
            i = start + end + 2;
        }
        if find(&self.carry, b"@@END@@").is_some() {
            self.ended = true;
        }
        let keep = self
            .carry
            .len()
            .saturating_sub(40)
            .max(i.min(self.carry.len()));
        self.carry.drain(..keep);
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn command(frames: usize) -> anyhow::Result<Vec<String>> {
    let exe = std::env::current_exe()?
        .to_str()
        .context("exe path")?
        .to_string();
    Ok(vec![exe, "__redraw".into(), frames.to_string()])
}

async fn roulette(relay: &Relay, frames: usize) -> anyhow::Result<Vec<f64>> {
    let cmd = command(frames)?;
    let args: Vec<&str> = cmd.iter().map(String::as_str).collect();
    let mut host = relay.host(&args);
    let mut viewer = relay.partner().await?;
    host.wait_for(|s| matches!(s, roulette_cli::host::HostStatus::AgentStarted { .. }))
        .await?;
    host.keys(b"\r").await?;
    let mut scan = Scanner::default();
    while !scan.ended {
        match next_output(&mut viewer).await? {
            Out::Bytes(_, b) | Out::Snapshot(b) => scan.feed(&b),
        }
    }
    host.keys(b"\r").await?;
    viewer
        .send(&roulette_transport::ClientMessage::Leave {})
        .await?;
    host.finished().await;
    Ok(scan.latencies)
}

async fn one_hop(frames: usize) -> anyhow::Result<Vec<f64>> {
    let server = OneHop::start(command(frames)?).await?;
    let mut ws = server.connect().await?;
    ws.send(Message::Binary(b"\r".to_vec().into())).await?;
    let mut scan = Scanner::default();
    while !scan.ended {
        if let Message::Binary(b) = ws.next().await.context("one-hop ended")?? {
            scan.feed(&b);
        }
    }
    Ok(scan.latencies)
}

/// Runs the workload.
pub async fn run(quick: bool, reps: usize) -> anyhow::Result<Vec<Row>> {
    let frames = if quick { 60 } else { 300 };
    // Latency is measured on frames the viewer receives: it is not skipped ahead for a long
    // backlog, which a busy machine could otherwise cause mid-measurement.
    let mut config = bench_config();
    config.limits.max_backlog = std::time::Duration::from_secs(3600);
    let relay = Relay::start(config).await?;
    let (mut o50, mut o99, mut h50, mut h99) = (vec![], vec![], vec![], vec![]);
    for _ in 0..reps {
        let h = one_hop(frames).await?;
        h50.push(percentile(&h, 50.0));
        h99.push(percentile(&h, 99.0));
        let o = roulette(&relay, frames).await?;
        anyhow::ensure!(
            o.len() >= frames * 9 / 10,
            "only {} of {frames} frames measured",
            o.len()
        );
        o50.push(percentile(&o, 50.0));
        o99.push(percentile(&o, 99.0));
    }
    let (s50, s99) = (Summary::of(&o50), Summary::of(&o99));
    Ok(vec![
        Row {
            name: format!("agent-like redraws, {frames} frames: p50 latency"),
            unit: "us",
            roulette: s50,
            baseline: Some(("one-hop".into(), Summary::of(&h50))),
            goal: "< 350 us".into(),
            met: Some(s50.median < 350.0),
        },
        Row {
            name: "agent-like redraws: p99 latency".into(),
            unit: "us",
            roulette: s99,
            baseline: Some(("one-hop".into(), Summary::of(&h99))),
            goal: "< 2000 us".into(),
            met: Some(s99.median < 2000.0),
        },
    ])
}
