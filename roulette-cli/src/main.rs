//! The `roulette` command. Argument parsing only; the work is in the library and the crates.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use roulette_cli::console::{self, Command, KeyRouter, RawMode};
use roulette_cli::host::{AgentKind, HostOptions, HostStatus, LocalInput, run_host};
use roulette_cli::join::{JoinOptions, run_join};
use roulette_core::RoomKind;
use roulette_pty::WorkDir;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "roulette",
    version,
    about = "Pair with another developer and drive an AI coding agent together"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
    /// Trust the CA certificates in this PEM file too, for an https:// relay with a private
    /// CA (the system's roots are trusted, and SSL_CERT_FILE replaces them).
    #[arg(long, global = true, env = "ROULETTE_CA_FILE", value_name = "PEM")]
    ca_file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the relay server.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "ROULETTE_LISTEN", default_value = "127.0.0.1:7878")]
        listen: SocketAddr,
        /// Where the signing key, invites, reports and counters are kept.
        #[arg(long, env = "ROULETTE_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Extra origins allowed to open WebSockets (the server's own is always allowed).
        #[arg(long = "allow-origin")]
        allow_origins: Vec<String>,
        /// Reverse proxies in front of the server whose X-Forwarded-For entries are believed,
        /// counted from the right (0: the header is ignored).
        #[arg(long, env = "ROULETTE_TRUSTED_PROXY_HOPS", default_value_t = 0)]
        trusted_proxy_hops: usize,
        /// How far behind (in time at its own pace) a viewer may fall before it skips ahead to
        /// the current screen (default 150ms).
        #[arg(long, value_parser = humantime::parse_duration, hide_short_help = true)]
        viewer_max_backlog: Option<Duration>,
        #[command(flatten)]
        times: SessionTimes,
    },
    /// Mint a host token against the server's data directory; prints it on stdout.
    Token {
        /// The server's data directory.
        #[arg(long, env = "ROULETTE_DATA_DIR")]
        data_dir: Option<PathBuf>,
        /// Days until it expires.
        #[arg(long, default_value_t = 30)]
        days: u64,
    },
    /// Host a session: run the agent in a PTY here and share it through the relay.
    Host {
        #[command(flatten)]
        host: HostArgs,
        /// The server.
        #[arg(long, env = "ROULETTE_SERVER", default_value = "http://127.0.0.1:7878")]
        server: String,
        /// The host token (better: the ROULETTE_TOKEN variable or --token-file, which stay out of `ps`).
        #[arg(long, env = "ROULETTE_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// A file holding the host token.
        #[arg(long)]
        token_file: Option<PathBuf>,
    },
    /// Join a session as the partner, in this terminal.
    Join {
        /// The server.
        #[arg(long, env = "ROULETTE_SERVER", default_value = "http://127.0.0.1:7878")]
        server: String,
        /// An invite code.
        #[arg(long)]
        invite: Option<String>,
    },
    /// The chat roulette: talk to another developer who is waiting on an agent too.
    Chat {
        /// The server.
        #[arg(long, env = "ROULETTE_SERVER", default_value = "http://127.0.0.1:7878")]
        server: String,
        /// One queue slot per key: a salted hash of an agent's session id (set by the hook).
        #[arg(long, hide = true)]
        key: Option<String>,
        /// A file holding a guest token to come back as (a conversation found in the
        /// background); read, then deleted.
        #[arg(long, hide = true)]
        token_file: Option<PathBuf>,
    },
    /// Add the chat roulette's hooks to Claude Code ($HOME/.claude/settings.json).
    Init {
        /// The chat server (default: the hook's own default, http://127.0.0.1:7878).
        server_url: Option<String>,
        /// How long a task runs before a partner is looked for.
        #[arg(long, default_value = "30s")]
        after: String,
    },
    /// Remove exactly the hooks `roulette init` added.
    Uninstall,
    /// What Claude Code runs on its hook events: `UserPromptSubmit` and `Stop`. Reads the hook's
    /// JSON on stdin, prints nothing, always exits 0.
    Hook {
        /// `UserPromptSubmit` or `Stop` (or `wait`: the background waiter it starts).
        event: String,
        /// The chat server.
        #[arg(long, env = "ROULETTE_SERVER", default_value = "http://127.0.0.1:7878")]
        server: String,
        /// How long a task runs before a partner is looked for.
        #[arg(long, env = "ROULETTE_CHAT_AFTER", default_value = "30s", value_parser = humantime::parse_duration)]
        after: Duration,
        /// A task whose transcript has not changed for this long is not live.
        #[arg(long, env = "ROULETTE_LIVE_WINDOW", default_value = "60s", value_parser = humantime::parse_duration, hide = true)]
        live_window: Duration,
        /// How often the waiter looks at the tasks.
        #[arg(long, env = "ROULETTE_POLL", default_value = "1s", value_parser = humantime::parse_duration, hide = true)]
        poll: Duration,
    },
    /// What Claude Code runs on its hook events in a hosted session (from the session's own
    /// settings file): asks the host agent, prints the answer, denies when it cannot.
    #[command(hide = true)]
    ApprovalHook {
        /// The host agent's socket.
        #[arg(long)]
        socket: PathBuf,
        /// The host's time to decide, in seconds.
        #[arg(long, default_value_t = 300)]
        within: u64,
    },
    /// A whole local demo: a server and a host agent running your shell, in this terminal.
    Demo {
        /// Address for the local server.
        #[arg(long, default_value = "127.0.0.1:7878")]
        listen: SocketAddr,
        #[command(flatten)]
        host: HostArgs,
    },
}

