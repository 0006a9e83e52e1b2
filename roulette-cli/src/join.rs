//! `roulette join`: a partner in a terminal. The host's terminal shows up in the local one;
//! keystrokes go to the agent when driving; Ctrl-] opens a command line for chat, votes and
//! swaps. It reconnects by itself and resumes from the last byte it showed.

use roulette_core::RoomKind;
use roulette_transport::connect::{Connection, Endpoint, Incoming, jitter_seed};
use roulette_transport::{Backoff, ClientMessage, Frame, Text};
use std::time::Duration;

use crate::console::{self, Command, KeyRouter, RawMode};

/// How `roulette join` runs.
#[derive(Clone, Debug)]
pub struct JoinOptions {
    /// The relay, as `http://host:port`.
    pub server: String,
    /// An invite code to redeem instead of joining the queue.
    pub invite: Option<String>,
    /// Pairing or chat-only.
    pub kind: RoomKind,
}

/// Runs until `/quit` or the end of input.
pub async fn run_join(opts: JoinOptions) -> anyhow::Result<()> {
    let _raw = RawMode::enter();
    let mut keys = console::stdin_keys();
    let mut router = KeyRouter::default();
    let mut backoff = Backoff::new(
        Duration::from_millis(250),
        Duration::from_secs(30),
        jitter_seed(),
    );
    let mut token: Option<String> = None;
    let mut offset: Option<u64> = None;
    let mut asked = false;
    let mut in_session = false;
    console::status("connecting... (Ctrl-] then /help for commands)");
    loop {
        let mut conn = match Connection::connect(
            &opts.server,
            Endpoint::Participant,
            token.as_deref(),
            offset,
        )
        .await
        {
            Ok(c) => c,
            Err(roulette_transport::connect::ClientError::Connect(f)) if f.is_permanent() => {
                // Retrying cannot help (a certificate that is not trusted, a bad address).
                anyhow::bail!("{f}");
            }
            Err(e) => {
                let after = backoff.next_delay();
                console::status(&format!(
                    "cannot reach {}: {e}; retrying in {:.1} s",
                    opts.server,
                    after.as_secs_f32()
                ));
                tokio::time::sleep(after).await;
                continue;
            }
        };
        backoff.reset();
        let (you, new_token) = conn.identity();
        if new_token.is_some() {
            token = new_token;
        }
        console::status(&format!("connected as {you}"));
        if conn.room().is_none() && (!asked || in_session) {
            if in_session {
                console::status(
                    "the session is gone (the server restarted); looking for a new partner",
                );
                in_session = false;
                offset = None;
            }
            asked = true;
            let first = match &opts.invite {
                Some(code) => ClientMessage::RedeemInvite {
                    code: Text::truncate(code.clone()),
                },
                None => ClientMessage::FindPartner {
                    kind: opts.kind,
                    key: None,
                },
            };
            conn.send(&first).await?;
        }
        loop {
            tokio::select! {
                incoming = conn.next() => match incoming {
                    Ok(Some(Incoming::Frame(Frame::Output { offset: at, data }))) => {
                        let end = at + data.len() as u64;
                        let from = offset.unwrap_or(0);
                        if end > from {
                            let skip = from.saturating_sub(at) as usize;
                            console::write_out(&data[skip.min(data.len())..]);
                            offset = Some(end);
                        }
                    }
                    Ok(Some(Incoming::Frame(Frame::Snapshot { offset: at, data }))) => {
                        console::write_out(b"\x1b[H\x1b[2J");
                        console::write_out(&data);
                        offset = Some(at);
                    }
                    Ok(Some(Incoming::Message(m))) => {
                        match &m {
                            roulette_transport::ServerMessage::Matched { .. } => in_session = true,
                            roulette_transport::ServerMessage::Ended { .. } => {
                                offset = None;
                                in_session = false;
                            }
                            _ => {}
                        }
                        if let Some(line) = console::describe(&m) {
                            console::status(&line);
                        }
                    }
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => {
                        console::status("connection lost; reconnecting");
                        break;
                    }
                },
                key = keys.recv() => {
                    let Some(key) = key else { return Ok(()) };
                    let routed = router.route(&key);
                    if !routed.keys.is_empty() {
                        conn.send_frame(&Frame::Input { offset: 0, data: routed.keys.into() }).await?;
                    }
                    for line in routed.commands {
                        match console::parse_command(&line) {
                            Command::Send(m) => conn.send(&m).await?,
                            Command::Quit => {
                                let _ = conn.send(&ClientMessage::Leave {}).await;
                                conn.close().await;
                                console::status("bye");
                                return Ok(());
                            }
                            Command::Help => console::status(console::HELP),
                            Command::Unknown(l) => console::status(&format!("unknown command {l:?}; {}", console::HELP)),
                        }
                    }
                }
            }
        }
        let after = backoff.next_delay();
        tokio::time::sleep(after).await;
    }
}
