//! Any text as `~/.claude/settings.json`: no panic; after `init` Roulette's two entries are
//! there; after `uninstall` no more of Roulette's commands remain than before `init`.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roulette_cli::claude::{add_ours, is_ours, parse, remove_ours};
use serde_json::Value;
use std::path::Path;

fn ours(settings: &serde_json::Map<String, Value>) -> usize {
    settings
        .get("hooks")
        .and_then(Value::as_object)
        .map(|h| {
            h.values()
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(|e| e.get("hooks").and_then(Value::as_array))
                .flatten()
                .filter_map(|h| h.get("command").and_then(Value::as_str))
                .filter(|c| is_ours(c))
                .count()
        })
        .unwrap_or(0)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(mut settings) = parse(text, Path::new("settings.json")) else { return };
    let had = ours(&settings);
    if add_ours(&mut settings, Path::new("/usr/bin/roulette"), Some("http://x:1"), None).is_err() {
        return;
    }
    assert!(ours(&settings) >= 2, "after init: {settings:?}");
    remove_ours(&mut settings).unwrap();
    assert!(ours(&settings) <= had, "after uninstall: {settings:?}");
});
