//! The baseline: a one-hop terminal-over-WebSocket server built here, in the manner of the
//! classic single-process servers: each viewer that connects gets its own PTY running the
//! command, whose output goes to it as binary messages as it is read, and whose input comes
//! from it. No host agent, no second hop, no offsets, no flow control.

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use roulette_pty::{Agent, AgentConfig, PtyEvent, WorkDir};
use std::net::SocketAddr;
use tokio_tungstenite::tungstenite::Message;

/// A running one-hop server for one command.
pub struct OneHop {
    /// Its address.
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    connections: tokio_util::task::TaskTracker,
}

impl Drop for OneHop {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl OneHop {
    /// Serves `command` to every connection.
    pub async fn start(command: Vec<String>) -> anyhow::Result<OneHop> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let connections = tokio_util::task::TaskTracker::new();
        let tracker = connections.clone();
        let task = tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = tcp.set_nodelay(true);
                let command = command.clone();
                tracker.spawn(async move {
                    let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
                        return;
                    };
                    let (mut sink, mut stream) = ws.split();
                    let config = AgentConfig {
                        command: command.iter().map(Into::into).collect(),
                        workdir: WorkDir::Temp,
                        ..AgentConfig::default()
                    };
                    let mut agent = match Agent::spawn(config) {
                        Ok(agent) => agent,
                        Err(e) => {
                            let reason = format!("spawn failed: {e}");
                            let frame = tokio_tungstenite::tungstenite::protocol::CloseFrame {
                                code: tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Error,
                                reason: reason.chars().take(100).collect::<String>().into(),
                            };
                            let _ = sink.send(Message::Close(Some(frame))).await;
                            return;
                        }
                    };
                    let input = agent.input();
                    loop {
                        tokio::select! {
                            event = agent.next_event() => match event {
                                Some(PtyEvent::Output(bytes)) => {
                                    if sink.send(Message::Binary(bytes)).await.is_err() { return; }
                                }
                                _ => { let _ = sink.close().await; return; }
                            },
                            msg = stream.next() => match msg {
                                Some(Ok(Message::Binary(b))) => { let _ = input.write(b).await; }
                                Some(Ok(Message::Text(t))) => { let _ = input.write(Bytes::from(t.as_str().to_owned())).await; }
                                Some(Ok(_)) => {}
                                _ => return,
                            },
                        }
                    }
                });
            }
        });
        Ok(OneHop {
            addr,
            task,
            connections,
        })
    }

    /// Stops accepting and waits until every connection's task has ended and its PTY is gone,
    /// so that the next measurement does not share the cores with this one's teardown.
    pub async fn finish(self) {
        self.task.abort();
        self.connections.close();
        self.connections.wait().await;
    }

    /// Connects a viewer.
    pub async fn connect(
        &self,
    ) -> anyhow::Result<
        tokio_tungstenite::WebSocketStream<
            tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
        >,
    > {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/", self.addr)).await?;
        if let tokio_tungstenite::MaybeTlsStream::Plain(tcp) = ws.get_ref() {
            let _ = tcp.set_nodelay(true);
        }
        Ok(ws)
    }
}
