//! A running agent: a command in a PTY (or the echo backend), its output as a stream of events,
//! and a handle for input and resizes.

use bytes::{Bytes, BytesMut};
use portable_pty::{CommandBuilder, PtySize, native_pty_system};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

use crate::env::child_env;
use crate::error::PtyError;
use crate::workdir::{WorkDir, check_workdir, make_temp};

/// Largest output chunk handed out: reads are coalesced up to this size.
pub const MAX_CHUNK: usize = 64 * 1024;
/// Output chunks buffered between the reader thread and the consumer. When full, the reader
/// stops reading and the agent blocks on its writes, as in any terminal. Kept small: whatever
/// sits here after a Ctrl-C still has to reach the screen before the prompt does.
const OUTPUT_QUEUE: usize = 16;
/// Input and resize commands buffered for the writer thread.
const INPUT_QUEUE: usize = 256;

/// A terminal size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TermSize {
    /// Columns.
    pub cols: u16,
    /// Rows.
    pub rows: u16,
}

impl Default for TermSize {
    fn default() -> Self {
        Self { cols: 80, rows: 24 }
    }
}

impl From<TermSize> for PtySize {
    fn from(s: TermSize) -> Self {
        PtySize {
            rows: s.rows,
            cols: s.cols,
            pixel_width: 0,
            pixel_height: 0,
        }
    }
}

/// How the agent ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    /// The exit code, when it exited by itself.
    pub code: Option<i32>,
    /// The signal that ended it, when one did.
    pub signal: Option<String>,
}

/// What the agent did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PtyEvent {
    /// Bytes it wrote to its terminal.
    Output(Bytes),
    /// It exited. Always the last event: every byte of output comes before it.
    Exited(ExitStatus),
}

/// How to start the agent.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// Program and arguments. Default: `claude`.
    pub command: Vec<OsString>,
    /// Initial terminal size.
    pub size: TermSize,
    /// Where it runs.
    pub workdir: WorkDir,
    /// Names of host variables to pass through besides the allow-list.
    pub pass_env: Vec<String>,
    /// Variables to set.
    pub set_env: Vec<(String, String)>,
    /// The host's home directory, for refusing unsafe working directories. Default: `$HOME`.
    pub home: Option<PathBuf>,
}

impl Default for AgentConfig {
    fn default() -> Self {
        Self {
            command: vec!["claude".into()],
            size: TermSize::default(),
            workdir: WorkDir::Temp,
            pass_env: Vec::new(),
            set_env: Vec::new(),
            home: std::env::var_os("HOME").map(PathBuf::from),
        }
    }
}

enum Command {
    Write(Bytes),
    Resize(TermSize),
    /// Echo backend only: end.
    Stop,
}

/// Sends input and resizes to the agent. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AgentInput {
    commands: mpsc::Sender<Command>,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Write(b) => write!(f, "Write({} bytes)", b.len()),
            Command::Resize(s) => write!(f, "Resize({s:?})"),
            Command::Stop => f.write_str("Stop"),
        }
    }
}

impl AgentInput {
    /// Writes bytes to the agent's terminal, in order.
    pub async fn write(&self, bytes: Bytes) -> Result<(), PtyError> {
        self.commands
            .send(Command::Write(bytes))
            .await
            .map_err(|_| PtyError::Closed)
    }

    /// Resizes the agent's terminal.
    pub async fn resize(&self, size: TermSize) -> Result<(), PtyError> {
        self.commands
            .send(Command::Resize(size))
            .await
            .map_err(|_| PtyError::Closed)
    }
}

/// A running agent. Dropping it ends the agent and every process it started, and removes its
/// temporary directory.
#[derive(Debug)]
pub struct Agent {
    events: mpsc::Receiver<PtyEvent>,
    stash: Option<PtyEvent>,
    input: AgentInput,
    pid: Option<u32>,
    workdir: PathBuf,
    exited: bool,
}

