//! The PTY bridge on a real pseudo-terminal.

use bytes::Bytes;
use roulette_pty::{
    Agent, AgentConfig, ExitStatus, MAX_CHUNK, PtyError, PtyEvent, TermSize, WorkDir,
    check_workdir, child_env,
};
use std::path::{Path, PathBuf};

fn sh(script: &str) -> AgentConfig {
    AgentConfig {
        command: vec!["sh".into(), "-c".into(), script.into()],
        ..AgentConfig::default()
    }
}

/// Runs the agent to its end; returns all output and the exit status, checking that the exit
/// comes last and no chunk is larger than the limit.
async fn run_to_end(agent: &mut Agent) -> (Vec<u8>, ExitStatus) {
    let mut out = Vec::new();
    loop {
        match agent.next_event().await {
            Some(PtyEvent::Output(b)) => {
                assert!(b.len() <= MAX_CHUNK);
                out.extend_from_slice(&b);
            }
            Some(PtyEvent::Exited(status)) => {
                assert_eq!(agent.next_event().await, None, "nothing after the exit");
                return (out, status);
            }
            None => panic!("output ended without an exit"),
        }
    }
}

/// Reads output until `needle` has appeared; returns everything read.
async fn read_until(agent: &mut Agent, needle: &str) -> String {
    let mut out = String::new();
    while !out.contains(needle) {
        match agent.next_event().await {
            Some(PtyEvent::Output(b)) => out.push_str(&String::from_utf8_lossy(&b)),
            other => panic!("{needle:?} never came; got {other:?} after {out:?}"),
        }
    }
    out
}

#[tokio::test]
async fn output_reaches_the_stream_and_the_exit_code_follows() {
    let mut agent = Agent::spawn(sh("echo hello from the pty; exit 3")).unwrap();
    let (out, status) = run_to_end(&mut agent).await;
    assert!(String::from_utf8_lossy(&out).contains("hello from the pty"));
    assert_eq!(
        status,
        ExitStatus {
            code: Some(3),
            signal: None
        }
    );
}

#[tokio::test]
async fn every_byte_arrives_before_the_exit() {
    // 200,000 numbered lines, about 1.3 MB, and an immediate exit: no tail may be lost.
    let mut agent = Agent::spawn(sh("seq 1 200000")).unwrap();
    let (out, status) = run_to_end(&mut agent).await;
    assert_eq!(status.code, Some(0));
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 200_000);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line.parse::<usize>().unwrap(), i + 1);
    }
}

#[tokio::test]
async fn input_reaches_the_program() {
    let mut agent = Agent::spawn(sh("read line; echo \"got:$line\"")).unwrap();
    agent
        .input()
        .write(Bytes::from_static(b"ping\r"))
        .await
        .unwrap();
    let out = read_until(&mut agent, "got:ping").await;
    assert!(out.contains("got:ping"));
    let (_, status) = run_to_end(&mut agent).await;
    assert_eq!(status.code, Some(0));
}

#[tokio::test]
async fn resizes_reach_the_terminal() {
    let config = AgentConfig {
        size: TermSize { cols: 80, rows: 24 },
        ..sh("stty size; read x; stty size")
    };
    let mut agent = Agent::spawn(config).unwrap();
    read_until(&mut agent, "24 80").await;
    agent
        .input()
        .resize(TermSize {
            cols: 132,
            rows: 43,
        })
        .await
        .unwrap();
    agent
        .input()
        .write(Bytes::from_static(b"\r"))
        .await
        .unwrap();
    read_until(&mut agent, "43 132").await;
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn the_default_workdir_is_private_and_removed_at_the_end() {
    let mut agent = Agent::spawn(sh("pwd; touch made-here; read x")).unwrap();
    let dir = agent.workdir().to_path_buf();
    let out = read_until(&mut agent, "roulette-session-").await;
    assert!(out.contains(dir.to_str().unwrap()), "{out}");
    assert_eq!(mode(&dir), 0o700);
    assert!(
        dir.starts_with(std::env::temp_dir().canonicalize().unwrap())
            || dir.starts_with(std::env::temp_dir())
    );
    agent
        .input()
        .write(Bytes::from_static(b"\r"))
        .await
        .unwrap();
    run_to_end(&mut agent).await;
    assert!(!dir.exists(), "{dir:?} survived the session");
}

fn is_running(pid: i32) -> bool {
    // A zombie waiting for its new parent to reap it counts as gone.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat.rsplit(')').next().unwrap_or("").trim_start();
            !state.starts_with('Z') && !state.starts_with('X')
        }
        Err(_) => false,
    }
}

