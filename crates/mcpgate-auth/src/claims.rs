//! The claims of a grant token and their JSON form.
//!
//! On the wire: `{"iss":"mcpgate","aud":"mcpgate-proxy","sub":<grant id>,"tid":<tenant id>,
//! "srv":"*" | [<server id>, ...],"ver":<version>,"iat":<seconds>,"exp":<seconds>?,"jti":<random>}`.
//!
//! An OAuth access token (issued by the API's authorization server to a connected client) is
//! the same token with one more audience: `"aud":["mcpgate-proxy", <resource>]`, the proxy URL
//! it was issued for (RFC 8707, RFC 9068 §2.2); the proxy refuses it anywhere else.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use crate::random::random_token;

/// `iss` of every grant token.
pub const ISSUER: &str = "mcpgate";
/// `aud` of every grant token: only the proxy accepts them.
pub const AUDIENCE: &str = "mcpgate-proxy";

/// The servers a grant reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerScope {
    /// Every server of the tenant, now and later; `"*"` on the wire.
    All,
    /// Only these servers; a list of ids on the wire.
    Only(Vec<Uuid>),
}

impl ServerScope {
    /// Whether the grant reaches `server_id`.
    pub fn allows(&self, server_id: Uuid) -> bool {
        match self {
            Self::All => true,
            Self::Only(servers) => servers.contains(&server_id),
        }
    }
}

impl Serialize for ServerScope {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All => serializer.serialize_str("*"),
            Self::Only(servers) => servers.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ServerScope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScopeVisitor;

        impl<'de> Visitor<'de> for ScopeVisitor {
            type Value = ServerScope;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(r#""*" or a list of server ids"#)
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<ServerScope, E> {
                if value == "*" {
                    Ok(ServerScope::All)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(value), &self))
                }
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ServerScope, A::Error> {
                let mut servers = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
                while let Some(server) = seq.next_element::<Uuid>()? {
                    servers.push(server);
                }
                Ok(ServerScope::Only(servers))
            }
        }

        deserializer.deserialize_any(ScopeVisitor)
    }
}

/// What a grant token says: who may call which servers, until when.
///
/// Times are whole seconds (JWT NumericDate); fractions are dropped when the token is issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantClaims {
    /// The grant (`sub`).
    pub grant_id: Uuid,
    /// The tenant that owns the grant (`tid`).
    pub tenant_id: Uuid,
    /// The servers the grant reaches (`srv`).
    pub servers: ServerScope,
    /// The grant's token version (`ver`). Rotating a grant bumps it; the proxy refuses a token
    /// whose version is not the grant's current one, so the old token stops working.
    pub version: u32,
    /// When the token was issued (`iat`).
    pub issued_at: DateTime<Utc>,
    /// When the token stops working (`exp`); `None` for a grant without expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// A random id of this token (`jti`), for logs.
    pub token_id: String,
    /// The one protected resource (a proxy URL) an OAuth access token is for: its audience
    /// besides [`AUDIENCE`]. `None` for a grant token, which is good at any proxy URL its
    /// scope covers.
    pub resource: Option<String>,
}

impl GrantClaims {
    /// Claims for a new token, with a fresh random `jti` and times cut to whole seconds.
    pub fn new(
        grant_id: Uuid,
        tenant_id: Uuid,
        servers: ServerScope,
        version: u32,
        issued_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            grant_id,
            tenant_id,
            servers,
            version,
            issued_at: whole_seconds(issued_at),
            expires_at: expires_at.map(whole_seconds),
            token_id: random_token(16),
            resource: None,
        }
    }

    /// The same claims, for an access token good only at `resource` (a proxy URL).
    pub fn for_resource(mut self, resource: impl Into<String>) -> Self {
        self.resource = Some(resource.into());
        self
    }
}

fn whole_seconds(time: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(time.timestamp(), 0).unwrap_or(time)
}

/// The claims as they are signed.
#[derive(Serialize)]
pub(crate) struct OutgoingClaims<'a> {
    pub(crate) iss: &'a str,
    pub(crate) aud: Audience<'a>,
    pub(crate) sub: Uuid,
    pub(crate) tid: Uuid,
    pub(crate) srv: &'a ServerScope,
    pub(crate) ver: u32,
    pub(crate) iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) exp: Option<i64>,
    pub(crate) jti: &'a str,
}

impl<'a> OutgoingClaims<'a> {
    pub(crate) fn new(claims: &'a GrantClaims) -> Self {
        Self {
            iss: ISSUER,
            aud: match &claims.resource {
                None => Audience::Proxy(AUDIENCE),
                Some(resource) => Audience::ProxyAndResource([AUDIENCE, resource]),
            },
            sub: claims.grant_id,
            tid: claims.tenant_id,
            srv: &claims.servers,
            ver: claims.version,
            iat: claims.issued_at.timestamp(),
            exp: claims.expires_at.map(|time| time.timestamp()),
            jti: &claims.token_id,
        }
    }
}

/// `aud` as signed: the proxy alone (grant tokens keep the string form they always had), or
/// the proxy and one resource.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Audience<'a> {
    Proxy(&'a str),
    ProxyAndResource([&'a str; 2]),
}

/// `aud` as read: a string or a list of strings (RFC 7519 §4.1.3).
#[derive(Deserialize)]
#[serde(untagged)]
enum IncomingAudience {
    // Tried in order: a list first, then anything else (the single string, already checked).
    Many(Vec<String>),
    One(de::IgnoredAny),
}

impl IncomingAudience {
    /// The audience besides the proxy; `None` when there is none. jsonwebtoken already
    /// checked that [`AUDIENCE`] is among them.
    fn resource(self) -> Option<String> {
        match self {
            Self::One(_) => None,
            Self::Many(audiences) => audiences.into_iter().find(|aud| aud != AUDIENCE),
        }
    }
}

/// The claims as they are read; `iss` and `aud` were already checked by jsonwebtoken.
#[derive(Deserialize)]
pub(crate) struct IncomingClaims {
    #[serde(default)]
    aud: Option<IncomingAudience>,
    sub: Uuid,
    tid: Uuid,
    srv: ServerScope,
    ver: u32,
    iat: i64,
    #[serde(default)]
    pub(crate) exp: Option<i64>,
    jti: String,
}

impl IncomingClaims {
    /// `None` when a time is outside chrono's range.
    pub(crate) fn into_claims(self) -> Option<GrantClaims> {
        let expires_at = match self.exp {
            Some(exp) => Some(DateTime::from_timestamp(exp, 0)?),
            None => None,
        };
        Some(GrantClaims {
            grant_id: self.sub,
            tenant_id: self.tid,
            servers: self.srv,
            version: self.ver,
            issued_at: DateTime::from_timestamp(self.iat, 0)?,
            expires_at,
            token_id: self.jti,
            resource: self.aud.and_then(IncomingAudience::resource),
        })
    }
}

#[cfg(test)]
mod tests;