/// Session durations, for trying the timer's steps without waiting half an hour.
#[derive(clap::Args, Clone, Default)]
struct SessionTimes {
    /// How long the project vote lasts (default 3m).
    #[arg(long, value_parser = humantime::parse_duration, hide_short_help = true)]
    planning_time: Option<Duration>,
    /// How long building lasts before any extension (default 30m).
    #[arg(long, value_parser = humantime::parse_duration, hide_short_help = true)]
    session_length: Option<Duration>,
    /// When the check-in comes, after building starts (default 15m; 0s switches it off).
    #[arg(long, value_parser = humantime::parse_duration, hide_short_help = true)]
    check_in_after: Option<Duration>,
    /// How long the check-in waits for both answers (default 2m).
    #[arg(long, value_parser = humantime::parse_duration, hide_short_help = true)]
    check_in_timeout: Option<Duration>,
    /// How long before the end the warning comes (default 5m).
    #[arg(long, value_parser = humantime::parse_duration, hide_short_help = true)]
    warning_before: Option<Duration>,
    /// How much the extension adds (default 15m).
    #[arg(long, value_parser = humantime::parse_duration, hide_short_help = true)]
    extension: Option<Duration>,
    /// How long the rematch stays open after building starts (default 3m).
    #[arg(long, value_parser = humantime::parse_duration, hide_short_help = true)]
    rematch_window: Option<Duration>,
}

impl SessionTimes {
    fn apply(&self, config: &mut roulette_core::SessionConfig) {
        let set = |field: &mut Duration, value: Option<Duration>| {
            if let Some(v) = value {
                *field = v;
            }
        };
        set(&mut config.planning_duration, self.planning_time);
        set(&mut config.building_duration, self.session_length);
        set(&mut config.check_in_after, self.check_in_after);
        set(&mut config.check_in_timeout, self.check_in_timeout);
        set(&mut config.warning_before_end, self.warning_before);
        set(&mut config.extension, self.extension);
        set(&mut config.rematch_window, self.rematch_window);
    }
}