#[tokio::test]
async fn every_process_the_agent_started_ends_with_it() {
    // The shell leaves two background sleeps behind and exits.
    let mut agent = Agent::spawn(sh("sleep 1000 & echo bg:$!; sleep 1000 & echo bg:$!")).unwrap();
    let (out, _) = run_to_end(&mut agent).await;
    let pids: Vec<i32> = String::from_utf8_lossy(&out)
        .split("bg:")
        .skip(1)
        .map(|s| s.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2);
    for pid in pids {
        assert!(
            !is_running(pid),
            "background process {pid} outlived the agent"
        );
    }
}

#[tokio::test]
async fn killing_the_agent_ends_its_group_and_cleans_up() {
    let mut agent = Agent::spawn(sh("sleep 1000 & echo bg:$!; sleep 2000")).unwrap();
    let out = read_until(&mut agent, "bg:").await;
    let dir = agent.workdir().to_path_buf();
    let main = agent.pid().unwrap() as i32;
    agent.kill();
    let (rest, status) = run_to_end(&mut agent).await;
    let all = format!("{out}{}", String::from_utf8_lossy(&rest));
    let bg: i32 = all
        .split("bg:")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(status.signal.is_some(), "{status:?}");
    assert!(!is_running(main));
    assert!(!is_running(bg));
    assert!(!dir.exists());
}

#[tokio::test]
async fn dropping_the_agent_ends_it() {
    let agent = Agent::spawn(sh("echo up; sleep 1000")).unwrap();
    let pid = agent.pid().unwrap() as i32;
    let dir = agent.workdir().to_path_buf();
    let mut agent = agent;
    read_until(&mut agent, "up").await;
    drop(agent);
    // The waiter thread removes the directory once the group is gone; poll the filesystem until
    // then rather than sleeping a guessed time.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while (dir.exists() || is_running(pid)) && std::time::Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert!(!is_running(pid));
    assert!(!dir.exists());
}

#[test]
fn home_root_and_parents_of_home_are_refused() {
    let base = tempfile::tempdir().unwrap();
    let home = base.path().join("home/alice");
    let project = home.join("projects/game");
    std::fs::create_dir_all(&project).unwrap();
    for bad in [
        home.clone(),
        base.path().join("home"),
        base.path().to_path_buf(),
        PathBuf::from("/"),
    ] {
        let err = check_workdir(&bad, Some(&home)).unwrap_err();
        assert!(
            matches!(err, PtyError::WorkDirRefused { .. }),
            "{bad:?}: {err}"
        );
        assert!(err.to_string().contains("refusing"), "{err}");
    }
    // The same through a symlink or a relative spelling.
    let link = base.path().join("link-to-home");
    std::os::unix::fs::symlink(&home, &link).unwrap();
    assert!(matches!(
        check_workdir(&link, Some(&home)),
        Err(PtyError::WorkDirRefused { .. })
    ));
    assert!(matches!(
        check_workdir(&project.join("../../.."), Some(&home)),
        Err(PtyError::WorkDirRefused { .. })
    ));
    assert_eq!(
        check_workdir(&project, Some(&home)).unwrap(),
        project.canonicalize().unwrap()
    );
    assert!(matches!(
        check_workdir(&base.path().join("missing"), Some(&home)),
        Err(PtyError::WorkDirUnusable { .. })
    ));
    // Spawning with a refused directory starts nothing.
    let config = AgentConfig {
        workdir: WorkDir::Path(home.clone()),
        home: Some(home),
        ..sh("echo should not run")
    };
    assert!(matches!(
        Agent::spawn(config),
        Err(PtyError::WorkDirRefused { .. })
    ));
}

