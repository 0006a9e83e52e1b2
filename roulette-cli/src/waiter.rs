//! `roulette hook wait`: the background process the hook starts. It never shows anything until
//! someone is found. While a task has run longer than the threshold and its transcript keeps
//! growing (judged by the file's size and modification time alone: the file is never opened),
//! it looks for a partner on the chat roulette. When matched, it opens one chat window (a new
//! terminal window where one can be opened, otherwise a notification with the command to run)
//! and hands the conversation over to it. When the tasks end and nobody was found, it stops,
//! and nothing was ever shown. One waiter and one window per machine (lock files).

use anyhow::Context;
use roulette_core::RoomKind;
use roulette_transport::connect::{Connection, Endpoint, Incoming};
use roulette_transport::{ClientMessage, ServerMessage, Text};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::hook::{Task, create_private_dir, tasks_dir, try_lock_file};

/// How the waiter behaves.
#[derive(Clone, Debug)]
pub struct WaiterOptions {
    /// The server.
    pub server: String,
    /// How long a task runs before a partner is looked for.
    pub after: Duration,
    /// A task whose transcript has not changed for this long is not live.
    pub live_window: Duration,
    /// How often the task files are looked at.
    pub poll: Duration,
    /// The `roulette` binary the chat window runs.
    pub binary: PathBuf,
}

/// Holds the lock that says a chat window is open on this machine.
pub fn window_lock(state: &Path) -> Option<File> {
    create_private_dir(state).ok()?;
    try_lock_file(&state.join("window.lock"))
}

fn window_open(state: &Path) -> bool {
    // Taking the lock and letting it go at once tells whether a window holds it.
    window_lock(state).is_none()
}

