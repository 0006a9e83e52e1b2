//! Binary frames: packet layout, fragmentation and reassembly, the byte-stream codec (also over
//! a real async stream), the WebSocket adapter, and every way a packet can be bad.

use bytes::{Bytes, BytesMut};
use futures::{SinkExt, StreamExt};
use proptest::prelude::*;
use roulette_transport::limits::{MAX_PACKET, PACKET_HEADER};
use roulette_transport::{
    CloseCode, CodecError, Frame, FrameCodec, FrameError, Reassembler, WsMessage, WsReader,
    frame_to_ws,
};
use tokio_util::codec::{Decoder, Encoder, FramedRead, FramedWrite};

fn output(offset: u64, data: &[u8]) -> Frame {
    Frame::Output {
        offset,
        data: Bytes::copy_from_slice(data),
    }
}

#[test]
fn a_packet_is_kind_flags_offset_payload() {
    let packets = output(0x0102_0304_0506_0708, b"hi").packets();
    assert_eq!(packets.len(), 1);
    assert_eq!(
        &packets[0][..],
        b"\x01\x00\x01\x02\x03\x04\x05\x06\x07\x08hi"
    );
    let control = Frame::Control("{}".into()).packets();
    assert_eq!(&control[0][..], b"\x04\x00\0\0\0\0\0\0\0\0{}");
}

#[test]
fn large_output_becomes_independent_frames_with_following_offsets() {
    let data: Vec<u8> = (0..200_000u32).map(|i| i as u8).collect();
    let packets = output(1000, &data).packets();
    assert_eq!(
        packets.len(),
        data.len().div_ceil(MAX_PACKET - PACKET_HEADER)
    );
    let mut next = 1000u64;
    let mut joined = Vec::new();
    for packet in packets {
        assert!(packet.len() <= MAX_PACKET);
        assert_eq!(packet[1], 0, "stream frames are never flagged MORE");
        // Each packet is a whole frame by itself: no reassembly needed.
        let mut r = Reassembler::default();
        let Some(Frame::Output { offset, data }) = r.push(packet).unwrap() else {
            panic!("not an output frame")
        };
        assert_eq!(offset, next);
        next += data.len() as u64;
        joined.extend_from_slice(&data);
    }
    assert_eq!(joined, data);
}

#[test]
fn a_large_snapshot_is_fragmented_and_reassembled() {
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let frame = Frame::Snapshot {
        offset: 77,
        data: data.clone().into(),
    };
    let packets = frame.packets();
    assert!(packets.len() > 1);
    let mut r = Reassembler::default();
    let last = packets.len() - 1;
    for (i, p) in packets.into_iter().enumerate() {
        let got = r.push(p).unwrap();
        if i < last {
            assert!(got.is_none());
            assert!(r.is_mid_frame());
        } else {
            assert_eq!(got, Some(frame.clone()));
        }
    }
}

