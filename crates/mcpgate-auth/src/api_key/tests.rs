use proptest::prelude::{prop_assert, proptest};
use sha2::{Digest, Sha256};

use super::{constant_time_eq, ApiKey, API_KEY_PREFIX_LEN};
use crate::error::AuthError;

#[test]
fn a_generated_key_has_the_documented_shape() {
    let key = ApiKey::generate();
    let plaintext = key.plaintext();
    assert_eq!(plaintext.len(), 5 + 8 + 1 + 32);
    assert!(plaintext.starts_with(&format!("mcpg_{}_", key.prefix())));
    assert_eq!(key.prefix().len(), API_KEY_PREFIX_LEN);
    assert_eq!(
        key.hash(),
        &<[u8; 32]>::from(Sha256::digest(plaintext.as_bytes()))
    );
}

#[test]
fn a_generated_key_parses_to_its_prefix_and_hash() {
    let key = ApiKey::generate();
    let parsed = ApiKey::parse(key.plaintext()).unwrap();
    assert_eq!(parsed.prefix(), key.prefix());
    assert_eq!(parsed.hash(), key.hash());
    assert!(parsed.matches(key.hash()));
}

#[test]
fn generated_keys_differ() {
    let (one, two) = (ApiKey::generate(), ApiKey::generate());
    assert_ne!(one.plaintext(), two.plaintext());
    assert_ne!(one.prefix(), two.prefix());
}

#[test]
fn another_key_with_the_same_prefix_does_not_match() {
    let key = ApiKey::generate();
    let forged = format!("mcpg_{}_{}", key.prefix(), "A".repeat(32));
    let parsed = ApiKey::parse(&forged).unwrap();
    assert_eq!(parsed.prefix(), key.prefix());
    assert!(!parsed.matches(key.hash()));
    assert!(!parsed.matches(&key.hash()[..31]));
}

#[test]
fn longer_secrets_are_accepted() {
    let text = format!("mcpg_abcdEFGH_{}", "x".repeat(64));
    assert_eq!(ApiKey::parse(&text).unwrap().prefix(), "abcdEFGH");
}

#[test]
fn malformed_keys_are_refused_without_repeating_them() {
    let secret = "s".repeat(32);
    let cases = [
        String::new(),
        "mcpg_".to_owned(),
        format!("mcpx_abcdEFGH_{secret}"),
        format!("MCPG_abcdEFGH_{secret}"),
        format!("abcdEFGH_{secret}"),
        format!("mcpg_abcdEFG_{secret}"),
        format!("mcpg_abcdEFGHI_{secret}"),
        format!("mcpg_abcd-FGH_{secret}"),
        format!("mcpg_abcdEFGH_{}", "s".repeat(31)),
        format!("mcpg_abcdEFGH_{}", "s".repeat(129)),
        format!("mcpg_abcdEFGH_{}_", "s".repeat(32)),
        format!("mcpg_abcdEFGH_{} ", "s".repeat(32)),
        format!(" mcpg_abcdEFGH_{secret}"),
        format!("mcpg_abcdEFGH{secret}"),
        format!("mcpg_abcdEFGH_{}é", "s".repeat(32)),
    ];
    for text in cases {
        let error = ApiKey::parse(&text).unwrap_err();
        assert!(matches!(error, AuthError::MalformedApiKey), "{text}");
        assert!(text.len() < 32 || !error.to_string().contains(&text));
    }
}

#[test]
fn debug_hides_the_plaintext() {
    let key = ApiKey::generate();
    assert!(!format!("{key:?}").contains(key.plaintext()));
    let parsed = ApiKey::parse(key.plaintext()).unwrap();
    assert!(format!("{parsed:?}").contains(key.prefix()));
}

#[test]
fn constant_time_eq_compares_contents_and_lengths() {
    assert!(constant_time_eq(b"", b""));
    assert!(constant_time_eq(b"abc", b"abc"));
    assert!(!constant_time_eq(b"abc", b"abd"));
    assert!(!constant_time_eq(b"abc", b"ab"));
    assert!(!constant_time_eq(b"\x00bc", b"\x80bc"));
}

proptest! {
    #[test]
    fn constant_time_eq_agrees_with_eq(a: Vec<u8>, b: Vec<u8>) {
        prop_assert!(constant_time_eq(&a, &b) == (a == b));
        prop_assert!(constant_time_eq(&a, &a));
    }

    #[test]
    fn parse_never_panics(text: String) {
        let _ = ApiKey::parse(&text);
    }
}
