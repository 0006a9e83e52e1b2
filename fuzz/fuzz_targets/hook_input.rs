//! Any bytes as a Claude Code hook's standard input: no panic, and whatever is accepted has a
//! session id safe to use as a file name and an absolute transcript path.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roulette_cli::hook::{parse_input, valid_session_id};

fuzz_target!(|data: &[u8]| {
    if let Ok((session, transcript)) = parse_input(data) {
        assert!(valid_session_id(&session));
        assert!(!session.contains('/') && !session.contains('.'));
        assert!(transcript.is_absolute());
    }
});
