//! Paging the audit log: an opaque cursor naming the position of the last row of a
//! page. Positions, not times: a row written late (a proxy's clock behind, a batch
//! retried after an outage) gets a position above every row already visible, so it
//! can never land behind a cursor a reader holds.

use base64::Engine;

/// Marks this cursor format; cursors of the earlier `(at, id)` format are refused.
const PREFIX: &str = "p1:";

/// The cursor after the row at `position`.
pub fn encode_cursor(position: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{PREFIX}{position}"))
}

/// The position a cursor names; `None` when it is not one we made.
pub fn decode_cursor(cursor: &str) -> Option<i64> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix(PREFIX)?
        .parse()
        .ok()
        .filter(|position| *position > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        assert_eq!(
            decode_cursor(&encode_cursor(9_876_543_210)),
            Some(9_876_543_210)
        );
        assert_eq!(decode_cursor("garbage"), None);
        assert_eq!(decode_cursor(""), None);
        let old_format = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode("1764000000123456|0193a0d6-0000-7000-8000-000000000000");
        assert_eq!(decode_cursor(&old_format), None);
        assert_eq!(decode_cursor(&encode_cursor(0)), None);
    }
}
