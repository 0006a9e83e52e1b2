//! Any text through the sanitiser, in every field: no forbidden character survives, and a
//! second pass changes nothing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roulette_core::sanitize::{TextField, is_forbidden, sanitize};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for field in [
        TextField::Chat,
        TextField::Name,
        TextField::Idea,
        TextField::Prompt,
        TextField::Report,
    ] {
        let once = sanitize(field, &text);
        assert!(!once.chars().any(is_forbidden), "{once:?}");
        assert!(!once.contains('\x1b'));
        assert_eq!(sanitize(field, &once), once);
    }
});
