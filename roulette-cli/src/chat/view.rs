//! What the chat window shows, as plain state: the conversation, the status line and the input.
//! Server messages and keys change it; [`render`] draws it. No I/O here, so tests drive it
//! directly.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use roulette_core::sanitize::{TextField, sanitize};
use roulette_core::{EndReason, ParticipantId};
use roulette_transport::ServerMessage;

/// Most lines kept; older ones scroll away for good.
const MAX_LINES: usize = 500;

/// Who a line is from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// This person.
    Me,
    /// The partner.
    Partner,
    /// The client itself (status, errors, help).
    System,
}

/// Where the conversation stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Connecting, or solving the server's challenge.
    Connecting,
    /// Waiting for a partner.
    Searching,
    /// Talking to someone.
    Chatting,
}

/// What the client should do after a server message.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Nothing.
    Nothing,
    /// Solve this challenge and send the answer.
    Solve {
        /// The challenge's prefix.
        prefix: String,
        /// Leading zero bits wanted.
        bits: u8,
    },
    /// Look for a (new) partner.
    Search,
}

/// The window's state.
#[derive(Debug)]
pub struct ChatView {
    /// This person's handle.
    pub me: String,
    me_id: Option<ParticipantId>,
    /// The partner's handle, while there is one.
    pub partner: Option<String>,
    /// People connected to the server, as last heard.
    pub online: Option<u32>,
    /// The phase.
    pub phase: Phase,
    /// The conversation: who, under which handle, said what.
    pub lines: Vec<(Who, String, String)>,
    /// What is being typed.
    pub input: String,
    /// Whether the partner is typing.
    pub partner_typing: bool,
    /// The server says this participant is in a room (a window that took a conversation over
    /// knows it from `welcome`, before `matched` comes).
    in_room: bool,
}

impl Default for ChatView {
    fn default() -> Self {
        Self::new()
    }
}

/// Text from the network, made safe to show: sanitised again (escape sequences, control and
/// bidi characters, zero-width characters removed), whatever the server did.
pub fn clean(text: &str) -> String {
    sanitize(TextField::Chat, text)
}

impl ChatView {
    /// An empty window.
    pub fn new() -> Self {
        Self {
            me: String::new(),
            me_id: None,
            partner: None,
            online: None,
            phase: Phase::Connecting,
            lines: Vec::new(),
            input: String::new(),
            partner_typing: false,
            in_room: false,
        }
    }

    /// Adds a line.
    pub fn say(&mut self, who: Who, text: impl Into<String>) {
        let name = match who {
            Who::Me => self.me.clone(),
            Who::Partner => self.partner.clone().unwrap_or_else(|| "them".into()),
            Who::System => String::new(),
        };
        self.lines.push((who, name, text.into()));
        if self.lines.len() > MAX_LINES {
            let extra = self.lines.len() - MAX_LINES;
            self.lines.drain(..extra);
        }
    }

