//! ID tokens signed here with a fresh P-256 key, checked claim by claim.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{encode, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

use super::*;

const ISSUER: &str = "https://login.example.com";
const CLIENT: &str = "mcpgate";
const NONCE: &str = "n-0S6_WzA2Mj";

struct Signer {
    key: EncodingKey,
    jwks: JwkSet,
}

fn signer() -> Signer {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let pair =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = pair.public_key().as_ref();
    assert_eq!(point.len(), 65, "an uncompressed P-256 point");
    let jwks: JwkSet = serde_json::from_value(json!({"keys": [{
        "kty": "EC", "crv": "P-256", "kid": "k1", "alg": "ES256", "use": "sig",
        "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
        "y": URL_SAFE_NO_PAD.encode(&point[33..]),
    }]}))
    .unwrap();
    Signer {
        key: EncodingKey::from_ec_der(pkcs8.as_ref()),
        jwks,
    }
}

fn claims() -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({"iss": ISSUER, "aud": CLIENT, "sub": "alice", "iat": now, "exp": now + 300,
        "nonce": NONCE, "email": "alice@example.com", "email_verified": true})
}

fn sign(signer: &Signer, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("k1".into());
    encode(&header, claims, &signer.key).unwrap()
}

fn verify(signer: &Signer, token: &str) -> Result<VerifiedIdentity, IdTokenError> {
    verify_id_token(
        token,
        &signer.jwks,
        &IdTokenExpectations {
            issuer: ISSUER,
            client_id: CLIENT,
            nonce: NONCE,
        },
    )
}

fn with(change: impl FnOnce(&mut Value)) -> Value {
    let mut claims = claims();
    change(&mut claims);
    claims
}

#[test]
fn a_well_formed_id_token_gives_the_verified_email() {
    let signer = signer();
    let identity = verify(&signer, &sign(&signer, &claims())).unwrap();
    assert_eq!(identity.email, "alice@example.com");
    assert_eq!(identity.subject, "alice");
}

#[test]
fn each_wrong_claim_is_refused_with_its_own_reason() {
    let signer = signer();
    let now = chrono::Utc::now().timestamp();
    let cases: [(Value, IdTokenError); 6] = [
        (
            with(|c| c["iss"] = json!("https://login.example.com/")),
            IdTokenError::WrongIssuer,
        ),
        (
            with(|c| c["aud"] = json!("another-client")),
            IdTokenError::WrongAudience,
        ),
        (
            with(|c| c["exp"] = json!(now - 3600)),
            IdTokenError::Expired,
        ),
        (
            with(|c| c["nonce"] = json!("replayed")),
            IdTokenError::WrongNonce,
        ),
        (
            with(|c| c["email_verified"] = json!(false)),
            IdTokenError::UnverifiedEmail,
        ),
        (
            with(|c| {
                c.as_object_mut().unwrap().remove("email_verified");
            }),
            IdTokenError::UnverifiedEmail,
        ),
    ];
    for (claims, expected) in cases {
        assert_eq!(
            verify(&signer, &sign(&signer, &claims)),
            Err(expected),
            "{claims}"
        );
    }
}

#[test]
fn a_token_signed_by_another_key_or_with_hs256_is_refused() {
    let signer = signer();
    // Another key published under the same kid: only the signature differs.
    let other = Signer {
        key: self::signer().key,
        jwks: signer.jwks.clone(),
    };
    assert!(matches!(
        verify(&signer, &sign(&other, &claims())),
        Err(IdTokenError::Signature(_))
    ));
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    let hmac = encode(&header, &claims(), &EncodingKey::from_secret(b"guess")).unwrap();
    assert_eq!(
        verify(&signer, &hmac),
        Err(IdTokenError::Algorithm("HS256".into()))
    );
}