#[derive(clap::Args, Clone)]
struct HostArgs {
    /// The agent program (default: claude; the demo uses your shell). Its arguments, or the
    /// whole command line, go after `--`: `roulette host -- claude --model opus`.
    #[arg(long = "cmd", value_name = "PROGRAM")]
    cmd: Option<String>,
    /// The agent's command line (or, with --cmd, its arguments), after `--`.
    #[arg(last = true, value_name = "AGENT")]
    agent: Vec<String>,
    /// Which agent this is: `claude` (its tool calls wait for you while your partner drives,
    /// through Claude Code's hooks) or `other`. Default: `claude` when the program is named
    /// claude.
    #[arg(long, value_parser = ["claude", "other"])]
    agent_kind: Option<String>,
    /// Run the agent here instead of a new private temporary directory.
    #[arg(long)]
    workdir: Option<PathBuf>,
    /// Give the agent this variable from your environment (repeatable), for example
    /// `--env ANTHROPIC_API_KEY`. Only the name goes here: the value is read from your
    /// environment, so it never appears on a command line or in `ps`. Other variables of yours
    /// do not reach the agent, apart from PATH, HOME, the locale and the terminal's.
    #[arg(long = "env", value_name = "NAME")]
    env: Vec<String>,
    /// Open an invite for a friend instead of waiting in the queue.
    #[arg(long)]
    invite: bool,
    /// Allow agent flags that switch off its permission checks.
    #[arg(long)]
    allow_unsafe_agent_flags: bool,
    /// While your partner drives, let Claude Code follow your own allow rules and permission
    /// mode (from ~/.claude) instead of holding every tool call that can change something for
    /// you. Your partner is told. Claude's permission dialogs still come to you.
    #[arg(long)]
    trust_my_claude_rules: bool,
    /// Hold every key your partner presses for your approval, not only their lines: for agents
    /// with dialogs of their own that Roulette cannot see.
    #[arg(long)]
    hold_remote_keys: bool,
    /// How long you have to allow or deny what the agent wants to do while your partner
    /// drives; then it is denied.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    approval_timeout: Duration,
}

fn host_options(
    args: &HostArgs,
    server: String,
    token: String,
    default_cmd: Vec<String>,
) -> anyhow::Result<HostOptions> {
    let cmd = match (&args.cmd, args.agent.is_empty()) {
        (Some(program), _) => std::iter::once(program.clone())
            .chain(args.agent.iter().cloned())
            .collect(),
        (None, false) => args.agent.clone(),
        (None, true) => default_cmd,
    };
    if let Err(why) = roulette_cli::host::check_agent_command(&cmd, args.allow_unsafe_agent_flags) {
        bail!("{why}");
    }
    if let Some(bad) = args.env.iter().find(|e| e.contains('=') || e.is_empty()) {
        bail!(
            "--env takes a variable's name, not `{}`: the value is read from your environment so that it never appears on a command line",
            bad.split('=').next().unwrap_or_default()
        );
    }
    if let Some(missing) = args.env.iter().find(|e| std::env::var_os(e).is_none()) {
        bail!("--env {missing}: that variable is not set in your environment; export it first");
    }
    let workdir = match &args.workdir {
        Some(dir) => {
            let home = std::env::var_os("HOME").map(PathBuf::from);
            WorkDir::Path(roulette_pty::check_workdir(dir, home.as_deref())?)
        }
        None => WorkDir::Temp,
    };
    let mut opts = HostOptions::new(server, token);
    opts.command = cmd.into_iter().map(Into::into).collect();
    opts.workdir = workdir;
    opts.pass_env = args.env.clone();
    opts.invite = args.invite;
    opts.show_output = true;
    opts.agent_kind = args.agent_kind.as_deref().map(|k| match k {
        "claude" => AgentKind::ClaudeCode,
        _ => AgentKind::Other,
    });
    opts.gate.hold_changes = !args.trust_my_claude_rules;
    opts.gate.timeout = args.approval_timeout;
    opts.hold_remote_keys = args.hold_remote_keys;
    Ok(opts)
}

fn init_logs() {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // At trace level these libraries log message payloads and headers, which hold tokens and
    // chat. Whatever RUST_LOG says, they stop at debug.
    for quiet in [
        "tungstenite=debug",
        "tokio_tungstenite=debug",
        "hyper=debug",
        "hyper_util=debug",
        "axum=debug",
    ] {
        if let Ok(directive) = quiet.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

async fn serve(config: roulette_server::ServerConfig) -> anyhow::Result<()> {
    let server = roulette_server::Server::bind(config).await?;
    tracing::info!(addr = %server.local_addr(), "roulette relay listening");
    let stop = server.shutdown_token();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down; clients are told to reconnect");
        stop.cancel();
    });
    server.run().await?;
    Ok(())
}