    /// Applies a server message.
    pub fn apply(&mut self, message: &ServerMessage) -> Next {
        match message {
            ServerMessage::Welcome {
                you, name, room, ..
            } => {
                self.in_room = room.is_some();
                if self.in_room {
                    self.phase = Phase::Chatting;
                }
                self.me_id = Some(*you);
                self.me = clean(name.as_str());
                Next::Nothing
            }
            ServerMessage::Challenge { prefix, bits, .. } => {
                // A window that took a conversation over is in it already.
                if !self.in_room {
                    self.phase = Phase::Connecting;
                }
                Next::Solve {
                    prefix: prefix.as_str().to_string(),
                    bits: *bits,
                }
            }
            ServerMessage::Solved {} if self.partner.is_none() && !self.in_room => Next::Search,
            ServerMessage::Queued { online, .. } => {
                self.phase = Phase::Searching;
                self.online = Some(*online);
                Next::Nothing
            }
            ServerMessage::Matched { partner_name, .. } => {
                let name = clean(partner_name.as_str());
                self.phase = Phase::Chatting;
                self.in_room = true;
                self.say(
                    Who::System,
                    format!(
                        "You are talking to {name}. Say hi! (/skip, /report, /insights, /quit)"
                    ),
                );
                self.partner = Some(name);
                self.partner_typing = false;
                Next::Nothing
            }
            ServerMessage::Chat { from, text } => {
                let who = if Some(*from) == self.me_id {
                    Who::Me
                } else {
                    self.partner_typing = false;
                    Who::Partner
                };
                self.say(who, clean(text.as_str()));
                Next::Nothing
            }
            ServerMessage::Typing { who } if Some(*who) != self.me_id => {
                self.partner_typing = true;
                Next::Nothing
            }
            ServerMessage::PartnerAway { .. } => {
                self.say(
                    Who::System,
                    "Your partner's connection dropped; waiting for them.",
                );
                Next::Nothing
            }
            ServerMessage::PartnerBack { .. } => {
                self.say(Who::System, "Your partner is back.");
                Next::Nothing
            }
            ServerMessage::Ended { reason } => self.ended(reason),
            ServerMessage::Insights {
                online,
                waiting,
                rooms,
                conversations_total,
                messages_total,
                ..
            } => {
                self.online = Some(*online);
                let n = |count: u64, one: &str, many: &str| {
                    format!("{count} {}", if count == 1 { one } else { many })
                };
                self.say(
                    Who::System,
                    format!(
                        "{online} online, {waiting} waiting, {} open; since the server started \
                         counting: {} and {}",
                        n(u64::from(*rooms), "room", "rooms"),
                        n(*conversations_total, "conversation", "conversations"),
                        n(*messages_total, "message", "messages"),
                    ),
                );
                Next::Nothing
            }
            ServerMessage::Error { message, .. } => {
                self.say(Who::System, format!("! {}", clean(message.as_str())));
                Next::Nothing
            }
            _ => Next::Nothing,
        }
    }

    fn ended(&mut self, reason: &EndReason) -> Next {
        let partner = self.partner.take().unwrap_or_else(|| "your partner".into());
        self.in_room = false;
        self.partner_typing = false;
        self.phase = Phase::Searching;
        let mine = |p: &Option<ParticipantId>| p.is_some() && *p == self.me_id;
        let text = match reason {
            EndReason::Skipped { by } if mine(&Some(*by)) => {
                format!("You skipped {partner}. Looking for someone new...")
            }
            EndReason::Skipped { .. } => format!("{partner} moved on. Looking for someone new..."),
            EndReason::Reported { by } if mine(&Some(*by)) => {
                format!(
                    "You reported {partner}; you will not be paired again. Looking for someone new..."
                )
            }
            EndReason::Idle {} => {
                "The conversation went quiet and was closed. Looking for someone new...".into()
            }
            _ => format!("{partner} left. Looking for someone new..."),
        };
        self.say(Who::System, text);
        // After a skip the server puts both back in the queue; otherwise the client asks.
        if matches!(reason, EndReason::Skipped { .. }) {
            Next::Nothing
        } else {
            Next::Search
        }
    }

    /// The status line.
    pub fn status(&self) -> String {
        let me = if self.me.is_empty() { "..." } else { &self.me };
        let online = self
            .online
            .map(|n| format!(" · {n} online"))
            .unwrap_or_default();
        let state = match (&self.phase, &self.partner) {
            (Phase::Connecting, _) => "connecting".to_string(),
            (_, Some(p)) if self.partner_typing => format!("with {p} (typing...)"),
            (_, Some(p)) => format!("with {p}"),
            (Phase::Searching, None) | (Phase::Chatting, None) => {
                "looking for someone to talk to".to_string()
            }
        };
        format!(" you: {me} · {state}{online}")
    }
}

