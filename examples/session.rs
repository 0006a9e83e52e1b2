//! A whole pairing session driven through `roulette-core` alone.
//!
//! Two scripted participants, Alice (who hosts the agent) and Bob, talk to a room loop over an
//! in-memory transport: each has an inbox queue of events, and the room has one queue of
//! actions. Time is virtual: the loop jumps straight to the next scripted action or to the
//! session's next timeout, so 45 minutes of session run in a blink. Run it with
//!
//! ```text
//! cargo run --example session
//! ```

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use roulette_core::session::{Event, Output};
use roulette_core::{
    Candidate, MatchKey, Matchmaker, MatchmakerConfig, MatchmakerOutput, ParticipantId, RoomKind,
    RoomSetup, Session, SessionConfig, SessionError, Vote,
};

/// What a participant can ask of the room.
#[derive(Debug, Clone)]
enum Action {
    Chat(&'static str),
    Vote(usize, Vote),
    AddIdea(&'static str),
    Type(&'static str),
    SuggestPrompt(&'static str),
    ApproveFirstPrompt,
    RequestSwap,
    AcceptSwap,
    ApproveHeldLine,
    CheckIn(bool),
    RequestExtension,
    AcceptExtension,
}

/// The in-memory transport: one queue into the room, one inbox per participant.
struct Wire {
    to_room: VecDeque<(Duration, ParticipantId, Action)>,
    inboxes: [(ParticipantId, &'static str, VecDeque<Event>); 2],
}

fn main() -> Result<(), SessionError> {
    let origin = Instant::now(); // the driver's clock; core never reads one
    let (alice, bob) = (ParticipantId(1), ParticipantId(2));

    // Matchmaking: Bob waits first; Alice, who has a host agent, arrives and is paired with him.
    let mut matchmaker = Matchmaker::new(MatchmakerConfig::default());
    let candidate = |p, key: &str, can_host| Candidate {
        participant: p,
        key: MatchKey::new(key),
        kind: RoomKind::Pairing,
        can_host,
        latency: Duration::from_millis(20),
    };
    matchmaker
        .enqueue(origin, candidate(bob, "bob", false))
        .expect("queue");
    matchmaker
        .enqueue(origin, candidate(alice, "alice", true))
        .expect("queue");
    let Some(MatchmakerOutput::Matched(pair)) = matchmaker.poll_output() else {
        unreachable!("a host and a guest always pair");
    };
    println!(
        "matched in room {} via {:?}; host is participant {}",
        pair.room,
        pair.via,
        pair.host.map_or(0, |h| h.0)
    );

    let mut session = Session::new(SessionConfig::default(), origin, RoomSetup::from(&pair))?;
    let min = |m: u64| Duration::from_secs(m * 60);
    let sec = Duration::from_secs;
    let script = [
        (
            sec(5),
            bob,
            Action::Chat("hi! \x1b[31mfirst\x1b[0m time pairing"),
        ),
        (
            sec(10),
            alice,
            Action::AddIdea("A tiny chess clock for the terminal"),
        ),
        (sec(20), bob, Action::Vote(3, Vote::Up)),
        (sec(25), alice, Action::Vote(3, Vote::Up)),
        (sec(40), alice, Action::Type("cargo new clock\r")),
        (
            sec(60),
            bob,
            Action::SuggestPrompt("Write the clock with two timers and a space key to switch"),
        ),
        (sec(70), alice, Action::ApproveFirstPrompt),
        (min(5), bob, Action::RequestSwap),
        (min(5) + sec(3), alice, Action::AcceptSwap),
        (min(6), bob, Action::Type("cargo run\r")),
        (min(6) + sec(4), alice, Action::ApproveHeldLine),
        (min(15) + sec(35), alice, Action::CheckIn(true)),
        (min(15) + sec(50), bob, Action::CheckIn(true)),
        (min(26), bob, Action::RequestExtension),
        (min(26) + sec(5), alice, Action::AcceptExtension),
    ];
    let mut wire = Wire {
        to_room: script.into_iter().collect(),
        inboxes: [
            (alice, "Alice", VecDeque::new()),
            (bob, "Bob", VecDeque::new()),
        ],
    };

    let mut now = origin;
    deliver(&mut session, &mut wire);
    print_inboxes(&mut wire, Duration::ZERO);
    loop {
        let next_action = wire.to_room.front().map(|(at, _, _)| origin + *at);
        let next_timer = session.poll_timeout();
        let Some(next) = [next_action, next_timer].into_iter().flatten().min() else {
            break;
        };
        now = next;
        if next_action == Some(next) {
            if let Some((_, who, action)) = wire.to_room.pop_front() {
                println!(
                    "[{}] {} -> room: {:?}",
                    clock(now - origin),
                    name(&wire, who),
                    action
                );
                if let Err(e) = apply(&mut session, now, who, action) {
                    println!("         refused: {e}");
                }
            }
        } else {
            session.handle_timeout(now);
        }
        deliver(&mut session, &mut wire);
        print_inboxes(&mut wire, now - origin);
    }
    println!(
        "session over after {}: {:?}",
        clock(now - origin),
        session.end_reason()
    );
    Ok(())
}

/// Each participant reads their inbox.
fn print_inboxes(wire: &mut Wire, at: Duration) {
    for (who, label, inbox) in &mut wire.inboxes {
        while let Some(event) = inbox.pop_front() {
            println!(
                "[{}] room -> {label} ({who}): {}",
                clock(at),
                describe(&event)
            );
        }
    }
}

fn name(wire: &Wire, who: ParticipantId) -> &'static str {
    wire.inboxes
        .iter()
        .find(|(p, _, _)| *p == who)
        .map_or("?", |(_, n, _)| n)
}

fn apply(
    s: &mut Session,
    now: Instant,
    who: ParticipantId,
    action: Action,
) -> Result<(), SessionError> {
    match action {
        Action::Chat(text) => s.handle_chat(now, who, text),
        Action::Vote(n, vote) => {
            let idea = s.ideas().and_then(|i| i.get(n)).map(|i| i.id);
            let idea = idea.ok_or(SessionError::UnknownIdea)?;
            s.handle_vote(now, who, idea, vote)
        }
        Action::AddIdea(text) => s.handle_add_idea(now, who, text).map(drop),
        Action::Type(keys) => s.handle_terminal_input(now, who, keys.as_bytes()),
        Action::SuggestPrompt(text) => s.handle_suggest_prompt(now, who, text).map(drop),
        Action::ApproveFirstPrompt => {
            let id = s.waiting_prompts().first().map(|p| p.id);
            let id = id.ok_or(SessionError::UnknownPrompt)?;
            s.handle_decide_prompt(now, who, id, true, false)
        }
        Action::RequestSwap => s.handle_request_swap(now, who),
        Action::AcceptSwap => s.handle_answer_swap(now, who, true),
        Action::ApproveHeldLine => {
            let id = s.held_line().ok_or(SessionError::UnknownLine)?;
            s.handle_decide_line(now, who, id, true)
        }
        Action::CheckIn(keep_going) => s.handle_check_in(now, who, keep_going),
        Action::RequestExtension => s.handle_request_extension(now, who),
        Action::AcceptExtension => s.handle_answer_extension(now, who, true),
    }
}

/// Drains the session's outputs onto the wire: events into inboxes, agent bytes to "the PTY".
fn deliver(session: &mut Session, wire: &mut Wire) {
    while let Some(output) = session.poll_output() {
        match output {
            Output::Event { to, event } => {
                for (who, _, inbox) in &mut wire.inboxes {
                    if to.includes(*who) {
                        inbox.push_back(event.clone());
                    }
                }
            }
            Output::AgentInput { author, bytes } => {
                println!(
                    "         agent PTY <- {:?} (typed by {author})",
                    String::from_utf8_lossy(&bytes)
                );
            }
            Output::AgentResize { cols, rows } => {
                println!("         agent PTY resized to {cols}x{rows}")
            }
            Output::Report(report) => println!("         report stored: {report:?}"),
            Output::ApprovalDecision { id, allow, .. } => {
                println!(
                    "         host agent <- the host's decision on request {id}: allow {allow}"
                )
            }
        }
    }
}

fn describe(event: &Event) -> String {
    match event {
        Event::PlanningStarted { ideas, ends_in } => {
            let list: Vec<_> = ideas
                .iter()
                .map(|i| format!("{}. {}", i.id, i.text))
                .collect();
            format!(
                "vote for {} min on: {}",
                ends_in.as_secs() / 60,
                list.join(" | ")
            )
        }
        other => format!("{other:?}"),
    }
}

fn clock(d: Duration) -> String {
    format!("{:02}:{:02}", d.as_secs() / 60, d.as_secs() % 60)
}
