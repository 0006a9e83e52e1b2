//! `roulette chat`: the chat roulette in a terminal window. It connects to the server's
//! `/chat` endpoint, solves its proof of work, looks for someone else who is waiting, and shows
//! the conversation (plain text only), a status line and an input line. Slash commands:
//! `/skip`, `/report`, `/insights`, `/quit`, `/help`. When the partner leaves it looks for the
//! next one; when the connection drops it comes back by itself.

pub mod view;

use anyhow::Context;
use crossterm::event::{Event, EventStream, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use futures::StreamExt;
use roulette_core::RoomKind;
use roulette_transport::backoff::Backoff;
use roulette_transport::connect::{Connection, Endpoint, Incoming};
use roulette_transport::{ClientMessage, ErrorCode, ServerMessage, Text};
use std::io::IsTerminal;
use std::time::Duration;
use tokio::time::Instant;
use view::{ChatView, Next, Phase, Who, render};

/// How `roulette chat` runs.
#[derive(Clone, Debug)]
pub struct ChatOptions {
    /// The server.
    pub server: String,
    /// A match key (a salted hash of the agent's session id), when started for a task.
    pub key: Option<String>,
    /// A guest token to come back as (a conversation found in the background).
    pub token: Option<String>,
    /// A file holding such a token; read, then deleted, once this window holds the machine's
    /// window lock (the waiter lets its own socket go when the file is gone).
    pub token_file: Option<std::path::PathBuf>,
}

/// Longest message typed, in characters (the server's limit).
const MAX_INPUT: usize = 500;
/// Least time between two "typing" notices.
const TYPING_EVERY: Duration = Duration::from_secs(3);
/// How long "typing..." shows after the partner's last notice.
const TYPING_SHOWN: Duration = Duration::from_secs(5);
/// Wait before searching again after the server said there were too many searches.
const SEARCH_RETRY: Duration = Duration::from_secs(15);

/// What a key press asks for.
#[derive(Debug, PartialEq)]
pub enum Action {
    /// Nothing to send.
    None,
    /// Send this.
    Send(ClientMessage),
    /// Leave and exit.
    Quit,
}

fn text<const N: usize>(s: &str) -> Option<Text<N>> {
    Text::new(s).ok()
}

/// A typed line: a command or a message.
pub fn submit(view: &mut ChatView, line: &str) -> Action {
    let line = line.trim();
    if line.is_empty() {
        return Action::None;
    }
    let (command, rest) = line.split_once(' ').unwrap_or((line, ""));
    match command {
        "/quit" | "/exit" => Action::Quit,
        "/skip" if view.partner.is_some() => Action::Send(ClientMessage::Skip {}),
        "/report" if view.partner.is_some() => match text(rest.trim()) {
            Some(reason) => Action::Send(ClientMessage::Report { reason }),
            None => {
                view.say(Who::System, "! that reason is too long");
                Action::None
            }
        },
        "/skip" | "/report" => {
            view.say(Who::System, "! nobody to skip or report yet");
            Action::None
        }
        "/insights" => Action::Send(ClientMessage::Insights {}),
        "/help" => {
            for help in [
                "/skip: leave this conversation and find someone new",
                "/report [why]: report your partner (you will not meet again) and find someone new",
                "/insights: what is happening on the server",
                "/quit: leave (Ctrl-C too)",
            ] {
                view.say(Who::System, help);
            }
            Action::None
        }
        c if c.starts_with('/') => {
            view.say(
                Who::System,
                format!("! unknown command {c}; /help lists them"),
            );
            Action::None
        }
        _ if view.partner.is_none() => {
            view.say(Who::System, "! nobody to talk to yet; still looking");
            Action::None
        }
        _ => match text(line) {
            Some(text) => Action::Send(ClientMessage::Chat { text }),
            None => Action::None,
        },
    }
}

/// A key press.
pub fn key(view: &mut ChatView, key: KeyEvent) -> Action {
    if key.kind == KeyEventKind::Release {
        return Action::None;
    }
    match key.code {
        KeyCode::Char('c' | 'd') if key.modifiers.contains(KeyModifiers::CONTROL) => Action::Quit,
        KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
            if view.input.chars().count() < MAX_INPUT {
                view.input.push(c);
            }
            Action::None
        }
        KeyCode::Backspace => {
            view.input.pop();
            Action::None
        }
        KeyCode::Enter => {
            let line = std::mem::take(&mut view.input);
            submit(view, &line)
        }
        _ => Action::None,
    }
}