/// Draws the window: the conversation, a status line, the input line.
pub fn render(view: &ChatView, frame: &mut Frame) {
    let [talk, status, input] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(3),
    ])
    .areas(frame.area());
    // Plain text only: every line is a styled span of cleaned text, nothing else.
    let width = usize::from(talk.width.max(1));
    let mut shown: Vec<Line> = Vec::new();
    let mut rows = 0usize;
    for (who, name, text) in view.lines.iter().rev() {
        let (prefix, style) = match who {
            Who::Me => (format!("{name}: "), Style::default().fg(Color::Cyan)),
            Who::Partner => (format!("{name}: "), Style::default().fg(Color::Yellow)),
            Who::System => (
                "* ".to_string(),
                Style::default().add_modifier(Modifier::DIM),
            ),
        };
        let chars = prefix.chars().count() + text.chars().count();
        rows += chars.div_ceil(width).max(1);
        shown.push(Line::from(vec![
            Span::styled(prefix, style.add_modifier(Modifier::BOLD)),
            Span::raw(text.clone()),
        ]));
        if rows >= usize::from(talk.height) {
            break;
        }
    }
    shown.reverse();
    let overflow = rows.saturating_sub(usize::from(talk.height));
    frame.render_widget(
        Paragraph::new(shown)
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(overflow).unwrap_or(0), 0)),
        talk,
    );
    frame.render_widget(
        Paragraph::new(view.status()).style(Style::default().add_modifier(Modifier::REVERSED)),
        status,
    );
    let title = " message (Enter to send; /skip /report /insights /quit /help) ";
    frame.render_widget(
        Paragraph::new(view.input.as_str())
            .block(Block::default().borders(Borders::ALL).title(title)),
        input,
    );
    let x = input.x + 1 + u16::try_from(view.input.chars().count()).unwrap_or(u16::MAX);
    frame.set_cursor_position((x.min(input.x + input.width.saturating_sub(2)), input.y + 1));
}

#[cfg(test)]
mod tests {
    use super::*;
    use roulette_core::RoomKind;
    use roulette_transport::Text;

    fn t<const N: usize>(s: &str) -> Text<N> {
        Text::new(s).unwrap()
    }

    fn welcomed() -> ChatView {
        let mut v = ChatView::new();
        v.apply(&ServerMessage::Welcome {
            version: 1,
            you: ParticipantId(1),
            name: t("brave-otter"),
            token: None,
            room: None,
        });
        v
    }

    fn matched(v: &mut ChatView) {
        v.apply(&ServerMessage::Matched {
            room: roulette_core::RoomId(1),
            kind: RoomKind::Chat,
            partner: ParticipantId(2),
            partner_name: t("calm-heron"),
            host: None,
        });
    }

    #[test]
    fn received_text_is_cleaned_again_and_kept_plain() {
        let mut v = welcomed();
        matched(&mut v);
        v.apply(&ServerMessage::Chat {
            from: ParticipantId(2),
            text: t(
                "hi \u{1b}]8;;https://evil.example\u{7}click\u{1b}]8;;\u{7} \u{202e}there\u{200b}",
            ),
        });
        let (who, name, text) = v.lines.last().unwrap();
        assert_eq!(*who, Who::Partner);
        assert_eq!(name, "calm-heron");
        assert_eq!(text, "hi click there");
    }

    #[test]
    fn after_a_skip_the_server_requeues_otherwise_the_client_searches() {
        let mut v = welcomed();
        matched(&mut v);
        assert_eq!(
            v.apply(&ServerMessage::Ended {
                reason: EndReason::Skipped {
                    by: ParticipantId(2)
                }
            }),
            Next::Nothing
        );
        assert!(v.lines.last().unwrap().2.contains("calm-heron moved on"));
        matched(&mut v);
        assert_eq!(
            v.apply(&ServerMessage::Ended {
                reason: EndReason::PartnerLeft {
                    who: ParticipantId(2)
                }
            }),
            Next::Search
        );
        assert!(v.partner.is_none());
        assert!(v.status().contains("looking for someone"));
    }

    #[test]
    fn the_status_line_names_both_and_the_count() {
        let mut v = welcomed();
        v.apply(&ServerMessage::Queued {
            position: 1,
            online: 7,
        });
        matched(&mut v);
        assert_eq!(v.status(), " you: brave-otter · with calm-heron · 7 online");
        v.apply(&ServerMessage::Typing {
            who: ParticipantId(2),
        });
        assert!(v.status().contains("typing"));
    }

    #[test]
    fn old_lines_scroll_away() {
        let mut v = ChatView::new();
        for i in 0..(MAX_LINES + 10) {
            v.say(Who::System, format!("{i}"));
        }
        assert_eq!(v.lines.len(), MAX_LINES);
        assert_eq!(v.lines[0].2, "10");
    }
}
