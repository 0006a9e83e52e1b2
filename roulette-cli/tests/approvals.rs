//! Only the host approves what the agent does on the host's machine, with the real Claude Code
//! CLI as the agent of `roulette host` (offline, against a stand-in for the Anthropic API) and
//! the partner in `roulette join`, both in tmux. Also: the pre-flight check, an agent that
//! exits at once, and the agent's arguments after `--`.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_roulette");

mod common;
use common::{CLAUDE_API_KEY, FakeAnthropic, Tmux, claude, claude_home, server_with};

/// The `roulette host` command line for Claude Code against `api`, with `home` as the host's.
fn claude_host(url: &str, token: &str, api: &FakeAnthropic, home: &Path, extra: &str) -> String {
    format!(
        "env HOME={home} ROULETTE_TOKEN={token} ANTHROPIC_BASE_URL={api} ANTHROPIC_API_KEY={CLAUDE_API_KEY} \
         CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 {BIN} host --server {url} --env ANTHROPIC_BASE_URL \
         --env ANTHROPIC_API_KEY --env CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC {extra} -- {claude}",
        home = home.display(),
        api = api.url,
        claude = claude().display(),
    )
}

/// The number of the last request the host's terminal offered to allow.
fn last_request(screen: &str) -> u64 {
    let at = screen
        .rfind("/allow ")
        .expect("a request offered to the host");
    screen[at + 7..]
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .expect("its number")
}

