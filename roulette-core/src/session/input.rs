//! Terminal input from the driver: what a remote driver may never send, and the lines that wait
//! for the host's approval.

use std::time::Instant;

use super::event::{Event, Output};
use super::{Session, WriteAction, building_of};
use crate::error::SessionError;
use crate::ids::{LineId, ParticipantId};
use crate::sanitize::{TextField, sanitize};

const ESC: u8 = 0x1b;
/// Longest control sequence held back while waiting for its final byte.
const MAX_PENDING_SEQUENCE: usize = 16;
/// Bytes of the current line kept for the host's preview.
const MAX_PREVIEW_BYTES: usize = 1024;

/// Removes, from a remote driver's input, the keys that switch the agent's permission mode:
/// back-tab (Shift-Tab, `CSI Z` with or without a count) and its kitty keyboard-protocol form
/// (`CSI 9;2u`). A sequence split across frames is caught too: an unfinished `CSI` is held until
/// its final byte arrives, and a frame that ends in a lone ESC (which is passed at once, since it
/// is the key that interrupts an agent) makes a following `[Z` vanish.
#[derive(Debug, Default)]
pub(crate) struct RemoteInputFilter {
    /// An unfinished control sequence from the end of the last frame.
    pending: Vec<u8>,
    /// Whether the ESC that starts `pending` already went to the agent.
    pending_esc_sent: bool,
    /// Whether the last frame ended in a lone ESC that went to the agent.
    after_lone_esc: bool,
}

impl RemoteInputFilter {
    pub(crate) fn filter(&mut self, data: &[u8]) -> Vec<u8> {
        let mut input = std::mem::take(&mut self.pending);
        let mut esc_sent = std::mem::take(&mut self.pending_esc_sent);
        if std::mem::take(&mut self.after_lone_esc)
            && input.is_empty()
            && data.first() == Some(&b'[')
        {
            // This frame continues the previous frame's ESC.
            input.push(ESC);
            esc_sent = true;
        }
        input.extend_from_slice(data);
        self.filter_joined(&input, esc_sent)
    }

    /// Filters `input`; `first_esc_sent` says the ESC at index 0 (if any) already went out.
    fn filter_joined(&mut self, input: &[u8], first_esc_sent: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(input.len());
        let mut i = 0;
        while i < input.len() {
            if input[i] != ESC {
                out.push(input[i]);
                i += 1;
                continue;
            }
            let already_sent = i == 0 && first_esc_sent;
            match input.get(i + 1) {
                None => {
                    out.push(ESC);
                    self.after_lone_esc = true;
                    i += 1;
                }
                Some(b'[') => {
                    let params_start = i + 2;
                    let end = input[params_start..]
                        .iter()
                        .position(|b| !(b.is_ascii_digit() || *b == b';' || *b == b':'))
                        .map(|p| params_start + p);
                    let Some(final_at) = end else {
                        // Unfinished: hold it for the next frame, unless it is absurdly long.
                        if input.len() - i <= MAX_PENDING_SEQUENCE {
                            self.pending = input[i..].to_vec();
                            self.pending_esc_sent = already_sent;
                        }
                        return out;
                    };
                    let params = &input[params_start..final_at];
                    if !is_mode_switch(params, input[final_at]) {
                        let from = if already_sent { i + 1 } else { i };
                        out.extend_from_slice(&input[from..=final_at]);
                    }
                    i = final_at + 1;
                }
                Some(_) => {
                    if !already_sent {
                        out.push(ESC);
                    }
                    i += 1;
                }
            }
        }
        out
    }
}

/// Back-tab in any form a terminal sends it.
fn is_mode_switch(params: &[u8], final_byte: u8) -> bool {
    match final_byte {
        b'Z' => true,
        // kitty keyboard protocol: key 9 (tab) with the shift bit in the modifiers.
        b'u' => {
            let mut parts = params.split(|b| *b == b';');
            let key = parts.next().unwrap_or_default();
            let mods = parts
                .next()
                .and_then(|m| m.split(|b| *b == b':').next())
                .and_then(|m| std::str::from_utf8(m).ok())
                .and_then(|m| m.parse::<u32>().ok())
                .unwrap_or(1);
            key == b"9" && (mods.saturating_sub(1) & 1) == 1
        }
        _ => false,
    }
}

/// Finds the first line ending: CR, LF, or keypad Enter in application mode (`ESC O M`).
/// Returns its start and length.
pub(crate) fn find_line_ending(data: &[u8]) -> Option<(usize, usize)> {
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\r' | b'\n' => return Some((i, 1)),
            ESC if data.get(i + 1) == Some(&b'O') && data.get(i + 2) == Some(&b'M') => {
                return Some((i, 3));
            }
            _ => i += 1,
        }
    }
    None
}

/// Holds a remote driver's submitted line until the host approves it.
#[derive(Debug, Default)]
pub(crate) struct LineGate {
    /// The held line ending and everything typed after it.
    held: Option<(LineId, Vec<u8>)>,
    /// What was typed since the last line ending, for the preview.
    line: Vec<u8>,
}

/// What the gate lets through now, and the line it started holding, if any.
pub(crate) struct Admitted {
    pub(crate) forward: Vec<u8>,
    pub(crate) held: Option<(LineId, String)>,
}