impl Agent {
    /// Starts `config.command` in a new PTY.
    pub fn spawn(config: AgentConfig) -> Result<Agent, PtyError> {
        let program = config
            .command
            .first()
            .ok_or(PtyError::EmptyCommand)?
            .clone();
        let (temp, workdir) = match &config.workdir {
            WorkDir::Temp => {
                let temp = make_temp()?;
                let path = temp.path().to_path_buf();
                (Some(temp), path)
            }
            WorkDir::Path(dir) => (None, check_workdir(dir, config.home.as_deref())?),
        };

        let pair = native_pty_system()
            .openpty(config.size.into())
            .map_err(|e| PtyError::OpenPty(e.to_string()))?;
        let mut cmd = CommandBuilder::from_argv(config.command.clone());
        cmd.env_clear();
        for (k, v) in child_env(std::env::vars(), &config.pass_env, &config.set_env) {
            cmd.env(k, v);
        }
        cmd.cwd(&workdir);
        let mut child = pair.slave.spawn_command(cmd).map_err(|e| PtyError::Spawn {
            command: program.to_string_lossy().into_owned(),
            reason: e.to_string(),
        })?;
        // Only the child may hold the slave: then reading the master ends when the child and
        // everything it started have closed the terminal.
        drop(pair.slave);
        let pid = child.process_id();

        let reader = pair
            .master
            .try_clone_reader()
            .map_err(|e| PtyError::OpenPty(e.to_string()))?;
        let writer = pair
            .master
            .take_writer()
            .map_err(|e| PtyError::OpenPty(e.to_string()))?;
        let master = pair.master;

        let (event_tx, events) = mpsc::channel(OUTPUT_QUEUE);
        let (command_tx, commands) = mpsc::channel(INPUT_QUEUE);
        let (status_tx, status_rx) = std::sync::mpsc::channel::<ExitStatus>();

        // The waiter: when the child exits, end its whole process group, remove the temporary
        // directory, then hand the status to the reader, which reports it after the last byte.
        std::thread::Builder::new()
            .name("roulette-pty-wait".into())
            .spawn(move || {
                let status = match child.wait() {
                    Ok(s) => ExitStatus {
                        code: if s.signal().is_some() {
                            None
                        } else {
                            i32::try_from(s.exit_code()).ok()
                        },
                        signal: s.signal().map(str::to_owned),
                    },
                    Err(_) => ExitStatus {
                        code: None,
                        signal: None,
                    },
                };
                if let Some(pid) = pid {
                    kill_group(pid);
                }
                drop(temp);
                let _ = status_tx.send(status);
            })
            .map_err(|e| PtyError::Spawn {
                command: program.to_string_lossy().into_owned(),
                reason: e.to_string(),
            })?;

        std::thread::Builder::new()
            .name("roulette-pty-read".into())
            .spawn(move || read_until_eof(reader, event_tx, status_rx))
            .map_err(|e| PtyError::Spawn {
                command: program.to_string_lossy().into_owned(),
                reason: e.to_string(),
            })?;

        std::thread::Builder::new()
            .name("roulette-pty-write".into())
            .spawn(move || {
                let mut writer = writer;
                let mut commands = commands;
                while let Some(command) = commands.blocking_recv() {
                    let ok = match command {
                        Command::Write(bytes) => writer
                            .write_all(&bytes)
                            .and_then(|()| writer.flush())
                            .is_ok(),
                        Command::Resize(size) => master.resize(size.into()).is_ok(),
                        Command::Stop => false,
                    };
                    if !ok {
                        break;
                    }
                }
                // The master goes last, after the writer.
                drop(writer);
                drop(master);
            })
            .map_err(|e| PtyError::Spawn {
                command: program.to_string_lossy().into_owned(),
                reason: e.to_string(),
            })?;

        Ok(Agent {
            events,
            stash: None,
            input: AgentInput {
                commands: command_tx,
            },
            pid,
            workdir,
            exited: false,
        })
    }

    /// A stand-in for tests: echoes every byte written to it as output, records nothing else, and
    /// exits when killed or dropped.
    pub fn echo() -> Agent {
        let (event_tx, events) = mpsc::channel(OUTPUT_QUEUE);
        let (command_tx, mut commands) = mpsc::channel(INPUT_QUEUE);
        std::thread::spawn(move || {
            while let Some(command) = commands.blocking_recv() {
                match command {
                    Command::Write(bytes) => {
                        if event_tx.blocking_send(PtyEvent::Output(bytes)).is_err() {
                            return;
                        }
                    }
                    Command::Resize(_) => {}
                    Command::Stop => break,
                }
            }
            let _ = event_tx.blocking_send(PtyEvent::Exited(ExitStatus {
                code: Some(0),
                signal: None,
            }));
        });
        Agent {
            events,
            stash: None,
            input: AgentInput {
                commands: command_tx,
            },
            pid: None,
            workdir: PathBuf::new(),
            exited: false,
        }
    }

    /// The next event: output coalesced up to [`MAX_CHUNK`] bytes, then, last, the exit.
    /// `None` after the exit has been returned.
    pub async fn next_event(&mut self) -> Option<PtyEvent> {
        let first = match self.stash.take() {
            Some(e) => e,
            None => self.events.recv().await?,
        };
        let PtyEvent::Output(first) = first else {
            self.exited = true;
            return Some(first);
        };
        if first.len() >= MAX_CHUNK {
            return Some(PtyEvent::Output(first));
        }
        let mut joined: Option<BytesMut> = None;
        while let Ok(next) = self.events.try_recv() {
            match next {
                PtyEvent::Output(more) => {
                    let len = joined.as_ref().map_or(first.len(), BytesMut::len);
                    if len + more.len() > MAX_CHUNK {
                        self.stash = Some(PtyEvent::Output(more));
                        break;
                    }
                    joined
                        .get_or_insert_with(|| BytesMut::from(&first[..]))
                        .extend_from_slice(&more);
                }
                exit => {
                    self.stash = Some(exit);
                    break;
                }
            }
        }
        Some(PtyEvent::Output(joined.map_or(first, BytesMut::freeze)))
    }

