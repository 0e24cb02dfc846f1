//! The cache against a real JWKS endpoint on loopback whose keys and `Cache-Control`
//! the test changes, counting the requests it gets. Time is passed in, not waited for.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Router;
use mcpgate_auth::{IdTokenError, JwkSet};
use mcpgate_upstream::AddressPolicy;

use super::{ttl_from_cache_control, JwksCache, DEFAULT_TTL, MAX_TTL};
use crate::sso::provider::{self, Provider};
use crate::sso::SsoRefusal;

#[derive(Clone, Default)]
struct Endpoint {
    kids: Arc<Mutex<Vec<&'static str>>>,
    cache_control: Arc<Mutex<Option<&'static str>>>,
    requests: Arc<AtomicUsize>,
}

async fn jwks(State(endpoint): State<Endpoint>) -> impl IntoResponse {
    endpoint.requests.fetch_add(1, Ordering::SeqCst);
    let keys: Vec<serde_json::Value> = endpoint
        .kids
        .lock()
        .unwrap()
        .iter()
        .map(|kid| serde_json::json!({"kty": "oct", "k": "c2VjcmV0LWtleQ", "kid": kid}))
        .collect();
    let body = serde_json::json!({ "keys": keys }).to_string();
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(value) = *endpoint.cache_control.lock().unwrap() {
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, value.parse().unwrap());
    }
    response
}

/// The endpoint's state, and a provider whose `jwks_uri` is it.
async fn serve(kids: &[&'static str], cache_control: Option<&'static str>) -> (Endpoint, Provider) {
    let endpoint = Endpoint::default();
    *endpoint.kids.lock().unwrap() = kids.to_vec();
    *endpoint.cache_control.lock().unwrap() = cache_control;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    // Every path answers the keys (a fallback, not a route: the access-matrix source
    // check allows no route outside the route table).
    let app = Router::new().fallback(jwks).with_state(endpoint.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let issuer = format!("http://{address}");
    let provider = Provider {
        issuer: issuer.clone(),
        authorization_endpoint: format!("{issuer}/authorize"),
        token_endpoint: format!("{issuer}/token"),
        jwks_uri: format!("{issuer}/jwks"),
        code_challenge_methods_supported: None,
    };
    (endpoint, provider)
}

/// Stands in for the ID token check: accepted when the set has the token's key.
fn token_signed_by(kid: &'static str) -> impl Fn(&JwkSet) -> Result<&'static str, IdTokenError> {
    move |keys| keys.find(kid).map(|_| kid).ok_or(IdTokenError::UnknownKey)
}

fn client() -> reqwest::Client {
    provider::client(&AddressPolicy::new(true)).unwrap()
}

#[test]
fn cache_control_sets_the_lifetime_capped_at_an_hour_and_no_store_keeps_nothing() {
    assert_eq!(ttl_from_cache_control(None), DEFAULT_TTL);
    assert_eq!(
        ttl_from_cache_control(Some("public, max-age=120")),
        Duration::from_secs(120)
    );
    assert_eq!(ttl_from_cache_control(Some("max-age=86400")), MAX_TTL);
    assert_eq!(ttl_from_cache_control(Some("no-store")), Duration::ZERO);
    assert_eq!(
        ttl_from_cache_control(Some("max-age=600, no-cache")),
        Duration::ZERO
    );
    assert_eq!(ttl_from_cache_control(Some("max-age=soon")), DEFAULT_TTL);
}

#[tokio::test]
async fn keys_are_fetched_once_within_their_max_age_and_again_after_it() {
    let (endpoint, provider) = serve(&["k1"], Some("max-age=60")).await;
    let cache = JwksCache::default();
    let (client, start) = (client(), Instant::now());
    for offset in [0, 1, 59] {
        let now = start + Duration::from_secs(offset);
        let verified = cache
            .verify(&client, &provider, now, token_signed_by("k1"))
            .await
            .unwrap();
        assert_eq!(verified, "k1");
    }
    assert_eq!(
        endpoint.requests.load(Ordering::SeqCst),
        1,
        "one fetch in 59 s"
    );
    cache
        .verify(
            &client,
            &provider,
            start + Duration::from_secs(61),
            token_signed_by("k1"),
        )
        .await
        .unwrap();
    assert_eq!(
        endpoint.requests.load(Ordering::SeqCst),
        2,
        "refetched after max-age"
    );
}

#[tokio::test]
async fn a_rotated_key_is_fetched_once_and_a_key_nobody_has_is_refused_after_one_refetch() {
    let (endpoint, provider) = serve(&["k1"], Some("max-age=3600")).await;
    let cache = JwksCache::default();
    let (client, now) = (client(), Instant::now());
    cache
        .verify(&client, &provider, now, token_signed_by("k1"))
        .await
        .unwrap();
    assert_eq!(endpoint.requests.load(Ordering::SeqCst), 1);

    // The provider rotates: k2 signs from now on, k1 is gone.
    *endpoint.kids.lock().unwrap() = vec!["k2"];
    let verified = cache
        .verify(&client, &provider, now, token_signed_by("k2"))
        .await
        .unwrap();
    assert_eq!(verified, "k2");
    assert_eq!(
        endpoint.requests.load(Ordering::SeqCst),
        2,
        "one refetch for the new kid"
    );
    cache
        .verify(&client, &provider, now, token_signed_by("k2"))
        .await
        .unwrap();
    assert_eq!(
        endpoint.requests.load(Ordering::SeqCst),
        2,
        "then cached again"
    );

    let refused = cache
        .verify(&client, &provider, now, token_signed_by("forged"))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, SsoRefusal::IdToken(IdTokenError::UnknownKey)),
        "{refused:?}"
    );
    assert_eq!(
        endpoint.requests.load(Ordering::SeqCst),
        3,
        "exactly one refetch"
    );
    let old = cache
        .verify(&client, &provider, now, token_signed_by("k1"))
        .await
        .unwrap_err();
    assert!(matches!(old, SsoRefusal::IdToken(IdTokenError::UnknownKey)));
}

#[tokio::test]
async fn keys_answered_with_no_store_are_fetched_for_every_sign_in() {
    let (endpoint, provider) = serve(&["k1"], Some("no-store")).await;
    let cache = JwksCache::default();
    let (client, now) = (client(), Instant::now());
    for _ in 0..3 {
        cache
            .verify(&client, &provider, now, token_signed_by("k1"))
            .await
            .unwrap();
    }
    assert_eq!(endpoint.requests.load(Ordering::SeqCst), 3);
}
