//! The `roulette` command. Its subcommands (serve, host, join, chat, demo, ...) arrive with the
//! relay issue; until then it says so instead of pretending.

fn main() {
    eprintln!(
        "roulette {}: the command-line frontend is not built yet. \
         Run `cargo run --example session` for a whole session driven through roulette-core.",
        env!("CARGO_PKG_VERSION")
    );
    std::process::exit(2);
}