#[test]
fn bad_packets_are_refused_with_their_close_codes() {
    let cases: Vec<(Vec<u8>, FrameError)> = vec![
        (vec![], FrameError::Truncated(0)),
        (vec![1, 0, 0, 0], FrameError::Truncated(4)),
        (
            vec![9, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            FrameError::UnknownKind(9),
        ),
        (
            vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            FrameError::UnknownKind(0),
        ),
        (vec![1, 2, 0, 0, 0, 0, 0, 0, 0, 0], FrameError::BadFlags(2)),
        (
            [&[4u8, 0, 0, 0, 0, 0, 0, 0, 0, 0][..], &[0xff, 0xfe]].concat(),
            FrameError::NotUtf8,
        ),
        (
            [
                &[1u8, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff][..],
                b"x",
            ]
            .concat(),
            FrameError::OffsetOverflow,
        ),
    ];
    for (packet, expected) in cases {
        let mut r = Reassembler::default();
        assert_eq!(
            r.push(Bytes::from(packet.clone())),
            Err(expected),
            "{packet:?}"
        );
    }
    let mut r = Reassembler::default();
    let big = vec![1u8; MAX_PACKET + 1];
    let err = r.push(big.into()).unwrap_err();
    assert_eq!(err.close_code(), CloseCode::MessageTooBig);
    assert_eq!(FrameError::NotUtf8.close_code().code(), 1007);
    assert_eq!(FrameError::Interleaved.close_code().code(), 1002);
}

#[test]
fn fragments_must_continue_the_frame_they_belong_to() {
    let snapshot = Frame::Snapshot {
        offset: 5,
        data: vec![b's'; 100].into(),
    };
    let frags = snapshot.to_packets(40);
    let mut r = Reassembler::default();
    assert_eq!(r.push(frags[0].clone()), Ok(None));
    // An output packet in the middle of a snapshot.
    assert_eq!(
        r.push(output(0, b"x").packets()[0].clone()),
        Err(FrameError::Interleaved)
    );
    // After an error nothing half-built remains.
    assert!(!r.is_mid_frame());
    // A fragment with another offset.
    let other = Frame::Snapshot {
        offset: 6,
        data: vec![b's'; 100].into(),
    }
    .to_packets(40);
    assert_eq!(r.push(frags[0].clone()), Ok(None));
    assert_eq!(r.push(other[1].clone()), Err(FrameError::Interleaved));
}

#[test]
fn reassembled_frames_are_capped() {
    let frame = Frame::Snapshot {
        offset: 0,
        data: vec![0; 1000].into(),
    };
    let mut r = Reassembler::new(100, 500);
    let mut result = Ok(None);
    for p in frame.to_packets(100) {
        result = r.push(p);
        if result.is_err() {
            break;
        }
    }
    assert_eq!(result, Err(FrameError::TooLarge { len: 540, max: 500 }));
}

#[test]
fn the_codec_refuses_oversized_length_prefixes_before_buffering() {
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::from(&[0xff, 0xff, 0xff, 0xff][..]);
    assert!(matches!(
        codec.decode(&mut buf),
        Err(CodecError::Frame(FrameError::TooLarge { .. }))
    ));
}

#[test]
fn the_codec_reports_a_stream_cut_mid_frame() {
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::new();
    codec.encode(&output(0, b"hello"), &mut buf).unwrap();
    buf.truncate(buf.len() - 2);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert!(matches!(
        codec.decode_eof(&mut buf),
        Err(CodecError::UnexpectedEof)
    ));
    // A clean end is fine.
    let mut empty = BytesMut::new();
    assert_eq!(FrameCodec::default().decode_eof(&mut empty).unwrap(), None);
}

/// Output and input are streams: compare them as (kind, offset-ordered bytes); other frames whole.
fn normalise(frames: &[Frame]) -> Vec<Frame> {
    let mut out: Vec<Frame> = Vec::new();
    for f in frames {
        match (out.last_mut(), f) {
            (
                Some(Frame::Output { offset, data }),
                Frame::Output {
                    offset: o2,
                    data: d2,
                },
            ) if *offset + data.len() as u64 == *o2 => {
                let mut joined = data.to_vec();
                joined.extend_from_slice(d2);
                *data = joined.into();
                let _ = offset;
            }
            (
                Some(Frame::Input { offset, data }),
                Frame::Input {
                    offset: o2,
                    data: d2,
                },
            ) if *offset + data.len() as u64 == *o2 => {
                let mut joined = data.to_vec();
                joined.extend_from_slice(d2);
                *data = joined.into();
            }
            _ => out.push(f.clone()),
        }
    }
    out
}

fn frame_strategy() -> impl Strategy<Value = Frame> {
    let data = prop::collection::vec(any::<u8>(), 0..3000).prop_map(Bytes::from);
    prop_oneof![
        (0u64..1 << 40, data.clone()).prop_map(|(offset, data)| Frame::Output { offset, data }),
        (0u64..1 << 40, data.clone()).prop_map(|(offset, data)| Frame::Input { offset, data }),
        (0u64..1 << 40, data).prop_map(|(offset, data)| Frame::Snapshot { offset, data }),
        ".{0,500}".prop_map(Frame::Control),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Any frames, any packet size, any way the byte stream is cut: the same frames come out.
    #[test]
    fn codec_round_trips_across_arbitrary_splits(
        frames in prop::collection::vec(frame_strategy(), 1..8),
        max_packet in (PACKET_HEADER + 1)..2048usize,
        cuts in prop::collection::vec(1usize..700, 1..40),
    ) {
        let mut codec = FrameCodec::new(max_packet, 1 << 20);
        let mut wire = BytesMut::new();
        for f in &frames {
            codec.encode(f, &mut wire).unwrap();
        }
        let wire = wire.freeze();
        let mut decoder = FrameCodec::new(max_packet, 1 << 20);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut pos = 0;
        let mut cut = cuts.iter().cycle();
        while pos < wire.len() {
            let n = (*cut.next().unwrap()).min(wire.len() - pos);
            buf.extend_from_slice(&wire[pos..pos + n]);
            pos += n;
            while let Some(f) = decoder.decode(&mut buf).unwrap() {
                got.push(f);
            }
        }
        prop_assert_eq!(decoder.decode_eof(&mut buf).unwrap(), None);
        prop_assert_eq!(normalise(&got), normalise(&frames));
    }

    /// Packets never exceed their cap and reassemble to the frame.
    #[test]
    fn packets_respect_the_cap_and_reassemble(frame in frame_strategy(), max_packet in (PACKET_HEADER + 1)..4096usize) {
        let packets = frame.to_packets(max_packet);
        let mut r = Reassembler::new(max_packet, 1 << 20);
        let mut got = Vec::new();
        for p in packets {
            prop_assert!(p.len() <= max_packet);
            if let Some(f) = r.push(p).unwrap() {
                got.push(f);
            }
        }
        prop_assert_eq!(normalise(&got), normalise(&[frame]));
    }

    /// Arbitrary bytes never panic the reassembler or the codec.
    #[test]
    fn garbage_never_panics(packets in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..20)) {
        let mut r = Reassembler::default();
        let mut codec = FrameCodec::default();
        let mut buf = BytesMut::new();
        for p in packets {
            let _ = r.push(p.clone().into());
            buf.extend_from_slice(&p);
            let _ = codec.decode(&mut buf);
        }
    }
}

#[tokio::test]
async fn frames_cross_a_real_async_stream_in_order() {
    let (client, server) = tokio::io::duplex(4096);
    let mut writer = FramedWrite::new(client, FrameCodec::default());
    let mut reader = FramedRead::new(server, FrameCodec::default());
    let total: usize = 1_000_000;
    let send = tokio::spawn(async move {
        let mut offset = 0u64;
        let chunk: Vec<u8> = (0..70_000u32).map(|i| i as u8).collect();
        while (offset as usize) < total {
            let n = chunk.len().min(total - offset as usize);
            writer.send(output(offset, &chunk[..n])).await.unwrap();
            offset += n as u64;
        }
        writer
            .send(Frame::Control(r#"{"type":"exit","code":0}"#.into()))
            .await
            .unwrap();
    });
    let mut next = 0u64;
    loop {
        match reader.next().await.unwrap().unwrap() {
            Frame::Output { offset, data } => {
                assert_eq!(offset, next, "bytes lost or repeated");
                for (i, b) in data.iter().enumerate() {
                    assert_eq!(*b, ((offset as usize + i) % 70_000) as u8);
                }
                next += data.len() as u64;
            }
            Frame::Control(text) => {
                assert_eq!(text, r#"{"type":"exit","code":0}"#);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(next as usize, total);
    send.await.unwrap();
}

#[test]
fn websocket_messages_carry_control_as_text_and_the_rest_as_packets() {
    let control = Frame::Control(r#"{"type":"typing"}"#.into());
    assert_eq!(
        frame_to_ws(&control).unwrap(),
        vec![WsMessage::Text(r#"{"type":"typing"}"#.into())]
    );
    let big = output(10, &vec![b'x'; 150_000]);
    let messages = frame_to_ws(&big).unwrap();
    assert_eq!(messages.len(), 3);
    let mut reader = WsReader::default();
    let mut total = 0;
    for m in messages {
        let WsMessage::Binary(b) = &m else {
            panic!("text for output")
        };
        assert!(b.len() <= MAX_PACKET);
        let Some(Frame::Output { offset, data }) = reader.push(m).unwrap() else {
            panic!()
        };
        assert_eq!(offset, 10 + total as u64);
        total += data.len();
    }
    assert_eq!(total, 150_000);
    assert_eq!(
        reader.push(WsMessage::Text("{}".into())).unwrap(),
        Some(Frame::Control("{}".into()))
    );
    let huge = Frame::Control("x".repeat(70_000));
    assert!(matches!(
        frame_to_ws(&huge),
        Err(FrameError::ControlTooLarge { .. })
    ));
    assert!(matches!(
        reader.push(WsMessage::Text("x".repeat(70_000))),
        Err(FrameError::ControlTooLarge { .. })
    ));
}

#[test]
fn a_text_message_may_not_interrupt_a_fragmented_frame() {
    let snapshot = Frame::Snapshot {
        offset: 0,
        data: vec![1; 100_000].into(),
    };
    let mut reader = WsReader::default();
    let first = frame_to_ws(&snapshot).unwrap().remove(0);
    assert_eq!(reader.push(first).unwrap(), None);
    assert_eq!(
        reader.push(WsMessage::Text("{}".into())),
        Err(FrameError::Interleaved)
    );
}

#[cfg(feature = "tungstenite")]
#[test]
fn websocket_messages_convert_to_and_from_tungstenite() {
    use tungstenite::Message;
    let text = WsMessage::Text("{}".into());
    let m: Message = text.clone().into();
    assert!(matches!(&m, Message::Text(t) if t.as_str() == "{}"));
    assert_eq!(WsMessage::from_tungstenite(m), Some(text));
    let bin = WsMessage::Binary(Bytes::from_static(b"\x01\x00"));
    let m: Message = bin.clone().into();
    assert_eq!(WsMessage::from_tungstenite(m), Some(bin));
    assert_eq!(
        WsMessage::from_tungstenite(Message::Ping(Bytes::new())),
        None
    );
}
