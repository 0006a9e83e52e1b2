//! The channel between Claude Code's hooks and the host agent: a settings file of the session's
//! own (`claude --settings FILE`; the host's `~/.claude` is never written) and a Unix socket, both
//! in a private directory (mode 0700) that only this session knows.
//!
//! Each hook call runs `roulette approval-hook --socket PATH` ([`run_approval_hook`]), which
//! passes the JSON Claude wrote on its stdin to the host agent and prints the answer. It fails
//! closed: when the host agent cannot be reached, or answers nothing in time, a permission
//! request or tool call is denied; and should the hook itself fail to run, Claude Code blocks
//! the call (`"onFailure": "block"`), since it would otherwise go on without the hook.

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};

use crate::gatekeeper::{CallId, HookCall, HookEvent, answer};

/// Largest hook input read (Claude's tool inputs, such as a whole file for `Write`).
pub const MAX_HOOK_INPUT: usize = 4 * 1024 * 1024;
/// How much longer than the host's time to decide a hook may wait before it denies by itself.
const HOOK_GRACE: Duration = Duration::from_secs(30);
/// The hook events the settings file sends here: the two that decide, and those that tell
/// that the agent moved on from a dialog.
pub const HOOK_EVENTS: &[&str] = &[
    "PreToolUse",
    "PermissionRequest",
    "PostToolUse",
    "PostToolUseFailure",
    "PostToolBatch",
    "UserPromptSubmit",
    "Stop",
    "SessionStart",
];
/// The events whose hooks decide: a hook of theirs that fails (cannot start, crashes, runs out
/// of time) blocks the tool call instead of letting Claude Code go on without it.
const DECIDING_EVENTS: &[&str] = &["PreToolUse", "PermissionRequest"];

/// A hook call on its way to the host agent's loop.
#[derive(Debug)]
pub enum HookMessage {
    /// A hook process asks; answer on `reply` with what it prints.
    Call {
        /// Its number.
        call: CallId,
        /// What Claude Code said, or why it could not be read.
        hook: Result<HookCall, String>,
        /// Where the answer goes.
        reply: oneshot::Sender<String>,
    },
    /// The hook process went away before an answer.
    Gone(CallId),
}

/// The session's private hook directory, its settings file and its socket. Removed on drop.
#[derive(Debug)]
pub struct HookChannel {
    dir: tempfile::TempDir,
    settings: PathBuf,
    messages: mpsc::Receiver<HookMessage>,
    accept: tokio::task::JoinHandle<()>,
}

impl HookChannel {
    /// Makes the directory, writes the settings file for `hook_program` and listens on the
    /// socket. `decide_within` is the host's time to decide.
    pub fn open(hook_program: &Path, decide_within: Duration) -> std::io::Result<HookChannel> {
        let dir = tempfile::Builder::new()
            .prefix("roulette-hooks-")
            .tempdir()?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))?;
        let socket = dir.path().join("approvals.sock");
        let listener = UnixListener::bind(&socket)?;
        let settings = dir.path().join("settings.json");
        let text = settings_json(hook_program, &socket, decide_within);
        std::fs::write(&settings, text)?;
        std::fs::set_permissions(&settings, std::fs::Permissions::from_mode(0o600))?;
        let (tx, messages) = mpsc::channel(64);
        let accept = tokio::spawn(accept_loop(listener, tx));
        Ok(HookChannel {
            dir,
            settings,
            messages,
            accept,
        })
    }

    /// The settings file to give Claude Code (`--settings`).
    pub fn settings(&self) -> &Path {
        &self.settings
    }

    /// The private directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The next hook call, or a hook that went away.
    pub async fn next(&mut self) -> Option<HookMessage> {
        self.messages.recv().await
    }
}

