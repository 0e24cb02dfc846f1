use proptest::collection::vec;
use proptest::prelude::{any, prop_assert, prop_assert_eq, prop_assume, proptest, ProptestConfig};

use super::{SecretKey, OVERHEAD};
use crate::error::AuthError;

const ROW: &[u8] = b"tenant-0000000001server-000000001";

#[test]
fn a_sealed_value_opens_with_its_associated_data() {
    let key = SecretKey::generate();
    let sealed = key.seal(b"ghp_upstream_token", ROW);
    assert_eq!(sealed.len(), OVERHEAD + 18);
    assert_eq!(sealed[0], 1);
    assert_eq!(key.open(&sealed, ROW).unwrap(), b"ghp_upstream_token");
}

#[test]
fn the_same_plaintext_seals_differently_each_time() {
    let key = SecretKey::generate();
    assert_ne!(key.seal(b"same", ROW), key.seal(b"same", ROW));
}

#[test]
fn a_value_moved_to_another_row_does_not_open() {
    let key = SecretKey::generate();
    let sealed = key.seal(b"secret", b"tenant-a/server-1");
    let error = key.open(&sealed, b"tenant-a/server-2").unwrap_err();
    assert!(matches!(error, AuthError::SealedCannotOpen));
    assert!(key.open(&sealed, b"").is_err());
}

#[test]
fn a_value_does_not_open_under_another_key() {
    let sealed = SecretKey::generate().seal(b"secret", ROW);
    let error = SecretKey::generate().open(&sealed, ROW).unwrap_err();
    assert!(error.to_string().contains("MCPGATE_SECRET_KEY"), "{error}");
}

#[test]
fn short_and_unknown_versions_are_malformed() {
    let key = SecretKey::generate();
    let mut sealed = key.seal(b"", ROW);
    assert_eq!(key.open(&sealed, ROW).unwrap(), b"");
    assert!(matches!(
        key.open(&sealed[..OVERHEAD - 1], ROW),
        Err(AuthError::SealedMalformed { .. })
    ));
    sealed[0] = 2;
    assert!(matches!(
        key.open(&sealed, ROW),
        Err(AuthError::SealedMalformed { .. })
    ));
}

#[test]
fn a_key_round_trips_through_base64() {
    let key = SecretKey::generate();
    let again = SecretKey::from_base64(&key.to_base64()).unwrap();
    assert_eq!(again.open(&key.seal(b"x", ROW), ROW).unwrap(), b"x");
    assert_eq!(format!("{key:?}"), "SecretKey(..)");
}

#[test]
fn bad_keys_are_refused_with_the_variable_name() {
    for text in ["", "%%%", "AAAA", &"A".repeat(44 * 2)] {
        let error = SecretKey::from_base64(text).unwrap_err();
        assert!(matches!(error, AuthError::InvalidSecretKey { .. }));
        let message = error.to_string();
        assert!(message.starts_with("MCPGATE_SECRET_KEY must be base64 of 32 random bytes"));
        assert!(message.contains("mcpgate keygen"), "{message}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn seal_then_open_round_trips(
        plaintext in vec(any::<u8>(), 0..512),
        associated_data in vec(any::<u8>(), 0..64),
    ) {
        let key = SecretKey::generate();
        let sealed = key.seal(&plaintext, &associated_data);
        prop_assert_eq!(sealed.len(), OVERHEAD + plaintext.len());
        prop_assert_eq!(key.open(&sealed, &associated_data).unwrap(), plaintext);
    }

    #[test]
    fn any_single_byte_tamper_fails(
        plaintext in vec(any::<u8>(), 0..256),
        position in any::<proptest::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let key = SecretKey::generate();
        let mut sealed = key.seal(&plaintext, ROW);
        let index = position.index(sealed.len());
        sealed[index] ^= flip;
        prop_assert!(key.open(&sealed, ROW).is_err());
    }

    #[test]
    fn any_other_associated_data_fails(
        associated_data in vec(any::<u8>(), 0..64),
        other in vec(any::<u8>(), 0..64),
    ) {
        let key = SecretKey::generate();
        prop_assume!(associated_data != other);
        let sealed = key.seal(b"secret", &associated_data);
        prop_assert!(key.open(&sealed, &other).is_err());
    }

    #[test]
    fn a_truncated_or_extended_value_fails(
        plaintext in vec(any::<u8>(), 0..256),
        cut in any::<proptest::sample::Index>(),
        extra in vec(any::<u8>(), 1..8),
    ) {
        let key = SecretKey::generate();
        let sealed = key.seal(&plaintext, ROW);
        let cut = cut.index(sealed.len());
        prop_assert!(key.open(&sealed[..cut], ROW).is_err());
        let mut extended = sealed.clone();
        extended.extend_from_slice(&extra);
        prop_assert!(key.open(&extended, ROW).is_err());
    }
}
