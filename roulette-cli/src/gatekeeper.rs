//! Who answers the agent's permission requests: the decisions behind Claude Code's hooks, as a
//! sans-IO state machine.
//!
//! The host agent starts Claude Code with a settings file of the session's own whose hooks ask
//! Roulette (see [`crate::hookchan`]). Every hook call becomes [`Gatekeeper::handle_hook`]; the
//! answer for Claude comes out of [`Gatekeeper::poll_output`] as [`GateOutput::Reply`], at once
//! or once the host has decided. The rules:
//!
//! - While anyone but the host drives, a permission request (`PermissionRequest`: Claude would
//!   show its dialog) is held for the host, and so is every tool call that can change something
//!   (`PreToolUse` of anything but a read-only tool), whatever the host's own allow rules say,
//!   unless the host opted out ([`GateConfig::hold_changes`]). Only the host decides; nobody
//!   answering within [`GateConfig::timeout`] denies.
//! - While the host drives, Claude shows its own dialog at the host's keyboard. Until the host
//!   has answered it (a key that answers a dialog, or the agent's next hook call), it is reported
//!   as [`ApprovalPlace::AgentScreen`], so that driving cannot change hands under it; a remote
//!   driver's keys are dropped meanwhile.
//!
//! Like the session in `roulette-core`, it never reads the clock: time is passed in.

use roulette_core::ApprovalId;
use roulette_core::session::{ApprovalOutcome, ApprovalPlace};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What a hook prints to decide nothing (Claude goes on as without the hook). Never an empty
/// answer: the hook takes an empty one for a host agent that went away, and denies.
pub const NO_DECISION: &str = "{}";

/// The longest time the host may be given to decide.
pub const MAX_APPROVAL_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The default time the host has to decide before a held request is denied.
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// Claude Code's tools that only read, ask or plan: never held by [`GateConfig::hold_changes`].
/// (Claude still asks for some of them, for example reading outside its directory; such a
/// request is held like any other while someone else drives.)
pub const READ_ONLY_TOOLS: &[&str] = &[
    "Read",
    "Glob",
    "Grep",
    "LS",
    "NotebookRead",
    "TodoRead",
    "TodoWrite",
    "Task",
    "Agent",
    "TaskOutput",
    "BashOutput",
    "WebSearch",
    "AskUserQuestion",
    "EnterPlanMode",
    "ListMcpResourcesTool",
];

/// How the gatekeeper decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GateConfig {
    /// While someone else drives, hold every tool call that can change something, whatever
    /// the host's own rules say. The host may opt out for a session.
    pub hold_changes: bool,
    /// How long the host has to decide; then the request is denied.
    pub timeout: Duration,
}

impl Default for GateConfig {
    fn default() -> Self {
        Self {
            hold_changes: true,
            timeout: DEFAULT_APPROVAL_TIMEOUT,
        }
    }
}

/// One waiting hook process, as the I/O shell numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// The hook events the gatekeeper answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookEvent {
    /// Before every tool call.
    PreToolUse,
    /// When Claude would show a permission dialog.
    PermissionRequest,
    /// Anything else (`SessionStart`, `PostToolUse`, `Stop`, ...): the agent moved on.
    Other(String),
}

/// A hook call: what Claude Code wrote on the hook's stdin.
#[derive(Clone, Debug, PartialEq)]
pub struct HookCall {
    /// Which event.
    pub event: HookEvent,
    /// The tool, for tool events.
    pub tool: String,
    /// The tool's input, for tool events.
    pub input: Value,
    /// Claude's id for this tool call (`PreToolUse`, `PostToolUse`).
    pub tool_use_id: Option<String>,
}

