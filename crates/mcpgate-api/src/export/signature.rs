//! How a batch is signed, so a receiver can tell it came from mcpgate, unchanged.
//!
//! `Mcpgate-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with the
//! Unix time in `Mcpgate-Timestamp`. Signing the timestamp with the body lets a
//! receiver refuse replays older than its tolerance (docs/siem-export.md).

use ring::hmac;

/// The header with the Unix time (seconds) the batch was signed at.
pub const TIMESTAMP_HEADER: &str = "mcpgate-timestamp";
/// The header with the signature.
pub const SIGNATURE_HEADER: &str = "mcpgate-signature";
/// The header naming the batch: `<first position>-<last position>`, the same on every
/// retry of it.
pub const DELIVERY_HEADER: &str = "mcpgate-delivery";

/// The `Mcpgate-Signature` value of `body` signed at `timestamp` with `secret`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut context = hmac::Context::with_key(&key);
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    let tag = context.sign();
    let hex: String = tag
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("v1={hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_rfc_4231_hmac_of_timestamp_dot_body() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?",
        // split here as "<timestamp>.<body>" would be.
        let key = b"Jefe";
        let expected = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let data = b"what do ya want for nothing?";
        let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data);
        let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected, "precondition: ring's HMAC-SHA256");
        let signed = signature(key, 1_764_000_000, b"{}");
        let manual = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), b"1764000000.{}");
        let manual: String = manual.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(signed, format!("v1={manual}"));
    }
}
