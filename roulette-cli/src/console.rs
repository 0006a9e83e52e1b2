//! What the terminal frontends share: raw mode, keystrokes from stdin, status lines, and the
//! command line (Ctrl-] then a slash command) that turns words into protocol messages.

use bytes::Bytes;
use roulette_core::sanitize::{TextField, sanitize};
use roulette_core::session::{ApprovalOutcome, ApprovalPlace, EndReason};
use roulette_core::{IdeaId, ParticipantId, Vote};
use roulette_transport::{ClientMessage, ServerMessage, Text};
use std::io::{Read, Write};
use tokio::sync::mpsc;

/// The key that opens the command line.
pub const COMMAND_KEY: u8 = 0x1d;

/// Raw mode for as long as it lives.
pub struct RawMode(bool);

impl RawMode {
    /// Enters raw mode when stdin is a terminal.
    pub fn enter() -> RawMode {
        RawMode(crossterm::terminal::enable_raw_mode().is_ok())
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if self.0 {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

/// Keystrokes from stdin, read on their own thread.
pub fn stdin_keys() -> mpsc::Receiver<Bytes> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 1024];
        loop {
            match stdin.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if tx.blocking_send(Bytes::copy_from_slice(&buf[..n])).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// Writes terminal bytes to stdout.
pub fn write_out(bytes: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(bytes);
    let _ = out.flush();
}

/// Prints a status line between the terminal's own output. Text from others is sanitised
/// again here and shown as plain text.
pub fn status(line: &str) {
    let clean = sanitize(TextField::Chat, line);
    write_out(format!("\r\n\x1b[7m[roulette]\x1b[0m {clean}\r\n").as_bytes());
}

/// What a command line asks for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// A message to send.
    Send(ClientMessage),
    /// Leave the program.
    Quit,
    /// Show the commands.
    Help,
    /// Not understood.
    Unknown(String),
}

/// The commands, for `/help`.
pub const HELP: &str = "/chat TEXT  /vote N [up|down]  /idea TEXT  /swap  /accept  /decline  /reclaim  \
/suggest TEXT  /prompt TEXT  /yes  /no  /extend  /agree  /rematch  /report [WHY]  /leave  /quit  \
(host) /allow N  /deny N [WHY]";

/// Parses one command line (without the leading key).
pub fn parse_command(line: &str) -> Command {
    let line = line.trim();
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    let rest = rest.trim();
    let m = match word.trim_start_matches('/') {
        "chat" | "c" if !rest.is_empty() => ClientMessage::Chat {
            text: Text::truncate(rest),
        },
        "vote" | "v" => {
            let mut parts = rest.split_whitespace();
            let Some(n) = parts.next().and_then(|n| n.parse::<u64>().ok()) else {
                return Command::Unknown(line.into());
            };
            let vote = match parts.next() {
                Some("down") => Vote::Down,
                Some("clear") => Vote::Clear,
                _ => Vote::Up,
            };
            ClientMessage::Vote {
                idea: IdeaId(n),
                vote,
            }
        }
        "idea" if !rest.is_empty() => ClientMessage::AddIdea {
            text: Text::truncate(rest),
        },
        "swap" => ClientMessage::RequestSwap {},
        "accept" => ClientMessage::AnswerSwap { accept: true },
        "decline" => ClientMessage::AnswerSwap { accept: false },
        "reclaim" => ClientMessage::Reclaim {},
        // The host's answer to a request of the agent's, named by its number.
        "allow" | "deny" => {
            let (n, why) = rest.split_once(' ').unwrap_or((rest, ""));
            let Ok(n) = n.parse::<u64>() else {
                return Command::Unknown(line.into());
            };
            ClientMessage::DecideApproval {
                id: roulette_core::ApprovalId(n),
                allow: word.trim_start_matches('/') == "allow",
                reason: Text::truncate(why.trim()),
            }
        }
        "suggest" if !rest.is_empty() => ClientMessage::SuggestPrompt {
            text: Text::truncate(rest),
        },
        "prompt" if !rest.is_empty() => ClientMessage::SubmitPrompt {
            text: Text::truncate(rest),
            acknowledge_warnings: false,
        },
        "yes" => ClientMessage::CheckIn { keep_going: true },
        "no" => ClientMessage::CheckIn { keep_going: false },
        "extend" => ClientMessage::RequestExtension {},
        "agree" => ClientMessage::AnswerExtension { accept: true },
        "rematch" => ClientMessage::Rematch {},
        "report" => ClientMessage::Report {
            reason: Text::truncate(rest),
        },
        "leave" => ClientMessage::Leave {},
        "quit" | "q" => return Command::Quit,
        "help" | "h" | "?" => return Command::Help,
        _ => return Command::Unknown(line.into()),
    };
    Command::Send(m)
}

/// Splits keystrokes into bytes for the agent and command lines; holds the command being typed.
#[derive(Debug, Default)]
pub struct KeyRouter {
    command: Option<String>,
}

/// What a batch of keys amounts to.
#[derive(Debug, Default, PartialEq)]
pub struct Routed {
    /// Bytes for the agent's terminal.
    pub keys: Vec<u8>,
    /// Finished command lines.
    pub commands: Vec<String>,
}

impl KeyRouter {
    /// Routes keys: Ctrl-] opens a command line, Enter finishes it, Escape drops it.
    pub fn route(&mut self, bytes: &[u8]) -> Routed {
        let mut routed = Routed::default();
        for &b in bytes {
            match (&mut self.command, b) {
                (None, COMMAND_KEY) => {
                    self.command = Some(String::new());
                    write_out(b"\r\n/");
                }
                (None, b) => routed.keys.push(b),
                (Some(line), b'\r' | b'\n') => {
                    routed.commands.push(std::mem::take(line));
                    self.command = None;
                }
                (Some(_), 0x1b) => {
                    self.command = None;
                    write_out(b" (cancelled)\r\n");
                }
                (Some(line), 0x7f | 0x08) => {
                    if line.pop().is_some() {
                        write_out(b"\x08 \x08");
                    }
                }
                (Some(line), b) if b >= 0x20 => {
                    line.push(b as char);
                    write_out(&[b]);
                }
                (Some(_), _) => {}
            }
        }
        routed
    }
}

/// A line describing a server message for the status line, when it is worth one.
pub fn describe(message: &ServerMessage) -> Option<String> {
    use ServerMessage as M;
    Some(match message {
        M::Queued { position, online } => {
            format!("waiting for a partner: #{position} in the queue, {online} online")
        }
        M::InviteCreated { code, .. } => format!(
            "invite code: {} (roulette join --invite {})",
            code.as_str(),
            code.as_str()
        ),
        M::Matched { partner_name, .. } => format!("matched with {}", partner_name.as_str()),
        M::Planning { ideas, ends_in_ms } => {
            let list: Vec<String> = ideas
                .iter()
                .map(|i| format!("{}: {}", i.id, i.text))
                .collect();
            format!(
                "vote within {} s (/vote N): {}",
                ends_in_ms / 1000,
                list.join(" | ")
            )
        }
        M::Building {
            idea,
            driver,
            ends_in_ms,
            ..
        } => format!(
            "building \"{}\"; driver is {driver}; {} min on the clock",
            idea.text,
            ends_in_ms / 60_000
        ),
        M::DriverChanged { driver, .. } => format!("{driver} drives now"),
        M::SwapRequested { by, .. } => format!("{by} asks to swap roles: /accept or /decline"),
        M::SwapDeclined { .. } => "swap declined".into(),
        M::SwapExpired {} => "swap request expired".into(),
        M::Chat { from, text } => format!("<{from}> {}", text.as_str()),
        M::PromptWaiting { prompt } => format!("prompt suggestion #{}: {}", prompt.id, prompt.text),
        M::LineHeld { preview, .. } => format!("line waits for the host: {}", preview.as_str()),
        M::CheckIn { .. } => "halfway check-in: /yes to continue, /no to stop".into(),
        M::Warning { remaining_ms } => format!(
            "{} minutes left; /extend for 15 more",
            remaining_ms / 60_000
        ),
        M::ExtensionRequested { .. } => "your partner asks for 15 more minutes: /agree".into(),
        M::Extended { ends_in_ms } => format!("extended: {} minutes left", ends_in_ms / 60_000),
        M::PartnerAway { .. } => "your partner's connection dropped; waiting for them".into(),
        M::PartnerBack { .. } => "your partner is back".into(),
        M::AgentAway { .. } => "the host's agent is reconnecting".into(),
        M::AgentBack {} => "the host's agent is back".into(),
        M::AgentExited { code } => match code {
            Some(code) => format!("the agent exited with code {code}"),
            None => "the agent was stopped".into(),
        },
        M::Ended { reason } => format!("session over: {}", end_reason(reason, ParticipantId(0))),
        M::ApprovalWaiting { approval } => {
            let call = format!("{}({})", approval.tool, approval.summary);
            let mut line = match approval.place {
                ApprovalPlace::Roulette => format!("waiting for the host: {call}"),
                ApprovalPlace::AgentScreen => {
                    format!("the agent asks the host on its screen: {call}")
                }
            };
            for w in &approval.warnings {
                line.push_str(&format!(" (warning: {})", w.reason));
            }
            line
        }
        M::ApprovalResolved {
            outcome, reason, ..
        } => {
            let said = if reason.is_empty() {
                String::new()
            } else {
                format!(": {}", reason.as_str())
            };
            match outcome {
                ApprovalOutcome::Allowed => format!("the host allowed the agent's request{said}"),
                ApprovalOutcome::Denied => format!("the host denied the agent's request{said}"),
                ApprovalOutcome::TimedOut => {
                    "the host did not answer in time, so the agent's request was denied".into()
                }
                ApprovalOutcome::Withdrawn => return None,
            }
        }
        M::AgentPolicy { policy } => {
            if policy.approvals && !policy.hold_changes {
                "the host lets the agent follow the host's own Claude Code rules while you drive: it may run some commands without asking".into()
            } else if !policy.approvals && policy.hold_keys {
                "every key you press while driving waits for the host's approval".into()
            } else if !policy.approvals {
                "your lines wait for the host's approval while you drive; single keys reach the agent at once".into()
            } else {
                return None;
            }
        }
        M::Error { message, .. } => format!("refused: {}", message.as_str()),
        M::Shutdown { .. } => "the server is restarting; reconnecting".into(),
        _ => return None,
    })
}

/// How a session ended, as a sentence for `me`.
pub fn end_reason(reason: &EndReason, me: ParticipantId) -> String {
    let who = |p: &ParticipantId| if *p == me { "you" } else { "your partner" };
    match reason {
        EndReason::Timer {} => "the time is up".into(),
        EndReason::PartnerLeft { who: p } => format!("{} left", who(p)),
        EndReason::Rematch { by } => format!("{} took the no-fault rematch", who(by)),
        EndReason::CheckInDeclined { by: Some(by) } => {
            format!("{} chose to stop at the check-in", who(by))
        }
        EndReason::CheckInDeclined { by: None } => "nobody answered the check-in".into(),
        EndReason::HostGone {} => "the host's agent stayed disconnected".into(),
        EndReason::AgentExited { early: true, .. } => {
            "the host's agent failed to start; the partner keeps their place in the queue".into()
        }
        EndReason::AgentExited { early: false, .. } => "the host's agent exited".into(),
        EndReason::Reported { by } => format!("{} reported the other", who(by)),
        EndReason::Skipped { by } => format!("{} skipped to someone new", who(by)),
        EndReason::Idle {} => "nobody wrote for a while".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_become_messages() {
        assert_eq!(
            parse_command("/swap"),
            Command::Send(ClientMessage::RequestSwap {})
        );
        assert_eq!(
            parse_command("/vote 2 down"),
            Command::Send(ClientMessage::Vote {
                idea: IdeaId(2),
                vote: Vote::Down
            })
        );
        assert!(
            matches!(parse_command("/chat hi there"), Command::Send(ClientMessage::Chat { text }) if text.as_str() == "hi there")
        );
        assert_eq!(parse_command("/quit"), Command::Quit);
        assert!(matches!(parse_command("/vote x"), Command::Unknown(_)));
        assert!(matches!(parse_command("/chat"), Command::Unknown(_)));
    }

    #[test]
    fn the_command_key_diverts_keys_into_a_command_line() {
        let mut r = KeyRouter::default();
        let routed = r.route(b"ls\x1d/swap\rpwd");
        assert_eq!(routed.keys, b"lspwd");
        assert_eq!(routed.commands, vec!["/swap".to_string()]);
        let routed = r.route(b"\x1d/chatx\x7f hi\x1b!");
        assert_eq!(routed.keys, b"!");
        assert!(routed.commands.is_empty());
    }
}
