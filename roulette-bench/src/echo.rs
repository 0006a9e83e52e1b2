//! Keystroke echo through both hops to a raw-mode `cat`: round trip p50 and p99, alone and
//! while another room floods; against the one-hop relay.

use anyhow::{Context, bail};
use futures::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

use crate::onehop::OneHop;
use crate::rig::{Out, Relay, bench_config, make_driver, next_output, type_keys};
use crate::stats::{Row, Summary, percentile, us};

const RAW_CAT: &str = "stty raw -echo; echo ready; exec cat";

async fn roulette(relay: &Relay, samples: usize) -> anyhow::Result<Vec<f64>> {
    let mut host = relay.host(&["sh", "-c", RAW_CAT]);
    let mut guest = relay.partner().await?;
    // Wait for the agent to be ready, then take the wheel.
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("ready") {
        if let Out::Bytes(_, b) = next_output(&mut guest).await? {
            seen.extend_from_slice(&b);
        }
    }
    make_driver(&mut host, &mut guest).await?;
    let mut rtts = Vec::with_capacity(samples);
    for i in 0..samples {
        let key = b'a' + (i % 26) as u8;
        let start = Instant::now();
        type_keys(&mut guest, &[key]).await?;
        let echoed = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                match next_output(&mut guest).await? {
                    Out::Bytes(_, b) if b.contains(&key) => return Ok(()),
                    Out::Bytes(..) => {}
                    Out::Snapshot(..) => bail!("echo: unexpected snapshot"),
                }
            }
        })
        .await;
        // A lost keystroke is a failure to report, not a reason to wait forever.
        echoed
            .map_err(|_| anyhow::anyhow!("echo: keystroke {i} never came back within 10 s"))??;
        rtts.push(us(start.elapsed()));
    }
    guest
        .send(&roulette_transport::ClientMessage::Leave {})
        .await?;
    host.finished().await;
    Ok(rtts)
}

async fn one_hop(samples: usize) -> anyhow::Result<Vec<f64>> {
    let server = OneHop::start(vec!["sh".into(), "-c".into(), RAW_CAT.into()]).await?;
    let mut ws = server.connect().await?;
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("ready") {
        if let Message::Binary(b) = ws.next().await.context("one-hop ended")?? {
            seen.extend_from_slice(&b);
        }
    }
    let mut rtts = Vec::with_capacity(samples);
    for i in 0..samples {
        let key = b'a' + (i % 26) as u8;
        let start = Instant::now();
        ws.send(Message::Binary(vec![key].into())).await?;
        loop {
            match ws.next().await.context("one-hop ended")?? {
                Message::Binary(b) if b.contains(&key) => break,
                _ => {}
            }
        }
        rtts.push(us(start.elapsed()));
    }
    Ok(rtts)
}

/// Another room whose agent prints as fast as it can, with a viewer reading everything.
async fn flood(
    relay: &Relay,
    stop: tokio_util::sync::CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let token = relay.new_host_token()?;
    let mut host = relay.host_with(&["sh", "-c", "exec yes roulette-flood"], &token);
    let mut viewer = relay.partner().await?;
    host.wait_for(|s| matches!(s, roulette_cli::host::HostStatus::AgentStarted { .. }))
        .await?;
    Ok(tokio::spawn(async move {
        let _host = host;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                out = next_output(&mut viewer) => if out.is_err() { return },
            }
        }
    }))
}

/// The same flood through the one-hop server: `yes` in its PTY, one viewer reading everything.
async fn one_hop_flood(
    stop: tokio_util::sync::CancellationToken,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let server = OneHop::start(vec![
        "sh".into(),
        "-c".into(),
        "exec yes roulette-flood".into(),
    ])
    .await?;
    let mut ws = server.connect().await?;
    // Flowing before the measurement starts.
    ws.next().await.context("one-hop flood ended")??;
    Ok(tokio::spawn(async move {
        let _server = server;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                msg = ws.next() => if !matches!(msg, Some(Ok(_))) { return },
            }
        }
    }))
}

/// Runs the workload.
pub async fn run(quick: bool, reps: usize) -> anyhow::Result<Vec<Row>> {
    let samples = if quick { 100 } else { 1000 };
    let relay = Relay::start(bench_config()).await?;
    let mut ours = (Vec::new(), Vec::new());
    let mut flooded = (Vec::new(), Vec::new());
    let mut hop = (Vec::new(), Vec::new());
    let mut hop_flooded = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let h = one_hop(samples).await?;
        hop.0.push(percentile(&h, 50.0));
        hop.1.push(percentile(&h, 99.0));
        let stop = tokio_util::sync::CancellationToken::new();
        let flooding = one_hop_flood(stop.clone()).await?;
        let h = one_hop(samples).await?;
        hop_flooded.0.push(percentile(&h, 50.0));
        hop_flooded.1.push(percentile(&h, 99.0));
        stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), flooding).await;
        let r = roulette(&relay, samples).await?;
        ours.0.push(percentile(&r, 50.0));
        ours.1.push(percentile(&r, 99.0));
        let stop = tokio_util::sync::CancellationToken::new();
        let flooding = flood(&relay, stop.clone()).await?;
        let f = roulette(&relay, samples).await?;
        flooded.0.push(percentile(&f, 50.0));
        flooded.1.push(percentile(&f, 99.0));
        stop.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(5), flooding).await;
    }
    let row = |name: &str,
               s: &(Vec<f64>, Vec<f64>),
               base: &(Vec<f64>, Vec<f64>),
               base_name: &str,
               goal_p50: f64,
               goal_p99: f64|
     -> Vec<Row> {
        let (p50, p99) = (Summary::of(&s.0), Summary::of(&s.1));
        vec![
            Row {
                name: format!("{name}: p50"),
                unit: "us",
                roulette: p50,
                baseline: Some((base_name.into(), Summary::of(&base.0))),
                goal: format!("< {goal_p50} us"),
                met: Some(p50.median < goal_p50),
            },
            Row {
                name: format!("{name}: p99"),
                unit: "us",
                roulette: p99,
                baseline: Some((base_name.into(), Summary::of(&base.1))),
                goal: format!("< {goal_p99} us"),
                met: Some(p99.median < goal_p99),
            },
        ]
    };
    let mut rows = row(
        "keystroke echo, two hops",
        &ours,
        &hop,
        "one-hop",
        200.0,
        1000.0,
    );
    rows.extend(row(
        "keystroke echo while another room floods",
        &flooded,
        &hop_flooded,
        "one-hop, flooded too",
        200.0,
        1000.0,
    ));
    Ok(rows)
}
