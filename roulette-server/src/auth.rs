//! Tokens and tickets: HS256 JWTs signed with the server's own key, with a pinned algorithm,
//! an audience per use, and short expiry. Tickets are single use.
//!
//! - A **participant token** comes from anonymous guest sign-in (`POST /api/guest`).
//! - A **host token** is minted by `roulette token` against the data directory.
//! - A **ticket** is minted from a token (`POST /api/ticket`), lives a minute, and is accepted
//!   once, in the `hello` message of a WebSocket. Browsers use tickets, so the long-lived token
//!   never travels on a WebSocket. Terminal clients may present their token in `hello` instead.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::AuthError;

/// What a credential is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Audience {
    /// A participant's token.
    Participant,
    /// A host agent's token.
    Host,
    /// A single-use ticket for `/ws`.
    ParticipantTicket,
    /// A single-use ticket for `/host`.
    HostTicket,
}

impl Audience {
    fn as_str(self) -> &'static str {
        match self {
            Audience::Participant => "roulette:participant",
            Audience::Host => "roulette:host",
            Audience::ParticipantTicket => "roulette:ticket:ws",
            Audience::HostTicket => "roulette:ticket:host",
        }
    }

    /// The ticket audience for a token's audience.
    pub fn ticket_for(self) -> Option<Audience> {
        match self {
            Audience::Participant => Some(Audience::ParticipantTicket),
            Audience::Host => Some(Audience::HostTicket),
            _ => None,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    aud: String,
    iat: u64,
    exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jti: Option<String>,
    /// A display name chosen by the sign-in (a GitHub login); guests get a handle instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

/// Who a valid credential speaks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// The stable subject: `guest:...` or `host:...`.
    pub subject: String,
    /// The audience it was valid for.
    pub audience: Audience,
    /// The display name the sign-in gave, if any.
    pub name: Option<String>,
}

/// Mints and checks credentials.
pub struct Auth {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Spent ticket ids, with their expiry, to refuse replays.
    spent: Mutex<HashMap<String, u64>>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth { .. }")
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// 128 random bits as hex.
pub fn random_id() -> String {
    let mut bytes = [0u8; 16];
    // If the OS generator fails there is nothing safe to fall back on; an all-zero id would be
    // a shared identity, so fail loudly in the only place that cannot return an error.
    if getrandom::fill(&mut bytes).is_err() {
        tracing::error!("the operating system's random generator failed");
        std::process::abort();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Auth {
    /// Signs and verifies with `secret`.
    pub fn new(secret: &[u8; 32]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            spent: Mutex::new(HashMap::new()),
        }
    }

    /// A credential for `subject`, valid for `ttl`.
    pub fn mint(&self, audience: Audience, subject: &str, ttl: Duration) -> String {
        self.mint_named(audience, subject, None, ttl)
    }

    /// A credential for `subject` that also carries a display name.
    pub fn mint_named(
        &self,
        audience: Audience,
        subject: &str,
        name: Option<&str>,
        ttl: Duration,
    ) -> String {
        let now = unix_now();
        let claims = Claims {
            sub: subject.to_string(),
            aud: audience.as_str().to_string(),
            iat: now,
            exp: now + ttl.as_secs().max(1),
            jti: matches!(audience, Audience::ParticipantTicket | Audience::HostTicket)
                .then(random_id),
            name: name.map(str::to_owned),
        };
        // Encoding HS256 with a valid key cannot fail; an empty string is never valid if it did.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .unwrap_or_default()
    }

    /// Checks a token or ticket for one of `audiences`. Tickets are spent on success.
    pub fn verify(&self, credential: &str, audiences: &[Audience]) -> Result<Identity, AuthError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 5;
        validation.set_audience(&audiences.iter().map(|a| a.as_str()).collect::<Vec<_>>());
        validation.set_required_spec_claims(&["exp", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Claims>(credential, &self.decoding, &validation)
            .map_err(|_| AuthError)?;
        let audience = audiences
            .iter()
            .copied()
            .find(|a| a.as_str() == data.claims.aud)
            .ok_or(AuthError)?;
        if matches!(audience, Audience::ParticipantTicket | Audience::HostTicket) {
            let jti = data.claims.jti.ok_or(AuthError)?;
            let now = unix_now();
            let mut spent = self.spent.lock().map_err(|_| AuthError)?;
            spent.retain(|_, exp| *exp + 10 >= now);
            if spent.insert(jti, data.claims.exp).is_some() {
                return Err(AuthError);
            }
        }
        Ok(Identity {
            subject: data.claims.sub,
            audience,
            name: data.claims.name,
        })
    }
}
