//! Control messages: one example of every message, JSON snapshots, round trips, strict
//! decoding, field caps, version agreement and the mapping from core events and errors.

use roulette_core::safety::{RiskKind, SafetyWarning};
use roulette_core::session::{
    ApprovalOutcome, ApprovalPlace, ApprovalView, DriverChange, EndReason, Event, IdeaView,
    PromptStage, PromptView,
};
use roulette_core::{
    ApprovalId, IdeaId, LineId, MatchError, ParticipantId, PromptId, RoomId, RoomKind,
    SessionError, Vote,
};
use roulette_transport::limits::*;
use roulette_transport::{
    ClientMessage, CloseCode, DecodeError, ErrorCode, List, ServerMessage, Text, agree_version,
};
use std::time::Duration;

fn t<const N: usize>(s: &str) -> Text<N> {
    Text::new(s).unwrap()
}

const A: ParticipantId = ParticipantId(1);
const B: ParticipantId = ParticipantId(2);

/// One example of every client message. The match below fails to compile when a variant is
/// added without an example.
fn client_examples() -> Vec<ClientMessage> {
    use ClientMessage::*;
    let all = vec![
        Hello {
            versions: List::new(vec![1]).unwrap(),
            ticket: Some(t("eyJhbGciOiJFZERTQSJ9.e30.c2ln")),
            resume_from: Some(4096),
        },
        FindPartner {
            kind: RoomKind::Pairing,
            key: None,
        },
        FindPartner {
            kind: RoomKind::Chat,
            key: Some(t("5f2b8c0e9a7d4c1b3e6f8a0d2c4b6e8f")),
        },
        Solve { nonce: t("48213") },
        Insights {},
        CancelSearch {},
        CreateInvite {},
        RedeemInvite {
            code: t("gezdgnbvgy3tqojqgezdgnbvgy"),
        },
        Chat {
            text: t("hi there"),
        },
        Typing {},
        AddIdea {
            text: t("A chess clock for the terminal"),
        },
        Vote {
            idea: IdeaId(2),
            vote: roulette_core::Vote::Up,
        },
        RequestSwap {},
        AnswerSwap { accept: true },
        Reclaim {},
        SuggestPrompt {
            text: t("Add a pause key"),
        },
        SubmitPrompt {
            text: t("Write tests for the timer"),
            acknowledge_warnings: false,
        },
        DecidePrompt {
            id: PromptId(3),
            approve: true,
            acknowledge_warnings: true,
        },
        DecideLine {
            id: LineId(1),
            approve: false,
        },
        DecideApproval {
            id: ApprovalId(1),
            allow: false,
            reason: t("not outside the session directory"),
        },
        AgentPolicy {
            approvals: true,
            hold_changes: true,
            hold_keys: false,
        },
        ApprovalRequest {
            id: ApprovalId(1),
            tool: t("Bash"),
            summary: t("rm -rf build"),
            place: ApprovalPlace::Roulette,
        },
        ApprovalResolved {
            id: ApprovalId(1),
            outcome: ApprovalOutcome::Denied,
            reason: t("not outside the session directory"),
        },
        CheckIn { keep_going: true },
        RequestExtension {},
        AnswerExtension { accept: true },
        Rematch {},
        Skip {},
        Report { reason: t("spam") },
        Leave {},
        Resize {
            cols: 120,
            rows: 40,
        },
        Ack { offset: 65536 },
        Exit { code: Some(0) },
    ];
    for m in &all {
        match m {
            Hello { .. }
            | FindPartner { .. }
            | Solve { .. }
            | Insights {}
            | CancelSearch {}
            | CreateInvite {}
            | RedeemInvite { .. }
            | Chat { .. }
            | Typing {}
            | AddIdea { .. }
            | Vote { .. }
            | RequestSwap {}
            | AnswerSwap { .. }
            | Reclaim {}
            | SuggestPrompt { .. }
            | SubmitPrompt { .. }
            | DecidePrompt { .. }
            | DecideLine { .. }
            | DecideApproval { .. }
            | AgentPolicy { .. }
            | ApprovalRequest { .. }
            | ApprovalResolved { .. }
            | CheckIn { .. }
            | RequestExtension {}
            | AnswerExtension { .. }
            | Rematch {}
            | Skip {}
            | Report { .. }
            | Leave {}
            | Resize { .. }
            | Ack { .. }
            | Exit { .. } => {}
        }
    }
    all
}

fn idea() -> IdeaView {
    IdeaView {
        id: IdeaId(1),
        text: "A terminal Tetris clone".into(),
        author: None,
    }
}