/// Runs the chat window until the person quits.
pub async fn run_chat(opts: ChatOptions) -> anyhow::Result<()> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("roulette chat needs a terminal");
    }
    // This window is the machine's chat window while it runs: the background waiter does not
    // look for anyone else meanwhile. A second window still runs if asked for by hand.
    let _window = crate::hook::state_dir()
        .ok()
        .and_then(|state| crate::waiter::window_lock(&state));
    let mut opts = opts;
    if let Some(path) = opts.token_file.take() {
        let token = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let _ = std::fs::remove_file(&path);
        opts.token = Some(token.trim().to_string());
    }
    let mut terminal = ratatui::init();
    let result = chat_loop(&mut terminal, opts).await;
    ratatui::restore();
    result
}

enum Ended {
    Quit,
    Lost,
}

async fn chat_loop(
    terminal: &mut ratatui::DefaultTerminal,
    opts: ChatOptions,
) -> anyhow::Result<()> {
    let mut view = ChatView::new();
    view.say(Who::System, "Connecting to the chat roulette...");
    let mut keys = EventStream::new();
    let seed = u64::from(std::process::id());
    let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(15), seed);
    let mut token = opts.token.clone();
    loop {
        terminal.draw(|f| render(&view, f)).context("drawing")?;
        match Connection::connect(&opts.server, Endpoint::Chat, token.as_deref(), None).await {
            Ok(mut conn) => {
                backoff.reset();
                if let (_, Some(t)) = conn.identity() {
                    token = Some(t);
                }
                let welcome = conn.welcome.clone();
                view.apply(&welcome);
                match session(terminal, &mut view, &mut keys, &mut conn, &opts).await? {
                    Ended::Quit => {
                        conn.close().await;
                        return Ok(());
                    }
                    Ended::Lost => {}
                }
            }
            Err(roulette_transport::connect::ClientError::Connect(f)) if f.is_permanent() => {
                anyhow::bail!("{f}");
            }
            Err(e) => {
                view.say(Who::System, format!("! cannot reach {}: {e}", opts.server));
            }
        }
        // Lost: wait (still answering the keyboard), then connect again.
        view.phase = Phase::Connecting;
        view.partner = None;
        let delay = backoff.next_delay();
        view.say(
            Who::System,
            format!("Reconnecting in {:.1} s...", delay.as_secs_f64()),
        );
        let until = Instant::now() + delay;
        loop {
            terminal.draw(|f| render(&view, f)).context("drawing")?;
            tokio::select! {
                () = tokio::time::sleep_until(until) => break,
                event = keys.next() => match event {
                    Some(Ok(Event::Key(k))) => {
                        if key(&mut view, k) == Action::Quit {
                            return Ok(());
                        }
                    }
                    Some(Ok(_)) => {}
                    None | Some(Err(_)) => return Ok(()),
                }
            }
        }
    }
}

