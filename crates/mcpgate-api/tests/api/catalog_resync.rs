//! Automatic catalogue re-syncs: a proxy's `SyncRequested`, answered once per
//! cooldown across replicas, and the periodic re-sync of every server.

mod upstream;

use std::time::Duration;

use futures_util::StreamExt;
use mcpgate_local::{LocalRedis, RedisOptions};
use mcpgate_store::changes::{self, Change};
use mcpgate_store::sync_claims::sync_claim_key;
use mcpgate_testkit::{spawn_app_with, TestAppOptions};

use self::upstream::{
    discoveries, eventually, request_sync, revision, rewritten_demo, tool, wait_for_listeners,
    SwitchableUpstream, REWRITTEN_TOOL,
};
use crate::helpers::{demo, register, sign_up};

const LIST_CHANGED: &str = "tools/list_changed notification";

#[tokio::test]
async fn a_proxys_sync_request_flags_a_rewritten_tool_within_seconds_and_tells_the_proxies() {
    let app = mcpgate_testkit::spawn_app().await;
    let (original, rewritten) = (demo().await, rewritten_demo().await);
    let upstream = SwitchableUpstream::to(&original).await;
    let tenant = sign_up(&app).await;
    let server = register(&tenant, "k8s", &upstream.url()).await;
    let id = server["id"].as_str().unwrap();
    let before = tool(&tenant, id, REWRITTEN_TOOL).await;
    assert_eq!(before["changed_since_approval"], false, "{before}");
    assert_eq!(before["approved_fingerprint"], before["fingerprint"]);

    upstream.switch_to(&rewritten);
    wait_for_listeners(&app, 2).await;
    let mut announcements = std::pin::pin!(changes::subscribe(&app.redis_conn).await.unwrap());
    request_sync(&app, &tenant, id, LIST_CHANGED).await;

    let after = eventually("the rewritten tool to be flagged", || async {
        let now = tool(&tenant, id, REWRITTEN_TOOL).await;
        (now["changed_since_approval"] == true).then_some(now)
    })
    .await;
    assert_ne!(after["fingerprint"], before["fingerprint"]);
    assert_eq!(after["approved_fingerprint"], before["fingerprint"]);
    assert_eq!(discoveries(&rewritten), 1);
    let reload = Change::Server {
        tenant: tenant.tenant_id.parse().unwrap(),
        server: id.parse().unwrap(),
    };
    let announced = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(change) = announcements.next().await {
            if change == reload {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(announced, Ok(true), "proxies are told to reload");
}

#[tokio::test]
async fn requests_within_the_cooldown_run_one_sync_across_two_replicas() {
    let cooldown = Duration::from_secs(2);
    let app = spawn_app_with(TestAppOptions {
        catalog_resync_cooldown: cooldown,
        ..TestAppOptions::default()
    })
    .await;
    let _second_replica = app
        .spawn_api_replica(TestAppOptions {
            catalog_resync_cooldown: cooldown,
            ..TestAppOptions::default()
        })
        .await;
    let upstream = demo().await;
    let tenant = sign_up(&app).await;
    let server = register(&tenant, "k8s", &upstream.url()).await;
    let id = server["id"].as_str().unwrap();
    let first = revision(&tenant, id).await;
    assert_eq!(discoveries(&upstream), 1, "registration discovered once");
    wait_for_listeners(&app, 3).await;

    // Two requests, each heard by both replicas.
    request_sync(&app, &tenant, id, LIST_CHANGED).await;
    request_sync(&app, &tenant, id, LIST_CHANGED).await;
    eventually("one sync", || async {
        (revision(&tenant, id).await > first).then_some(())
    })
    .await;

    // Once the cooldown is over a request is answered again; by then the
    // duplicates, had they run, would have long finished.
    let key = sync_claim_key(tenant.tenant_id.parse().unwrap(), id.parse().unwrap());
    eventually("the claim to expire", || async {
        let exists: i64 = redis::cmd("EXISTS")
            .arg(&key)
            .query_async(&mut app.redis_conn.connection())
            .await
            .ok()?;
        (exists == 0).then_some(())
    })
    .await;
    request_sync(&app, &tenant, id, LIST_CHANGED).await;
    eventually("a second sync", || async {
        (revision(&tenant, id).await > first + 1).then_some(())
    })
    .await;
    assert_eq!(revision(&tenant, id).await, first + 2);
    assert_eq!(
        discoveries(&upstream),
        3,
        "registration and one sync per cooldown"
    );
}

#[tokio::test]
async fn the_periodic_resync_flags_a_rewritten_tool_and_skips_deleted_servers() {
    let app = spawn_app_with(TestAppOptions {
        catalog_resync_interval: Duration::from_secs(1),
        catalog_resync_cooldown: Duration::from_millis(500),
        ..TestAppOptions::default()
    })
    .await;
    let (original, rewritten) = (demo().await, rewritten_demo().await);
    let upstream = SwitchableUpstream::to(&original).await;
    let tenant = sign_up(&app).await;
    let server = register(&tenant, "k8s", &upstream.url()).await;
    let id = server["id"].as_str().unwrap();
    let doomed_upstream = demo().await;
    let doomed = register(&tenant, "doomed", &doomed_upstream.url()).await;
    let (status, _) = tenant
        .delete(&format!(
            "/api/v1/servers/{}",
            doomed["id"].as_str().unwrap()
        ))
        .await;
    assert!(status.is_success());
    let before = tool(&tenant, id, REWRITTEN_TOOL).await;
    assert_eq!(before["changed_since_approval"], false, "{before}");

    upstream.switch_to(&rewritten);
    eventually("the periodic re-sync to flag the tool", || async {
        let now = tool(&tenant, id, REWRITTEN_TOOL).await;
        (now["changed_since_approval"] == true).then_some(())
    })
    .await;
    // Counted well after the deletion, so no sync of it is still on its way.
    let deleted_discoveries = discoveries(&doomed_upstream);
    assert!(deleted_discoveries >= 1, "its registration discovered it");
    // Two more periodic syncs are at least one interval apart, so the deleted
    // server's slot has come and gone meanwhile.
    let flagged_at = revision(&tenant, id).await;
    eventually("two more periodic syncs", || async {
        (revision(&tenant, id).await >= flagged_at + 2).then_some(())
    })
    .await;
    assert_eq!(discoveries(&doomed_upstream), deleted_discoveries);
}

#[tokio::test]
async fn a_failing_upstream_is_logged_and_the_next_request_is_still_answered() {
    let app = mcpgate_testkit::spawn_app().await;
    let tenant = sign_up(&app).await;
    let vanishing = demo().await;
    let broken = register(&tenant, "broken", &vanishing.url()).await;
    let broken_id = broken["id"].as_str().unwrap();
    let (original, rewritten) = (demo().await, rewritten_demo().await);
    let upstream = SwitchableUpstream::to(&original).await;
    let healthy = register(&tenant, "healthy", &upstream.url()).await;
    let healthy_id = healthy["id"].as_str().unwrap();
    let broken_revision = revision(&tenant, broken_id).await;
    drop(vanishing);
    upstream.switch_to(&rewritten);
    wait_for_listeners(&app, 2).await;

    request_sync(&app, &tenant, broken_id, LIST_CHANGED).await;
    request_sync(&app, &tenant, healthy_id, LIST_CHANGED).await;
    eventually("the healthy server's sync", || async {
        let now = tool(&tenant, healthy_id, REWRITTEN_TOOL).await;
        (now["changed_since_approval"] == true).then_some(())
    })
    .await;
    assert_eq!(revision(&tenant, broken_id).await, broken_revision);
}

#[tokio::test]
async fn after_redis_restarts_sync_requests_are_answered_again() {
    let app = mcpgate_testkit::spawn_app().await;
    let (original, rewritten) = (demo().await, rewritten_demo().await);
    let upstream = SwitchableUpstream::to(&original).await;
    let tenant = sign_up(&app).await;
    let server = register(&tenant, "k8s", &upstream.url()).await;
    let id = server["id"].as_str().unwrap();
    wait_for_listeners(&app, 2).await;
    let port: u16 = app.redis.url().rsplit(':').next().unwrap().parse().unwrap();

    let _: Result<(), _> = redis::cmd("SHUTDOWN")
        .arg("NOSAVE")
        .query_async(&mut app.redis_conn.connection())
        .await;
    eventually("Redis to stop", || async {
        tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
            .then_some(())
    })
    .await;
    let _restarted = LocalRedis::start(RedisOptions {
        port,
        data_dir: None,
        startup_timeout: Duration::from_secs(10),
    })
    .await
    .expect("restarting Redis on the same port");
    upstream.switch_to(&rewritten);
    // A fresh Redis has no listeners: both are back only once they resubscribed.
    wait_for_listeners(&app, 2).await;
    request_sync(&app, &tenant, id, LIST_CHANGED).await;
    eventually("the rewritten tool to be flagged", || async {
        let now = tool(&tenant, id, REWRITTEN_TOOL).await;
        (now["changed_since_approval"] == true).then_some(())
    })
    .await;
}