/// Runs the host agent with this terminal as the host's screen and keyboard.
async fn host_interactive(opts: HostOptions) -> anyhow::Result<()> {
    let (status_tx, mut status) = mpsc::unbounded_channel();
    let (local_tx, local_rx) = mpsc::channel(64);
    let stop = CancellationToken::new();
    let agent = tokio::spawn(run_host(opts, status_tx, local_rx, stop.clone()));
    let _raw = RawMode::enter();
    let mut keys = console::stdin_keys();
    let mut router = KeyRouter::default();
    let mut held: Option<roulette_core::LineId> = None;
    // Every request held for the host that has not ended yet, for saying how it ended.
    let mut held_requests: Vec<roulette_core::ApprovalId> = Vec::new();
    let mut spinner = tokio::time::interval(Duration::from_millis(250));
    let mut waiting = false;
    let frames = ['|', '/', '-', '\\'];
    let mut frame = 0;
    console::status("starting the host agent (Ctrl-] then /help for commands, /quit to stop)");
    loop {
        tokio::select! {
            s = status.recv() => {
                let Some(s) = s else { break };
                waiting = matches!(s, HostStatus::Waiting { .. }) || (waiting && matches!(s, HostStatus::Connected { .. }));
                match s {
                    HostStatus::Output(bytes) => console::write_out(&bytes),
                    HostStatus::Connected { you } => console::status(&format!("connected to the relay as {you}")),
                    HostStatus::Waiting { position } => console::status(&format!("waiting for a partner (#{position} in the queue)")),
                    HostStatus::Invite { code } => console::status(&format!("invite open; your friend runs: roulette join --invite {code}")),
                    HostStatus::Matched { partner } => console::status(&format!("matched with {partner}; starting the agent")),
                    HostStatus::AgentStarted { workdir } => console::status(&format!("agent running in {}", workdir.display())),
                    HostStatus::LineHeld { id, preview } => {
                        held = Some(id);
                        console::status(&format!("your partner wants to submit: {preview}  (Ctrl-Y allow, Ctrl-N refuse)"));
                    }
                    HostStatus::ApprovalWaiting { id, tool, summary, place } => {
                        let mut line = match place {
                            roulette_core::session::ApprovalPlace::Roulette => {
                                held_requests.push(id);
                                // Its own keys, apart from the held lines' Ctrl-Y: the host
                                // never allows one thing while reading another.
                                format!("while your partner drives, the agent wants to run {tool}({summary}); Ctrl-] then /allow {id} or /deny {id} WHY")
                            }
                            roulette_core::session::ApprovalPlace::AgentScreen => {
                                format!("the agent asks you ({tool}: {summary}); answer it on its screen before you hand over driving")
                            }
                        };
                        for w in roulette_core::safety::check_prompt(&summary) {
                            line.push_str(&format!("  warning: {}", w.reason));
                        }
                        console::status(&line);
                    }
                    HostStatus::ApprovalResolved { id, outcome } => {
                        if held_requests.contains(&id) {
                            held_requests.retain(|a| *a != id);
                            console::status(&match outcome {
                                roulette_core::session::ApprovalOutcome::Allowed => "allowed; the agent goes on".to_string(),
                                roulette_core::session::ApprovalOutcome::Denied => "denied; the agent was told".to_string(),
                                roulette_core::session::ApprovalOutcome::TimedOut => "nobody answered in time, so it was denied".to_string(),
                                roulette_core::session::ApprovalOutcome::Withdrawn => "the agent stopped waiting for your answer".to_string(),
                            });
                        }
                    }
                    HostStatus::Notice(n) => console::status(&n),
                    HostStatus::Reconnecting { after } => console::status(&format!("reconnecting in {:.1} s", after.as_secs_f32())),
                    HostStatus::Ended(reason) => console::status(&format!("session over: {reason}")),
                    HostStatus::AgentExited(code) => console::status(&match code {
                        Some(code) => format!("the agent exited with code {code}"),
                        None => "the agent was stopped".to_string(),
                    }),
                    // The end is told once, as `Ended`, in the host's own words.
                    HostStatus::Message(roulette_transport::ServerMessage::Ended { .. }) => {}
                    HostStatus::Message(m) => if let Some(line) = console::describe(&m) { console::status(&line) },
                }
            }
            _ = spinner.tick(), if waiting => {
                frame = (frame + 1) % frames.len();
                console::write_out(format!("\r{} waiting for a partner ", frames[frame]).as_bytes());
            }
            key = keys.recv() => {
                let Some(key) = key else { break };
                let routed = router.route(&key);
                let mut bytes = routed.keys;
                if let Some(id) = held
                    && let Some(pos) = bytes.iter().position(|b| *b == 0x19 || *b == 0x0e) {
                        let allow = bytes[pos] == 0x19;
                        bytes.remove(pos);
                        held = None;
                        let _ = local_tx.send(if allow { LocalInput::ApproveLine(id) } else { LocalInput::RejectLine(id) }).await;
                    }
                if !bytes.is_empty() {
                    let _ = local_tx.send(LocalInput::Keys(bytes.into())).await;
                }
                for line in routed.commands {
                    match console::parse_command(&line) {
                        Command::Send(roulette_transport::ClientMessage::DecideApproval { id, allow, reason }) => {
                            let _ = local_tx.send(LocalInput::DecideApproval { id, allow, reason: reason.into_string() }).await;
                        }
                        Command::Send(m) => { let _ = local_tx.send(LocalInput::Message(m)).await; }
                        Command::Quit => { stop.cancel(); }
                        Command::Help => console::status(console::HELP),
                        Command::Unknown(l) => console::status(&format!("unknown command {l:?}")),
                    }
                }
            }
        }
        if stop.is_cancelled() {
            break;
        }
    }
    stop.cancel();
    agent.await.context("host agent")??;
    Ok(())
}

