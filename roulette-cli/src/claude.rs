//! `roulette init` and `roulette uninstall`: the two Claude Code hooks in
//! `$HOME/.claude/settings.json` that start the chat roulette while a task runs long.
//!
//! The file is the user's: a backup is made before any change, a file that is not valid JSON
//! is left alone, every other key keeps its value and its place, every other hook stays, and
//! the new file replaces the old in one rename. `uninstall` removes exactly the entries `init`
//! adds, which are recognised by their command (`<path>/roulette hook <event> ...`).

use anyhow::{Context, bail};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// The hook events Roulette listens to, with the argument `roulette hook` takes for each.
pub const EVENTS: [(&str, &str); 2] = [("UserPromptSubmit", "UserPromptSubmit"), ("Stop", "Stop")];

/// `$HOME/.claude/settings.json`.
pub fn settings_path() -> anyhow::Result<PathBuf> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("HOME is not set")?;
    Ok(PathBuf::from(home).join(".claude").join("settings.json"))
}

/// Quotes a word for the POSIX shell Claude Code runs hook commands with.
fn shell_word(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-:+=,@".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The command line of one hook.
pub fn hook_command(binary: &Path, event_arg: &str, server: Option<&str>) -> String {
    hook_command_with(binary, event_arg, server, None)
}

/// The command line of one hook, with the time a task runs before a partner is looked for.
pub fn hook_command_with(
    binary: &Path,
    event_arg: &str,
    server: Option<&str>,
    after: Option<&str>,
) -> String {
    let mut words = vec![
        shell_word(&binary.to_string_lossy()),
        "hook".to_string(),
        event_arg.to_string(),
    ];
    if let Some(server) = server {
        words.push("--server".into());
        words.push(shell_word(server));
    }
    if let Some(after) = after {
        words.push("--after".into());
        words.push(shell_word(after));
    }
    words.join(" ")
}

/// Whether a hook command is one `init` wrote: its program is called `roulette` and its next
/// words are `hook <event>`.
pub fn is_ours(command: &str) -> bool {
    let command = command.trim_start();
    let (program, rest) = match command.strip_prefix('\'') {
        Some(quoted) => quoted.split_once('\'').unwrap_or((quoted, "")),
        None => command.split_once(' ').unwrap_or((command, "")),
    };
    let mut words = rest.split_whitespace();
    let named_roulette = Path::new(program)
        .file_name()
        .is_some_and(|n| n == "roulette");
    named_roulette
        && words.next() == Some("hook")
        && words
            .next()
            .is_some_and(|e| EVENTS.iter().any(|(_, arg)| *arg == e))
}

fn entry_is_ours(entry: &Value) -> bool {
    entry
        .get("hooks")
        .and_then(Value::as_array)
        .is_some_and(|hooks| {
            !hooks.is_empty()
                && hooks.iter().all(|h| {
                    h.get("command")
                        .and_then(Value::as_str)
                        .is_some_and(is_ours)
                })
        })
}

/// Parses settings text; an empty file counts as `{}`.
pub fn parse(text: &str, path: &Path) -> anyhow::Result<Map<String, Value>> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => bail!(
            "{} is valid JSON but not an object; nothing was changed",
            path.display()
        ),
        Err(e) => bail!(
            "{} is not valid JSON ({e}); nothing was changed",
            path.display()
        ),
    }
}

/// Removes Roulette's entries; `true` if there were any.
pub fn remove_ours(settings: &mut Map<String, Value>) -> anyhow::Result<bool> {
    let Some(hooks) = settings.get_mut("hooks") else {
        return Ok(false);
    };
    let Some(hooks) = hooks.as_object_mut() else {
        bail!("\"hooks\" in the settings is not an object; nothing was changed");
    };
    let mut removed = false;
    for (event, _) in EVENTS {
        let Some(list) = hooks.get_mut(event) else {
            continue;
        };
        let Some(list) = list.as_array_mut() else {
            bail!("\"hooks.{event}\" in the settings is not a list; nothing was changed");
        };
        let before = list.len();
        list.retain(|e| !entry_is_ours(e));
        removed |= list.len() != before;
        if list.is_empty() && before > 0 {
            hooks.remove(event);
        }
    }
    if hooks.is_empty() && removed {
        settings.remove("hooks");
    }
    Ok(removed)
}