impl HookCall {
    /// Reads the JSON Claude Code gives a hook.
    pub fn parse(json: &str) -> Result<HookCall, String> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| format!("the hook's input is not JSON: {e}"))?;
        let event = match value.get("hook_event_name").and_then(Value::as_str) {
            Some("PreToolUse") => HookEvent::PreToolUse,
            Some("PermissionRequest") => HookEvent::PermissionRequest,
            Some(other) => HookEvent::Other(other.to_string()),
            None => return Err("the hook's input names no hook_event_name".into()),
        };
        Ok(HookCall {
            event,
            tool: value
                .get("tool_name")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            input: value.get("tool_input").cloned().unwrap_or(Value::Null),
            tool_use_id: value
                .get("tool_use_id")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    /// Whether this tool call can change something on the host's machine.
    pub fn can_change(&self) -> bool {
        !READ_ONLY_TOOLS.contains(&self.tool.as_str())
    }
}

/// What the gatekeeper asks the I/O shell to do.
#[derive(Clone, Debug, PartialEq)]
pub enum GateOutput {
    /// Answer this hook call with this text on its stdout (empty: no decision).
    Reply {
        /// Which call.
        call: CallId,
        /// What the hook prints.
        stdout: String,
    },
    /// A request waits for the host: tell everyone (and the host's own screen).
    Waiting {
        /// Its id.
        id: ApprovalId,
        /// The tool.
        tool: String,
        /// What it would do.
        summary: String,
        /// Where the host answers it.
        place: ApprovalPlace,
    },
    /// A request stopped waiting: tell everyone.
    Resolved {
        /// Which.
        id: ApprovalId,
        /// How.
        outcome: ApprovalOutcome,
        /// The host's reason, or why it ended.
        reason: String,
    },
}

#[derive(Debug)]
struct Held {
    id: ApprovalId,
    call: CallId,
    event: HookEvent,
    deadline: Instant,
}

/// The decisions behind the agent's hooks. See the [module docs](self).
#[derive(Debug)]
pub struct Gatekeeper {
    config: GateConfig,
    next_id: u64,
    held: Vec<Held>,
    /// The agent's own dialog, open at the host's keyboard.
    dialog: Option<ApprovalId>,
    /// Tool calls begun while someone else drove and not finished yet. Claude Code draws a
    /// permission dialog at the same moment it runs the `PermissionRequest` hook, so a remote
    /// driver's keys wait from a tool call's `PreToolUse` until it is over.
    in_flight: Vec<Option<String>>,
    /// The agent started and none of its hooks has run yet: until one does, nothing shows
    /// that the approvals work (hooks switched off in the host's own settings, say), so the
    /// agent's first question stays the host's and a remote driver's keys wait.
    awaiting_first_hook: bool,
    out: VecDeque<GateOutput>,
}

impl Gatekeeper {
    /// A gatekeeper with nothing waiting.
    pub fn new(mut config: GateConfig) -> Self {
        config.timeout = config.timeout.min(MAX_APPROVAL_TIMEOUT);
        Self {
            config,
            next_id: 0,
            held: Vec::new(),
            dialog: None,
            in_flight: Vec::new(),
            awaiting_first_hook: false,
            out: VecDeque::new(),
        }
    }

    /// How it decides.
    pub fn config(&self) -> GateConfig {
        self.config
    }

    /// A hook call arrived. `host_drives` says whether the host drives right now.
    pub fn handle_hook(&mut self, now: Instant, call: CallId, hook: HookCall, host_drives: bool) {
        self.awaiting_first_hook = false;
        match &hook.event {
            // Every tool call, whoever drives: a swap may come between its PreToolUse and the
            // dialog Claude draws for it. A question the agent asks the driver is no approval.
            HookEvent::PreToolUse if hook.tool != "AskUserQuestion" => {
                self.in_flight.push(hook.tool_use_id.clone());
            }
            HookEvent::PreToolUse | HookEvent::PermissionRequest => {}
            HookEvent::Other(name) if name == "PostToolUse" || name == "PostToolUseFailure" => {
                // That call is over, and so is any dialog Claude showed for it.
                if let Some(at) = self.in_flight.iter().position(|t| *t == hook.tool_use_id) {
                    self.in_flight.remove(at);
                }
                self.close_dialog("the agent moved on");
            }
            // The turn ended, or a new one began (or the agent started): no tool call of the
            // old turn runs, and no dialog is open.
            HookEvent::Other(name)
                if name == "Stop" || name == "UserPromptSubmit" || name == "SessionStart" =>
            {
                self.in_flight.clear();
                self.close_dialog("the agent moved on");
            }
            HookEvent::Other(_) => {}
        }
        let hold = match hook.event {
            HookEvent::PermissionRequest => !host_drives,
            HookEvent::PreToolUse => !host_drives && self.config.hold_changes && hook.can_change(),
            HookEvent::Other(_) => false,
        };
        if hold {
            let id = self.allocate();
            self.held.push(Held {
                id,
                call,
                event: hook.event.clone(),
                deadline: now + self.config.timeout,
            });
            self.out.push_back(GateOutput::Waiting {
                id,
                tool: hook.tool.clone(),
                summary: summarize(&hook.tool, &hook.input),
                place: ApprovalPlace::Roulette,
            });
            return;
        }
        if hook.event == HookEvent::PermissionRequest {
            // The host drives: Claude shows its own dialog, which stays the host's.
            let id = self.allocate();
            self.dialog = Some(id);
            self.out.push_back(GateOutput::Waiting {
                id,
                tool: hook.tool.clone(),
                summary: summarize(&hook.tool, &hook.input),
                place: ApprovalPlace::AgentScreen,
            });
        }
        self.out.push_back(GateOutput::Reply {
            call,
            stdout: NO_DECISION.into(),
        });
    }

    /// The agent shows a question of its own at start (Claude Code asks whether to trust the
    /// folder): it is the host's, like any dialog the agent shows while the host drives.
    /// Until the agent's first hook call, the question stays open whatever keys the host
    /// presses, and a remote driver's keys wait (see [`Gatekeeper::remote_keys_wait`]).
    pub fn handle_agent_question(&mut self, tool: &str, summary: &str) {
        self.close_dialog("the agent moved on");
        self.awaiting_first_hook = true;
        let id = self.allocate();
        self.dialog = Some(id);
        self.out.push_back(GateOutput::Waiting {
            id,
            tool: tool.into(),
            summary: summary.into(),
            place: ApprovalPlace::AgentScreen,
        });
    }

    /// The host decided on a held request (from the page or the host's terminal). Returns
    /// `false` when nothing with that id waits.
    pub fn handle_decision(&mut self, id: ApprovalId, allow: bool, reason: &str) -> bool {
        let Some(at) = self.held.iter().position(|h| h.id == id) else {
            return false;
        };
        let held = self.held.remove(at);
        let reason = reason.trim();
        let message = match (allow, reason.is_empty()) {
            (true, _) => "The host allowed this in Roulette.".to_string(),
            (false, true) => "The host denied this in Roulette.".to_string(),
            (false, false) => format!("The host denied this in Roulette: {reason}"),
        };
        self.out.push_back(GateOutput::Reply {
            call: held.call,
            stdout: answer(&held.event, allow, &message),
        });
        self.out.push_back(GateOutput::Resolved {
            id,
            outcome: if allow {
                ApprovalOutcome::Allowed
            } else {
                ApprovalOutcome::Denied
            },
            reason: reason.to_string(),
        });
        true
    }

    /// The hook process went away (Claude was interrupted, or gave up waiting).
    pub fn handle_call_gone(&mut self, call: CallId) {
        if let Some(at) = self.held.iter().position(|h| h.call == call) {
            let held = self.held.remove(at);
            self.out.push_back(GateOutput::Resolved {
                id: held.id,
                outcome: ApprovalOutcome::Withdrawn,
                reason: "the agent stopped waiting".into(),
            });
        }
    }

    /// Keys the host sent to the agent while driving: one that answers a dialog (a digit,
    /// y or n, Enter, Esc, Ctrl-C) closes the agent's own dialog.
    pub fn handle_host_keys(&mut self, keys: &[u8]) {
        if self.awaiting_first_hook {
            return;
        }
        match answer_in(keys) {
            // Esc and Ctrl-C interrupt: the turn is over, whatever was running.
            Some(KeyAnswer::Interrupt) => {
                self.in_flight.clear();
                self.close_dialog("the host answered the agent");
            }
            Some(KeyAnswer::Choice) => self.close_dialog("the host answered the agent"),
            None => {}
        }
    }

    /// The agent exited or the session ended: every held request is denied and withdrawn.
    pub fn withdraw_all(&mut self, reason: &str) {
        self.in_flight.clear();
        self.awaiting_first_hook = false;
        for held in std::mem::take(&mut self.held) {
            self.out.push_back(GateOutput::Reply {
                call: held.call,
                stdout: answer(&held.event, false, "The Roulette session ended."),
            });
            self.out.push_back(GateOutput::Resolved {
                id: held.id,
                outcome: ApprovalOutcome::Withdrawn,
                reason: reason.into(),
            });
        }
        self.close_dialog(reason);
    }

    /// Whether the agent shows its own dialog at the host's keyboard.
    pub fn dialog_open(&self) -> bool {
        self.dialog.is_some()
    }

    /// Whether a remote driver's keys must wait now: the agent shows (or may be about to
    /// show) a dialog that only the host answers.
    pub fn remote_keys_wait(&self) -> bool {
        self.dialog.is_some()
            || !self.in_flight.is_empty()
            || !self.held.is_empty()
            || self.awaiting_first_hook
    }

    /// The requests held for the host, oldest first.
    pub fn held(&self) -> Vec<ApprovalId> {
        self.held.iter().map(|h| h.id).collect()
    }

    /// When the next held request runs out of time.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.held.iter().map(|h| h.deadline).min()
    }

    /// Denies every held request whose time is up. Early or repeated calls do nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        let minutes = self.config.timeout.as_secs_f64() / 60.0;
        let (due, keep): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.held)
            .into_iter()
            .partition(|h| h.deadline <= now);
        self.held = keep;
        for held in due {
            let message =
                format!("Denied: the host did not answer within {minutes:.0} min (Roulette).");
            self.out.push_back(GateOutput::Reply {
                call: held.call,
                stdout: answer(&held.event, false, &message),
            });
            self.out.push_back(GateOutput::Resolved {
                id: held.id,
                outcome: ApprovalOutcome::TimedOut,
                reason: "the host did not answer in time".into(),
            });
        }
    }

    /// The next thing to do, if any. Drain after every input.
    pub fn poll_output(&mut self) -> Option<GateOutput> {
        self.out.pop_front()
    }

    fn allocate(&mut self) -> ApprovalId {
        self.next_id += 1;
        ApprovalId(self.next_id)
    }

    fn close_dialog(&mut self, reason: &str) {
        if let Some(id) = self.dialog.take() {
            self.out.push_back(GateOutput::Resolved {
                id,
                outcome: ApprovalOutcome::Withdrawn,
                reason: reason.into(),
            });
        }
    }
}

