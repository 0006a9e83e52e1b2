//! Any bytes as a client's text frame: never a panic, and whatever decodes re-encodes to
//! something that decodes to the same message.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roulette_transport::ClientMessage;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = ClientMessage::decode_bytes(data) {
        let json = message.encode().expect("a decoded message encodes");
        assert_eq!(ClientMessage::decode(&json).expect("re-decodes"), message);
    }
});
