//! Grant token verification runs on every proxied request; issuing runs once per grant.

use chrono::{TimeDelta, Utc};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use mcpgate_auth::{GrantClaims, GrantSigningKey, ServerScope};
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
    c.bench_function("issue grant token", |b| {
        b.iter(|| signing_key.issue(black_box(&claims)))
    });
}

criterion_group!(benches, tokens);
criterion_main!(benches);
