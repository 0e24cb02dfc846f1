//! Base64 for keys held in environment variables.
//!
//! Keys are written with the standard alphabet and padding (what `mcpgate keygen` and
//! `openssl base64` print). Reading is lenient where it costs nothing: surrounding whitespace
//! (a trailing newline from a secrets file) and missing padding are accepted.

use base64::alphabet::STANDARD;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Encodes a key for an environment variable.
pub(crate) fn encode_key(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes a key from an environment variable; the error says what was wrong, for the
/// caller's message.
pub(crate) fn decode_key(text: &str) -> Result<Vec<u8>, &'static str> {
    let text = text.trim();
    if text.is_empty() {
        return Err("it is empty");
    }
    LENIENT.decode(text).map_err(|_| "it is not valid base64")
}

#[cfg(test)]
mod tests {
    use super::{decode_key, encode_key};

    #[test]
    fn keys_round_trip() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(decode_key(&encode_key(&bytes)).unwrap(), bytes);
    }

    #[test]
    fn whitespace_and_missing_padding_are_accepted() {
        assert_eq!(decode_key("  AAE=\n").unwrap(), [0, 1]);
        assert_eq!(decode_key("AAE").unwrap(), [0, 1]);
    }

    #[test]
    fn empty_and_non_base64_values_are_refused() {
        assert_eq!(decode_key(" \n"), Err("it is empty"));
        assert_eq!(decode_key("not base64!"), Err("it is not valid base64"));
    }
}
