//! A raw WebSocket client over a TCP socket, written here so that a test controls every byte:
//! which headers the upgrade carries, what frames go out, and whether pings are answered (no
//! library answers them behind the test's back).

use roulette_transport::{ClientMessage, ServerMessage};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// What arrived.
#[derive(Debug)]
pub enum Event {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(u16),
    /// The socket ended without a close frame.
    Eof,
}

pub struct RawWs {
    tcp: TcpStream,
    buf: Vec<u8>,
}

/// Upgrades `path`, with extra request headers. `Err` carries the HTTP status and body.
pub async fn connect(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<RawWs, (u16, String)> {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let mut req = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 1024];
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut chunk))
            .await
            .expect("an answer to the upgrade")
            .unwrap();
        assert!(n > 0, "the server closed during the upgrade");
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let status: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    if status != 101 {
        // Read what body there is (short texts, and the server closes or keeps alive).
        let mut rest = buf[end..].to_vec();
        let mut chunk = [0u8; 1024];
        if let Ok(Ok(n)) =
            tokio::time::timeout(Duration::from_millis(500), tcp.read(&mut chunk)).await
        {
            rest.extend_from_slice(&chunk[..n]);
        }
        return Err((status, String::from_utf8_lossy(&rest).to_string()));
    }
    Ok(RawWs {
        tcp,
        buf: buf[end..].to_vec(),
    })
}

impl RawWs {
    /// Sends one masked frame.
    pub async fn frame(&mut self, opcode: u8, payload: &[u8]) {
        let mut out = vec![0x80 | opcode];
        let len = payload.len();
        if len < 126 {
            out.push(0x80 | len as u8);
        } else if len <= u16::MAX as usize {
            out.push(0x80 | 126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        let mask = [0x12, 0x34, 0x56, 0x78];
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        // The server may have closed already; the test reads what it said.
        let _ = self.tcp.write_all(&out).await;
    }

    pub async fn text(&mut self, text: &str) {
        self.frame(0x1, text.as_bytes()).await;
    }

    pub async fn send(&mut self, message: &ClientMessage) {
        self.text(&message.encode().unwrap()).await;
    }

    async fn fill(&mut self, want: usize) -> bool {
        while self.buf.len() < want {
            let mut chunk = [0u8; 4096];
            match self.tcp.read(&mut chunk).await {
                Ok(0) | Err(_) => return false,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
        true
    }

    /// The next frame, waiting up to `within`; pings are returned, never answered.
    pub async fn next_within(&mut self, within: Duration) -> Event {
        tokio::time::timeout(within, self.next_inner())
            .await
            .expect("a frame in time")
    }

    pub async fn next(&mut self) -> Event {
        self.next_within(Duration::from_secs(10)).await
    }

    async fn next_inner(&mut self) -> Event {
        if !self.fill(2).await {
            return Event::Eof;
        }
        let opcode = self.buf[0] & 0x0f;
        let (mut len, mut head) = ((self.buf[1] & 0x7f) as usize, 2);
        if len == 126 {
            if !self.fill(4).await {
                return Event::Eof;
            }
            len = u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize;
            head = 4;
        } else if len == 127 {
            if !self.fill(10).await {
                return Event::Eof;
            }
            len = u64::from_be_bytes(self.buf[2..10].try_into().unwrap()) as usize;
            head = 10;
        }
        if !self.fill(head + len).await {
            return Event::Eof;
        }
        let payload = self.buf[head..head + len].to_vec();
        self.buf.drain(..head + len);
        match opcode {
            0x1 => Event::Text(String::from_utf8(payload).unwrap()),
            0x2 => Event::Binary(payload),
            0x8 => Event::Close(if payload.len() >= 2 {
                u16::from_be_bytes([payload[0], payload[1]])
            } else {
                1005
            }),
            0x9 => Event::Ping(payload),
            0xA => Event::Pong(payload),
            other => panic!("unexpected opcode {other}"),
        }
    }

    /// The next control message, skipping (and answering) pings.
    pub async fn message(&mut self) -> ServerMessage {
        loop {
            match self.next().await {
                Event::Text(t) => return ServerMessage::decode(&t).unwrap(),
                Event::Ping(p) => self.frame(0xA, &p).await,
                Event::Pong(_) => {}
                other => panic!("expected a message, got {other:?}"),
            }
        }
    }

    /// Reads messages until one matches; panics if the socket closes first.
    pub async fn until(&mut self, pred: impl Fn(&ServerMessage) -> bool) -> ServerMessage {
        loop {
            let m = self.message().await;
            if pred(&m) {
                return m;
            }
        }
    }

    /// Reads until the server closes; returns the close code (1006 for none).
    pub async fn closed(&mut self) -> u16 {
        loop {
            match self.next().await {
                Event::Close(code) => return code,
                Event::Eof => return 1006,
                _ => {}
            }
        }
    }
}
