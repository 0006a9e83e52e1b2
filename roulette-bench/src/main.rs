//! `roulette-bench`: runs the workloads of BENCH.md through the real host agent and relay,
//! with baselines in the same run, interleaved, and prints medians, min, max and ratios.
//! Speed is never judged here; byte counts are, on every run.

mod bulk;
mod clock;
mod ctrlc;
mod echo;
mod fanout;
mod idle;
mod matchmaking;
mod onehop;
mod redraw;
mod rig;
mod stats;

use clap::Parser;

#[derive(Parser)]
#[command(name = "roulette-bench", about = "Benchmarks of the Roulette relay")]
struct Args {
    /// Small sizes and few repetitions: proves the benchmark works and bytes are exact.
    #[arg(long)]
    quick: bool,
    /// Repetitions of each workload (at least 5 for figures worth quoting).
    #[arg(long)]
    reps: Option<usize>,
    /// Run only the workloads whose names contain this.
    #[arg(long)]
    only: Option<String>,
}

fn main() -> anyhow::Result<()> {
    // Helper modes: the agent-like writer (run inside a PTY) and the relay in its own process.
    let argv: Vec<String> = std::env::args().collect();
    match argv.get(1).map(String::as_str) {
        Some("__redraw") => {
            let frames = argv.get(2).and_then(|f| f.parse().ok()).unwrap_or(60);
            return redraw::writer(frames);
        }
        Some("__serve") => {
            let dir = argv.get(2).cloned().unwrap_or_else(|| ".".into());
            return runtime()?.block_on(idle::serve_child(&dir));
        }
        _ => {}
    }
    runtime()?.block_on(bench(Args::parse()))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

async fn bench(args: Args) -> anyhow::Result<()> {
    let reps = args.reps.unwrap_or(if args.quick { 2 } else { 5 });
    let wanted = |name: &str| args.only.as_deref().is_none_or(|o| name.contains(o));
    println!(
        "roulette-bench: {} mode, {reps} repetitions, interleaved with baselines; {} cores",
        if args.quick { "quick" } else { "full" },
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut rows = Vec::new();
    if wanted("bulk") {
        println!("== bulk");
        rows.extend(bulk::run(args.quick, reps).await?);
    }
    if wanted("echo") {
        println!("== echo");
        rows.extend(echo::run(args.quick, reps).await?);
    }
    if wanted("redraw") {
        println!("== redraw");
        rows.extend(redraw::run(args.quick, reps).await?);
    }
    if wanted("ctrlc") {
        println!("== ctrlc");
        rows.extend(ctrlc::run(args.quick, reps).await?);
    }
    if wanted("fanout") {
        println!("== fanout");
        rows.extend(fanout::run(args.quick, reps).await?);
    }
    if wanted("idle") {
        println!("== idle");
        rows.extend(idle::run(args.quick, reps).await?);
    }
    if wanted("matchmaking") {
        println!("== matchmaking");
        rows.extend(matchmaking::run(args.quick, reps).await?);
    }
    println!();
    for row in &rows {
        stats::print_row(row);
    }
    Ok(())
}
