//! Reading the admin audit trail: filters and the opaque cursor of its pages.

use base64::Engine;
use chrono::{DateTime, Utc};
use mcpgate_store::admin_audit::AdminQuery;
use mcpgate_store::AdminAuditId;
use serde::Deserialize;

use crate::error::ApiError;

/// Marks this cursor format.
const PREFIX: &str = "a1:";

/// The cursor after the event at `(at, id)`.
pub fn encode_cursor(at: DateTime<Utc>, id: AdminAuditId) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{PREFIX}{}:{id}", at.timestamp_micros()))
}

/// The event a cursor names; `None` when it is not one we made.
pub fn decode_cursor(cursor: &str) -> Option<(DateTime<Utc>, AdminAuditId)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (micros, id) = text.strip_prefix(PREFIX)?.split_once(':')?;
    Some((
        DateTime::from_timestamp_micros(micros.parse().ok()?)?,
        id.parse().ok()?,
    ))
}

/// The filters the REST list, its export and the dashboard page share.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrailFilter {
    /// Only this actor: `user:<email>` or `api-key:<prefix>`.
    pub actor: Option<String>,
    /// Only this area: `servers`, `policies`, `grants`, `approvals`, `api_keys`,
    /// `members` or `settings`.
    pub resource: Option<String>,
    /// At or after this time (RFC 3339).
    pub since: Option<DateTime<Utc>>,
    /// Before this time (RFC 3339).
    pub until: Option<DateTime<Utc>>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Events per page, 1 to 500 (50 by default).
    pub limit: Option<i64>,
}

impl TrailFilter {
    /// The store's query for one page; `limit` is one more than asked, so the page
    /// knows whether another follows.
    pub fn query(&self) -> Result<AdminQuery, ApiError> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::BadRequest(
                "`limit` must be between 1 and 500".into(),
            ));
        }
        let before = self
            .cursor
            .as_deref()
            .filter(|cursor| !cursor.is_empty())
            .map(|cursor| {
                decode_cursor(cursor).ok_or_else(|| {
                    ApiError::BadRequest("`cursor` is not one this API returned".into())
                })
            })
            .transpose()?;
        let blank_is_none = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        Ok(AdminQuery {
            actor: blank_is_none(&self.actor),
            resource: blank_is_none(&self.resource),
            since: self.since,
            until: self.until,
            before,
            limit: limit + 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let at = DateTime::from_timestamp_micros(1_764_000_000_123_456).expect("a time");
        let id = AdminAuditId::new();
        assert_eq!(decode_cursor(&encode_cursor(at, id)), Some((at, id)));
        assert_eq!(decode_cursor("garbage"), None);
        assert_eq!(decode_cursor(""), None);
    }
}
