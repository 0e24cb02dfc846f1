//! Reading the headers a modern request mirrors from its body.

use axum::http::HeaderMap;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::error::ModernError;

const SENTINEL_PREFIX: &str = "=?base64?";
const SENTINEL_SUFFIX: &str = "?=";

/// The value of header `name` (as spelled in messages), leading and trailing
/// whitespace removed (RFC 9110 §5.5: OWS is not part of the value); `None` when
/// absent. A header sent twice is refused: two readers could pick different lines.
pub(crate) fn single(headers: &HeaderMap, name: &str) -> Result<Option<String>, ModernError> {
    let mut values = headers.get_all(name.to_ascii_lowercase()).into_iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ModernError::header_mismatch(format!(
            "{name} header appears more than once"
        )));
    }
    let text = first
        .to_str()
        .map_err(|_| ModernError::header_mismatch(format!("{name} header is not visible ASCII")))?;
    Ok(Some(text.trim_matches([' ', '\t']).to_owned()))
}

/// A value that may be `=?base64?…?=`-encoded (transports: values that are not
/// header-safe); anything without the full wrapper is taken literally.
pub(crate) fn decoded(name: &str, value: String) -> Result<String, ModernError> {
    let Some(encoded) = value
        .strip_prefix(SENTINEL_PREFIX)
        .and_then(|rest| rest.strip_suffix(SENTINEL_SUFFIX))
    else {
        return Ok(value);
    };
    STANDARD
        .decode(encoded)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| ModernError::header_mismatch(format!("{name} header is not valid base64")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sentinel_values_are_decoded_and_bad_ones_refused() {
        let decode = |v: &str| decoded("Mcp-Name", v.to_owned());
        assert_eq!(
            decode("=?base64?SGVsbG8sIOS4lueVjA==?=").unwrap(),
            "Hello, 世界"
        );
        assert_eq!(decode("=?base64?IHBhZGRlZCA=?=").unwrap(), " padded ");
        assert_eq!(decode("plain_name").unwrap(), "plain_name");
        assert_eq!(decode("=?base64?abc").unwrap(), "=?base64?abc");
        assert!(decode("=?base64?SGVsbG8?=").is_err(), "missing padding");
        assert!(decode("=?base64?SGVs!!!bG8=?=").is_err(), "bad characters");
    }

    #[test]
    fn duplicates_are_refused_and_whitespace_trimmed() {
        let mut headers = HeaderMap::new();
        headers.append("mcp-method", " tools/call\t".parse().unwrap());
        assert_eq!(
            single(&headers, "Mcp-Method").unwrap().as_deref(),
            Some("tools/call")
        );
        headers.append("mcp-method", "tools/list".parse().unwrap());
        assert!(single(&headers, "Mcp-Method").is_err());
        assert_eq!(single(&headers, "Mcp-Name").unwrap(), None);
    }
}
