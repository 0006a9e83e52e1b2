//! Every duration and limit of a session.

use std::time::Duration;

use crate::rate_limit::RateLimit;

/// Durations and limits of a session. [`Default`] gives the product's values: a 3-minute plan,
/// 30 minutes of building, a check-in at 15, a warning 5 minutes before the end, one 15-minute
/// extension and a 3-minute rematch window.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Seed for every random choice (which ideas are drawn). Mixed with the room id.
    pub seed: u64,
    /// How many built-in ideas are drawn for the vote.
    pub ideas_drawn: usize,
    /// Most ideas in a plan, drawn and added together.
    pub max_ideas: usize,
    /// Longest idea, in characters.
    pub idea_max_chars: usize,
    /// How long the vote lasts before the best idea wins.
    pub planning_duration: Duration,
    /// How long building lasts before any extension.
    pub building_duration: Duration,
    /// When, after building starts, both are asked whether to continue. Zero disables it.
    pub check_in_after: Duration,
    /// How long the check-in waits for both answers.
    pub check_in_timeout: Duration,
    /// How long before the end the warning comes.
    pub warning_before_end: Duration,
    /// How much one extension adds.
    pub extension: Duration,
    /// How many extensions a session may have.
    pub max_extensions: u32,
    /// How long a swap or extension request waits for an answer.
    pub request_timeout: Duration,
    /// How long after building starts the no-fault rematch stays open (it is open throughout
    /// planning too).
    pub rematch_window: Duration,
    /// Most prompts waiting for approval at once.
    pub max_pending_prompts: usize,
    /// Longest prompt, in characters.
    pub prompt_max_chars: usize,
    /// Whether a line submitted by a driver who is not the host waits for the host's approval.
    pub host_approves_remote_lines: bool,
    /// Most bytes held behind a line waiting for approval.
    pub max_held_input: usize,
    /// Longest chat message, in characters.
    pub chat_max_chars: usize,
    /// Chat messages per participant.
    pub chat_rate: RateLimit,
    /// Longest report reason, in characters.
    pub report_max_chars: usize,
    /// How long a disconnected partner may take to come back.
    pub reconnect_grace: Duration,
    /// How long a disconnected host agent may take to come back.
    pub agent_reconnect_grace: Duration,
    /// A chat-only room closes after this long without a message.
    pub chat_idle_timeout: Duration,
    /// Largest terminal size accepted from a resize, as (columns, rows).
    pub max_terminal_size: (u16, u16),
    /// An agent that exits sooner than this after building starts failed to start: the session
    /// ends with [`EndReason::AgentExited`](super::EndReason::AgentExited) marked `early`, the
    /// partner is requeued at the head of the queue and the host is not requeued.
    pub agent_min_run: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        const MIN: u64 = 60;
        Self {
            seed: 0,
            ideas_drawn: 3,
            max_ideas: 8,
            idea_max_chars: 140,
            planning_duration: Duration::from_secs(3 * MIN),
            building_duration: Duration::from_secs(30 * MIN),
            check_in_after: Duration::from_secs(15 * MIN),
            check_in_timeout: Duration::from_secs(2 * MIN),
            warning_before_end: Duration::from_secs(5 * MIN),
            extension: Duration::from_secs(15 * MIN),
            max_extensions: 1,
            request_timeout: Duration::from_secs(30),
            rematch_window: Duration::from_secs(3 * MIN),
            max_pending_prompts: 5,
            prompt_max_chars: 4000,
            host_approves_remote_lines: true,
            max_held_input: 4096,
            chat_max_chars: 500,
            chat_rate: RateLimit::new(5, Duration::from_secs(1)),
            report_max_chars: 1000,
            reconnect_grace: Duration::from_secs(60),
            agent_reconnect_grace: Duration::from_secs(120),
            chat_idle_timeout: Duration::from_secs(10 * MIN),
            max_terminal_size: (1000, 500),
            agent_min_run: Duration::from_secs(10),
        }
    }
}