/// GitHub sign-in from `GITHUB_CLIENT_ID` and `GITHUB_CLIENT_SECRET`, if both are set. The
/// endpoints can be pointed elsewhere (a test's stand-in) with `ROULETTE_GITHUB_URL` (for
/// `/login/oauth/...`) and `ROULETTE_GITHUB_API_URL`.
fn github_from_env() -> anyhow::Result<Option<roulette_server::GithubConfig>> {
    let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let (id, secret) = match (get("GITHUB_CLIENT_ID"), get("GITHUB_CLIENT_SECRET")) {
        (Some(id), Some(secret)) => (id, secret),
        (None, None) => return Ok(None),
        _ => bail!("GitHub sign-in needs both GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET"),
    };
    let mut config = roulette_server::GithubConfig::new(id, secret);
    if let Some(base) = get("ROULETTE_GITHUB_URL") {
        let base = base.trim_end_matches('/');
        config.authorize_url = format!("{base}/login/oauth/authorize");
        config.token_url = format!("{base}/login/oauth/access_token");
    }
    if let Some(api) = get("ROULETTE_GITHUB_API_URL") {
        config.api_url = api.trim_end_matches('/').to_string();
    }
    Ok(Some(config))
}

fn read_token(token: Option<String>, token_file: Option<PathBuf>) -> anyhow::Result<String> {
    if let Some(path) = token_file {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        return Ok(text.trim().to_string());
    }
    token.context("a host token is needed: set ROULETTE_TOKEN, or pass --token-file (mint one with `roulette token`)")
}

