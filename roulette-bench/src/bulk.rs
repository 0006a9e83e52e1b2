//! Bulk output: `cat` of a large file in the PTY, one viewer, through the host agent and the
//! relay (two hops), against the raw PTY read rate and the one-hop relay, in the same run.

use anyhow::{Context, bail, ensure};
use futures::StreamExt;
use roulette_pty::{Agent, AgentConfig, PtyEvent};
use sha2::{Digest, Sha256};
use std::io::Write;
use std::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::onehop::OneHop;
use crate::rig::{Out, Relay, bench_config, next_output};
use crate::stats::{Row, Summary, mbps};

/// A file of `size` printable bytes without newlines (so the PTY passes it unchanged).
pub fn make_file(size: usize) -> anyhow::Result<(tempfile::NamedTempFile, [u8; 32])> {
    let mut file = tempfile::NamedTempFile::new()?;
    let mut hasher = Sha256::new();
    let mut chunk = Vec::with_capacity(1 << 20);
    let mut written = 0usize;
    let mut x: u32 = 12345;
    while written < size {
        chunk.clear();
        let n = (1 << 20).min(size - written);
        for _ in 0..n {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            chunk.push(b' ' + ((x >> 16) % 94) as u8);
        }
        file.write_all(&chunk)?;
        hasher.update(&chunk);
        written += n;
    }
    file.flush()?;
    Ok((file, hasher.finalize().into()))
}

async fn raw_pty(path: &str, size: usize, digest: [u8; 32]) -> anyhow::Result<f64> {
    let start = Instant::now();
    let mut agent = Agent::spawn(AgentConfig {
        command: vec!["cat".into(), path.into()],
        ..AgentConfig::default()
    })?;
    let mut hasher = Sha256::new();
    let mut got = 0usize;
    while let Some(event) = agent.next_event().await {
        match event {
            PtyEvent::Output(b) => {
                got += b.len();
                hasher.update(&b);
            }
            PtyEvent::Exited(_) => break,
        }
    }
    let elapsed = start.elapsed();
    ensure!(got == size, "raw PTY: {got} of {size} bytes");
    ensure!(
        <[u8; 32]>::from(hasher.finalize()) == digest,
        "raw PTY: bytes differ"
    );
    Ok(mbps(got as u64, elapsed))
}

async fn roulette(relay: &Relay, path: &str, size: usize, digest: [u8; 32]) -> anyhow::Result<f64> {
    let script = format!("read go; exec cat {path}");
    let mut host = relay.host(&["sh", "-c", &script]);
    let mut viewer = relay.partner().await?;
    host.wait_for(|s| matches!(s, roulette_cli::host::HostStatus::AgentStarted { .. }))
        .await?;
    let start = Instant::now();
    host.keys(b"\r").await?;
    let mut hasher = Sha256::new();
    let mut next = 0u64;
    let mut got = 0usize;
    while got < size {
        match next_output(&mut viewer).await? {
            Out::Bytes(offset, data) => {
                ensure!(offset == next, "roulette: offset {offset}, expected {next}");
                next += data.len() as u64;
                // The echoed Enter comes first; the file's bytes follow.
                let data = if got == 0 {
                    let skip = data
                        .iter()
                        .take_while(|b| **b == b'\r' || **b == b'\n')
                        .count();
                    data.slice(skip..)
                } else {
                    data
                };
                got += data.len();
                hasher.update(&data);
            }
            Out::Snapshot(..) => bail!("roulette: a viewer that keeps up was sent a snapshot"),
        }
    }
    let elapsed = start.elapsed();
    ensure!(got == size, "roulette: {got} of {size} bytes");
    ensure!(
        <[u8; 32]>::from(hasher.finalize()) == digest,
        "roulette: bytes differ"
    );
    viewer
        .send(&roulette_transport::ClientMessage::Leave {})
        .await?;
    host.finished().await;
    Ok(mbps(got as u64, elapsed))
}

async fn one_hop(path: &str, size: usize, digest: [u8; 32]) -> anyhow::Result<f64> {
    let server = OneHop::start(vec!["cat".into(), path.into()]).await?;
    let start = Instant::now();
    let mut ws = server.connect().await?;
    let mut hasher = Sha256::new();
    let mut got = 0usize;
    while got < size {
        match ws.next().await.context("one-hop: ended early")?? {
            Message::Binary(b) => {
                got += b.len();
                hasher.update(&b);
            }
            Message::Close(_) => break,
            _ => {}
        }
    }
    let elapsed = start.elapsed();
    ensure!(got == size, "one-hop: {got} of {size} bytes");
    ensure!(
        <[u8; 32]>::from(hasher.finalize()) == digest,
        "one-hop: bytes differ"
    );
    Ok(mbps(got as u64, elapsed))
}

/// Runs the workload; returns its rows.
pub async fn run(quick: bool, reps: usize) -> anyhow::Result<Vec<Row>> {
    let size = if quick { 8_000_000 } else { 150_000_000 };
    let (file, digest) = make_file(size)?;
    let path = file.path().to_str().context("temp path")?.to_string();
    // This workload measures delivering every byte: the viewer is never skipped ahead for a
    // long backlog, and the ring holds the whole file (on a slow or busy machine the viewer
    // may fall behind; with the defaults it would rightly skip to the screen).
    let mut config = bench_config();
    config.limits.max_backlog = std::time::Duration::from_secs(3600);
    config.limits.replay_bytes = size * 2 + (1 << 20);
    let relay = Relay::start(config).await?;
    let (mut raw, mut ours, mut hop) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps {
        raw.push(raw_pty(&path, size, digest).await?);
        ours.push(roulette(&relay, &path, size, digest).await?);
        hop.push(one_hop(&path, size, digest).await?);
    }
    let (r, b, h) = (Summary::of(&ours), Summary::of(&raw), Summary::of(&hop));
    println!(
        "bulk: {} MB, every byte checked (SHA-256) in every run",
        size / 1_000_000
    );
    Ok(vec![
        Row {
            name: format!(
                "bulk output, {} MB, one viewer (vs raw PTY)",
                size / 1_000_000
            ),
            unit: "MB/s",
            roulette: r,
            baseline: Some(("raw PTY".into(), b)),
            goal: ">= 0.90 x raw PTY".into(),
            met: Some(r.median >= 0.9 * b.median),
        },
        Row {
            name: "bulk output (vs one-hop relay)".into(),
            unit: "MB/s",
            roulette: r,
            baseline: Some(("one-hop".into(), h)),
            goal: "(for reference)".into(),
            met: None,
        },
    ])
}
