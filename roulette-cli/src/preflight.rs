//! Before a host queues: whether the agent can run here, which agent it is, and which flags of
//! its a stranger must not get.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// Which agent runs, for what Roulette can see of its decisions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentKind {
    /// Claude Code: its permission requests reach the host agent through its hooks.
    ClaudeCode,
    /// Any other program: a remote driver's lines (or keys) wait for the host.
    Other,
}

impl AgentKind {
    /// Claude Code when the program's name is `claude`.
    pub fn detect(command: &[OsString]) -> AgentKind {
        let name = command
            .first()
            .map(std::path::Path::new)
            .and_then(std::path::Path::file_name);
        match name.and_then(|n| n.to_str()) {
            Some("claude") => AgentKind::ClaudeCode,
            _ => AgentKind::Other,
        }
    }
}

/// Flags that make an agent act without asking: a stranger must not get that by default.
pub const UNSAFE_FLAGS: &[&str] = &[
    "--dangerously-skip-permissions",
    "bypassPermissions",
    "--yolo",
];

/// Refuses an agent command line that switches off the agent's permission checks, unless the
/// host allowed it locally and explicitly.
pub fn check_agent_command<S: AsRef<str>>(command: &[S], allow_unsafe: bool) -> Result<(), String> {
    if allow_unsafe {
        return Ok(());
    }
    match command
        .iter()
        .map(AsRef::as_ref)
        .find(|a| UNSAFE_FLAGS.iter().any(|u| a.contains(u)))
    {
        Some(flag) => Err(format!(
            "refusing to give a stranger an agent started with {flag}; pass --allow-unsafe-agent-flags if you mean it"
        )),
        None => Ok(()),
    }
}

/// How long the pre-flight check waits for `claude --version`.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(30);

/// Checks, before queueing, that the agent can start here: the program exists and is
/// executable, and Claude Code answers `claude --version`. The error says what to install.
pub async fn preflight(command: &[OsString], kind: AgentKind) -> Result<(), String> {
    let Some(program) = command.first() else {
        return Err(
            "no agent command was given; pass one after --, for example `roulette host -- claude`"
                .into(),
        );
    };
    let shown = program.to_string_lossy();
    let Some(path) = find_program(program) else {
        let hint = match kind {
            AgentKind::ClaudeCode => {
                "install Claude Code (npm install -g @anthropic-ai/claude-code) or name another agent after --"
            }
            AgentKind::Other => "install it, or give its full path",
        };
        return Err(format!(
            "the agent `{shown}` was not found on your PATH or is not executable; {hint}"
        ));
    };
    if kind == AgentKind::ClaudeCode {
        let run = tokio::process::Command::new(&path)
            .arg("--version")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .output();
        match tokio::time::timeout(PREFLIGHT_TIMEOUT, run).await {
            Ok(Ok(out)) if out.status.success() => {}
            Ok(Ok(out)) => {
                return Err(format!(
                    "`{shown} --version` failed ({}): {}; reinstall Claude Code (npm install -g @anthropic-ai/claude-code)",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                ));
            }
            Ok(Err(e)) => return Err(format!("could not run `{shown} --version`: {e}")),
            Err(_) => {
                return Err(format!(
                    "`{shown} --version` did not answer within {} s; check that Claude Code runs in this terminal",
                    PREFLIGHT_TIMEOUT.as_secs()
                ));
            }
        }
    }
    Ok(())
}

/// The program's path: as given when it names a path, else the first executable match on the
/// `PATH`.
pub(crate) fn find_program(program: &std::ffi::OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    let as_path = std::path::Path::new(program);
    if as_path.components().count() > 1 {
        return executable(as_path).then(|| as_path.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| executable(p))
}

/// The `roulette` program that Claude Code's hooks run.
pub(crate) fn hook_program(configured: Option<&PathBuf>) -> Result<PathBuf, String> {
    if let Some(p) = configured {
        return Ok(p.clone());
    }
    let own = std::env::current_exe().ok();
    let is_roulette = own
        .as_deref()
        .and_then(std::path::Path::file_name)
        .and_then(|n| n.to_str())
        .is_some_and(|n| n == "roulette");
    match own {
        Some(own) if is_roulette => Ok(own),
        // An absolute path: the hook runs from Claude Code's own directory.
        _ => find_program(std::ffi::OsStr::new("roulette"))
            .and_then(|p| std::fs::canonicalize(p).ok())
            .ok_or_else(|| {
            "Claude Code's approvals need the `roulette` program for its hooks; install it (cargo install roulette-cli) so that it is on the PATH".to_string()
        }),
    }
}
