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
/// Most keys held at once when every remote key waits for the host.
const MAX_HELD_KEYS: usize = 256;
/// Bytes of the current line kept for the host's preview.
const MAX_PREVIEW_BYTES: usize = 1024;

/// Removes, from a remote driver's input, the keys that switch the agent's permission mode:
/// back-tab (Shift-Tab, `CSI Z` with or without parameters) and its kitty keyboard-protocol
/// form (`CSI 9;2u`).
///
/// The filter judges the stream the agent sees, not single frames: an unfinished `CSI` at the
/// end of a frame is held until its final byte arrives, and when the agent's stream ends in a
/// bare ESC (a lone ESC is passed at once, since it is the key that interrupts an agent), a
/// following `[` continues that ESC, so no split or dropped sequence can leave an ESC that later
/// bytes complete into a back-tab.
#[derive(Debug, Default)]
pub struct RemoteInputFilter {
    /// An unfinished control sequence from the end of the last frame: either `ESC [ ...` (its
    /// ESC not yet sent) or `[ ...` (continuing the ESC the agent already has).
    pending: Vec<u8>,
    /// Whether the last byte the agent received is an ESC that nothing has followed yet.
    dangling_esc: bool,
}

impl RemoteInputFilter {
    /// Filters one frame of a remote driver's input; returns what may reach the agent.
    pub fn filter(&mut self, data: &[u8]) -> Vec<u8> {
        if data.is_empty() {
            return Vec::new();
        }
        let mut input = std::mem::take(&mut self.pending);
        input.extend_from_slice(data);
        let mut out = Vec::with_capacity(input.len());
        let mut dangling = self.dangling_esc;
        let mut i = 0;
        while i < input.len() {
            // Where a CSI starts here: with its own ESC, or continuing a dangling one.
            let params_start = if input[i] == ESC && input.get(i + 1) == Some(&b'[') {
                Some(i + 2)
            } else if dangling && input[i] == b'[' {
                Some(i + 1)
            } else {
                None
            };
            let Some(params_start) = params_start else {
                out.push(input[i]);
                dangling = input[i] == ESC;
                i += 1;
                continue;
            };
            // Parameter bytes (0x30..=0x3F) and intermediate bytes (0x20..=0x2F).
            let end = input[params_start..]
                .iter()
                .position(|b| !(0x20..=0x3f).contains(b))
                .map(|p| params_start + p);
            let Some(final_at) = end else {
                // Unfinished: hold it for the next frame, unless it is absurdly long.
                if input.len() - i <= MAX_PENDING_SEQUENCE {
                    self.pending = input[i..].to_vec();
                }
                break;
            };
            if !(0x40..=0x7e).contains(&input[final_at]) {
                // No final byte (an ESC or a control): the sequence is aborted, as a terminal
                // would abort it. Its prefix is dropped rather than passed, so that it cannot
                // join with later bytes once something between them is removed; scanning goes
                // on from the aborting byte.
                i = final_at;
                continue;
            }
            if !is_mode_switch(&input[params_start..final_at], input[final_at]) {
                out.extend_from_slice(&input[i..=final_at]);
                dangling = false;
            }
            // A dropped sequence sends nothing, so whatever the agent's stream ended in, it
            // still does.
            i = final_at + 1;
        }
        self.dangling_esc = dangling;
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
    /// The preview shown for the held line.
    held_preview: String,
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

    pub(crate) fn held_preview(&self) -> Option<(LineId, String)> {
        self.held_id().map(|id| (id, self.held_preview.clone()))
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
                self.held_preview = preview.clone();
                Admitted {
                    forward: data[..at].to_vec(),
                    held: Some((id, preview)),
                }
            }
        }
    }

    /// Holds every key (for programs whose dialogs answer to single keys). Keys pressed while
    /// others are held join them under a new id, so that the host never releases a key they
    /// were not shown; the old id is returned as superseded.
    pub(crate) fn admit_keys(
        &mut self,
        data: &[u8],
        next_id: impl FnOnce() -> LineId,
    ) -> (Admitted, Option<LineId>) {
        let (superseded, mut keys) = match self.held.take() {
            Some((id, keys)) => (Some(id), keys),
            None => (None, Vec::new()),
        };
        keys.extend_from_slice(data);
        let id = next_id();
        let preview = describe_keys(&keys);
        self.held_preview = preview.clone();
        self.held = Some((id, keys));
        (
            Admitted {
                forward: Vec::new(),
                held: Some((id, preview)),
            },
            superseded,
        )
    }

    /// Releases every held key (keys mode).
    pub(crate) fn approve_keys(&mut self) -> Option<Vec<u8>> {
        self.held.take().map(|(_, keys)| keys)
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

/// Names the keys in `keys` for the host: text as typed, other keys by name.
fn describe_keys(keys: &[u8]) -> String {
    const NAMED: &[(&[u8], &str)] = &[
        (b"\x1b[A", "Up"),
        (b"\x1b[B", "Down"),
        (b"\x1b[C", "Right"),
        (b"\x1b[D", "Left"),
        (b"\x1bOA", "Up"),
        (b"\x1bOB", "Down"),
        (b"\x1bOC", "Right"),
        (b"\x1bOD", "Left"),
        (b"\x1bOM", "Enter"),
        (b"\r", "Enter"),
        (b"\n", "Enter"),
        (b"\t", "Tab"),
        (b"\x7f", "Backspace"),
        (b"\x1b", "Esc"),
    ];
    let mut out = String::new();
    let mut text = Vec::new();
    // Text is quoted and escaped, so that typed text can never pass for a key's name.
    let flush = |out: &mut String, text: &mut Vec<u8>| {
        if !text.is_empty() {
            out.push_str(&format!("{:?} ", String::from_utf8_lossy(text)));
            text.clear();
        }
    };
    let mut rest = keys;
    while let Some(&b) = rest.first() {
        if let Some((seq, name)) = NAMED.iter().find(|(seq, _)| rest.starts_with(seq)) {
            flush(&mut out, &mut text);
            out.push_str(name);
            out.push(' ');
            rest = &rest[seq.len()..];
        } else if b < 0x20 {
            flush(&mut out, &mut text);
            out.push_str(&format!("Ctrl-{} ", char::from(b + 0x40)));
            rest = &rest[1..];
        } else {
            text.push(b);
            rest = &rest[1..];
        }
    }
    flush(&mut out, &mut text);
    sanitize(TextField::Chat, out.trim_end())
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
        let hold_keys = self.agent_policy.is_some_and(|p| p.hold_keys);
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
        if hold_keys {
            if filtered.is_empty() {
                return Ok(());
            }
            // Every held key is shown to the host by name before it is released: no more are
            // held than the host can be shown.
            if b.gate.held_len() + filtered.len() > MAX_HELD_KEYS {
                return Err(SessionError::InputHeld);
            }
            let ids = &mut self.ids;
            let (admitted, superseded) = b.gate.admit_keys(&filtered, || ids.next_line());
            if let Some(id) = superseded {
                self.outbox.both(Event::LineRejected { id });
            }
            self.emit_admitted(who, admitted);
            return Ok(());
        }
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
        let hold_keys = self.agent_policy.is_some_and(|p| p.hold_keys);
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
        if hold_keys {
            if let Some(keys) = b.gate.approve_keys() {
                self.outbox.both(Event::LineApproved { id });
                self.outbox.push(Output::AgentInput {
                    author: driver,
                    bytes: keys,
                });
            }
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
