//! Paging the audit log: an opaque cursor naming the last row of a page.

use base64::Engine;
use chrono::{DateTime, Utc};
use mcpgate_store::AuditEventId;

/// The cursor after the row at `at` with `id`.
pub fn encode_cursor(at: DateTime<Utc>, id: AuditEventId) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{}|{id}", at.timestamp_micros()))
}

/// The row a cursor names; `None` when it is not one we made.
pub fn decode_cursor(cursor: &str) -> Option<(DateTime<Utc>, AuditEventId)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (micros, id) = text.split_once('|')?;
    let at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
    Some((at, id.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let at = DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap();
        let id = AuditEventId::new();
        assert_eq!(decode_cursor(&encode_cursor(at, id)), Some((at, id)));
        assert_eq!(decode_cursor("garbage"), None);
        assert_eq!(decode_cursor(""), None);
    }
}
