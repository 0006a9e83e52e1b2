//! Any text as an invite code: parsing never panics, and a parsed code is canonical.
#![no_main]
use libfuzzer_sys::fuzz_target;
use roulette_core::InviteCode;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(code) = InviteCode::parse(&text) {
        assert_eq!(InviteCode::parse(code.as_str()), Some(code.clone()));
        assert_eq!(code.as_str().len(), roulette_core::invite::INVITE_CODE_LEN);
    }
});