/// How a host's keys answer a dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyAnswer {
    /// One of its choices: a digit of Claude's dialogs (1 to 4) or Enter.
    Choice,
    /// Esc or Ctrl-C: no, and the turn is interrupted.
    Interrupt,
}

/// The strongest answer in `keys`. Escape sequences (arrows, focus events, a terminal's
/// answers to queries, whose parameters are digits too) answer nothing.
fn answer_in(keys: &[u8]) -> Option<KeyAnswer> {
    let mut found = None;
    let mut i = 0;
    while i < keys.len() {
        match keys[i] {
            0x1b => match keys.get(i + 1) {
                Some(b'[') => {
                    // CSI: parameters and intermediates, then one final byte.
                    let rest = &keys[i + 2..];
                    let end = rest.iter().position(|b| (0x40..=0x7e).contains(b));
                    i += 2 + end.map_or(rest.len(), |e| e + 1);
                }
                Some(b'O') => i += 3,
                Some(b']' | b'P' | b'_' | b'^') => {
                    // OSC, DCS and the like: up to their terminator (BEL or ESC \\).
                    let rest = &keys[i + 2..];
                    let end = rest.iter().position(|b| *b == 0x07 || *b == 0x1b);
                    i += 2 + end.map_or(rest.len(), |e| e + 1);
                }
                Some(_) => i += 2,
                None => return Some(KeyAnswer::Interrupt),
            },
            0x03 => return Some(KeyAnswer::Interrupt),
            b'1'..=b'4' | b'\r' | b'\n' => {
                found = Some(KeyAnswer::Choice);
                i += 1;
            }
            _ => i += 1,
        }
    }
    found
}