impl LineGate {
    pub(crate) fn held_len(&self) -> usize {
        self.held.as_ref().map_or(0, |(_, b)| b.len())
    }

    pub(crate) fn held_id(&self) -> Option<LineId> {
        self.held.as_ref().map(|(id, _)| *id)
    }

    /// Passes bytes up to the first line ending; holds the ending and the rest.
    pub(crate) fn admit(&mut self, data: &[u8], next_id: impl FnOnce() -> LineId) -> Admitted {
        if let Some((_, held)) = &mut self.held {
            held.extend_from_slice(data);
            return Admitted {
                forward: Vec::new(),
                held: None,
            };
        }
        match find_line_ending(data) {
            None => {
                self.remember(data);
                Admitted {
                    forward: data.to_vec(),
                    held: None,
                }
            }
            Some((at, _)) => {
                self.remember(&data[..at]);
                let preview = render_preview(&self.line);
                self.line.clear();
                let id = next_id();
                self.held = Some((id, data[at..].to_vec()));
                Admitted {
                    forward: data[..at].to_vec(),
                    held: Some((id, preview)),
                }
            }
        }
    }

    /// Releases the held line ending; what was typed after it goes through the gate again.
    pub(crate) fn approve(&mut self, next_id: impl FnOnce() -> LineId) -> Option<Admitted> {
        let (_, held) = self.held.take()?;
        let (_, len) = find_line_ending(&held).unwrap_or((0, held.len()));
        let mut forward = held[..len].to_vec();
        let rest = self.admit(&held[len..], next_id);
        forward.extend_from_slice(&rest.forward);
        Some(Admitted {
            forward,
            held: rest.held,
        })
    }

    /// Drops the held line ending and everything after it.
    pub(crate) fn discard(&mut self) -> Option<LineId> {
        self.line.clear();
        self.held.take().map(|(id, _)| id)
    }

    fn remember(&mut self, typed: &[u8]) {
        self.line.extend_from_slice(typed);
        if self.line.len() > MAX_PREVIEW_BYTES {
            let cut = self.line.len() - MAX_PREVIEW_BYTES;
            self.line.drain(..cut);
        }
    }
}

/// What the line looks like once edits are applied: backspace removes a character, Ctrl-U
/// clears the line, escape sequences and controls are dropped.
fn render_preview(typed: &[u8]) -> String {
    let mut line = String::new();
    for c in String::from_utf8_lossy(typed).chars() {
        match c {
            '\x7f' | '\x08' => {
                line.pop();
            }
            '\x15' => line.clear(),
            c => line.push(c),
        }
    }
    sanitize(TextField::Chat, &line)
}

impl Session {
    /// Terminal input from a participant. Only the driver's input reaches the agent. A remote
    /// driver's back-tab is removed, and when the host approves remote lines, a remote driver's
    /// line ending (and anything typed after it) waits for the host.
    pub fn handle_terminal_input(
        &mut self,
        _now: Instant,
        who: ParticipantId,
        data: &[u8],
    ) -> Result<(), SessionError> {
        self.check_write(who, WriteAction::Input)?;
        let from_host = self.host == Some(who);
        let (gated, max_held) = (
            self.config.host_approves_remote_lines,
            self.config.max_held_input,
        );
        let b = building_of(&mut self.state, self.kind)?;
        if from_host {
            self.outbox.push(Output::AgentInput {
                author: who,
                bytes: data.to_vec(),
            });
            return Ok(());
        }
        if b.gate.held_id().is_some() && b.gate.held_len() + data.len() > max_held {
            return Err(SessionError::InputHeld);
        }
        let filtered = b.filter.filter(data);
        let admitted = if gated {
            let ids = &mut self.ids;
            b.gate.admit(&filtered, || ids.next_line())
        } else {
            Admitted {
                forward: filtered,
                held: None,
            }
        };
        self.emit_admitted(who, admitted);
        Ok(())
    }

    /// The host approves or rejects the line a remote driver submitted.
    pub fn handle_decide_line(
        &mut self,
        _now: Instant,
        who: ParticipantId,
        id: LineId,
        approve: bool,
    ) -> Result<(), SessionError> {
        self.seat(who)?;
        if self.host != Some(who) {
            return Err(SessionError::NotHost);
        }
        let b = building_of(&mut self.state, self.kind)?;
        if b.gate.held_id() != Some(id) {
            return Err(SessionError::UnknownLine);
        }
        let driver = b.driver;
        if !approve {
            b.gate.discard();
            self.outbox.both(Event::LineRejected { id });
            return Ok(());
        }
        let ids = &mut self.ids;
        if let Some(admitted) = b.gate.approve(|| ids.next_line()) {
            self.outbox.both(Event::LineApproved { id });
            self.emit_admitted(driver, admitted);
        }
        Ok(())
    }

    /// The line waiting for the host's approval, if any.
    pub fn held_line(&self) -> Option<LineId> {
        self.building().and_then(|b| b.gate.held_id())
    }

    fn emit_admitted(&mut self, author: ParticipantId, admitted: Admitted) {
        if !admitted.forward.is_empty() {
            self.outbox.push(Output::AgentInput {
                author,
                bytes: admitted.forward,
            });
        }
        if let Some((id, preview)) = admitted.held {
            self.outbox.both(Event::LineHeld { id, preview });
        }
    }
}
