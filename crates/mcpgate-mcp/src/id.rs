//! JSON-RPC ids compared by value.
//!
//! One id has many spellings: `"1"` and `"\u0031"`, `1`, `1.0` and `1e0`. Upstreams built
//! on an SDK parse the id into a value and write it back in their own spelling, so an
//! answer is matched to its request by [`RequestId`], never by raw text: a proxy that
//! compares text decides the call got no answer (and gives back its rate-limit
//! reservation), or relays a list it should have filtered.

use std::fmt;

use serde_json::value::RawValue;

/// A request id by value: a string (unescaped) or a number in one canonical spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RequestId {
    /// A string id, unescaped.
    String(String),
    /// A numeric id: an integer in plain decimal (no sign on zero), or, for a number with
    /// a fraction, its shortest round-trip decimal form.
    Number(String),
}

/// Why a raw id has no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// `null`, an object, an array or a boolean.
    #[error("an id must be a string or a number")]
    NotStringOrNumber,
    /// A string id with an invalid escape (such as a lone surrogate).
    #[error("the id is not a valid JSON string")]
    InvalidString,
    /// A number too large for any JSON-RPC peer to read back the same (`1e400`).
    #[error("the numeric id is out of range")]
    OutOfRange,
}

impl RequestId {
    /// The id a raw JSON value denotes.
    pub fn from_raw(raw: &RawValue) -> Result<RequestId, IdError> {
        Self::from_json(raw.get())
    }

    /// The id the JSON text `text` denotes (surrounding whitespace allowed).
    pub fn from_json(text: &str) -> Result<RequestId, IdError> {
        let text = text.trim();
        match text.as_bytes().first() {
            Some(b'"') => serde_json::from_str::<String>(text)
                .map(RequestId::String)
                .map_err(|_| IdError::InvalidString),
            Some(b'-' | b'0'..=b'9') => canonical_number(text).map(RequestId::Number),
            _ => Err(IdError::NotStringOrNumber),
        }
    }

    /// Whether the number is written as a plain integer (`12`, `-3`), the only numeric
    /// form MCP clients send. `false` for strings.
    pub fn is_plain_integer(raw: &RawValue) -> bool {
        let text = raw.get().trim();
        let digits = text.strip_prefix('-').unwrap_or(text);
        !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::String(text) => write!(f, "{text:?}"),
            RequestId::Number(number) => f.write_str(number),
        }
    }
}

/// `text` is a JSON number (the parser checked its grammar, so no leading zeros).
fn canonical_number(text: &str) -> Result<String, IdError> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    if digits.bytes().all(|byte| byte.is_ascii_digit()) {
        // Integers of any size stay exact; JSON forbids leading zeros, so only the sign
        // of zero needs care.
        if digits.is_empty() {
            return Err(IdError::NotStringOrNumber);
        }
        if digits.bytes().all(|byte| byte == b'0') {
            return Ok("0".to_owned());
        }
        return Ok(if negative {
            format!("-{digits}")
        } else {
            digits.to_owned()
        });
    }
    let value: f64 = text.parse().map_err(|_| IdError::NotStringOrNumber)?;
    if !value.is_finite() {
        return Err(IdError::OutOfRange);
    }
    // An integral value in f64's exact range reads back as the integer it is equal to.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if value.fract() == 0.0 && value.abs() <= EXACT {
        #[allow(clippy::cast_possible_truncation)]
        let integer = value as i64;
        return Ok(integer.to_string());
    }
    Ok(format!("{value:?}"))
}

/// What the proxy reads of an upstream's answer to keep its books (release or keep a
/// reservation, bind a task): the id and whether it is an error, skimmed without the
/// strict walk for duplicate keys that client input gets. `None` when the body is no
/// single JSON-RPC response (a request or notification, a batch, garbage).
#[derive(Debug, Clone)]
pub struct ResponsePeek<'a> {
    /// The id by value (`None` for `null` or an id with no value).
    pub id: Option<RequestId>,
    /// The `result`, absent for an error response.
    pub result: Option<&'a RawValue>,
}

