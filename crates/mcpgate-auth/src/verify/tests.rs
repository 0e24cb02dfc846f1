use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use uuid::Uuid;

use super::{GrantVerifyKey, GRANT_TOKEN_LEEWAY_SECONDS};
use crate::claims::{GrantClaims, ServerScope};
use crate::error::{AuthError, TokenError};
use crate::signing::GrantSigningKey;

fn noon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 12, 0, 0).unwrap()
}

fn claims(expires_at: Option<DateTime<Utc>>) -> GrantClaims {
    let scope = ServerScope::Only(vec![Uuid::from_u128(3), Uuid::from_u128(4)]);
    GrantClaims::new(
        Uuid::from_u128(1),
        Uuid::from_u128(2),
        scope,
        7,
        noon(),
        expires_at,
    )
}

/// Claims as JSON, to sign with jsonwebtoken itself: an independent encoder.
fn wire(changes: Value) -> Value {
    let mut wire = json!({"iss": "mcpgate", "aud": "mcpgate-proxy", "sub": Uuid::from_u128(1),
        "tid": Uuid::from_u128(2), "srv": "*", "ver": 1, "iat": noon().timestamp(), "jti": "j"});
    for (name, value) in changes.as_object().unwrap() {
        if value.is_null() {
            wire.as_object_mut().unwrap().remove(name);
        } else {
            wire[name] = value.clone();
        }
    }
    wire
}

fn sign_with_jsonwebtoken(key: &GrantSigningKey, claims: &Value) -> String {
    let pkcs8 = STANDARD.decode(key.to_base64()).unwrap();
    let encoding = EncodingKey::from_ed_der(&pkcs8);
    jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), claims, &encoding).unwrap()
}

#[test]
fn an_issued_token_verifies_to_its_claims() {
    let key = GrantSigningKey::generate();
    let claims = claims(Some(noon() + TimeDelta::hours(1)));
    let token = key.issue(&claims);
    assert_eq!(key.verify_key().verify(&token, noon()), Ok(claims));
}

#[test]
fn a_token_from_another_jwt_library_verifies() {
    let key = GrantSigningKey::generate();
    let token = sign_with_jsonwebtoken(&key, &wire(json!({})));
    let claims = key.verify_key().verify(&token, noon()).unwrap();
    assert_eq!(claims.servers, ServerScope::All);
    assert_eq!(claims.expires_at, None);
}

#[test]
fn a_token_without_expiry_never_expires() {
    let key = GrantSigningKey::generate();
    let token = key.issue(&claims(None));
    let far_future = noon() + TimeDelta::days(365 * 50);
    assert!(key.verify_key().verify(&token, far_future).is_ok());
}

