//! Prompt safety: spotting prompts that touch secrets before they reach the agent.
//!
//! A prompt from a stranger that asks the agent to read `~/.ssh`, print the environment or upload
//! a credentials file should never run silently on the host's machine. [`check_prompt`] returns
//! every reason a prompt looks risky; the session then requires the host to confirm it.
//! The check errs towards asking: a false alarm costs the host one click.

use regex::Regex;
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;

/// What kind of risk a prompt carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum RiskKind {
    /// SSH keys and configuration.
    SshKeys,
    /// Dotenv files and other project secret files.
    EnvFile,
    /// Cloud provider credentials (AWS, GCP, Azure, Kubernetes, Docker).
    CloudCredentials,
    /// Stored passwords and tokens for tools (netrc, git credentials, package registries, gh).
    ToolCredentials,
    /// Private keys and certificates.
    PrivateKey,
    /// Commands that print the environment or named secret variables.
    EnvironmentDump,
    /// System password stores and keychains.
    SystemSecrets,
    /// Shell history, which often holds pasted secrets.
    ShellHistory,
    /// Sending files or data to another machine.
    Exfiltration,
}

/// One reason a prompt needs the host's confirmation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SafetyWarning {
    /// The kind of risk.
    pub kind: RiskKind,
    /// The text in the prompt that matched.
    pub matched: String,
    /// A sentence for the host explaining the risk.
    pub reason: String,
}

struct Rule {
    kind: RiskKind,
    pattern: &'static str,
    reason: &'static str,
}