/// Adds (or replaces) Roulette's two entries.
pub fn add_ours(
    settings: &mut Map<String, Value>,
    binary: &Path,
    server: Option<&str>,
    after: Option<&str>,
) -> anyhow::Result<()> {
    remove_ours(settings)?;
    let hooks = settings
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(hooks) = hooks.as_object_mut() else {
        bail!("\"hooks\" in the settings is not an object; nothing was changed");
    };
    for (event, arg) in EVENTS {
        let list = hooks
            .entry(event)
            .or_insert_with(|| Value::Array(Vec::new()));
        let Some(list) = list.as_array_mut() else {
            bail!("\"hooks.{event}\" in the settings is not a list; nothing was changed");
        };
        list.push(json!({
            "hooks": [{
                "type": "command",
                "command": hook_command_with(binary, arg, server, after),
                "timeout": 5
            }]
        }));
    }
    Ok(())
}

/// Reads the settings file (absent: empty), changes it with `change`, and if anything changed
/// writes a timestamped backup and then the new file, atomically. Returns what happened.
fn edit(
    path: &Path,
    change: impl FnOnce(&mut Map<String, Value>) -> anyhow::Result<()>,
) -> anyhow::Result<Edited> {
    let original = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let mut settings = parse(original.as_deref().unwrap_or(""), path)?;
    let before = Value::Object(settings.clone());
    change(&mut settings)?;
    let after = Value::Object(settings);
    if after == before {
        return Ok(Edited::Unchanged);
    }
    let dir = path.parent().context("the settings file has no folder")?;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let backup = match &original {
        Some(text) => {
            let stamp = backup_stamp();
            let backup = dir.join(format!(
                "{}.roulette-backup-{stamp}",
                path.file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("settings.json")
            ));
            std::fs::write(&backup, text)
                .with_context(|| format!("writing the backup {}", backup.display()))?;
            Some(backup)
        }
        None => None,
    };
    let mut text = serde_json::to_string_pretty(&after)?;
    text.push('\n');
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    std::io::Write::write_all(&mut tmp, text.as_bytes())?;
    tmp.as_file().sync_all()?;
    // Keep the file's permissions.
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(tmp.path(), meta.permissions());
    }
    tmp.persist(path)
        .with_context(|| format!("replacing {}", path.display()))?;
    Ok(Edited::Changed { backup })
}

/// What an edit did.
#[derive(Debug, PartialEq, Eq)]
pub enum Edited {
    /// The file already said so.
    Unchanged,
    /// The file was rewritten; the old one was kept here (none when there was no file).
    Changed {
        /// The backup.
        backup: Option<PathBuf>,
    },
}

fn backup_stamp() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}.{:03}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60,
        nanos / 1_000_000
    )
}

/// The calendar date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `roulette init`: adds the hooks.
pub fn init(
    path: &Path,
    binary: &Path,
    server: Option<&str>,
    after: Option<&str>,
) -> anyhow::Result<Edited> {
    edit(path, |s| add_ours(s, binary, server, after))
}

/// `roulette uninstall`: removes exactly what `init` added.
pub fn uninstall(path: &Path) -> anyhow::Result<Edited> {
    edit(path, |s| remove_ours(s).map(drop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_for_backups() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_778), (2026, 11, 21));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }

    #[test]
    fn commands_are_quoted_and_recognised() {
        let cmd = hook_command(
            Path::new("/opt/my tools/roulette"),
            "UserPromptSubmit",
            Some("http://x:1"),
        );
        assert_eq!(
            cmd,
            "'/opt/my tools/roulette' hook UserPromptSubmit --server http://x:1"
        );
        assert!(is_ours(&hook_command(
            Path::new("/usr/bin/roulette"),
            "Stop",
            None
        )));
        assert!(!is_ours("/usr/bin/roulette-other hook Stop"));
        assert!(!is_ours("roulette hook sideways"));
        assert!(!is_ours("echo roulette hook Stop"));
        assert!(is_ours(&cmd));
    }
}
