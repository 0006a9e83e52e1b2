//! Fan-out: 1, 10 and 100 viewers of one room, with and without one viewer that reads at
//! 1 MB/s; aggregate throughput and the slowest fast viewer's, against one-hop servers (one
//! PTY per viewer, as such servers do).

use anyhow::{Context, bail, ensure};
use futures::StreamExt;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

use crate::bulk::make_file;
use crate::onehop::OneHop;
use crate::rig::{Out, Relay, bench_config, next_output};
use crate::stats::{Row, Summary, mbps};

/// Reads `size` bytes of output from offset `from`, exactly once and in order; returns the time
/// it took from `start`.
async fn read_all(
    mut conn: roulette_transport::connect::Connection,
    size: u64,
    start: Instant,
) -> anyhow::Result<Duration> {
    let mut next = 0u64;
    let mut got = 0u64;
    while got < size {
        let out = tokio::time::timeout(Duration::from_secs(20), next_output(&mut conn))
            .await
            .map_err(|_| anyhow::anyhow!("fan-out: a viewer stalled at {got} of {size} bytes"))?;
        match out? {
            Out::Bytes(offset, data) => {
                ensure!(offset == next, "fan-out: offset {offset}, expected {next}");
                next += data.len() as u64;
                got += data.len() as u64;
            }
            Out::Snapshot(..) => bail!("fan-out: a fast viewer was sent a snapshot"),
        }
    }
    ensure!(got >= size, "fan-out: {got} of {size}");
    Ok(start.elapsed())
}

/// One run: `n` fast viewers, optionally a slow one; returns (aggregate MB/s, slowest fast MB/s).
async fn roulette(
    relay: &Relay,
    path: &str,
    size: u64,
    n: usize,
    slow: bool,
) -> anyhow::Result<(f64, f64)> {
    // The file is preceded by one line the shell echoes; viewers count from the first byte.
    let script = format!("read go; exec cat {path}");
    let mut host = relay.host(&["sh", "-c", &script]);
    let mut partner = relay.partner().await?;
    host.wait_for(|s| matches!(s, roulette_cli::host::HostStatus::AgentStarted { .. }))
        .await?;
    let mut viewers = Vec::with_capacity(n);
    for _ in 0..n {
        viewers.push(relay.host_viewer().await?);
    }
    let start = Instant::now();
    host.keys(b"\r").await?;
    // The echoed newline is part of the stream; the file follows it.
    let total = size + 2;
    let tasks: Vec<_> = viewers
        .into_iter()
        .map(|v| tokio::spawn(read_all(v, total, start)))
        .collect();
    let slow_task = tokio::spawn(async move {
        let mut pace_bytes = 0u64;
        let begun = Instant::now();
        loop {
            let n = match next_output(&mut partner).await {
                Ok(Out::Bytes(_, b) | Out::Snapshot(b)) => b.len() as u64,
                Err(_) => return,
            };
            if slow {
                pace_bytes += n;
                let due = begun + Duration::from_secs_f64(pace_bytes as f64 / 1e6);
                tokio::time::sleep_until(due.into()).await;
            }
        }
    });
    let mut slowest = Duration::ZERO;
    for t in tasks {
        slowest = slowest.max(t.await.context("viewer task")??);
    }
    slow_task.abort();
    // `cat` ends, and with it the session; the next run starts from the queue.
    host.finished().await;
    Ok((mbps(total * n as u64, slowest), mbps(total, slowest)))
}

async fn one_hop(path: &str, size: u64, n: usize) -> anyhow::Result<f64> {
    let server = OneHop::start(vec!["cat".into(), path.into()]).await?;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..n {
        let mut ws = server.connect().await?;
        tasks.push(tokio::spawn(async move {
            let mut got = 0u64;
            while got < size {
                match ws.next().await {
                    Some(Ok(Message::Binary(b))) => got += b.len() as u64,
                    Some(Ok(Message::Close(frame))) => {
                        return (got, format!("closed by the server: {frame:?}"));
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return (got, format!("error: {e}")),
                    None => return (got, "the connection ended".to_string()),
                }
            }
            (got, String::new())
        }));
    }
    let mut total = 0u64;
    for t in tasks {
        let (got, how) = t.await?;
        ensure!(
            got == size,
            "one-hop fan-out: a viewer got {got} of {size} bytes ({how})"
        );
        total += got;
    }
    let rate = mbps(total, start.elapsed());
    server.finish().await;
    Ok(rate)
}

/// Runs the workload.
pub async fn run(quick: bool, reps: usize) -> anyhow::Result<Vec<Row>> {
    let size = if quick { 2_000_000 } else { 12_000_000 };
    let (file, _) = make_file(size)?;
    let path = file.path().to_str().context("path")?.to_string();
    let mut config = bench_config();
    config.limits.max_violations = 1000;
    // This workload measures delivering every byte to every viewer, so viewers skip ahead only
    // when the ring no longer holds their bytes, not when their backlog grows long.
    config.limits.max_backlog = std::time::Duration::from_secs(3600);
    // And the ring holds the whole file, so no viewer's next byte ever leaves it: what is
    // measured is how fast the relay delivers, not when it gives up on a viewer.
    config.limits.replay_bytes = size * 2 + (1 << 20);
    let relay = Relay::start(config).await?;
    let mut rows = Vec::new();
    for n in [1usize, 10, 100] {
        let (mut agg, mut agg_slow, mut fast, mut fast_slow, mut hop) =
            (vec![], vec![], vec![], vec![], vec![]);
        for rep in 0..reps {
            println!("   fan-out {n} viewers, repetition {}", rep + 1);
            hop.push(one_hop(&path, size as u64, n).await?);
            // With and without the slow viewer, in alternating order, so that neither always
            // runs first after the baseline.
            let order = if rep % 2 == 0 {
                [false, true]
            } else {
                [true, false]
            };
            for slow in order {
                let (a, f) = roulette(&relay, &path, size as u64, n, slow).await?;
                if slow {
                    agg_slow.push(a);
                    fast_slow.push(f);
                } else {
                    agg.push(a);
                    fast.push(f);
                }
            }
        }
        let (a, aslow, f, fslow) = (
            Summary::of(&agg),
            Summary::of(&agg_slow),
            Summary::of(&fast),
            Summary::of(&fast_slow),
        );
        rows.push(Row {
            name: format!("fan-out to {n} viewers: aggregate"),
            unit: "MB/s",
            roulette: a,
            baseline: Some(("one-hop".into(), Summary::of(&hop))),
            goal: if n == 100 {
                ">= 2500 MB/s".into()
            } else {
                "(for reference)".into()
            },
            met: (n == 100).then_some(a.median >= 2500.0),
        });
        rows.push(Row {
            name: format!("fan-out to {n} + one 1 MB/s viewer: aggregate"),
            unit: "MB/s",
            roulette: aslow,
            baseline: None,
            goal: "(for reference)".into(),
            met: None,
        });
        let cost = 1.0 - fslow.median / f.median;
        rows.push(Row {
            name: format!("fan-out to {n}: slowest fast viewer, with slow viewer"),
            unit: "MB/s",
            roulette: fslow,
            baseline: Some(("without slow viewer".into(), f)),
            goal: format!("slow viewer costs < 10% (here {:.1}%)", cost * 100.0),
            met: Some(cost < 0.10),
        });
    }
    Ok(rows)
}
