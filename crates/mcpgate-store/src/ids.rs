//! Typed ids: a `ServerId` cannot be passed where a `GrantId` is expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The length of an id as [`TenantId::spell`] (and every id's `spell`) writes it.
pub const SPELLED_ID_LENGTH: usize = uuid::fmt::Hyphenated::LENGTH;

macro_rules! id_type {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, sqlx::Type)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
        #[serde(transparent)]
        #[sqlx(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered (UUIDv7) id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID.
            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// The id as `Display` spells it (hyphenated, lower case), written into
            /// `buffer`: no allocation, for the request path.
            pub fn spell<'b>(&self, buffer: &'b mut [u8; SPELLED_ID_LENGTH]) -> &'b str {
                self.0.as_hyphenated().encode_lower(buffer)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }
    )*};
}

id_type! {
    /// A tenant: one organisation and everything it owns.
    TenantId,
    /// A dashboard user.
    UserId,
    /// A REST API key.
    ApiKeyId,
    /// A registered upstream MCP server.
    ServerId,
    /// A grant: one agent's credential.
    GrantId,
    /// A held call awaiting a person's decision.
    ApprovalId,
    /// One audit row.
    AuditEventId,
    /// An invitation to join a tenant.
    InvitationId,
    /// One row of the admin audit trail.
    AdminAuditId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_spelled_into_a_buffer_reads_as_its_display() {
        let id =
            GrantId::from_uuid(Uuid::parse_str("0193A5B2-7C4D-7E8F-9A0B-1C2D3E4F5A6B").unwrap());
        let mut buffer = [0u8; SPELLED_ID_LENGTH];
        assert_eq!(id.spell(&mut buffer), id.to_string());
        assert_eq!(
            id.spell(&mut buffer),
            "0193a5b2-7c4d-7e8f-9a0b-1c2d3e4f5a6b"
        );
    }
}