/// One example of every server message.
fn server_examples() -> Vec<ServerMessage> {
    use ServerMessage::*;
    let all = vec![
        Welcome {
            version: 1,
            you: A,
            name: t("brave-otter"),
            token: None,
            room: None,
        },
        ServerMessage::session_error(&SessionError::NotDriver),
        Queued {
            position: 3,
            online: 42,
        },
        InviteCreated {
            code: t("gezdgnbvgy3tqojqgezdgnbvgy"),
            expires_in_ms: 86_400_000,
        },
        Matched {
            room: RoomId(9),
            kind: RoomKind::Pairing,
            partner: B,
            partner_name: t("calm-heron"),
            host: Some(A),
        },
        Planning {
            ideas: List::new(vec![idea()]).unwrap(),
            ends_in_ms: 180_000,
        },
        IdeaAdded {
            idea: IdeaView {
                id: IdeaId(4),
                text: "A chess clock".into(),
                author: Some(B),
            },
        },
        Tally {
            idea: IdeaId(1),
            up: 2,
            down: 0,
        },
        Building {
            idea: idea(),
            host: A,
            driver: A,
            ends_in_ms: 1_800_000,
            rematch_for_ms: 180_000,
        },
        ChatStarted {},
        DriverChanged {
            driver: B,
            why: DriverChange::Swapped,
        },
        SwapRequested {
            by: B,
            expires_in_ms: 30_000,
        },
        SwapDeclined { by: A },
        SwapExpired {},
        PromptWaiting {
            prompt: PromptView {
                id: PromptId(3),
                author: B,
                text: "cat ~/.ssh/id_rsa".into(),
                warnings: vec![SafetyWarning {
                    kind: RiskKind::SshKeys,
                    matched: ".ssh".into(),
                    reason: "reads or changes SSH keys or configuration".into(),
                }],
                awaiting: PromptStage::Driver,
            },
        },
        PromptRejected {
            id: PromptId(3),
            by: A,
        },
        PromptSent {
            id: PromptId(4),
            by: A,
        },
        LineHeld {
            id: LineId(1),
            preview: t("cargo run"),
        },
        LineApproved { id: LineId(1) },
        LineRejected { id: LineId(2) },
        ApprovalWaiting {
            approval: ApprovalView {
                id: ApprovalId(1),
                tool: "Bash".into(),
                summary: "cat ~/.ssh/id_rsa > /tmp/k".into(),
                warnings: vec![SafetyWarning {
                    kind: RiskKind::SshKeys,
                    matched: ".ssh".into(),
                    reason: "reads or changes SSH keys or configuration".into(),
                }],
                place: ApprovalPlace::Roulette,
                driver: B,
            },
        },
        ApprovalResolved {
            id: ApprovalId(1),
            outcome: ApprovalOutcome::Denied,
            reason: t("not outside the session directory"),
        },
        ApprovalDecision {
            id: ApprovalId(1),
            allow: false,
            reason: t("not outside the session directory"),
        },
        AgentPolicy {
            policy: roulette_core::session::AgentPolicy {
                approvals: true,
                hold_changes: true,
                hold_keys: false,
            },
        },
        Chat {
            from: B,
            text: t("nice!"),
        },
        Typing { who: B },
        CheckIn {
            respond_within_ms: 120_000,
        },
        CheckInAnswered {
            who: A,
            keep_going: true,
        },
        CheckInPassed {},
        Warning {
            remaining_ms: 300_000,
        },
        ExtensionRequested {
            by: B,
            expires_in_ms: 30_000,
        },
        ExtensionDeclined { by: A },
        ExtensionExpired {},
        Extended {
            ends_in_ms: 1_140_000,
        },
        RematchClosed {},
        PartnerAway {
            who: B,
            grace_ms: 60_000,
        },
        PartnerBack { who: B },
        AgentAway { grace_ms: 120_000 },
        AgentBack {},
        Resize {
            cols: 120,
            rows: 40,
        },
        AgentExited { code: Some(0) },
        Latency { who: B, rtt_ms: 23 },
        Ended {
            reason: EndReason::CheckInDeclined { by: None },
        },
        Ended {
            reason: EndReason::AgentExited {
                code: Some(127),
                early: true,
            },
        },
        Ack { offset: 1_048_576 },
        Shutdown {
            reconnect_after_ms: 1_000,
        },
        Challenge {
            prefix: t("q7h2k9w4m1c8x5z3"),
            bits: 16,
            expires_in_ms: 10_000,
        },
        Solved {},
        Insights {
            online: 12,
            waiting: 1,
            rooms: 4,
            connections_total: 1520,
            conversations_total: 311,
            messages_total: 4870,
        },
    ];
    for m in &all {
        match m {
            Welcome { .. }
            | Error { .. }
            | Queued { .. }
            | InviteCreated { .. }
            | Matched { .. }
            | Planning { .. }
            | IdeaAdded { .. }
            | Tally { .. }
            | Building { .. }
            | ChatStarted {}
            | DriverChanged { .. }
            | SwapRequested { .. }
            | SwapDeclined { .. }
            | SwapExpired {}
            | PromptWaiting { .. }
            | PromptRejected { .. }
            | PromptSent { .. }
            | LineHeld { .. }
            | LineApproved { .. }
            | LineRejected { .. }
            | ApprovalWaiting { .. }
            | ApprovalResolved { .. }
            | ApprovalDecision { .. }
            | AgentPolicy { .. }
            | Chat { .. }
            | Typing { .. }
            | CheckIn { .. }
            | CheckInAnswered { .. }
            | CheckInPassed {}
            | Warning { .. }
            | ExtensionRequested { .. }
            | ExtensionDeclined { .. }
            | ExtensionExpired {}
            | Extended { .. }
            | RematchClosed {}
            | PartnerAway { .. }
            | PartnerBack { .. }
            | AgentAway { .. }
            | AgentBack {}
            | Resize { .. }
            | AgentExited { .. }
            | Latency { .. }
            | Ended { .. }
            | Ack { .. }
            | Shutdown { .. }
            | Challenge { .. }
            | Solved {}
            | Insights { .. } => {}
        }
    }
    all
}

