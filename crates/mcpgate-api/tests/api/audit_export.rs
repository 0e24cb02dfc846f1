//! SIEM export against a real HTTP receiver on loopback that checks every batch's
//! HMAC signature, and that can fail to force retries.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use mcpgate_store::audit::{insert_audit_events, AuditEvent};
use mcpgate_store::{AuditEventId, TenantId};
use mcpgate_testkit::{spawn_app_with, TestAppOptions};
use ring::hmac;
use serde_json::{json, Value};

use crate::audit_partitions::event;
use crate::helpers::sign_up;

/// One POST as the receiver saw it.
#[derive(Debug, Clone)]
struct Received {
    timestamp: String,
    signature: String,
    delivery: String,
    body: Bytes,
    /// What the receiver answered.
    accepted: bool,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON batch")
    }

    fn ids(&self) -> Vec<AuditEventId> {
        self.json()["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["id"].as_str().unwrap().parse().unwrap())
            .collect()
    }

    fn positions(&self) -> Vec<i64> {
        self.json()["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["position"].as_i64().unwrap())
            .collect()
    }

    /// Verifies the signature as the docs tell a receiver to: HMAC-SHA256 over
    /// `<timestamp>.<body>` with the secret, compared in constant time.
    fn signed_with(&self, secret: &str) -> bool {
        let Some(hex) = self.signature.strip_prefix("v1=") else {
            return false;
        };
        let Some(tag) = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
            .collect::<Option<Vec<u8>>>()
        else {
            return false;
        };
        let mut message = format!("{}.", self.timestamp).into_bytes();
        message.extend_from_slice(&self.body);
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        hmac::verify(&key, &message, &tag).is_ok()
    }
}

/// A receiver on `127.0.0.1:0`; answers 500 to its first `failures` POSTs.
#[derive(Clone)]
struct Receiver {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    failures: Arc<AtomicUsize>,
}

impl Receiver {
    async fn start(failures: usize) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let receiver = Receiver {
            addr: listener.local_addr().unwrap(),
            received: Arc::default(),
            failures: Arc::new(AtomicUsize::new(failures)),
        };
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn accepted_ids(&self) -> Vec<AuditEventId> {
        self.received()
            .iter()
            .filter(|r| r.accepted)
            .flat_map(Received::ids)
            .collect()
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let fail = receiver
        .failures
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    receiver.received.lock().unwrap().push(Received {
        timestamp: header("mcpgate-timestamp"),
        signature: header("mcpgate-signature"),
        delivery: header("mcpgate-delivery"),
        body,
        accepted: !fail,
    });
    if fail {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

async fn until<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn events(tenant: TenantId, count: usize) -> Vec<AuditEvent> {
    (0..count).map(|_| event(tenant, 0)).collect()
}

fn ids(events: &[AuditEvent]) -> BTreeSet<AuditEventId> {
    events.iter().map(|e| e.id).collect()
}

fn options(batch_size: usize, workers: usize) -> TestAppOptions {
    let mut options = TestAppOptions::default();
    options.audit_export.batch_size = batch_size;
    options.audit_export.workers = workers;
    options
}

#[tokio::test]
async fn signed_batches_reach_the_receiver_once_each_in_position_order() {
    let app = spawn_app_with(options(100, 2)).await;
    let tenant = sign_up(&app).await;
    let other = sign_up(&app).await;
    let tenant_id: TenantId = tenant.tenant_id.parse().unwrap();
    let other_id: TenantId = other.tenant_id.parse().unwrap();
    let receiver = Receiver::start(0).await;
    let before = events(tenant_id, 230);
    insert_audit_events(&app.db.pool, &before).await.unwrap();
    insert_audit_events(&app.db.pool, &events(other_id, 50))
        .await
        .unwrap();

    let (status, configured) = tenant
        .put(
            "/api/v1/audit/export",
            json!({"url": receiver.url(), "start": "earliest"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{configured}");
    let secret = configured["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{configured}");
    let after = events(tenant_id, 170);
    insert_audit_events(&app.db.pool, &after).await.unwrap();
    let mut expected = ids(&before);
    expected.extend(ids(&after));

    until("all 400 events arrive", || async {
        (receiver.accepted_ids().len() >= 400).then_some(())
    })
    .await;
    let received = receiver.received();
    assert!(
        received.len() >= 4,
        "batches of at most 100: {}",
        received.len()
    );
    for batch in &received {
        assert!(batch.accepted);
        assert!(
            batch.signed_with(&secret),
            "a valid signature on {}",
            batch.delivery
        );
        assert!(!batch.signed_with("whsec_wrong"));
        assert_eq!(batch.json()["tenant_id"], tenant.tenant_id.as_str());
        let positions = batch.positions();
        assert!(positions.len() <= 100);
        assert_eq!(
            batch.delivery,
            format!("{}-{}", positions[0], positions[positions.len() - 1])
        );
    }
    let positions: Vec<i64> = received.iter().flat_map(Received::positions).collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "in position order, once each"
    );
    let delivered = receiver.accepted_ids();
    let unique: BTreeSet<AuditEventId> = delivered.iter().copied().collect();
    assert_eq!(
        unique.len(),
        delivered.len(),
        "no duplicates from a healthy receiver"
    );
    assert_eq!(unique, expected, "exactly this tenant's events");

    let status = until("the status counts them", || async {
        let (_, status) = tenant.get("/api/v1/audit/export").await;
        (status["delivered_events"] == 400).then_some(status)
    })
    .await;
    assert_eq!(status["dead_letter_events"], 0);
    assert_eq!(status["failed_attempts"], 0);
    let (status, _) = other.get("/api/v1/audit/export").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the other tenant has none");
}

#[tokio::test]
async fn a_receiver_that_fails_gets_the_same_batch_again_until_it_takes_it() {
    let app = spawn_app_with(options(500, 1)).await;
    let tenant = sign_up(&app).await;
    let tenant_id: TenantId = tenant.tenant_id.parse().unwrap();
    // Three failures, below the tests' four attempts.
    let receiver = Receiver::start(3).await;
    let (status, configured) = tenant
        .put("/api/v1/audit/export", json!({"url": receiver.url()}))
        .await;
    assert_eq!(status, StatusCode::OK, "{configured}");
    let secret = configured["secret"].as_str().unwrap().to_owned();
    let written = events(tenant_id, 40);
    insert_audit_events(&app.db.pool, &written).await.unwrap();

    until("the batch is taken", || async {
        (!receiver.accepted_ids().is_empty()).then_some(())
    })
    .await;
    let received = receiver.received();
    assert_eq!(
        received.len(),
        4,
        "three refused attempts, then the accepted one"
    );
    assert_eq!(received.iter().filter(|r| !r.accepted).count(), 3);
    for attempt in &received {
        assert!(attempt.signed_with(&secret));
        assert_eq!(
            attempt.delivery, received[0].delivery,
            "the same batch each time"
        );
        assert_eq!(ids_of(attempt), ids(&written), "with the same event ids");
    }
    let status = until("the status is settled", || async {
        let (_, status) = tenant.get("/api/v1/audit/export").await;
        (status["delivered_events"] == 40).then_some(status)
    })
    .await;
    assert_eq!(status["failed_attempts"], 0);
    assert_eq!(status["dead_letter_events"], 0);
}

fn ids_of(received: &Received) -> BTreeSet<AuditEventId> {
    received.ids().into_iter().collect()
}

#[tokio::test]
async fn a_batch_every_attempt_fails_is_given_up_counted_and_passed() {
    let app = spawn_app_with(options(10, 1)).await;
    let tenant = sign_up(&app).await;
    let tenant_id: TenantId = tenant.tenant_id.parse().unwrap();
    // Four failures: every attempt of the first batch.
    let receiver = Receiver::start(4).await;
    let (status, _) = tenant
        .put("/api/v1/audit/export", json!({"url": receiver.url()}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let lost = events(tenant_id, 10);
    insert_audit_events(&app.db.pool, &lost).await.unwrap();
    let status = until("the batch is given up", || async {
        let (_, status) = tenant.get("/api/v1/audit/export").await;
        (status["dead_letter_events"] == 10).then_some(status)
    })
    .await;
    assert!(
        status["last_error"].as_str().unwrap().contains("500"),
        "{status}"
    );
    let dead: (i64, i64, i32, i32) = sqlx::query_as(
        "SELECT first_position, last_position, events, attempts FROM audit_export_dead_letter \
         WHERE tenant_id = $1",
    )
    .bind(tenant_id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!((dead.2, dead.3), (10, 4));

    // The export moves on: the next events are delivered.
    let next = events(tenant_id, 5);
    insert_audit_events(&app.db.pool, &next).await.unwrap();
    until("the next batch arrives", || async {
        (!receiver.accepted_ids().is_empty()).then_some(())
    })
    .await;
    let accepted: BTreeSet<AuditEventId> = receiver.accepted_ids().into_iter().collect();
    assert_eq!(accepted, ids(&next));
    assert!(receiver
        .received()
        .iter()
        .all(|r| r.accepted || ids_of(r) == ids(&lost)));
    let first_next = receiver
        .received()
        .iter()
        .find(|r| r.accepted)
        .unwrap()
        .positions()[0];
    assert!(first_next > dead.1, "after the given-up batch");
}

#[tokio::test]
async fn a_restarted_replica_resumes_after_the_last_delivered_position() {
    // The app's own API delivers nothing; replicas started and stopped by the test do.
    let app = spawn_app_with(options(100, 0)).await;
    let tenant = sign_up(&app).await;
    let tenant_id: TenantId = tenant.tenant_id.parse().unwrap();
    let receiver = Receiver::start(0).await;
    let (status, _) = tenant
        .put("/api/v1/audit/export", json!({"url": receiver.url()}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let first = events(tenant_id, 250);
    insert_audit_events(&app.db.pool, &first).await.unwrap();
    let replica = app.spawn_api_replica(options(100, 1)).await;
    until("the first replica delivers 250", || async {
        (receiver.accepted_ids().len() >= 250).then_some(())
    })
    .await;
    drop(replica);
    let delivered_by_first = receiver.received().len();

    let second = events(tenant_id, 150);
    insert_audit_events(&app.db.pool, &second).await.unwrap();
    let _replica = app.spawn_api_replica(options(100, 1)).await;
    until("the restarted replica delivers 150 more", || async {
        (receiver.accepted_ids().len() >= 400).then_some(())
    })
    .await;
    let after_restart: BTreeSet<AuditEventId> = receiver.received()[delivered_by_first..]
        .iter()
        .flat_map(Received::ids)
        .collect();
    let mut everything = ids(&first);
    everything.extend(ids(&second));
    let delivered: BTreeSet<AuditEventId> = receiver.accepted_ids().into_iter().collect();
    assert_eq!(delivered, everything, "nothing lost");
    // At least once: a batch in flight at the stop may come again, nothing older.
    let first_ids = ids(&first);
    let resent: BTreeSet<_> = after_restart.intersection(&first_ids).collect();
    assert!(
        resent.len() <= 100,
        "at most the batch in flight: {}",
        resent.len()
    );
    assert!(ids(&second).is_subset(&after_restart));
}

#[tokio::test]
async fn a_webhook_must_be_https_or_loopback_in_development() {
    let app = spawn_app_with(TestAppOptions {
        allow_private_upstreams: false,
        ..TestAppOptions::default()
    })
    .await;
    let tenant = sign_up(&app).await;
    for url in [
        "http://siem.example.com/hook",
        "http://127.0.0.1:9/hook",
        "https://127.0.0.1:9/hook",
        "https://169.254.169.254/latest",
        "not a url",
    ] {
        let (status, body) = tenant
            .put("/api/v1/audit/export", json!({"url": url}))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
        assert_eq!(body["error"]["details"][0]["path"], "/url", "{body}");
    }
    let (status, body) = tenant
        .put(
            "/api/v1/audit/export",
            json!({"url": "https://siem.example.com/hook"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = tenant.delete("/api/v1/audit/export").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = tenant.get("/api/v1/audit/export").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
