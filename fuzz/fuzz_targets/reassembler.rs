//! Any sequence of packets and text messages into the reassembler and the WebSocket reader.
//! Input layout: repeated [len: u8][is_text: bit 7 of len][len & 0x7f bytes].
#![no_main]
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use roulette_transport::{Reassembler, WsMessage, WsReader};

fuzz_target!(|data: &[u8]| {
    let mut reassembler = Reassembler::new(64, 512);
    let mut reader = WsReader::new(64, 512);
    let mut rest = data;
    while let Some((&head, tail)) = rest.split_first() {
        let len = usize::from(head & 0x7f).min(tail.len());
        let (packet, next) = tail.split_at(len);
        rest = next;
        let bytes = Bytes::copy_from_slice(packet);
        if let Ok(Some(frame)) = reassembler.push(bytes.clone()) {
            // What comes out re-packs within the limits it came in under.
            for p in frame.to_packets(64) {
                assert!(p.len() <= 64);
            }
        }
        let message = if head & 0x80 != 0 {
            WsMessage::Text(String::from_utf8_lossy(packet).into_owned())
        } else {
            WsMessage::Binary(bytes)
        };
        let _ = reader.push(message);
    }
});