fn encoded_examples() -> String {
    let mut out = String::new();
    for m in client_examples() {
        out.push_str(&format!("client {}: {}\n", m.kind(), m.encode().unwrap()));
    }
    for m in server_examples() {
        out.push_str(&format!("server {}: {}\n", m.kind(), m.encode().unwrap()));
    }
    out
}

#[test]
fn every_message_has_a_stable_json_form() {
    insta::assert_snapshot!("examples", encoded_examples());
}

#[test]
fn every_example_round_trips() {
    for m in client_examples() {
        let json = m.encode().unwrap();
        assert_eq!(ClientMessage::decode(&json).unwrap(), m, "{json}");
        assert!(
            json.starts_with(&format!(r#"{{"type":"{}""#, m.kind())),
            "{json}"
        );
    }
    for m in server_examples() {
        let json = m.encode().unwrap();
        assert_eq!(ServerMessage::decode(&json).unwrap(), m, "{json}");
        assert!(
            json.starts_with(&format!(r#"{{"type":"{}""#, m.kind())),
            "{json}"
        );
    }
}

#[test]
fn the_protocol_document_shows_every_message() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"))
        .expect("docs/protocol.md");
    for line in encoded_examples().lines() {
        let json = line.split_once(": ").unwrap().1;
        assert!(
            doc.contains(json),
            "docs/protocol.md lacks the example {json}"
        );
    }
    for code in CloseCode::ALL {
        assert!(
            doc.contains(&format!("| {} |", code.code())),
            "close code {code:?} undocumented"
        );
    }
    let limits = [
        MAX_PACKET,
        MAX_CONTROL_MESSAGE,
        MAX_REASSEMBLED,
        MAX_TICKET,
        MAX_INVITE_CODE,
        MAX_CHAT,
        MAX_IDEA,
        MAX_PROMPT,
        MAX_REPORT,
        MAX_TOOL,
        MAX_SUMMARY,
        MAX_REASON,
        MAX_NAME,
        MAX_MATCH_KEY,
        MAX_NONCE,
        MAX_CHALLENGE,
        MAX_ERROR_MESSAGE,
        MAX_VERSIONS,
        MAX_IDEAS,
    ];
    for limit in limits {
        assert!(
            doc.contains(&format!("| {limit} |")),
            "limit {limit} undocumented"
        );
    }
}

fn refused(json: &str) -> DecodeError {
    ClientMessage::decode(json).expect_err(json)
}

#[test]
fn unknown_types_and_fields_are_refused() {
    for json in [
        r#"{"type":"become_admin"}"#,
        r#"{"type":"chat","text":"hi","admin":true}"#,
        r#"{"type":"typing","extra":1}"#,
        r#"{"text":"no type"}"#,
        r#"{"type":"hello","versions":[1],"ticket":"x","token":"y"}"#,
    ] {
        assert_eq!(
            refused(json).close_code(),
            CloseCode::ProtocolError,
            "{json}"
        );
    }
    // Nested values are strict too, also where a variant has no fields.
    for json in [
        r#"{"type":"ended","reason":{"kind":"timer","by":1}}"#,
        r#"{"type":"ended","reason":{"kind":"rematch","by":1,"x":0}}"#,
        r#"{"type":"idea_added","idea":{"id":1,"text":"t","author":null,"votes":9}}"#,
        r#"{"type":"swap_expired","extra":true}"#,
    ] {
        assert!(ServerMessage::decode(json).is_err(), "{json}");
    }
}

#[test]
fn wrong_types_and_missing_fields_are_refused() {
    for json in [
        r#"{"type":"chat","text":42}"#,
        r#"{"type":"chat"}"#,
        r#"{"type":"resize","cols":-1,"rows":10}"#,
        r#"{"type":"resize","cols":70000,"rows":10}"#,
        r#"{"type":"vote","idea":1,"vote":"sideways"}"#,
        r#"{"type":"answer_swap","accept":"yes"}"#,
        r#"{"type":"find_partner","kind":"party"}"#,
        r#"["type","chat"]"#,
        r#""chat""#,
        "null",
        "",
        "{",
    ] {
        assert!(matches!(refused(json), DecodeError::Malformed(_)), "{json}");
    }
}

#[test]
fn deep_nesting_is_refused_without_harm() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(matches!(refused(&deep), DecodeError::TooLarge { .. }));
    let deep = format!(
        r#"{{"type":"chat","text":{}1{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert!(matches!(refused(&deep), DecodeError::Malformed(_)));
}

#[test]
fn every_field_is_capped() {
    let long = |n: usize| "x".repeat(n + 1);
    let cases = [
        format!(r#"{{"type":"chat","text":"{}"}}"#, long(MAX_CHAT)),
        format!(r#"{{"type":"add_idea","text":"{}"}}"#, long(MAX_IDEA)),
        format!(
            r#"{{"type":"suggest_prompt","text":"{}"}}"#,
            long(MAX_PROMPT)
        ),
        format!(
            r#"{{"type":"submit_prompt","text":"{}"}}"#,
            long(MAX_PROMPT)
        ),
        format!(r#"{{"type":"report","reason":"{}"}}"#, long(MAX_REPORT)),
        format!(
            r#"{{"type":"redeem_invite","code":"{}"}}"#,
            long(MAX_INVITE_CODE)
        ),
        format!(
            r#"{{"type":"hello","versions":[1],"ticket":"{}"}}"#,
            long(MAX_TICKET)
        ),
        format!(
            r#"{{"type":"hello","versions":[{}]}}"#,
            vec!["1"; MAX_VERSIONS + 1].join(",")
        ),
    ];
    for json in cases {
        let err = refused(&json);
        assert!(
            matches!(err, DecodeError::Malformed(_)),
            "{}: {err}",
            &json[..40]
        );
    }
    // At the cap exactly, accepted.
    let at_cap = format!(r#"{{"type":"chat","text":"{}"}}"#, "x".repeat(MAX_CHAT));
    assert!(ClientMessage::decode(&at_cap).is_ok());
    // Caps count bytes, so multi-byte text reaches them sooner.
    let wide = format!(
        r#"{{"type":"chat","text":"{}"}}"#,
        "é".repeat(MAX_CHAT / 2 + 1)
    );
    assert!(ClientMessage::decode(&wide).is_err());
}

#[test]
fn oversized_and_non_utf8_messages_are_refused_with_their_close_codes() {
    let huge = format!(
        r#"{{"type":"chat","text":"{}"}}"#,
        "x".repeat(MAX_CONTROL_MESSAGE)
    );
    let err = refused(&huge);
    assert!(matches!(err, DecodeError::TooLarge { .. }));
    assert_eq!(err.close_code(), CloseCode::MessageTooBig);
    let err =
        ClientMessage::decode_bytes(b"{\"type\":\"chat\",\"text\":\"\xff\xfe\"}").unwrap_err();
    assert!(matches!(err, DecodeError::NotUtf8));
    assert_eq!(err.close_code().code(), 1007);
}

#[test]
fn optional_fields_may_be_left_out() {
    assert_eq!(
        ClientMessage::decode(r#"{"type":"hello","versions":[1]}"#).unwrap(),
        ClientMessage::Hello {
            versions: List::new(vec![1]).unwrap(),
            ticket: None,
            resume_from: None
        }
    );
    assert_eq!(
        ClientMessage::decode(r#"{"type":"submit_prompt","text":"x"}"#).unwrap(),
        ClientMessage::SubmitPrompt {
            text: t("x"),
            acknowledge_warnings: false
        }
    );
    assert_eq!(
        ClientMessage::decode(r#"{"type":"report"}"#).unwrap(),
        ClientMessage::Report { reason: t("") }
    );
}

#[test]
fn the_highest_common_version_is_agreed() {
    assert_eq!(agree_version(&[1]), Some(1));
    assert_eq!(agree_version(&[0, 1, 7]), Some(1));
    assert_eq!(agree_version(&[2, 3]), None);
    assert_eq!(agree_version(&[]), None);
}

#[test]
fn core_events_map_to_wire_messages_with_milliseconds() {
    let cases = [
        (
            Event::Warning {
                remaining: Duration::from_secs(300),
            },
            r#"{"type":"warning","remaining_ms":300000}"#,
        ),
        (
            Event::Resized { cols: 80, rows: 24 },
            r#"{"type":"resize","cols":80,"rows":24}"#,
        ),
        (
            Event::Ended {
                reason: EndReason::Reported { by: B },
            },
            r#"{"type":"ended","reason":{"kind":"reported","by":2}}"#,
        ),
        (
            Event::Chat {
                from: A,
                text: "x".repeat(MAX_CHAT + 10),
            },
            "",
        ),
    ];
    for (event, expected) in cases {
        let json = ServerMessage::from(&event).encode().unwrap();
        if expected.is_empty() {
            // Over-long text is cut to the wire cap, never sent undecodable.
            assert!(ServerMessage::decode(&json).is_ok());
        } else {
            assert_eq!(json, expected);
        }
    }
}

#[test]
fn every_core_error_has_its_own_code() {
    let session_errors = [
        SessionError::NotMember,
        SessionError::WrongPhase {
            actual: roulette_core::Phase::Ended,
        },
        SessionError::WrongRoomKind,
        SessionError::NotDriver,
        SessionError::NotNavigator,
        SessionError::NotHost,
        SessionError::AlreadyDriver,
        SessionError::RequestPending,
        SessionError::NoRequest,
        SessionError::ExtensionUsed,
        SessionError::RematchClosed,
        SessionError::NoCheckIn,
        SessionError::UnknownIdea,
        SessionError::TooManyIdeas { max: 1 },
        SessionError::UnknownPrompt,
        SessionError::PromptQueueFull { max: 1 },
        SessionError::WarningsNotAcknowledged,
        SessionError::UnknownLine,
        SessionError::InputHeld,
        SessionError::EmptyText,
        SessionError::TextTooLong { max: 1 },
        SessionError::RateLimited {
            retry_after: Duration::from_secs(1),
        },
        SessionError::InvalidSize { cols: 0, rows: 0 },
    ];
    let mut seen = std::collections::HashSet::new();
    for e in &session_errors {
        let code = ErrorCode::from(e);
        assert_ne!(code, ErrorCode::Refused, "{e:?}");
        assert!(seen.insert(code), "{e:?} shares a code");
    }
    for e in [
        MatchError::AlreadyWaiting,
        MatchError::NotWaiting,
        MatchError::QueueFull,
        MatchError::InviteInvalid,
        MatchError::NoHost,
    ] {
        let code = ErrorCode::from(&e);
        assert_ne!(code, ErrorCode::Refused, "{e:?}");
        assert!(seen.insert(code), "{e:?} shares a code");
    }
    let json = ServerMessage::match_error(&MatchError::InviteInvalid)
        .encode()
        .unwrap();
    assert_eq!(
        json,
        r#"{"type":"error","code":"invite_invalid","message":"this invite is not valid"}"#
    );
    let _ = Vote::Up;
}

#[test]
fn close_codes_are_distinct_and_say_whether_to_reconnect() {
    let mut seen = std::collections::HashSet::new();
    for code in CloseCode::ALL {
        assert!(seen.insert(code.code()));
        assert_eq!(CloseCode::from_code(code.code()), Some(*code));
    }
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md"))
        .unwrap();
    for code in CloseCode::ALL {
        // The table's last column starts with "yes" exactly when a client should reconnect.
        let row = doc
            .lines()
            .find(|l| l.starts_with(&format!("| {} |", code.code())))
            .unwrap();
        let last = row.trim_end_matches('|').rsplit('|').next().unwrap().trim();
        assert_eq!(last.starts_with("yes"), code.should_reconnect(), "{row}");
    }
    assert!(CloseCode::GoingAway.should_reconnect());
    assert!(!CloseCode::Unauthorized.should_reconnect());
    assert!(!CloseCode::Replaced.should_reconnect());
    assert_eq!(CloseCode::from_code(1234), None);
}
