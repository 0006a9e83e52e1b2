//! Idle scale: many connected, idle participants. The relay runs in its own process so its
//! memory can be read from /proc; connections come from this one.

use anyhow::{Context, bail};
use roulette_transport::connect::{Connection, Endpoint};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::stats::{Row, Summary};

/// The relay, run by this binary in a child process: prints its address, then serves.
pub async fn serve_child(data_dir: &str) -> anyhow::Result<()> {
    let mut config = crate::rig::bench_config();
    config.data_dir = data_dir.into();
    let server = roulette_server::Server::bind(config).await?;
    println!("{}", server.local_addr());
    server.run().await?;
    Ok(())
}

/// Resident memory of a process, in bytes.
pub fn rss(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    let kb: u64 = line
        .split_whitespace()
        .nth(1)
        .context("VmRSS value")?
        .parse()?;
    Ok(kb * 1024)
}

/// Raises this process's open-file limit to its hard limit (children inherit it).
pub fn raise_fd_limit() -> anyhow::Result<u64> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    Ok(hard)
}

struct Child_(Child);

impl Drop for Child_ {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn once(n: usize) -> anyhow::Result<(f64, f64)> {
    let data = tempfile::tempdir()?;
    let exe = std::env::current_exe()?;
    let mut child = Command::new(exe)
        .arg("__serve")
        .arg(data.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let stdout = child.stdout.take().context("stdout")?;
    let child = Child_(child);
    let addr = BufReader::new(stdout)
        .lines()
        .next()
        .context("no address")??;
    let url = format!("http://{addr}");
    let pid = child.0.id();
    // Warm up: one connection, so lazily made structures exist before measuring.
    let warm = Connection::connect(&url, Endpoint::Participant, None, None).await?;
    let before = rss(pid)?;
    let start = Instant::now();
    let mut conns = Vec::with_capacity(n);
    let mut pending = Vec::new();
    for _ in 0..n {
        let url = url.clone();
        pending.push(tokio::spawn(async move {
            Connection::connect(&url, Endpoint::Participant, None, None).await
        }));
        if pending.len() >= 200 {
            for p in pending.drain(..) {
                conns.push(p.await??);
            }
        }
    }
    for p in pending.drain(..) {
        conns.push(p.await??);
    }
    let connect_time = start.elapsed();
    if conns.len() != n {
        bail!("only {} of {n} connected", conns.len());
    }
    let after = rss(pid)?;
    drop(warm);
    drop(conns);
    let per_conn = after.saturating_sub(before) as f64 / n as f64 / 1024.0;
    Ok((per_conn, n as f64 / connect_time.as_secs_f64()))
}

/// Runs the workload.
pub async fn run(quick: bool, reps: usize) -> anyhow::Result<Vec<Row>> {
    let n = if quick { 1000 } else { 10_000 };
    let limit = raise_fd_limit()?;
    // Client and relay are separate processes: each needs one descriptor per connection.
    if (limit as usize) < n + 200 {
        bail!("the open-file limit ({limit}) is too low for {n} connections");
    }
    let (mut mem, mut rate) = (vec![], vec![]);
    for _ in 0..reps {
        let (m, r) = once(n).await?;
        mem.push(m);
        rate.push(r);
    }
    let (m, r) = (Summary::of(&mem), Summary::of(&rate));
    let seconds_for_10k = 10_000.0 / r.median;
    Ok(vec![
        Row {
            name: format!("idle: {n} connected participants, server memory each"),
            unit: "KiB",
            roulette: m,
            baseline: None,
            goal: "< 16 KiB".into(),
            met: Some(m.median < 16.0),
        },
        Row {
            name: format!("idle: connects per second ({n} connections)"),
            unit: "conn/s",
            roulette: r,
            baseline: None,
            goal: format!("10,000 in < 3 s (here {seconds_for_10k:.2} s)"),
            met: Some(seconds_for_10k < 3.0),
        },
    ])
}