/// Skims `body` as a JSON-RPC response ([`ResponsePeek`]).
pub fn peek_response(body: &[u8]) -> Option<ResponsePeek<'_>> {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow, default)]
        id: Option<&'a RawValue>,
        #[serde(borrow, default)]
        result: Option<&'a RawValue>,
        #[serde(borrow, default)]
        error: Option<&'a RawValue>,
        #[serde(default)]
        method: Option<serde::de::IgnoredAny>,
    }
    let envelope: Envelope<'_> = serde_json::from_slice(body).ok()?;
    if envelope.method.is_some() || envelope.result.is_some() == envelope.error.is_some() {
        return None;
    }
    Some(ResponsePeek {
        id: envelope.id.and_then(|raw| RequestId::from_raw(raw).ok()),
        result: envelope.result,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> RequestId {
        RequestId::from_json(text).unwrap()
    }

    #[test]
    fn spellings_of_one_id_are_one_id() {
        assert_eq!(id(r#""1""#), id(r#""\u0031""#));
        assert_eq!(id(r#""é""#), id(r#""\u00e9""#));
        assert_eq!(id("1"), id("1.0"));
        assert_eq!(id("1"), id("1e0"));
        assert_eq!(id("100"), id("1E2"));
        assert_eq!(id("0"), id("-0"));
        assert_eq!(id("0"), id("0.0e5"));
        assert_eq!(id("-7"), id("-7.000"));
    }

    #[test]
    fn different_ids_stay_different() {
        assert_ne!(id("1"), id(r#""1""#));
        assert_ne!(id("1"), id("2"));
        assert_ne!(id("1.5"), id("1"));
        assert_ne!(
            id("123456789012345678901234567890"),
            id("123456789012345678901234567891")
        );
        assert_eq!(id("1.5"), id("15e-1"));
    }

    #[test]
    fn ids_without_a_value_are_errors() {
        assert_eq!(
            RequestId::from_json("null"),
            Err(IdError::NotStringOrNumber)
        );
        assert_eq!(RequestId::from_json("{}"), Err(IdError::NotStringOrNumber));
        assert_eq!(RequestId::from_json("1e400"), Err(IdError::OutOfRange));
        assert_eq!(
            RequestId::from_json(r#""\ud800""#),
            Err(IdError::InvalidString)
        );
    }

    #[test]
    fn a_response_is_skimmed_for_its_id_and_result() {
        let peek = peek_response(br#"{"jsonrpc":"2.0","id":"\u0031","result":{"a":1}}"#).unwrap();
        assert_eq!(peek.id, Some(id(r#""1""#)));
        assert_eq!(peek.result.map(RawValue::get), Some(r#"{"a":1}"#));
        let error =
            peek_response(br#"{"jsonrpc":"2.0","id":2,"error":{"code":1,"message":"x"}}"#).unwrap();
        assert!(error.result.is_none());
        assert!(peek_response(br#"{"jsonrpc":"2.0","id":2,"method":"ping"}"#).is_none());
        assert!(peek_response(br#"{"jsonrpc":"2.0","method":"notifications/progress"}"#).is_none());
        assert!(peek_response(b"[]").is_none());
        assert!(peek_response(br#"{"jsonrpc":"2.0","id":1,"result":{},"error":{}}"#).is_none());
    }

    #[test]
    fn plain_integers_are_told_apart_from_other_numbers() {
        let raw = |text: &str| RawValue::from_string(text.to_owned()).unwrap();
        assert!(RequestId::is_plain_integer(&raw("12")));
        assert!(RequestId::is_plain_integer(&raw("-3")));
        assert!(!RequestId::is_plain_integer(&raw("1.0")));
        assert!(!RequestId::is_plain_integer(&raw("1e0")));
        assert!(!RequestId::is_plain_integer(&raw(r#""1""#)));
    }
}