fn default_shell() -> Vec<String> {
    vec![
        std::env::var("SHELL")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "sh".into()),
    ]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // A hook never fails and never prints, whatever it was given.
        Err(_) if std::env::args().nth(1).as_deref() == Some("hook") => return Ok(()),
        // The approval hook denies instead: it is never left without an answer.
        Err(_) if std::env::args().nth(1).as_deref() == Some("approval-hook") => {
            print!(
                "{}",
                roulette_cli::hookchan::run_approval_hook(
                    std::path::Path::new(""),
                    Duration::ZERO,
                    &mut std::io::stdin()
                )
            );
            return Ok(());
        }
        Err(e) => e.exit(),
    };
    if let Some(ca) = &cli.ca_file {
        roulette_transport::tls::trust_ca_file(ca);
    }
    match cli.command {
        Cmd::Serve {
            listen,
            data_dir,
            allow_origins,
            trusted_proxy_hops,
            viewer_max_backlog,
            times,
        } => {
            init_logs();
            let mut config = roulette_server::ServerConfig {
                listen,
                data_dir: data_dir.unwrap_or_else(roulette_server::default_data_dir),
                allowed_origins: allow_origins,
                github: github_from_env()?,
                trusted_proxy_hops,
                ..roulette_server::ServerConfig::default()
            };
            times.apply(&mut config.session);
            if let Some(backlog) = viewer_max_backlog {
                config.limits.max_backlog = backlog;
            }
            serve(config).await
        }
        Cmd::Token { data_dir, days } => {
            let dir = data_dir.unwrap_or_else(roulette_server::default_data_dir);
            let token =
                roulette_server::mint_host_token(&dir, Duration::from_secs(days * 24 * 60 * 60))?;
            println!("{token}");
            Ok(())
        }
        Cmd::Host {
            host,
            server,
            token,
            token_file,
        } => {
            let token = read_token(token, token_file)?;
            let opts = host_options(&host, server, token, vec!["claude".into()])?;
            host_interactive(opts).await
        }
        Cmd::Join { server, invite } => {
            run_join(JoinOptions {
                server,
                invite,
                kind: RoomKind::Pairing,
            })
            .await
        }
        Cmd::Init { server_url, after } => {
            humantime::parse_duration(&after)
                .with_context(|| format!("--after {after}: not a duration"))?;
            let path = roulette_cli::claude::settings_path()?;
            let binary = std::env::current_exe().context("finding this program")?;
            let after = (after != "30s").then_some(after.as_str());
            match roulette_cli::claude::init(&path, &binary, server_url.as_deref(), after)? {
                roulette_cli::claude::Edited::Unchanged => {
                    println!(
                        "{} already has the roulette hooks; nothing changed",
                        path.display()
                    );
                }
                roulette_cli::claude::Edited::Changed { backup } => {
                    println!(
                        "added the roulette hooks (UserPromptSubmit, Stop) to {}",
                        path.display()
                    );
                    if let Some(b) = backup {
                        println!("the previous file is kept as {}", b.display());
                    }
                    println!("`roulette uninstall` removes them again");
                }
            }
            Ok(())
        }
        Cmd::Uninstall => {
            let path = roulette_cli::claude::settings_path()?;
            match roulette_cli::claude::uninstall(&path)? {
                roulette_cli::claude::Edited::Unchanged => {
                    println!("{} has no roulette hooks; nothing changed", path.display());
                }
                roulette_cli::claude::Edited::Changed { backup } => {
                    println!("removed the roulette hooks from {}", path.display());
                    if let Some(b) = backup {
                        println!("the previous file is kept as {}", b.display());
                    }
                }
            }
            Ok(())
        }
        Cmd::Hook {
            event,
            server,
            after,
            live_window,
            poll,
        } => {
            if event == "wait" {
                let binary = std::env::current_exe().context("finding this program")?;
                // The waiter shows nothing and never fails loudly.
                let _ = roulette_cli::waiter::run_waiter(roulette_cli::waiter::WaiterOptions {
                    server,
                    after,
                    live_window,
                    poll,
                    binary,
                })
                .await;
            } else {
                let args = [
                    "--server".to_string(),
                    server,
                    "--after".into(),
                    humantime::format_duration(after).to_string(),
                    "--live-window".into(),
                    humantime::format_duration(live_window).to_string(),
                    "--poll".into(),
                    humantime::format_duration(poll).to_string(),
                ];
                roulette_cli::hook::run_hook(&event, &args);
            }
            Ok(())
        }
        Cmd::Chat {
            server,
            key,
            token_file,
        } => {
            roulette_cli::chat::run_chat(roulette_cli::chat::ChatOptions {
                server,
                key,
                token: None,
                token_file,
            })
            .await
        }
        Cmd::ApprovalHook { socket, within } => {
            let answer = roulette_cli::hookchan::run_approval_hook(
                &socket,
                Duration::from_secs(within),
                &mut std::io::stdin(),
            );
            print!("{answer}");
            Ok(())
        }
        Cmd::Demo { listen, host } => {
            let data_dir = roulette_server::default_data_dir();
            let config = roulette_server::ServerConfig {
                listen,
                data_dir: data_dir.clone(),
                ..roulette_server::ServerConfig::default()
            };
            let server = roulette_server::Server::bind(config).await?;
            let addr = server.local_addr();
            let stop = server.shutdown_token();
            let (token, page_token) = server.demo_tokens(Duration::from_secs(24 * 60 * 60));
            tokio::spawn(server.run());
            let url = format!("http://{addr}");
            let opts = host_options(&host, url.clone(), token, default_shell())?;
            println!(
                "Roulette demo: a relay on {url} and a host agent running {:?} in this terminal.",
                opts.command
            );
            println!(
                "Open these two addresses in two browser windows. The host (signed in as the person whose agent runs here):"
            );
            println!("{url}/#login={page_token}");
            println!("The partner:");
            println!("{url}/?find");
            println!("Or join as the partner from another terminal:");
            println!("roulette join --server {url}");
            let result = host_interactive(opts).await;
            stop.cancel();
            result
        }
    }
}
