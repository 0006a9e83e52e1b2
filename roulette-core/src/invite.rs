//! Invite codes: unguessable, single use, stored only as a hash.

use data_encoding::BASE32_NOPAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::Instant;

use crate::matchmaker::Candidate;

/// Bytes of entropy in a code: 128 bits.
pub const INVITE_ENTROPY_BYTES: usize = 16;
/// Length of a code in characters (base32 of 16 bytes, no padding).
pub const INVITE_CODE_LEN: usize = 26;

/// The secret part of an invite link. It exists only on the inviter's screen and in the link; the
/// matchmaker and anything that persists invites keep only its [`InviteHash`].
#[derive(Clone, PartialEq, Eq)]
pub struct InviteCode(String);

impl InviteCode {
    /// Makes a code from fresh random bytes. The server passes bytes from the operating system's
    /// secure generator; tests pass fixed bytes.
    pub fn from_entropy(bytes: [u8; INVITE_ENTROPY_BYTES]) -> Self {
        Self(BASE32_NOPAD.encode(&bytes).to_ascii_lowercase())
    }

    /// Accepts a code typed or pasted by a person: case-insensitive, surrounding whitespace ignored.
    /// Returns `None` for anything that cannot be a code, without saying why.
    pub fn parse(text: &str) -> Option<Self> {
        let upper = text.trim().to_ascii_uppercase();
        if upper.len() != INVITE_CODE_LEN {
            return None;
        }
        let bytes = BASE32_NOPAD.decode(upper.as_bytes()).ok()?;
        let bytes: [u8; INVITE_ENTROPY_BYTES] = bytes.try_into().ok()?;
        Some(Self::from_entropy(bytes))
    }

    /// The code as it appears in a link.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hash under which the invite is stored.
    pub fn hash(&self) -> InviteHash {
        InviteHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for InviteCode {
    // Never print the secret, even in debug logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InviteCode(<redacted>)")
    }
}

/// SHA-256 of an invite code. A 128-bit random code needs no salt: the hash cannot be reversed
/// by guessing.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InviteHash(pub [u8; 32]);

impl InviteHash {
    /// Lower-case hex, for storage.
    pub fn to_hex(&self) -> String {
        data_encoding::HEXLOWER.encode(&self.0)
    }

    /// Reads the hex form back; `None` for anything else.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(hex.as_bytes())
            .ok()?;
        Some(Self(bytes.try_into().ok()?))
    }
}

impl fmt::Debug for InviteHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InviteHash({})", &self.to_hex()[..12])
    }
}

/// An open invite as the matchmaker holds it: the hash, who invited, and when it lapses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invite {
    /// Hash of the code.
    pub hash: InviteHash,
    /// The inviter, as they would be queued.
    pub inviter: Candidate,
    /// After this instant the code answers like any unknown code.
    pub expires_at: Instant,
}