fn lines_in(path: &Path) -> usize {
    std::fs::read_to_string(path)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

#[test]
fn a_partner_in_a_terminal_approves_nothing_and_the_host_decides_in_theirs() {
    let server = server_with(|c| c.session.planning_duration = std::time::Duration::from_secs(2));
    let dir = tempfile::tempdir().unwrap();
    let ran = dir.path().join("ran.txt");
    let api = FakeAnthropic::start(&format!("echo ran >> {}", ran.display()));
    let home = claude_home(
        r#"{"permissions":{"defaultMode":"default","disableAutoMode":"disable"}}"#,
        Some(&std::env::temp_dir()),
    );
    let tmux = Tmux::new();
    tmux.start(
        "host",
        &claude_host(&server.url, &server.host_token(), &api, home.path(), ""),
    );
    tmux.wait_for("host", "waiting for a partner");
    tmux.start("partner", &format!("{BIN} join --server {}", server.url));

    // Building begins and the agent starts. (This host already trusts the folder that the
    // session directories are made in; the browser test answers Claude's trust question.)
    tmux.wait_for("host", "manual mode on");

    // The partner drives and asks for something that runs a command.
    tmux.keys("partner", &["C-]", "/swap", "Enter"]);
    tmux.wait_for("host", "asks to swap roles");
    tmux.keys("host", &["C-]", "/accept", "Enter"]);
    tmux.wait_for("partner", "drives now");
    tmux.keys("partner", &["make the file", "Enter"]);
    tmux.wait_for("host", "your partner wants to submit: make the file");
    tmux.keys("host", &["C-y"]);
    tmux.wait_for(
        "host",
        "while your partner drives, the agent wants to run Bash(echo ran >>",
    );
    tmux.wait_for("partner", "waiting for the host: Bash(echo ran >>");

    // Every key that answers Claude's dialogs, from the partner: nothing runs.
    for key in [
        "1", "2", "3", "4", "y", "n", "Tab", "Up", "Down", "Left", "Right", "Escape", "Enter",
    ] {
        tmux.keys("partner", &[key]);
    }
    // A fence: the partner's chat travels after the keys.
    tmux.keys("partner", &["C-]", "/chat pressed them all", "Enter"]);
    tmux.wait_for("host", "pressed them all");
    assert_eq!(lines_in(&ran), 0, "a key of the partner's ran the command");

    // The host denies at their terminal: nothing runs, and the agent says why. (Ctrl-Y, which
    // allows held lines, does not answer the agent's requests.)
    let id = last_request(&tmux.screen("host"));
    tmux.keys(
        "host",
        &[
            "C-]",
            &format!("/deny {id} not outside the session"),
            "Enter",
        ],
    );
    // (Claude wraps its line at 80 columns; Roulette's own line says it whole.)
    tmux.wait_for("partner", "The host denied this in Roulette: not");
    tmux.wait_for(
        "partner",
        "the host denied the agent's request: not outside the session",
    );
    assert_eq!(lines_in(&ran), 0);

    // The partner's stray Enter waits as a line: the host refuses it. Then a new request,
    // which the host allows: it runs exactly once.
    tmux.wait_for("host", "your partner wants to submit:");
    tmux.keys("host", &["C-n"]);
    for _ in 0..20 {
        tmux.keys("partner", &["BSpace"]);
    }
    tmux.keys("partner", &["again", "Enter"]);
    tmux.wait_for("host", "your partner wants to submit: again");
    tmux.keys("host", &["C-y"]);
    // Claude's own line says that it waits on the hook (the first request's line has been
    // redrawn as its outcome by now).
    tmux.wait_for("partner", "running PreToolUse hook");
    let again = last_request(&tmux.wait_for("host", &format!("/allow {}", id + 1)));
    tmux.keys("host", &["C-]", &format!("/allow {again}"), "Enter"]);
    tmux.wait_for("partner", "the host allowed the agent's request");
    // Claude's own account of the call (the denied one reads "Did not run 1 call").
    tmux.wait_for("partner", "Ran 1 shell command");
    assert_eq!(lines_in(&ran), 1);
}

#[test]
fn with_the_host_agent_unreachable_claude_code_is_denied() {
    // Claude Code started with the session's settings file, but nothing listens on the socket
    // (the host agent is gone): the hook denies, and the command does not run.
    let dir = tempfile::tempdir().unwrap();
    let ran = dir.path().join("ran.txt");
    let api = FakeAnthropic::start(&format!("echo ran >> {}", ran.display()));
    let home = claude_home(
        r#"{"permissions":{"defaultMode":"default","disableAutoMode":"disable","allow":["Bash"]}}"#,
        Some(dir.path()),
    );
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let settings = dir.path().join("settings.json");
    std::fs::write(
        &settings,
        roulette_cli::hookchan::settings_json(
            Path::new(BIN),
            &dir.path().join("gone.sock"),
            std::time::Duration::from_secs(300),
        ),
    )
    .unwrap();
    let tmux = Tmux::new();
    tmux.start(
        "agent",
        &format!(
            "cd {work} && env HOME={home} ANTHROPIC_BASE_URL={api} ANTHROPIC_API_KEY={CLAUDE_API_KEY} \
             CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 {claude} --settings {settings}",
            work = work.display(),
            home = home.path().display(),
            api = api.url,
            claude = claude().display(),
            settings = settings.display(),
        ),
    );
    tmux.wait_for("agent", "manual mode on");
    tmux.keys("agent", &["make the file", "Enter"]);
    // Even though the host's own rules allow Bash, the call is denied.
    tmux.wait_for(
        "agent",
        "Roulette's host agent could not be reached, so this is denied.",
    );
    assert_eq!(lines_in(&ran), 0);
}

#[test]
fn a_missing_agent_is_reported_before_queueing() {
    // `claude` is not on this PATH: the host is told what to install, and nothing connects
    // (the server address is closed).
    let out = Command::new(BIN)
        .args(["host", "--server", "http://127.0.0.1:1"])
        .env("PATH", "/usr/bin:/bin")
        .env("ROULETTE_TOKEN", "not-used")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the agent `claude` was not found on your PATH"),
        "{err}"
    );
    assert!(
        err.contains("npm install -g @anthropic-ai/claude-code"),
        "{err}"
    );
    let out = String::from_utf8_lossy(&out.stdout);
    assert!(!out.contains("reconnecting"), "{out}");
    // A program that is not executable is refused too.
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("agent");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    let out = Command::new(BIN)
        .args(["host", "--server", "http://127.0.0.1:1", "--"])
        .arg(&script)
        .env("ROULETTE_TOKEN", "not-used")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not executable"));
    // A `claude` that does not answer --version is reported with what to do.
    let fake = dir.path().join("claude");
    std::fs::write(&fake, "#!/bin/sh\necho broken >&2\nexit 1\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = Command::new(BIN)
        .args(["host", "--server", "http://127.0.0.1:1", "--"])
        .arg(&fake)
        .env("ROULETTE_TOKEN", "not-used")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--version` failed") && err.contains("broken"),
        "{err}"
    );
    assert!(err.contains("reinstall Claude Code"), "{err}");
}

#[test]
fn an_api_key_goes_to_the_agent_by_name_only() {
    let out = Command::new(BIN)
        .args([
            "host",
            "--server",
            "http://127.0.0.1:1",
            "--env",
            "ANTHROPIC_API_KEY=sk-secret",
            "--",
            "sh",
        ])
        .env("ROULETTE_TOKEN", "not-used")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--env takes a variable's name, not `ANTHROPIC_API_KEY`"),
        "{err}"
    );
    assert!(!err.contains("sk-secret"), "the value was echoed: {err}");
    let help = Command::new(BIN).args(["host", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("the value is read from your") && help.contains("environment"),
        "{help}"
    );
}

#[test]
fn an_agent_that_exits_at_once_ends_the_session_without_looping_the_host() {
    let server = server_with(|c| c.session.planning_duration = std::time::Duration::from_secs(1));
    let tmux = Tmux::new();
    tmux.start(
        "host",
        &format!(
            "env ROULETTE_TOKEN={} {BIN} host --server {} -- sh -c 'exit 3'; echo host-exited-$?; sleep 60",
            server.host_token(),
            server.url
        ),
    );
    tmux.wait_for("host", "waiting for a partner");
    tmux.start("partner", &format!("{BIN} join --server {}", server.url));
    // Both see why it ended; the host stops with a message instead of queueing again.
    tmux.wait_for("partner", "the host's agent failed to start");
    let host = tmux.wait_for("host", "host-exited-1");
    assert!(
        host.contains("exited") && host.contains("exit code 3"),
        "{host}"
    );
    assert_eq!(
        host.matches("[roulette] waiting for a partner").count(),
        1,
        "{host}"
    );
    // The partner is back in the queue, at its head.
    tmux.wait_for("partner", "waiting for a partner: #1 in the queue");
}

#[test]
fn agent_arguments_come_after_the_double_dash_and_flags_after_cmd_still_count() {
    let server = server_with(|_| {});
    let claude = claude();
    let bin_dir = claude.parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let tmux = Tmux::new();
    for (name, args) in [
        ("cmd", "--cmd claude --invite"),
        ("dashes", "--invite -- claude --model opus"),
    ] {
        tmux.start(
            name,
            &format!(
                "env PATH={path} ROULETTE_TOKEN={} {BIN} host --server {} {args}",
                server.host_token(),
                server.url
            ),
        );
        tmux.wait_for(
            name,
            "invite open; your friend runs: roulette join --invite",
        );
    }
}

#[test]
fn the_partner_is_told_when_the_host_lets_their_own_rules_decide() {
    let server = server_with(|c| c.session.planning_duration = std::time::Duration::from_secs(1));
    let api = FakeAnthropic::start("true");
    let home = claude_home("{}", Some(&std::env::temp_dir()));
    let tmux = Tmux::new();
    tmux.start(
        "host",
        &claude_host(
            &server.url,
            &server.host_token(),
            &api,
            home.path(),
            "--trust-my-claude-rules",
        ),
    );
    tmux.wait_for("host", "waiting for a partner");
    tmux.start("partner", &format!("{BIN} join --server {}", server.url));
    tmux.wait_for(
        "partner",
        "the host lets the agent follow the host's own Claude Code rules while you drive",
    );
}
