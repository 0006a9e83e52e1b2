//! `roulette hook <event>`: what Claude Code runs on `UserPromptSubmit` (`prompt`) and `Stop`
//! (`stop`). It reads the hook's JSON from standard input, checks the session id, records or
//! forgets the task in a small file, starts the background waiter when a task begins, prints
//! nothing and always exits 0 at once: the agent is never held up.
//!
//! The session id is used only as a file name after it passed a strict check, and never goes
//! through a shell. The waiter ([`crate::waiter`]) does the rest.

use anyhow::{Context, bail};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Most bytes read from the hook's standard input.
const MAX_INPUT: u64 = 1024 * 1024;
/// How long the hook waits for its input.
const INPUT_WAIT: Duration = Duration::from_millis(500);

/// Where the chat roulette keeps its small state: `$XDG_STATE_HOME/roulette`, else
/// `$HOME/.local/state/roulette`.
pub fn state_dir() -> anyhow::Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(x).join("roulette"));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("HOME is not set")?;
    Ok(PathBuf::from(home).join(".local/state/roulette"))
}

/// The folder of task files.
pub fn tasks_dir(state: &Path) -> PathBuf {
    state.join("tasks")
}

/// Whether a session id is safe to use as a file name: 1 to 128 of `A-Z a-z 0-9 - _`.
pub fn valid_session_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A running task, as the hook records it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Task {
    /// Claude Code's session id.
    pub session_id: String,
    /// The transcript file whose size and modification time tell whether the task is live.
    pub transcript_path: PathBuf,
    /// When the prompt was submitted (seconds since the epoch).
    pub started_unix: u64,
}

/// The hook's input, checked.
pub fn parse_input(input: &[u8]) -> anyhow::Result<(String, PathBuf)> {
    let value: serde_json::Value =
        serde_json::from_slice(input).context("the input is not JSON")?;
    let session = value
        .get("session_id")
        .and_then(|v| v.as_str())
        .context("no session_id")?;
    if !valid_session_id(session) {
        bail!("the session id has characters or a length it may not have");
    }
    let transcript = value
        .get("transcript_path")
        .and_then(|v| v.as_str())
        .context("no transcript_path")?;
    let transcript = PathBuf::from(transcript);
    if !transcript.is_absolute() || transcript.as_os_str().len() > 4096 {
        bail!("the transcript path is not an absolute path");
    }
    Ok((session.to_string(), transcript))
}

fn read_input() -> Vec<u8> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::stdin().take(MAX_INPUT).read_to_end(&mut buf);
        let _ = tx.send(buf);
    });
    rx.recv_timeout(INPUT_WAIT).unwrap_or_default()
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Runs the hook. Never fails and never prints: whatever goes wrong, the agent goes on.
pub fn run_hook(event: &str, waiter_args: &[String]) {
    let _ = hook(event, waiter_args);
}

fn hook(event: &str, waiter_args: &[String]) -> anyhow::Result<()> {
    let input = read_input();
    let (session, transcript) = parse_input(&input)?;
    let state = state_dir()?;
    let tasks = tasks_dir(&state);
    let file = tasks.join(format!("{session}.json"));
    match event {
        "UserPromptSubmit" | "prompt" => {
            create_private_dir(&tasks)?;
            let task = Task {
                session_id: session,
                transcript_path: transcript,
                started_unix: unix_now(),
            };
            let mut tmp = tempfile::NamedTempFile::new_in(&tasks)?;
            serde_json::to_writer(&mut tmp, &task)?;
            tmp.persist(&file)?;
            start_waiter(&state, waiter_args)
        }
        "Stop" | "stop" => {
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
            Ok(())
        }
        other => bail!("unknown hook event {other}"),
    }
}

/// Makes a folder only its owner may enter.
pub fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    Ok(())
}

/// Takes the lock file at `path` (made if missing) unless another process holds it; the lock
/// lasts as long as the returned file is open.
pub fn try_lock_file(path: &Path) -> Option<std::fs::File> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .ok()?;
    file.try_lock().ok()?;
    Some(file)
}

/// Starts `roulette hook wait` in the background unless one runs already (it holds the
/// waiter lock). It is detached: its own process group, no terminal, no output.
fn start_waiter(state: &Path, args: &[String]) -> anyhow::Result<()> {
    use std::os::unix::process::CommandExt;
    let Some(lock) = try_lock_file(&state.join("waiter.lock")) else {
        return Ok(());
    };
    // Released before the waiter takes it; if two hooks race, the second waiter finds it taken
    // and ends.
    drop(lock);
    let exe = std::env::current_exe()?;
    std::process::Command::new(exe)
        .arg("hook")
        .arg("wait")
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_ids_are_checked() {
        assert!(valid_session_id("3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f"));
        assert!(!valid_session_id(""));
        assert!(!valid_session_id("../../etc/passwd"));
        assert!(!valid_session_id("a;rm -rf ~"));
        assert!(!valid_session_id("$(reboot)"));
        assert!(!valid_session_id(&"a".repeat(129)));
    }

    #[test]
    fn input_is_checked() {
        let ok = br#"{"session_id":"abc-1","transcript_path":"/home/u/.claude/projects/x/abc-1.jsonl","hook_event_name":"Stop"}"#;
        let (id, path) = parse_input(ok).unwrap();
        assert_eq!(id, "abc-1");
        assert!(path.is_absolute());
        assert!(parse_input(b"not json").is_err());
        assert!(parse_input(br#"{"session_id":"a b","transcript_path":"/x"}"#).is_err());
        assert!(parse_input(br#"{"session_id":"ab","transcript_path":"relative"}"#).is_err());
        assert!(parse_input(br#"{"session_id":7,"transcript_path":"/x"}"#).is_err());
    }
}