// Patterns are matched case-insensitively. Path rules accept `~/`, `$HOME/`, absolute and
// relative spellings by anchoring on the distinctive part of the path.
const RULES: &[Rule] = &[
    Rule {
        kind: RiskKind::SshKeys,
        pattern: r"\.ssh\b",
        reason: "reads or changes SSH keys or configuration",
    },
    Rule {
        kind: RiskKind::SshKeys,
        pattern: r"\bid_(rsa|dsa|ecdsa|ed25519)(_sk)?\b",
        reason: "names an SSH private key",
    },
    Rule {
        kind: RiskKind::SshKeys,
        pattern: r"\bauthorized_keys\b|\bknown_hosts\b",
        reason: "touches SSH trust files",
    },
    Rule {
        kind: RiskKind::SshKeys,
        pattern: r"\bssh-add\b|\bssh-keygen\b.*-y",
        reason: "uses the SSH agent or extracts keys",
    },
    Rule {
        kind: RiskKind::EnvFile,
        pattern: r"(^|[\s/'`=(]|\x22)\.env(rc)?(\.[\w.-]+)?\b",
        reason: "reads a .env file, which usually holds secrets",
    },
    Rule {
        kind: RiskKind::EnvFile,
        pattern: r"\bsecrets?\.(ya?ml|json|toml)\b|\bcredentials\.json\b|\bservice[-_]?account[\w-]*\.json\b",
        reason: "reads a secrets or credentials file",
    },
    Rule {
        kind: RiskKind::EnvFile,
        pattern: r"terraform\.tfstate|\.terraformrc|\bvault-token\b|\.vault-token",
        reason: "reads infrastructure state or tokens that hold secrets",
    },
    Rule {
        kind: RiskKind::CloudCredentials,
        pattern: r"\.aws\b|\baws\s+(configure\s+(get|export-credentials|list)|sts\s+get-session-token)",
        reason: "reads AWS credentials",
    },
    Rule {
        kind: RiskKind::CloudCredentials,
        pattern: r"\.config/gcloud|\bgcloud\s+auth\s+(print-access-token|print-identity-token|application-default)",
        reason: "reads Google Cloud credentials",
    },
    Rule {
        kind: RiskKind::CloudCredentials,
        pattern: r"\.azure\b|\baz\s+account\s+get-access-token",
        reason: "reads Azure credentials",
    },
    Rule {
        kind: RiskKind::CloudCredentials,
        pattern: r"\.kube/config|\bkubeconfig\b|\bkubectl\s+config\s+view\b.*--raw|\bkubectl\s+get\s+secrets?\b",
        reason: "reads Kubernetes credentials or secrets",
    },
    Rule {
        kind: RiskKind::CloudCredentials,
        pattern: r"\.docker/config\.json",
        reason: "reads Docker registry credentials",
    },
    Rule {
        kind: RiskKind::ToolCredentials,
        pattern: r"\.netrc\b|_netrc\b",
        reason: "reads stored login passwords (.netrc)",
    },
    Rule {
        kind: RiskKind::ToolCredentials,
        pattern: r"\.git-credentials\b|\bgit\s+credential\b|credential\.helper",
        reason: "reads stored git credentials",
    },
    Rule {
        kind: RiskKind::ToolCredentials,
        pattern: r"\.npmrc\b|\.pypirc\b|\.gem/credentials|\.cargo/credentials|\.m2/settings\.xml|\.gradle/gradle\.properties|\.composer/auth\.json",
        reason: "reads package registry tokens",
    },
    Rule {
        kind: RiskKind::ToolCredentials,
        pattern: r"\.config/gh\b|\bgh\s+auth\s+token\b|\.claude\.json|\.claude/\.credentials|\.config/claude",
        reason: "reads tool login tokens",
    },
    Rule {
        kind: RiskKind::ToolCredentials,
        pattern: r"\.pgpass\b|\.my\.cnf\b",
        reason: "reads stored database passwords",
    },
    Rule {
        kind: RiskKind::PrivateKey,
        pattern: r"-----BEGIN [A-Z ]*PRIVATE KEY-----|\bprivate[ _-]?key\b",
        reason: "mentions a private key",
    },
    Rule {
        kind: RiskKind::PrivateKey,
        pattern: r"\.(pem|key|p12|pfx|jks|keystore|kdbx)\b",
        reason: "names a key, certificate store or password database file",
    },
    Rule {
        kind: RiskKind::PrivateKey,
        pattern: r"\.gnupg\b|\bgpg\b.*--export-secret",
        reason: "reads GnuPG secret keys",
    },
    Rule {
        kind: RiskKind::PrivateKey,
        pattern: r"\bwallet\.dat\b|\bseed\s+phrase\b|\bmnemonic\b",
        reason: "touches a cryptocurrency wallet",
    },
    Rule {
        kind: RiskKind::EnvironmentDump,
        pattern: r"\bprintenv\b|(^|[;&|(`]\s*|\$\(\s*)(env|set|export\s+-p|declare\s+-x)\s*($|[;&|)`>])",
        reason: "prints the environment, which holds API keys",
    },
    Rule {
        kind: RiskKind::EnvironmentDump,
        pattern: r"/proc/(self|\d+|\*)/environ",
        reason: "reads a process environment",
    },
    Rule {
        kind: RiskKind::EnvironmentDump,
        pattern: r"\$\{?[A-Z0-9_]*(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|ACCESS_KEY|PRIVATE)[A-Z0-9_]*\}?",
        reason: "reads a secret environment variable",
    },
    Rule {
        kind: RiskKind::EnvironmentDump,
        pattern: r"\b(os\.environ|process\.env|std::env::vars|System\.getenv)\b.*\b(print|log|dump|echo|send|post|upload|console)\b|\b(print|log|dump|echo|send|post|upload|console)\b.*\b(os\.environ|process\.env|std::env::vars)\b",
        reason: "prints or sends the process environment",
    },
    Rule {
        kind: RiskKind::SystemSecrets,
        pattern: r"/etc/(shadow|gshadow|sudoers)|\bsecurity\s+(find-generic-password|find-internet-password|dump-keychain)\b|\bkeychain\b|\bkeyring\b|\bsecret-tool\b|\.password-store\b|\bpass\s+show\b",
        reason: "reads a system password store",
    },
    Rule {
        kind: RiskKind::SystemSecrets,
        pattern: r"\b(Login Data|Cookies)\b.*(chrome|chromium|firefox)|(chrome|chromium|firefox).*\b(Login Data|cookies\.sqlite|logins\.json)\b",
        reason: "reads browser passwords or cookies",
    },
    Rule {
        kind: RiskKind::ShellHistory,
        pattern: r"\.(bash|zsh|sh|python|node_repl|psql|mysql)_history\b|\.local/share/fish/fish_history|\bhistory\s*($|[|>])",
        reason: "reads shell history, which often holds pasted secrets",
    },
    Rule {
        kind: RiskKind::Exfiltration,
        pattern: r"\bcurl\b.*(\s-d\s*@|--data(-binary|-raw|-urlencode)?[\s=]+@|-F\s*\S*=@|--upload-file|-T\s)|\bwget\b.*--post-file",
        reason: "uploads a local file to a server",
    },
    Rule {
        kind: RiskKind::Exfiltration,
        pattern: r"\b(nc|ncat|netcat|socat)\b\s+\S+\s+\d+|/dev/tcp/|\bscp\b\s|\brsync\b.*\S+:|\bsftp\b|\bftp\s",
        reason: "sends data to another machine",
    },
    Rule {
        kind: RiskKind::Exfiltration,
        pattern: r"\b(pastebin|transfer\.sh|webhook\.site|requestbin|ngrok|0x0\.st)\b",
        reason: "sends data to a public paste or capture service",
    },
];

static COMPILED: LazyLock<Vec<(Regex, &'static Rule)>> = LazyLock::new(|| {
    RULES
        .iter()
        .filter_map(|rule| {
            // The patterns are constants covered by tests; a bad one is dropped rather than
            // taking the process down.
            regex::RegexBuilder::new(rule.pattern)
                .case_insensitive(true)
                .multi_line(true)
                .build()
                .ok()
                .map(|re| (re, rule))
        })
        .collect()
});

/// Every reason `prompt` should be confirmed by the host before it reaches the agent; empty when
/// nothing looks risky. At most one warning per rule; `matched` holds the first match.
pub fn check_prompt(prompt: &str) -> Vec<SafetyWarning> {
    COMPILED
        .iter()
        .filter_map(|(re, rule)| {
            re.find(prompt).map(|m| SafetyWarning {
                kind: rule.kind,
                matched: m.as_str().trim().chars().take(80).collect(),
                reason: rule.reason.to_string(),
            })
        })
        .collect()
}

/// The number of rules [`check_prompt`] applies; equals the number of rules written, which a test
/// checks so that a pattern that fails to compile cannot go unnoticed.
pub fn rule_count() -> (usize, usize) {
    (COMPILED.len(), RULES.len())
}