/// One connection's life: until the person quits or the connection is lost.
async fn session(
    terminal: &mut ratatui::DefaultTerminal,
    view: &mut ChatView,
    keys: &mut EventStream,
    conn: &mut Connection,
    opts: &ChatOptions,
) -> anyhow::Result<Ended> {
    let find = || ClientMessage::FindPartner {
        kind: RoomKind::Chat,
        key: opts.key.as_deref().and_then(text),
    };
    let mut retry_search: Option<Instant> = None;
    let mut last_typing: Option<Instant> = None;
    let mut typing_shown: Option<Instant> = None;
    loop {
        terminal.draw(|f| render(view, f)).context("drawing")?;
        let to_send = tokio::select! {
            event = keys.next() => match event {
                Some(Ok(Event::Key(k))) => {
                    let before = view.input.len();
                    match key(view, k) {
                        Action::Quit => {
                            if view.partner.is_some() {
                                let _ = conn.send(&ClientMessage::Leave {}).await;
                            }
                            return Ok(Ended::Quit);
                        }
                        Action::Send(m) => Some(m),
                        Action::None => {
                            let typed = view.input.len() > before && !view.input.starts_with('/');
                            let due = last_typing.is_none_or(|t| t.elapsed() >= TYPING_EVERY);
                            if typed && due && view.partner.is_some() {
                                last_typing = Some(Instant::now());
                                Some(ClientMessage::Typing {})
                            } else {
                                None
                            }
                        }
                    }
                }
                Some(Ok(_)) => None,
                None | Some(Err(_)) => return Ok(Ended::Quit),
            },
            incoming = conn.next() => match incoming {
                Ok(Some(Incoming::Message(message))) => {
                    if let ServerMessage::Shutdown { .. } = message {
                        view.say(Who::System, "The server is restarting.");
                        return Ok(Ended::Lost);
                    }
                    let refused_search = matches!(
                        message,
                        ServerMessage::Error { code: ErrorCode::RateLimited, .. }
                    ) && view.partner.is_none();
                    if refused_search {
                        retry_search = Some(Instant::now() + SEARCH_RETRY);
                    }
                    if let ServerMessage::Typing { .. } = message {
                        typing_shown = Some(Instant::now() + TYPING_SHOWN);
                    }
                    match view.apply(&message) {
                        Next::Nothing => None,
                        Next::Search => Some(find()),
                        Next::Solve { prefix, bits } => {
                            if view.phase == Phase::Connecting {
                                view.say(Who::System, "Looking for someone who is waiting too...");
                            }
                            terminal.draw(|f| render(view, f)).context("drawing")?;
                            let nonce = tokio::task::spawn_blocking(move || {
                                roulette_transport::pow::solve(&prefix, bits, 1 << 32)
                            })
                            .await
                            .ok()
                            .flatten();
                            nonce.and_then(|n| text(&n)).map(|nonce| ClientMessage::Solve { nonce })
                        }
                    }
                }
                Ok(Some(Incoming::Frame(_))) => None,
                Ok(None) | Err(_) => {
                    view.say(Who::System, "! the connection to the server was lost");
                    return Ok(Ended::Lost);
                }
            },
            () = sleep_until(retry_search) => {
                retry_search = None;
                Some(find())
            }
            () = sleep_until(typing_shown) => {
                typing_shown = None;
                view.partner_typing = false;
                None
            }
        };
        if let Some(message) = to_send
            && conn.send(&message).await.is_err()
        {
            view.say(Who::System, "! the connection to the server was lost");
            return Ok(Ended::Lost);
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::KeyEvent;

    fn press(view: &mut ChatView, code: KeyCode) -> Action {
        key(view, KeyEvent::new(code, KeyModifiers::NONE))
    }

    fn with_partner() -> ChatView {
        let mut v = ChatView::new();
        v.partner = Some("calm-heron".into());
        v
    }

    #[test]
    fn typed_lines_become_messages_and_commands() {
        let mut v = with_partner();
        for c in "hi".chars() {
            press(&mut v, KeyCode::Char(c));
        }
        assert_eq!(
            press(&mut v, KeyCode::Enter),
            Action::Send(ClientMessage::Chat {
                text: Text::new("hi").unwrap()
            })
        );
        assert!(v.input.is_empty());
        assert_eq!(
            submit(&mut v, "/skip"),
            Action::Send(ClientMessage::Skip {})
        );
        assert_eq!(
            submit(&mut v, "/report spam links"),
            Action::Send(ClientMessage::Report {
                reason: Text::new("spam links").unwrap()
            })
        );
        assert_eq!(
            submit(&mut v, "/insights"),
            Action::Send(ClientMessage::Insights {})
        );
        assert_eq!(submit(&mut v, "/quit"), Action::Quit);
        assert_eq!(submit(&mut v, "/nope"), Action::None);
        assert!(v.lines.last().unwrap().2.contains("unknown command"));
        assert_eq!(
            key(
                &mut v,
                KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL)
            ),
            Action::Quit
        );
    }

    #[test]
    fn without_a_partner_nothing_is_sent() {
        let mut v = ChatView::new();
        assert_eq!(submit(&mut v, "hello?"), Action::None);
        assert_eq!(submit(&mut v, "/skip"), Action::None);
        assert_eq!(submit(&mut v, "   "), Action::None);
    }

    #[test]
    fn input_is_capped_at_the_servers_limit() {
        let mut v = with_partner();
        for _ in 0..600 {
            press(&mut v, KeyCode::Char('x'));
        }
        assert_eq!(v.input.chars().count(), MAX_INPUT);
        press(&mut v, KeyCode::Backspace);
        assert_eq!(v.input.chars().count(), MAX_INPUT - 1);
    }
}