/// What a hook prints to allow or deny, for its event (the `PreToolUse` form for any event
/// but `PermissionRequest`).
pub fn answer(event: &HookEvent, allow: bool, message: &str) -> String {
    let value = match event {
        HookEvent::PermissionRequest if allow => json!({
            "hookSpecificOutput": {
                "hookEventName": "PermissionRequest",
                "decision": { "behavior": "allow" }
            }
        }),
        HookEvent::PermissionRequest => json!({
            "hookSpecificOutput": {
                "hookEventName": "PermissionRequest",
                "decision": { "behavior": "deny", "message": message }
            }
        }),
        _ => json!({
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": if allow { "allow" } else { "deny" },
                "permissionDecisionReason": message
            }
        }),
    };
    value.to_string()
}

/// What a tool call would do, in a line or a few: the command, the file and the size of the
/// change, the address.
pub fn summarize(tool: &str, input: &Value) -> String {
    let text = |key: &str| input.get(key).and_then(Value::as_str).unwrap_or_default();
    let lines = |s: &str| s.lines().count().max(usize::from(!s.is_empty()));
    match tool {
        "Bash" => text("command").to_string(),
        "Edit" => {
            let (old, new) = (text("old_string"), text("new_string"));
            format!(
                "{}: replace {} line(s) with {} line(s){}",
                text("file_path"),
                lines(old),
                lines(new),
                if input.get("replace_all").and_then(Value::as_bool) == Some(true) {
                    ", every occurrence"
                } else {
                    ""
                }
            )
        }
        "MultiEdit" => format!(
            "{}: {} edit(s)",
            text("file_path"),
            input
                .get("edits")
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        ),
        "Write" => {
            let content = text("content");
            format!(
                "{}: write {} line(s), {} bytes",
                text("file_path"),
                lines(content),
                content.len()
            )
        }
        "NotebookEdit" => format!("{}: edit a cell", text("notebook_path")),
        "WebFetch" => text("url").to_string(),
        "Read" => text("file_path").to_string(),
        "ExitPlanMode" => format!("leave plan mode and start: {}", text("plan")),
        _ => match input {
            Value::Null => String::new(),
            other => other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(event: &str, tool: &str, input: Value) -> HookCall {
        HookCall::parse(
            &json!({"hook_event_name": event, "tool_name": tool, "tool_input": input}).to_string(),
        )
        .unwrap()
    }

    fn drain(g: &mut Gatekeeper) -> Vec<GateOutput> {
        std::iter::from_fn(|| g.poll_output()).collect()
    }

    fn bash(cmd: &str) -> Value {
        json!({"command": cmd, "description": "x"})
    }

    #[test]
    fn a_permission_request_while_someone_else_drives_waits_for_the_host() {
        let t = Instant::now();
        let mut g = Gatekeeper::new(GateConfig::default());
        g.handle_hook(
            t,
            CallId(1),
            call("PermissionRequest", "Bash", bash("rm -rf build")),
            false,
        );
        let out = drain(&mut g);
        assert_eq!(
            out,
            vec![GateOutput::Waiting {
                id: ApprovalId(1),
                tool: "Bash".into(),
                summary: "rm -rf build".into(),
                place: ApprovalPlace::Roulette
            }]
        );
        assert!(g.handle_decision(ApprovalId(1), false, "not on my machine"));
        let out = drain(&mut g);
        let GateOutput::Reply { call, stdout } = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(*call, CallId(1));
        let v: Value = serde_json::from_str(stdout).unwrap();
        assert_eq!(v["hookSpecificOutput"]["decision"]["behavior"], "deny");
        assert!(
            v["hookSpecificOutput"]["decision"]["message"]
                .as_str()
                .unwrap()
                .contains("not on my machine")
        );
        assert!(matches!(
            out[1],
            GateOutput::Resolved {
                outcome: ApprovalOutcome::Denied,
                ..
            }
        ));
        // Decided once only.
        assert!(!g.handle_decision(ApprovalId(1), true, ""));
    }

    #[test]
    fn changes_are_held_whatever_the_hosts_rules_say_and_reads_are_not() {
        let t = Instant::now();
        let mut g = Gatekeeper::new(GateConfig::default());
        g.handle_hook(
            t,
            CallId(1),
            call("PreToolUse", "Read", json!({"file_path": "a"})),
            false,
        );
        assert_eq!(
            drain(&mut g),
            vec![GateOutput::Reply {
                call: CallId(1),
                stdout: NO_DECISION.into()
            }]
        );
        for (i, tool) in [
            "Bash",
            "Edit",
            "Write",
            "MultiEdit",
            "mcp__github__create_issue",
            "ExitPlanMode",
        ]
        .iter()
        .enumerate()
        {
            g.handle_hook(
                t,
                CallId(10 + i as u64),
                call("PreToolUse", tool, json!({})),
                false,
            );
            assert!(
                matches!(
                    drain(&mut g)[..],
                    [GateOutput::Waiting {
                        place: ApprovalPlace::Roulette,
                        ..
                    }]
                ),
                "{tool} is held"
            );
        }
        let held = g.held();
        assert_eq!(held.len(), 6);
        assert!(g.handle_decision(held[0], true, ""));
        let GateOutput::Reply { stdout, .. } = &drain(&mut g)[0] else {
            panic!()
        };
        let v: Value = serde_json::from_str(stdout).unwrap();
        assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "allow");
    }

    #[test]
    fn the_host_may_opt_out_of_holding_changes_but_not_of_permission_requests() {
        let t = Instant::now();
        let mut g = Gatekeeper::new(GateConfig {
            hold_changes: false,
            ..GateConfig::default()
        });
        g.handle_hook(t, CallId(1), call("PreToolUse", "Bash", bash("ls")), false);
        assert!(matches!(drain(&mut g)[..], [GateOutput::Reply { .. }]));
        g.handle_hook(
            t,
            CallId(2),
            call("PermissionRequest", "Bash", bash("ls")),
            false,
        );
        assert!(matches!(drain(&mut g)[..], [GateOutput::Waiting { .. }]));
    }

    #[test]
    fn while_the_host_drives_the_agents_own_dialog_shows_and_stays_the_hosts() {
        let t = Instant::now();
        let mut g = Gatekeeper::new(GateConfig::default());
        g.handle_hook(
            t,
            CallId(1),
            call("PreToolUse", "Bash", bash("touch x")),
            true,
        );
        assert!(matches!(drain(&mut g)[..], [GateOutput::Reply { .. }]));
        g.handle_hook(
            t,
            CallId(2),
            call("PermissionRequest", "Bash", bash("touch x")),
            true,
        );
        let out = drain(&mut g);
        assert!(matches!(
            out[..],
            [
                GateOutput::Waiting {
                    place: ApprovalPlace::AgentScreen,
                    ..
                },
                GateOutput::Reply {
                    call: CallId(2),
                    ..
                }
            ]
        ));
        assert!(g.dialog_open());
        // Arrow keys move in the dialog, and a terminal's answers to the agent's queries (device
        // attributes, cursor position, focus) are no answer either, digits and all.
        g.handle_host_keys(b"\x1b[B\x1b[A\x1bOB");
        g.handle_host_keys(b"\x1b[?1;2c\x1b[12;40R\x1b[I\x1b]11;rgb:0000/0000/0000\x07");
        assert!(g.dialog_open());
        g.handle_host_keys(b"1");
        assert!(!g.dialog_open());
        assert!(matches!(
            drain(&mut g)[..],
            [GateOutput::Resolved {
                outcome: ApprovalOutcome::Withdrawn,
                ..
            }]
        ));
        // The agent's next hook call closes a dialog too.
        g.handle_hook(
            t,
            CallId(3),
            call("PermissionRequest", "Bash", bash("touch y")),
            true,
        );
        drain(&mut g);
        g.handle_hook(
            t,
            CallId(4),
            call("PostToolUse", "Bash", bash("touch y")),
            true,
        );
        assert!(!g.dialog_open());
    }

    #[test]
    fn a_remote_drivers_keys_wait_while_a_tool_call_may_show_a_dialog() {
        let t = Instant::now();
        let mut g = Gatekeeper::new(GateConfig {
            hold_changes: false,
            ..GateConfig::default()
        });
        let with_id = |event: &str, id: &str| {
            let mut c = call(event, "Read", json!({"file_path": "/etc/hosts"}));
            c.tool_use_id = Some(id.into());
            c
        };
        assert!(!g.remote_keys_wait());
        g.handle_hook(t, CallId(1), with_id("PreToolUse", "t1"), false);
        assert!(g.remote_keys_wait(), "Claude may draw its dialog next");
        g.handle_hook(
            t,
            CallId(2),
            call("PermissionRequest", "Read", json!({})),
            false,
        );
        drain(&mut g);
        assert!(g.remote_keys_wait());
        assert!(g.handle_decision(g.held()[0], true, ""));
        assert!(g.remote_keys_wait(), "the tool still runs");
        g.handle_hook(t, CallId(3), with_id("PostToolUse", "t1"), false);
        assert!(!g.remote_keys_wait());
        // A tool call the host began holds keys back too: a swap may come before its dialog.
        g.handle_hook(t, CallId(4), with_id("PreToolUse", "t2"), true);
        assert!(g.remote_keys_wait());
        // Another call's end does not end it; the end of the turn does.
        g.handle_hook(t, CallId(5), with_id("PostToolUse", "t9"), true);
        assert!(g.remote_keys_wait());
        g.handle_hook(t, CallId(6), call("Stop", "", json!(null)), true);
        assert!(!g.remote_keys_wait());
        // The host interrupting ends it as well.
        g.handle_hook(t, CallId(7), with_id("PreToolUse", "t3"), true);
        g.handle_host_keys(b"\x1b");
        assert!(!g.remote_keys_wait());
        // A question the agent asks the driver holds nothing back.
        let mut ask = call("PreToolUse", "AskUserQuestion", json!({}));
        ask.tool_use_id = Some("t4".into());
        g.handle_hook(t, CallId(8), ask, false);
        assert!(!g.remote_keys_wait());
    }

    #[test]
    fn the_agents_first_question_stays_the_hosts_until_its_hooks_are_seen_to_run() {
        let t = Instant::now();
        let mut g = Gatekeeper::new(GateConfig::default());
        g.handle_agent_question("Claude Code", "asks whether to trust the session's folder");
        assert!(matches!(
            drain(&mut g)[..],
            [GateOutput::Waiting {
                place: ApprovalPlace::AgentScreen,
                ..
            }]
        ));
        // The host answering does not prove the hooks run: the question stays open.
        g.handle_host_keys(b"\r");
        assert!(g.dialog_open() && g.remote_keys_wait());
        g.handle_hook(t, CallId(1), call("SessionStart", "", json!(null)), true);
        assert!(!g.dialog_open() && !g.remote_keys_wait());
    }

    #[test]
    fn nobody_answering_in_time_denies() {
        let t = Instant::now();
        let mut g = Gatekeeper::new(GateConfig::default());
        g.handle_hook(
            t,
            CallId(1),
            call("PreToolUse", "Bash", bash("touch x")),
            false,
        );
        drain(&mut g);
        assert_eq!(g.poll_timeout(), Some(t + DEFAULT_APPROVAL_TIMEOUT));
        g.handle_timeout(t + Duration::from_secs(60));
        assert!(drain(&mut g).is_empty());
        g.handle_timeout(t + DEFAULT_APPROVAL_TIMEOUT);
        let out = drain(&mut g);
        let GateOutput::Reply { stdout, .. } = &out[0] else {
            panic!()
        };
        assert!(stdout.contains("\"deny\""));
        assert!(matches!(
            out[1],
            GateOutput::Resolved {
                outcome: ApprovalOutcome::TimedOut,
                ..
            }
        ));
        assert_eq!(g.poll_timeout(), None);
    }

    #[test]
    fn a_hook_that_goes_away_withdraws_its_request() {
        let t = Instant::now();
        let mut g = Gatekeeper::new(GateConfig::default());
        g.handle_hook(
            t,
            CallId(7),
            call(
                "PermissionRequest",
                "Write",
                json!({"file_path": "/etc/x", "content": "a\nb\n"}),
            ),
            false,
        );
        let out = drain(&mut g);
        assert!(
            matches!(&out[0], GateOutput::Waiting { summary, .. } if summary == "/etc/x: write 2 line(s), 4 bytes")
        );
        g.handle_call_gone(CallId(7));
        assert!(matches!(
            drain(&mut g)[..],
            [GateOutput::Resolved {
                outcome: ApprovalOutcome::Withdrawn,
                ..
            }]
        ));
        assert!(g.held().is_empty());
    }

    #[test]
    fn bad_hook_input_is_an_error_not_a_panic() {
        assert!(HookCall::parse("not json").is_err());
        assert!(HookCall::parse("{}").is_err());
        assert!(HookCall::parse("[1,2]").is_err());
        let odd = HookCall::parse(r#"{"hook_event_name":"PreToolUse","tool_name":5}"#).unwrap();
        assert_eq!(odd.tool, "");
        assert!(odd.can_change());
    }
}