#[test]
fn only_allowed_and_named_variables_reach_the_agent() {
    let host = vec![
        ("PATH".to_string(), "/usr/bin".to_string()),
        ("HOME".to_string(), "/home/a".to_string()),
        ("LC_ALL".to_string(), "C.UTF-8".to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), "s3cr3t".to_string()),
        ("GITHUB_TOKEN".to_string(), "ghp_x".to_string()),
        ("ANTHROPIC_API_KEY".to_string(), "sk-ant".to_string()),
        ("TERM".to_string(), "dumb".to_string()),
    ];
    let env = child_env(host.clone(), &[], &[]);
    let names: Vec<&str> = env.iter().map(|(k, _)| k.as_str()).collect();
    assert!(names.contains(&"PATH") && names.contains(&"HOME") && names.contains(&"LC_ALL"));
    assert!(!names.contains(&"AWS_SECRET_ACCESS_KEY"));
    assert!(!names.contains(&"GITHUB_TOKEN"));
    assert!(!names.contains(&"ANTHROPIC_API_KEY"));
    assert!(env.contains(&("TERM".to_string(), "xterm-256color".to_string())));
    // The host may name what the agent needs.
    let env = child_env(
        host,
        &["ANTHROPIC_API_KEY".to_string()],
        &[("FOO".into(), "bar".into())],
    );
    assert!(env.contains(&("ANTHROPIC_API_KEY".to_string(), "sk-ant".to_string())));
    assert!(env.contains(&("FOO".to_string(), "bar".to_string())));
}

#[tokio::test]
async fn the_spawned_program_sees_only_that_environment() {
    // cargo sets CARGO_MANIFEST_DIR for test runs: a stand-in for any secret in the host's shell.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    let mut agent = Agent::spawn(sh("env")).unwrap();
    let (out, _) = run_to_end(&mut agent).await;
    let out = String::from_utf8_lossy(&out);
    assert!(!out.contains("CARGO_MANIFEST_DIR"), "{out}");
    assert!(out.contains("TERM=xterm-256color"));
    assert!(out.contains("PATH="));
    let config = AgentConfig {
        pass_env: vec!["CARGO_MANIFEST_DIR".into()],
        ..sh("env")
    };
    let mut agent = Agent::spawn(config).unwrap();
    let (out, _) = run_to_end(&mut agent).await;
    assert!(String::from_utf8_lossy(&out).contains("CARGO_MANIFEST_DIR="));
}

#[tokio::test]
async fn a_missing_program_is_a_clear_error() {
    let config = AgentConfig {
        command: vec!["definitely-not-a-program-xyz".into()],
        ..AgentConfig::default()
    };
    match Agent::spawn(config) {
        Err(PtyError::Spawn { command, .. }) => assert_eq!(command, "definitely-not-a-program-xyz"),
        Ok(mut agent) => {
            // Some platforms report the failure as an exit of the child instead.
            let (_, status) = run_to_end(&mut agent).await;
            assert_ne!(status.code, Some(0));
        }
        Err(other) => panic!("{other}"),
    }
    let empty = AgentConfig {
        command: vec![],
        ..AgentConfig::default()
    };
    assert!(matches!(Agent::spawn(empty), Err(PtyError::EmptyCommand)));
}

#[tokio::test]
async fn the_echo_backend_echoes_and_exits_when_killed() {
    let mut agent = Agent::echo();
    agent
        .input()
        .write(Bytes::from_static(b"abc"))
        .await
        .unwrap();
    assert_eq!(
        agent.next_event().await,
        Some(PtyEvent::Output(Bytes::from_static(b"abc")))
    );
    agent.kill();
    let (_, status) = run_to_end(&mut agent).await;
    assert_eq!(status.code, Some(0));
    assert!(matches!(
        agent.input().write(Bytes::from_static(b"x")).await,
        Err(PtyError::Closed)
    ));
}