#[test]
fn a_token_expires_after_the_leeway() {
    let key = GrantSigningKey::generate();
    let expiry = noon() + TimeDelta::hours(1);
    let token = key.issue(&claims(Some(expiry)));
    let verify = key.verify_key();
    let last_good = expiry + TimeDelta::seconds(GRANT_TOKEN_LEEWAY_SECONDS - 1);
    assert!(verify.verify(&token, last_good).is_ok());
    let first_bad = expiry + TimeDelta::seconds(GRANT_TOKEN_LEEWAY_SECONDS);
    assert_eq!(verify.verify(&token, first_bad), Err(TokenError::Expired));
    // A token from another key is a bad signature, not "expired", even past its expiry.
    let stranger = GrantSigningKey::generate().verify_key();
    assert_eq!(
        stranger.verify(&token, first_bad),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn a_token_signed_by_another_key_is_refused() {
    let token = GrantSigningKey::generate().issue(&claims(None));
    let other = GrantSigningKey::generate().verify_key();
    assert_eq!(other.verify(&token, noon()), Err(TokenError::BadSignature));
}

#[test]
fn a_token_with_changed_claims_is_refused() {
    let key = GrantSigningKey::generate();
    let token = key.issue(&claims(None));
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["srv"] = json!("*");
    let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
    let forged = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    assert_eq!(
        key.verify_key().verify(&forged, noon()),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn an_hs256_token_keyed_with_the_public_key_is_refused() {
    // The classic algorithm confusion: an attacker knows the public key and uses its bytes as
    // an HMAC secret, hoping the verifier trusts the header's `alg`.
    let key = GrantSigningKey::generate();
    let public = STANDARD.decode(key.verify_key().to_base64()).unwrap();
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &wire(json!({})),
        &EncodingKey::from_secret(&public),
    )
    .unwrap();
    assert_eq!(
        key.verify_key().verify(&forged, noon()),
        Err(TokenError::DisallowedAlgorithm)
    );
}

#[test]
fn an_unsigned_token_is_refused() {
    let key = GrantSigningKey::generate();
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire(json!({}))).unwrap());
    for forged in [
        format!("{header}.{payload}."),
        format!("{header}.{payload}"),
    ] {
        let refused = key.verify_key().verify(&forged, noon()).unwrap_err();
        assert!(
            matches!(
                refused,
                TokenError::Malformed | TokenError::DisallowedAlgorithm
            ),
            "{forged}: {refused:?}"
        );
    }
}

#[test]
fn issuer_and_audience_are_checked() {
    let key = GrantSigningKey::generate();
    let verify = key.verify_key();
    let cases = [
        (json!({"iss": "someone-else"}), TokenError::WrongIssuer),
        (json!({"iss": null}), TokenError::WrongIssuer),
        (json!({"aud": "mcpgate-api"}), TokenError::WrongAudience),
        (json!({"aud": null}), TokenError::WrongAudience),
    ];
    for (changes, expected) in cases {
        let token = sign_with_jsonwebtoken(&key, &wire(changes.clone()));
        assert_eq!(verify.verify(&token, noon()), Err(expected), "{changes}");
    }
}

#[test]
fn tokens_that_are_not_grants_are_malformed() {
    let key = GrantSigningKey::generate();
    let verify = key.verify_key();
    for changes in [
        json!({"sub": null}),
        json!({"sub": "not-a-uuid"}),
        json!({"tid": null}),
        json!({"srv": "all"}),
        json!({"ver": -1}),
        json!({"exp": "tomorrow"}),
        json!({"iat": null}),
    ] {
        let token = sign_with_jsonwebtoken(&key, &wire(changes.clone()));
        assert_eq!(
            verify.verify(&token, noon()),
            Err(TokenError::Malformed),
            "{changes}"
        );
    }
    for garbage in [
        "",
        "abc",
        "a.b.c",
        "a.b",
        "..",
        "eyJhbGciOiJFZERTQSJ9.e30.AAAA",
    ] {
        let refused = verify.verify(garbage, noon()).unwrap_err();
        assert!(
            matches!(refused, TokenError::Malformed | TokenError::BadSignature),
            "{garbage}: {refused:?}"
        );
    }
}

#[test]
fn error_descriptions_fit_in_a_quoted_string() {
    for error in [
        TokenError::Malformed,
        TokenError::DisallowedAlgorithm,
        TokenError::BadSignature,
        TokenError::Expired,
        TokenError::WrongIssuer,
        TokenError::WrongAudience,
    ] {
        let description = error.to_string();
        assert!(!description.contains(['"', '\\']), "{description}");
    }
}

#[test]
fn a_verify_key_round_trips_through_base64() {
    let key = GrantSigningKey::generate().verify_key();
    assert_eq!(GrantVerifyKey::from_base64(&key.to_base64()).unwrap(), key);
    assert_eq!(
        format!("{key:?}"),
        format!("GrantVerifyKey({:?})", key.to_base64())
    );
}

#[test]
fn bad_verify_keys_are_refused_with_the_variable_name() {
    let signing = GrantSigningKey::generate().to_base64();
    for text in ["", "!!", "AAAA", signing.as_str()] {
        let error = GrantVerifyKey::from_base64(text).unwrap_err();
        assert!(matches!(error, AuthError::InvalidVerifyKey { .. }));
        assert!(error
            .to_string()
            .starts_with("MCPGATE_GRANT_VERIFY_KEY must be base64"));
    }
    let error = GrantVerifyKey::from_base64(&signing).unwrap_err();
    assert!(error.to_string().contains("signing key"), "{error}");
}

#[test]
fn an_audience_list_is_accepted_only_when_it_names_the_proxy() {
    let signing = GrantSigningKey::generate();
    let token = signing.issue(&claims(None).for_resource("https://proxy.example.com/mcp/a"));
    let verified = signing.verify_key().verify(&token, noon()).unwrap();
    assert_eq!(
        verified.resource.as_deref(),
        Some("https://proxy.example.com/mcp/a")
    );
    let plain = signing
        .verify_key()
        .verify(&signing.issue(&claims(None)), noon())
        .unwrap();
    assert_eq!(plain.resource, None);
}

#[test]
fn an_audience_list_without_the_proxy_is_refused() {
    let signing = GrantSigningKey::generate();
    let token = sign_with_jsonwebtoken(
        &signing,
        &wire(json!({"aud": ["https://proxy.example.com/mcp/a"]})),
    );
    assert!(signing.verify_key().verify(&token, noon()).is_err());
}