    /// A handle for input and resizes.
    pub fn input(&self) -> AgentInput {
        self.input.clone()
    }

    /// The process id of the agent (the leader of its process group), if it has one.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Where the agent runs.
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// Ends the agent and every process in its group. Output that was already written still
    /// arrives, then the exit.
    pub fn kill(&self) {
        match self.pid {
            Some(pid) => kill_group(pid),
            None => {
                let _ = self.input.commands.try_send(Command::Stop);
            }
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        if !self.exited {
            self.kill();
        }
    }
}

/// Reads the PTY to its end, then reports the exit status.
fn read_until_eof(
    mut reader: Box<dyn Read + Send>,
    events: mpsc::Sender<PtyEvent>,
    status: std::sync::mpsc::Receiver<ExitStatus>,
) {
    let mut buf = vec![0u8; MAX_CHUNK];
    loop {
        match reader.read(&mut buf) {
            // A signal handler without SA_RESTART interrupted the read: nothing was lost.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // EOF, or EIO once every holder of the slave side has closed it.
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if events
                    .blocking_send(PtyEvent::Output(Bytes::copy_from_slice(&buf[..n])))
                    .is_err()
                {
                    // Nobody listens any more; keep reading so the agent is not blocked until
                    // it is killed.
                    continue;
                }
            }
        }
    }
    let status = status.recv().unwrap_or(ExitStatus {
        code: None,
        signal: None,
    });
    let _ = events.blocking_send(PtyEvent::Exited(status));
}

/// Hangs up on the process group, then kills what is left of it.
fn kill_group(pid: u32) {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    let Ok(pid) = i32::try_from(pid) else {
        return;
    };
    let group = Pid::from_raw(pid);
    // The child is a session and group leader (portable-pty calls setsid), so its group is
    // everything it started that did not leave on purpose.
    if killpg(group, Signal::SIGHUP).is_ok() {
        std::thread::sleep(std::time::Duration::from_millis(50));
        let _ = killpg(group, Signal::SIGKILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent_over(events: mpsc::Receiver<PtyEvent>) -> Agent {
        let (commands, _) = mpsc::channel(1);
        Agent {
            events,
            stash: None,
            input: AgentInput { commands },
            pid: None,
            workdir: PathBuf::new(),
            exited: true,
        }
    }

    #[tokio::test]
    async fn queued_reads_are_coalesced_up_to_the_chunk_limit_and_the_exit_stays_last() {
        let (tx, rx) = mpsc::channel(200);
        for i in 0..100u8 {
            tx.send(PtyEvent::Output(Bytes::from(vec![i; 1000])))
                .await
                .unwrap();
        }
        let status = ExitStatus {
            code: Some(0),
            signal: None,
        };
        tx.send(PtyEvent::Exited(status.clone())).await.unwrap();
        drop(tx);
        let mut agent = agent_over(rx);
        let mut sizes = Vec::new();
        let mut all = Vec::new();
        loop {
            match agent.next_event().await {
                Some(PtyEvent::Output(b)) => {
                    sizes.push(b.len());
                    all.extend_from_slice(&b);
                }
                Some(PtyEvent::Exited(s)) => {
                    assert_eq!(s, status);
                    break;
                }
                None => panic!("ended without an exit"),
            }
        }
        assert_eq!(sizes, vec![65_000, 35_000]);
        let expected: Vec<u8> = (0..100u8).flat_map(|i| vec![i; 1000]).collect();
        assert_eq!(all, expected);
        assert_eq!(agent.next_event().await, None);
    }

    #[tokio::test]
    async fn a_chunk_at_the_limit_is_handed_out_alone() {
        let (tx, rx) = mpsc::channel(4);
        tx.send(PtyEvent::Output(Bytes::from(vec![1; MAX_CHUNK])))
            .await
            .unwrap();
        tx.send(PtyEvent::Output(Bytes::from(vec![2; 10])))
            .await
            .unwrap();
        drop(tx);
        let mut agent = agent_over(rx);
        assert!(
            matches!(agent.next_event().await, Some(PtyEvent::Output(b)) if b.len() == MAX_CHUNK)
        );
        assert!(matches!(agent.next_event().await, Some(PtyEvent::Output(b)) if b.len() == 10));
    }
}