impl Drop for HookChannel {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// The settings file: every event of [`HOOK_EVENTS`] runs the hook, with a time limit past
/// the host's own, so that Claude Code never gives up on a hook (and goes on without it) first.
pub fn settings_json(hook_program: &Path, socket: &Path, decide_within: Duration) -> String {
    let command = format!(
        "{} approval-hook --socket {} --within {}",
        shell_quote(&hook_program.to_string_lossy()),
        shell_quote(&socket.to_string_lossy()),
        decide_within.as_secs().max(1),
    );
    let timeout = (decide_within + HOOK_GRACE * 2).as_secs();
    let hooks: serde_json::Map<String, Value> = HOOK_EVENTS
        .iter()
        .map(|event| {
            let mut hook = json!({ "type": "command", "command": command, "timeout": timeout });
            if DECIDING_EVENTS.contains(event) {
                // A hook that cannot run blocks the call; so does one that fails (exit 2 is
                // Claude Code's blocking error, for versions that know no onFailure).
                hook["onFailure"] = json!("block");
                hook["command"] = json!(format!("{command} || exit 2"));
            }
            let entry = json!([{ "matcher": "*", "hooks": [hook] }]);
            ((*event).to_string(), entry)
        })
        .collect();
    // Hooks switched off in the host's own settings would leave no approvals at all.
    serde_json::to_string_pretty(&json!({ "disableAllHooks": false, "hooks": hooks }))
        .unwrap_or_default()
}

/// Quotes `s` for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

async fn accept_loop(listener: UnixListener, tx: mpsc::Sender<HookMessage>) {
    let mut next = 0u64;
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        next += 1;
        tokio::spawn(serve_call(stream, CallId(next), tx.clone()));
    }
}

/// One hook process: read its request, hand it to the loop, write the answer. When the hook
/// process goes away first, the loop is told.
async fn serve_call(stream: UnixStream, call: CallId, tx: mpsc::Sender<HookMessage>) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read.take(MAX_HOOK_INPUT as u64 + 1));
    let mut line = String::new();
    let hook = match read.read_line(&mut line).await {
        Ok(_) if line.len() > MAX_HOOK_INPUT => Err("the hook's input is too large".to_string()),
        Ok(_) => HookCall::parse(line.trim_end()),
        Err(e) => Err(format!("reading the hook's input: {e}")),
    };
    let (reply, answer_rx) = oneshot::channel();
    if tx
        .send(HookMessage::Call { call, hook, reply })
        .await
        .is_err()
    {
        return;
    }
    let mut rest = [0u8; 64];
    tokio::select! {
        answer = answer_rx => {
            if let Ok(text) = answer {
                let _ = write.write_all(text.as_bytes()).await;
                let _ = write.shutdown().await;
            }
        }
        // The hook sends nothing more; a read that ends means it went away.
        _ = read.get_mut().read(&mut rest) => {
            let _ = tx.send(HookMessage::Gone(call)).await;
        }
    }
}

/// The hook process: passes Claude Code's JSON (from `input`) to the host agent at `socket` and
/// returns what to print. Never fails: when the host agent cannot be reached or does not answer
/// within `decide_within` and a grace period, a permission request or tool call is denied.
pub fn run_approval_hook(socket: &Path, decide_within: Duration, input: &mut impl Read) -> String {
    let mut text = String::new();
    let read = input
        .take(MAX_HOOK_INPUT as u64 + 1)
        .read_to_string(&mut text);
    let value: Option<Value> = serde_json::from_str(&text).ok();
    let event = match value
        .as_ref()
        .and_then(|v| v.get("hook_event_name"))
        .and_then(Value::as_str)
    {
        Some("PreToolUse") | None => HookEvent::PreToolUse,
        Some("PermissionRequest") => HookEvent::PermissionRequest,
        Some(other) => HookEvent::Other(other.to_string()),
    };
    let denied = |why: &str| match &event {
        HookEvent::Other(_) => String::new(),
        decides => answer(decides, false, why),
    };
    let (Ok(_), Some(value)) = (read, value) else {
        return denied("Roulette could not read this request, so it is denied.");
    };
    match ask(socket, decide_within + HOOK_GRACE, &value) {
        // The host agent always answers something ("{}" to decide nothing): an empty answer
        // means it went away, or could not read the request.
        Ok(answer) if !answer.trim().is_empty() => answer,
        Ok(_) => denied("Roulette's host agent gave no answer, so this is denied."),
        Err(_) => denied("Roulette's host agent could not be reached, so this is denied."),
    }
}