/// The match key for a session: a hash of the session id with this machine's own salt, so that
/// the server never sees the id and two machines' keys cannot be compared.
pub fn match_key(state: &Path, session_id: &str) -> anyhow::Result<String> {
    let salt_file = state.join("salt");
    let salt = match std::fs::read_to_string(&salt_file) {
        Ok(s) if s.trim().len() == 64 => s.trim().to_string(),
        _ => {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            write_private(&salt_file, &hex)?;
            hex
        }
    };
    let mut h = Sha256::new();
    h.update(salt.as_bytes());
    h.update(b":");
    h.update(session_id.as_bytes());
    Ok(h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Writes a file only its owner can read (a temporary file is made 0600, then renamed).
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    let dir = path.parent().context("no folder")?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    std::io::Write::write_all(&mut tmp, text.as_bytes())?;
    tmp.persist(path)?;
    Ok(())
}

/// What the waiter knows of one task's transcript.
#[derive(Debug)]
struct Seen {
    size: u64,
    modified: Option<SystemTime>,
    last_change: SystemTime,
}

/// The tasks on record, and which of them have run long and are live now.
#[derive(Debug, Default)]
pub struct Tasks {
    seen: HashMap<String, Seen>,
}

impl Tasks {
    /// Looks at every task file and each transcript's metadata; returns the session ids of
    /// long, live tasks (oldest first) and how many task files there are.
    pub fn scan(
        &mut self,
        state: &Path,
        now: SystemTime,
        opts: &WaiterOptions,
    ) -> (Vec<String>, usize) {
        let mut tasks: Vec<Task> = std::fs::read_dir(tasks_dir(state))
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
            .filter_map(|e| std::fs::read(e.path()).ok())
            .filter_map(|b| serde_json::from_slice::<Task>(&b).ok())
            .filter(|t| crate::hook::valid_session_id(&t.session_id))
            .collect();
        tasks.sort_by_key(|t| t.started_unix);
        let mut long_live = Vec::new();
        for task in &tasks {
            // Metadata only: the transcript is never opened.
            let meta = std::fs::metadata(&task.transcript_path).ok();
            let size = meta.as_ref().map_or(0, std::fs::Metadata::len);
            let modified = meta.as_ref().and_then(|m| m.modified().ok());
            let seen = self.seen.entry(task.session_id.clone()).or_insert(Seen {
                size,
                modified,
                last_change: modified.unwrap_or(now),
            });
            if seen.size != size || seen.modified != modified {
                seen.size = size;
                seen.modified = modified;
                seen.last_change = now;
            }
            let started = SystemTime::UNIX_EPOCH + Duration::from_secs(task.started_unix);
            let ran = now.duration_since(started).unwrap_or_default();
            let quiet = now.duration_since(seen.last_change).unwrap_or_default();
            if ran >= opts.after && quiet <= opts.live_window && meta.is_some() {
                long_live.push(task.session_id.clone());
            }
            // A task that ended without its Stop hook (the agent was killed) is forgotten once
            // its transcript has been still for an hour.
            if quiet > Duration::from_secs(3600) {
                let _ = std::fs::remove_file(
                    tasks_dir(state).join(format!("{}.json", task.session_id)),
                );
            }
        }
        self.seen
            .retain(|id, _| tasks.iter().any(|t| &t.session_id == id));
        (long_live, tasks.len())
    }
}

/// Runs the waiter until no task is left and no search is under way.
pub async fn run_waiter(opts: WaiterOptions) -> anyhow::Result<()> {
    let state = crate::hook::state_dir()?;
    create_private_dir(&state)?;
    let Some(_lock) = try_lock_file(&state.join("waiter.lock")) else {
        // Another waiter runs.
        return Ok(());
    };
    let mut tasks = Tasks::default();
    let mut search: Option<Search> = None;
    let mut tick = tokio::time::interval(opts.poll);
    loop {
        tick.tick().await;
        let (live, count) = tasks.scan(&state, SystemTime::now(), &opts);
        let wanted = !live.is_empty() && !window_open(&state);
        match (&mut search, wanted) {
            (None, true) => {
                let key = match_key(&state, &live[0])?;
                search = Search::start(&opts.server, key).await.ok();
            }
            (Some(_), false) => {
                if let Some(s) = search.take() {
                    s.cancel().await;
                }
            }
            _ => {}
        }
        if let Some(s) = &mut search {
            match s.pump(opts.poll).await {
                Pumped::Waiting => {}
                Pumped::Lost => search = None,
                Pumped::Matched(token) => {
                    let s = search.take();
                    hand_over(&state, &opts, token, s).await?;
                }
            }
        }
        if count == 0 && search.is_none() {
            return Ok(());
        }
    }
}

enum Pumped {
    Waiting,
    Lost,
    Matched(String),
}

/// A background search: a chat socket that solved its challenge and waits in the queue.
struct Search {
    conn: Connection,
    key: String,
    token: Option<String>,
}

impl Search {
    async fn start(server: &str, key: String) -> anyhow::Result<Search> {
        let conn = Connection::connect(server, Endpoint::Chat, None, None).await?;
        let token = conn.identity().1;
        Ok(Search { conn, key, token })
    }

    /// Handles what arrived within `budget`.
    async fn pump(&mut self, budget: Duration) -> Pumped {
        let until = tokio::time::Instant::now() + budget;
        loop {
            let next = tokio::time::timeout_at(until, self.conn.next()).await;
            let message = match next {
                Err(_) => return Pumped::Waiting,
                Ok(Ok(Some(Incoming::Message(m)))) => m,
                Ok(Ok(Some(Incoming::Frame(_)))) => continue,
                Ok(Ok(None) | Err(_)) => return Pumped::Lost,
            };
            let reply = match message {
                ServerMessage::Challenge { prefix, bits, .. } => {
                    let prefix = prefix.as_str().to_string();
                    tokio::task::spawn_blocking(move || {
                        roulette_transport::pow::solve(&prefix, bits, 1 << 32)
                    })
                    .await
                    .ok()
                    .flatten()
                    .and_then(|n| Text::new(n).ok())
                    .map(|nonce| ClientMessage::Solve { nonce })
                }
                ServerMessage::Solved {} => Some(ClientMessage::FindPartner {
                    kind: RoomKind::Chat,
                    key: Text::new(self.key.clone()).ok(),
                }),
                ServerMessage::Matched { .. } => {
                    return match self.token.clone() {
                        Some(t) => Pumped::Matched(t),
                        None => Pumped::Lost,
                    };
                }
                _ => None,
            };
            if let Some(reply) = reply
                && self.conn.send(&reply).await.is_err()
            {
                return Pumped::Lost;
            }
        }
    }

    async fn cancel(mut self) {
        let _ = self.conn.send(&ClientMessage::CancelSearch {}).await;
        self.conn.close().await;
    }
}

/// Opens the chat window on the found conversation, then lets the background socket go once
/// the window has taken over (it deletes the token file when it has read it).
async fn hand_over(
    state: &Path,
    opts: &WaiterOptions,
    token: String,
    search: Option<Search>,
) -> anyhow::Result<()> {
    let token_file = state.join(format!("handover-{}.token", std::process::id()));
    write_private(&token_file, &token)?;
    let command = vec![
        opts.binary.to_string_lossy().into_owned(),
        "chat".into(),
        "--server".into(),
        opts.server.clone(),
        "--token-file".into(),
        token_file.to_string_lossy().into_owned(),
    ];
    let opened = open_window(&command);
    // Keep the conversation until the window holds it (or a minute passes; without a window,
    // a notification told the person how to open it).
    let wait = if opened {
        Duration::from_secs(60)
    } else {
        Duration::from_secs(600)
    };
    let deadline = tokio::time::Instant::now() + wait;
    while token_file.exists() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = std::fs::remove_file(&token_file);
    if let Some(s) = search {
        // The window is attached to the same participant: this socket going does not end the
        // conversation.
        drop(s);
    }
    Ok(())
}

fn shell_quote(words: &[String]) -> String {
    words
        .iter()
        .map(|w| format!("'{}'", w.replace('\'', r"'\''")))
        .collect::<Vec<_>>()
        .join(" ")
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// Opens a terminal window running `command`: `$ROULETTE_TERMINAL` (a command prefix) if set,
/// a new tmux window inside tmux, a terminal emulator on a desktop, Terminal on macOS;
/// otherwise a desktop notification with the command. `true` when a window was opened.
pub fn open_window(command: &[String]) -> bool {
    let spawn = |program: &str, args: Vec<String>| {
        std::process::Command::new(program)
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
    };
    if let Ok(prefix) = std::env::var("ROULETTE_TERMINAL") {
        let mut words = prefix.split_whitespace().map(str::to_string);
        if let Some(program) = words.next() {
            let mut args: Vec<String> = words.collect();
            args.extend(command.iter().cloned());
            return spawn(&program, args);
        }
    }
    if std::env::var_os("TMUX").is_some() && on_path("tmux") {
        return spawn("tmux", vec!["new-window".into(), shell_quote(command)]);
    }
    if cfg!(target_os = "macos") {
        let script = format!(
            "tell application \"Terminal\" to do script \"{}\"",
            shell_quote(command)
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
        );
        return spawn("osascript", vec!["-e".into(), script]);
    }
    let desktop =
        std::env::var_os("DISPLAY").is_some() || std::env::var_os("WAYLAND_DISPLAY").is_some();
    if desktop {
        let terminals: [(&str, &[&str]); 7] = [
            ("x-terminal-emulator", &["-e"]),
            ("gnome-terminal", &["--"]),
            ("konsole", &["-e"]),
            ("xfce4-terminal", &["-x"]),
            ("kitty", &[]),
            ("alacritty", &["-e"]),
            ("xterm", &["-e"]),
        ];
        for (program, flags) in terminals {
            if on_path(program) {
                let mut args: Vec<String> = flags.iter().map(|f| f.to_string()).collect();
                args.extend(command.iter().cloned());
                if spawn(program, args) {
                    return true;
                }
            }
        }
    }
    if on_path("notify-send") {
        spawn(
            "notify-send",
            vec![
                "Roulette: someone is waiting to chat".into(),
                format!("Run: {}", shell_quote(command)),
            ],
        );
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> WaiterOptions {
        WaiterOptions {
            server: "http://127.0.0.1:1".into(),
            after: Duration::from_secs(30),
            live_window: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            binary: "roulette".into(),
        }
    }

    fn record(state: &Path, id: &str, transcript: &Path, started: u64) {
        create_private_dir(&tasks_dir(state)).unwrap();
        let task = Task {
            session_id: id.into(),
            transcript_path: transcript.into(),
            started_unix: started,
        };
        std::fs::write(
            tasks_dir(state).join(format!("{id}.json")),
            serde_json::to_vec(&task).unwrap(),
        )
        .unwrap();
    }

    #[test]
    fn a_task_counts_once_it_ran_long_and_while_its_transcript_changes() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path();
        let transcript = dir.path().join("t.jsonl");
        std::fs::write(&transcript, "{}\n").unwrap();
        let now = SystemTime::now();
        let secs = |t: SystemTime| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
        let mut tasks = Tasks::default();
        record(state, "young", &transcript, secs(now) - 5);
        assert_eq!(tasks.scan(state, now, &opts()), (vec![], 1));
        record(state, "old", &transcript, secs(now) - 40);
        assert_eq!(tasks.scan(state, now, &opts()).0, vec!["old".to_string()]);
        // Seventy seconds later nothing has changed: not live.
        let later = now + Duration::from_secs(70);
        assert_eq!(tasks.scan(state, later, &opts()).0, Vec::<String>::new());
        // It grows: live again.
        std::fs::write(&transcript, "{}\n{}\n").unwrap();
        let (live, count) = tasks.scan(state, later, &opts());
        assert_eq!(live, vec!["old".to_string(), "young".to_string()]);
        assert_eq!(count, 2);
        // A transcript that does not exist does not count.
        record(
            state,
            "gone",
            &dir.path().join("missing.jsonl"),
            secs(now) - 100,
        );
        assert!(
            !tasks
                .scan(state, later, &opts())
                .0
                .contains(&"gone".to_string())
        );
    }

    #[test]
    fn match_keys_are_salted_per_machine_and_hide_the_id() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let ka = match_key(a.path(), "session-1").unwrap();
        assert_eq!(ka, match_key(a.path(), "session-1").unwrap());
        assert_ne!(ka, match_key(b.path(), "session-1").unwrap());
        assert_ne!(ka, match_key(a.path(), "session-2").unwrap());
        assert!(!ka.contains("session"));
    }

    #[test]
    fn one_window_lock_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let held = window_lock(dir.path()).unwrap();
        assert!(window_open(dir.path()));
        assert!(window_lock(dir.path()).is_none());
        drop(held);
        assert!(!window_open(dir.path()));
    }
}
