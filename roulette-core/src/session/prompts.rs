//! Prompts: the navigator suggests, the driver approves, and the host confirms what is risky or
//! what a remote driver releases. A prompt reaches the agent as one bracketed paste.

use std::time::Instant;

use super::event::{Event, Output, PromptStage, PromptView};
use super::{Session, WriteAction, building_of, clean_text};
use crate::error::SessionError;
use crate::ids::{ParticipantId, PromptId};
use crate::safety::check_prompt;
use crate::sanitize::TextField;

/// Start and end of a bracketed paste.
const PASTE_START: &[u8] = b"\x1b[200~";
const PASTE_END: &[u8] = b"\x1b[201~";

/// Wraps `text` as one bracketed paste followed by Enter. Nothing inside can end the paste
/// early: every escape character is removed, so neither `ESC[201~` nor any other sequence
/// survives. Newlines become carriage returns, as a terminal sends them when pasting.
pub fn bracketed_paste(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + PASTE_START.len() + PASTE_END.len() + 1);
    out.extend_from_slice(PASTE_START);
    for c in text.chars() {
        match c {
            '\x1b' | '\u{9b}' => {}
            '\n' => out.push(b'\r'),
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.extend_from_slice(PASTE_END);
    out.push(b'\r');
    out
}

/// Prompts waiting for a decision.
#[derive(Debug, Default)]
pub(crate) struct PromptQueue {
    waiting: Vec<PromptView>,
}

impl PromptQueue {
    pub(crate) fn waiting(&self) -> &[PromptView] {
        &self.waiting
    }

    fn position(&self, id: PromptId) -> Option<usize> {
        self.waiting.iter().position(|p| p.id == id)
    }
}

/// What happens to a prompt the driver has released.
enum Release {
    /// Straight to the agent.
    Send,
    /// To the host for confirmation.
    ToHost,
}

impl Session {
    /// A navigator suggests a prompt; it waits for the driver's approval.
    pub fn handle_suggest_prompt(
        &mut self,
        _now: Instant,
        who: ParticipantId,
        text: &str,
    ) -> Result<PromptId, SessionError> {
        self.seat(who)?;
        building_of(&mut self.state, self.kind)?;
        let text = clean_text(TextField::Prompt, text, self.config.prompt_max_chars)?;
        let max = self.config.max_pending_prompts;
        let b = building_of(&mut self.state, self.kind)?;
        if b.driver == who {
            return Err(SessionError::NotNavigator);
        }
        if b.prompts.waiting.len() >= max {
            return Err(SessionError::PromptQueueFull { max });
        }
        let id = self.ids.next_prompt();
        let prompt = PromptView {
            id,
            author: who,
            warnings: check_prompt(&text),
            text,
            awaiting: PromptStage::Driver,
        };
        b.prompts.waiting.push(prompt.clone());
        self.outbox.both(Event::PromptWaiting { prompt });
        Ok(id)
    }

    /// The driver submits a prompt of their own. It goes to the agent at once, unless it has
    /// safety warnings the host has not confirmed, or the driver is not the host and the host
    /// approves remote input; then it waits for the host.
    pub fn handle_submit_prompt(
        &mut self,
        _now: Instant,
        who: ParticipantId,
        text: &str,
        acknowledge_warnings: bool,
    ) -> Result<PromptId, SessionError> {
        self.check_write(who, WriteAction::Prompt)?;
        let text = clean_text(TextField::Prompt, text, self.config.prompt_max_chars)?;
        let warnings = check_prompt(&text);
        let release = self.release_for(who, !warnings.is_empty(), acknowledge_warnings)?;
        let max = self.config.max_pending_prompts;
        let b = building_of(&mut self.state, self.kind)?;
        if matches!(release, Release::ToHost) && b.prompts.waiting.len() >= max {
            return Err(SessionError::PromptQueueFull { max });
        }
        let id = self.ids.next_prompt();
        let prompt = PromptView {
            id,
            author: who,
            text,
            warnings,
            awaiting: PromptStage::Host,
        };
        match release {
            Release::Send => self.send_prompt(who, &prompt),
            Release::ToHost => {
                b.prompts.waiting.push(prompt.clone());
                self.outbox.both(Event::PromptWaiting { prompt });
            }
        }
        Ok(id)
    }

    /// Approves or rejects a waiting prompt. A suggestion is decided by the driver; a prompt at
    /// the host stage by the host, who must acknowledge its warnings to approve it.
    pub fn handle_decide_prompt(
        &mut self,
        _now: Instant,
        who: ParticipantId,
        id: PromptId,
        approve: bool,
        acknowledge_warnings: bool,
    ) -> Result<(), SessionError> {
        self.seat(who)?;
        let host = self.host;
        let b = building_of(&mut self.state, self.kind)?;
        let index = b.prompts.position(id).ok_or(SessionError::UnknownPrompt)?;
        let prompt = &b.prompts.waiting[index];
        match prompt.awaiting {
            PromptStage::Driver if b.driver != who => return Err(SessionError::NotDriver),
            PromptStage::Host if host != Some(who) => return Err(SessionError::NotHost),
            _ => {}
        }
        if !approve {
            b.prompts.waiting.remove(index);
            self.outbox.both(Event::PromptRejected { id, by: who });
            return Ok(());
        }
        let has_warnings = !prompt.warnings.is_empty();
        let release = match prompt.awaiting {
            PromptStage::Driver => self.release_for(who, has_warnings, acknowledge_warnings)?,
            PromptStage::Host if has_warnings && !acknowledge_warnings => {
                return Err(SessionError::WarningsNotAcknowledged);
            }
            PromptStage::Host => Release::Send,
        };
        let b = building_of(&mut self.state, self.kind)?;
        match release {
            Release::Send => {
                let prompt = b.prompts.waiting.remove(index);
                self.send_prompt(who, &prompt);
            }
            Release::ToHost => {
                let prompt = &mut b.prompts.waiting[index];
                prompt.awaiting = PromptStage::Host;
                let prompt = prompt.clone();
                self.outbox.both(Event::PromptWaiting { prompt });
            }
        }
        Ok(())
    }

    /// Prompts waiting for a decision, oldest first.
    pub fn waiting_prompts(&self) -> &[PromptView] {
        self.building()
            .map(|b| b.prompts.waiting.as_slice())
            .unwrap_or_default()
    }

    /// Decides where a prompt released by `approver` (the driver) goes next.
    fn release_for(
        &self,
        approver: ParticipantId,
        has_warnings: bool,
        acknowledged: bool,
    ) -> Result<Release, SessionError> {
        let approver_is_host = self.host == Some(approver);
        if approver_is_host {
            if has_warnings && !acknowledged {
                return Err(SessionError::WarningsNotAcknowledged);
            }
            return Ok(Release::Send);
        }
        if has_warnings || self.config.host_approves_remote_lines {
            Ok(Release::ToHost)
        } else {
            Ok(Release::Send)
        }
    }

    fn send_prompt(&mut self, by: ParticipantId, prompt: &PromptView) {
        self.outbox.push(Output::AgentInput {
            author: by,
            bytes: bracketed_paste(&prompt.text),
        });
        self.outbox.both(Event::PromptSent { id: prompt.id, by });
    }
}