fn ask(socket: &Path, within: Duration, value: &Value) -> std::io::Result<String> {
    let mut stream = std::os::unix::net::UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(within))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    // One line: serde_json writes no raw newline inside a value.
    let mut line = value.to_string();
    line.push('\n');
    stream.write_all(line.as_bytes())?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_answer_is_a_denial() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("s.sock");
        let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        // A host agent that reads the request and goes away without a word.
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(&mut stream), &mut line)
                .unwrap();
        });
        let pre = r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{}}"#;
        let out = run_approval_hook(&socket, Duration::from_secs(5), &mut pre.as_bytes());
        server.join().unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny");
    }

    #[test]
    fn settings_quote_paths_and_outlast_the_hosts_time() {
        let text = settings_json(
            Path::new("/opt/it's here/roulette"),
            Path::new("/tmp/a b/approvals.sock"),
            Duration::from_secs(300),
        );
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["disableAllHooks"], false);
        for event in HOOK_EVENTS {
            let hook = &v["hooks"][event][0]["hooks"][0];
            let command = r"'/opt/it'\''s here/roulette' approval-hook --socket '/tmp/a b/approvals.sock' --within 300";
            let expected = if DECIDING_EVENTS.contains(event) {
                format!("{command} || exit 2")
            } else {
                command.to_string()
            };
            assert_eq!(hook["command"], expected.as_str());
            assert!(hook["timeout"].as_u64().unwrap() > 300);
            let blocks = hook["onFailure"] == "block";
            assert_eq!(blocks, DECIDING_EVENTS.contains(event), "{event}");
        }
    }

    #[test]
    fn an_unreachable_host_agent_denies() {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("none.sock");
        let pre = r#"{"hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"touch x"}}"#;
        let out = run_approval_hook(&socket, Duration::from_secs(1), &mut pre.as_bytes());
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["hookSpecificOutput"]["permissionDecision"], "deny");
        let perm = r#"{"hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{}}"#;
        let out = run_approval_hook(&socket, Duration::from_secs(1), &mut perm.as_bytes());
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["hookSpecificOutput"]["decision"]["behavior"], "deny");
        // Garbage is denied too; an event that decides nothing gets no answer.
        let out = run_approval_hook(&socket, Duration::from_secs(1), &mut "garbage".as_bytes());
        assert!(out.contains("\"deny\""));
        let stop = r#"{"hook_event_name":"Stop"}"#;
        assert_eq!(
            run_approval_hook(&socket, Duration::from_secs(1), &mut stop.as_bytes()),
            ""
        );
    }

    #[tokio::test]
    async fn a_call_reaches_the_loop_and_its_answer_reaches_the_hook() {
        let mut chan = HookChannel::open(Path::new("/bin/false"), Duration::from_secs(5)).unwrap();
        let mode = std::fs::metadata(chan.dir()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
        let socket = chan.dir().join("approvals.sock");
        let hook = tokio::task::spawn_blocking(move || {
            let input = r#"{"hook_event_name":"PermissionRequest","tool_name":"Bash","tool_input":{"command":"ls"}}"#;
            run_approval_hook(&socket, Duration::from_secs(5), &mut input.as_bytes())
        });
        let Some(HookMessage::Call {
            hook: Ok(call),
            reply,
            ..
        }) = chan.next().await
        else {
            panic!("no call")
        };
        assert_eq!(call.tool, "Bash");
        reply.send("the answer".into()).unwrap();
        assert_eq!(hook.await.unwrap(), "the answer");
    }

    #[tokio::test]
    async fn a_hook_that_goes_away_is_reported() {
        let mut chan = HookChannel::open(Path::new("/bin/false"), Duration::from_secs(5)).unwrap();
        let socket = chan.dir().join("approvals.sock");
        let mut stream = UnixStream::connect(&socket).await.unwrap();
        stream
            .write_all(b"{\"hook_event_name\":\"PreToolUse\",\"tool_name\":\"Bash\"}\n")
            .await
            .unwrap();
        let Some(HookMessage::Call { call, reply, .. }) = chan.next().await else {
            panic!("no call")
        };
        drop(stream);
        let Some(HookMessage::Gone(gone)) = chan.next().await else {
            panic!("not reported")
        };
        assert_eq!(gone, call);
        drop(reply);
    }
}
