//! Any bytes as a server's text frame, as a client decodes it.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roulette_transport::ServerMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = ServerMessage::decode_bytes(data) {
        let json = message.encode().expect("a decoded message encodes");
        assert_eq!(ServerMessage::decode(&json).expect("re-decodes"), message);
    }
});
