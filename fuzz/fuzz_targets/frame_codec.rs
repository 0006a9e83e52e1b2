//! Any byte stream into the length-prefixed codec; decoded frames survive a round trip.
#![no_main]
use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use roulette_transport::FrameCodec;
use tokio_util::codec::{Decoder, Encoder};

fuzz_target!(|data: &[u8]| {
    let mut codec = FrameCodec::new(128, 4096);
    let mut buf = BytesMut::from(data);
    let mut frames = Vec::new();
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(frame)) => frames.push(frame),
            Ok(None) => {
                let _ = codec.decode_eof(&mut buf);
                break;
            }
            Err(_) => break,
        }
    }
    for frame in frames {
        let mut wire = BytesMut::new();
        let mut encoder = FrameCodec::new(128, 4096);
        encoder.encode(&frame, &mut wire).expect("encodes");
        let mut decoder = FrameCodec::new(128, 4096);
        let mut joined = Vec::new();
        while let Some(f) = decoder.decode(&mut wire).expect("re-decodes") {
            joined.push(f);
        }
        assert!(!joined.is_empty());
        assert!(wire.is_empty());
    }
});
