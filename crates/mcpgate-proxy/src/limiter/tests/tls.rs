//! The limiter and the change notifications over `rediss://`: a real redis-server that
//! speaks only TLS, with a private CA made for the test.

use std::time::Duration;

use futures_util::StreamExt;
use mcpgate_store::changes::{self, Change};
use mcpgate_store::{RedisTrust, ServerId, StoreError, TenantId};
use mcpgate_testkit::TestTlsRedis;

use super::*;

async fn connect(server: &TestTlsRedis, ca_file: &std::path::Path) -> Result<Redis, StoreError> {
    let trust = RedisTrust::private_ca_file(ca_file)?;
    mcpgate_store::connect_redis_trusting(&server.url(), &trust, Duration::from_secs(5)).await
}

#[tokio::test]
async fn the_limiter_admits_exactly_max_and_a_change_arrives_over_tls_with_a_private_ca() {
    let server = TestTlsRedis::start().await;
    let redis = connect(&server, &server.ca_file()).await.unwrap();
    let topology = redis.topology();
    assert_eq!((topology.kind, topology.tls), ("single", true));

    // The atomic script, over TLS: exactly `max` of a window's calls are admitted.
    let limiter = Limiter::new(redis.clone(), Duration::from_secs(2));
    let mut admitted = 0;
    let mut refused = 0;
    for _ in 0..5 {
        match limiter
            .reserve(&[charge("rl:{t}:tls", 3600, 3)])
            .await
            .unwrap()
        {
            Reservation::Taken(_) => admitted += 1,
            Reservation::Refused { index, .. } => {
                assert_eq!(index, 0);
                refused += 1;
            }
        }
    }
    assert_eq!((admitted, refused), (3, 2));

    // A change notification, published and heard over TLS (pub/sub has its own connection).
    let mut heard = Box::pin(changes::subscribe(&redis).await.unwrap());
    let change = Change::Server {
        tenant: TenantId::new(),
        server: ServerId::new(),
    };
    changes::publish(&redis, &change).await.unwrap();
    let arrived = tokio::time::timeout(Duration::from_secs(5), heard.next())
        .await
        .expect("the change arrives within 5 s");
    assert_eq!(arrived, Some(change));
}

#[tokio::test]
async fn a_server_signed_by_an_untrusted_ca_is_refused_at_once_with_the_reason() {
    let server = TestTlsRedis::start().await;
    // Precondition: the same server is reachable when its CA is trusted.
    connect(&server, &server.ca_file()).await.unwrap();

    let started = std::time::Instant::now();
    let error = connect(&server, &server.other_ca_file()).await.unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, StoreError::RedisTls { .. }), "{error:?}");
    assert!(message.contains("certificate was refused"), "{message}");
    assert!(message.contains("MCPGATE_REDIS_CA_FILE"), "{message}");
    // Refused without waiting out the 5 s of connect patience (nothing to retry).
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );

    // The public roots do not know the test's CA either.
    let public = mcpgate_store::connect_redis(&server.url(), Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(public, StoreError::RedisTls { .. }), "{public:?}");
}

#[tokio::test]
async fn a_private_ca_with_a_plain_url_is_refused_before_connecting() {
    let server = TestTlsRedis::start().await;
    let trust = RedisTrust::private_ca_file(&server.ca_file()).unwrap();
    let plain = server.url().replacen("rediss://", "redis://", 1);
    let error = mcpgate_store::connect_redis_trusting(&plain, &trust, Duration::from_secs(5))
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::InvalidUrl { .. }), "{error:?}");
    assert!(error.to_string().contains("rediss://"), "{error}");
}
