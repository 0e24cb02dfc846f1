//! Grant token verification runs on every proxied request; issuing runs once per grant.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{TimeDelta, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use mcpgate_auth::{GrantClaims, GrantSigningKey, ServerScope};
use ring::signature::{UnparsedPublicKey, ED25519};
use uuid::Uuid;

fn tokens(c: &mut Criterion) {
    let signing_key = GrantSigningKey::generate();
    let verify_key = signing_key.verify_key();
    let now = Utc::now();
    let scope = ServerScope::Only(vec![Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()]);
    let claims = GrantClaims::new(
        Uuid::now_v7(),
        Uuid::now_v7(),
        scope,
        3,
        now,
        Some(now + TimeDelta::days(30)),
    );
    let token = signing_key.issue(&claims);

    c.bench_function("verify grant token", |b| {
        b.iter(|| verify_key.verify(black_box(&token), now).unwrap())
    });
    // The floor: the Ed25519 signature check alone, without JWT parsing and claims.
    let (message, signature) = token.rsplit_once('.').unwrap();
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap();
    let public_key = STANDARD.decode(verify_key.to_base64()).unwrap();
    let public_key = UnparsedPublicKey::new(&ED25519, public_key);
    c.bench_function("ed25519 signature check alone", |b| {
        b.iter(|| {
            public_key
                .verify(black_box(message.as_bytes()), &signature)
                .unwrap()
        })
    });
    c.bench_function("issue grant token", |b| {
        b.iter(|| signing_key.issue(black_box(&claims)))
    });
}

criterion_group!(benches, tokens);
criterion_main!(benches);
