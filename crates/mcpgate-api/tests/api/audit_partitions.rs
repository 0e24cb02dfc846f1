//! The partitioned audit log: the migration keeps existing rows, positions never let a
//! row land behind a reader, and the upkeep makes and drops partitions by retention.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{TimeDelta, Utc};
use mcpgate_store::audit::{
    audit_events_after, insert_audit_events, maintain_audit_partitions, query_audit, AuditEvent,
    AuditFilter, AuditRetention,
};
use mcpgate_store::{AuditEventId, PgPool, PostgresSettings, TenantId};
use sqlx::migrate::Migrator;

/// The first migration of the partitioned log.
const PARTITIONING: i64 = 20261201100000;

pub(crate) fn event(tenant: TenantId, seconds_ago: i64) -> AuditEvent {
    AuditEvent {
        id: AuditEventId::new(),
        tenant_id: tenant,
        at: Utc::now() - TimeDelta::seconds(seconds_ago),
        server_id: None,
        grant_id: None,
        request_id: None,
        method: "tools/call".into(),
        tool: Some("k8s_get_nodes".into()),
        decision: "allow".into(),
        rule: None,
        reason: None,
        policy_version: Some(1),
        upstream_status: Some(200),
        latency_us: Some(800),
        argument_keys: Vec::new(),
        arguments: None,
        actor: None,
    }
}

async fn empty_database() -> PgPool {
    let admin = std::env::var("MCPGATE_TEST_DATABASE_URL").expect("run through scripts/test.sh");
    let base = admin
        .rsplit_once('/')
        .map_or(admin.as_str(), |(base, _)| base);
    let url = format!("{base}/test_{}", uuid::Uuid::new_v4().simple());
    mcpgate_store::ensure_database(&url).await.unwrap();
    mcpgate_store::connect_postgres(&PostgresSettings {
        url,
        max_connections: 8,
        connect_timeout: Duration::from_secs(10),
    })
    .await
    .unwrap()
}

async fn tenant(pool: &PgPool) -> TenantId {
    let tenant = TenantId::new();
    sqlx::query("INSERT INTO tenants (id, name) VALUES ($1, 'audit')")
        .bind(tenant)
        .execute(pool)
        .await
        .unwrap();
    tenant
}

#[tokio::test]
async fn rows_written_before_partitioning_are_readable_after_it_in_their_time_order() {
    let pool = empty_database().await;
    let all = sqlx::migrate!("../../migrations");
    // The migrations before partitioning. sqlx (pinned at 0.8.6) keeps these fields
    // public for its macro; a newer sqlx that hides them breaks only this test.
    let before = Migrator {
        migrations: Cow::Owned(
            all.migrations
                .iter()
                .filter(|migration| migration.version < PARTITIONING)
                .cloned()
                .collect(),
        ),
        ..all
    };
    assert!(
        before.migrations.len() < all.migrations.len(),
        "precondition"
    );
    before.run(&pool).await.unwrap();
    let tenant = tenant(&pool).await;
    // Rows of the old table: three days back to now, written out of time order.
    let mut old_ids = Vec::new();
    for minutes_ago in [5, 4000, 0, 90, 2000] {
        let id = AuditEventId::new();
        sqlx::query(
            "INSERT INTO audit_events (id, tenant_id, at, method, decision) \
             VALUES ($1, $2, now() - make_interval(mins => $3), 'tools/call', 'allow')",
        )
        .bind(id)
        .bind(tenant)
        .bind(minutes_ago)
        .execute(&pool)
        .await
        .unwrap();
        old_ids.push((minutes_ago, id));
    }
    let partitioned_before: bool =
        sqlx::query_scalar("SELECT relkind = 'p' FROM pg_class WHERE relname = 'audit_events'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(!partitioned_before, "precondition: the old, plain table");

    all.run(&pool).await.unwrap();

    let partitioned: bool =
        sqlx::query_scalar("SELECT relkind = 'p' FROM pg_class WHERE relname = 'audit_events'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(partitioned);
    let read = query_audit(&pool, tenant, &AuditFilter::default(), 100)
        .await
        .unwrap();
    old_ids.sort_by_key(|(minutes_ago, _)| *minutes_ago);
    let expected: Vec<AuditEventId> = old_ids.iter().map(|(_, id)| *id).collect();
    let got: Vec<AuditEventId> = read.iter().map(|row| row.event.id).collect();
    assert_eq!(got, expected, "every old row, newest first");
    // New rows come after them.
    let new = event(tenant, 0);
    insert_audit_events(&pool, std::slice::from_ref(&new))
        .await
        .unwrap();
    let read = query_audit(&pool, tenant, &AuditFilter::default(), 100)
        .await
        .unwrap();
    assert_eq!(read.len(), 6);
    assert_eq!(read[0].event.id, new.id);
    assert!(read[0].position > read[1].position);
}

#[tokio::test]
async fn a_reader_tailing_positions_sees_every_row_of_concurrent_writers_exactly_once() {
    let db = mcpgate_testkit::fresh_database().await;
    let pool = db.pool.clone();
    let tenant = tenant(&pool).await;
    // Four writers, each with batches whose clocks disagree by up to a minute (a
    // proxy behind, a batch retried after an outage), while a reader tails.
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let pool = pool.clone();
            tokio::spawn(async move {
                let mut ids = Vec::new();
                for batch in 0..25 {
                    let skew = if (writer + batch) % 2 == 0 { 60 } else { 0 };
                    let events: Vec<AuditEvent> = (0..8).map(|_| event(tenant, skew)).collect();
                    ids.extend(events.iter().map(|e| e.id));
                    insert_audit_events(&pool, &events).await.unwrap();
                }
                ids
            })
        })
        .collect();
    let mut seen = Vec::new();
    let mut position = 0;
    let mut written = BTreeSet::new();
    let mut writers = writers;
    loop {
        let page = audit_events_after(&pool, tenant, position, 50)
            .await
            .unwrap();
        if let Some(last) = page.last() {
            position = last.position;
        }
        seen.extend(page.iter().map(|row| row.event.id));
        if writers.iter().all(tokio::task::JoinHandle::is_finished) && page.is_empty() {
            for writer in writers.drain(..) {
                written.extend(writer.await.unwrap());
            }
            // One more read after every writer has finished.
            let rest = audit_events_after(&pool, tenant, position, 1000)
                .await
                .unwrap();
            seen.extend(rest.iter().map(|row| row.event.id));
            break;
        }
    }
    assert_eq!(written.len(), 800, "precondition");
    let unique: BTreeSet<AuditEventId> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no row read twice");
    assert_eq!(unique, written, "no row left behind the reader's position");
}

#[tokio::test]
async fn the_upkeep_makes_partitions_ahead_and_drops_them_by_the_longest_retention() {
    let db = mcpgate_testkit::fresh_database().await;
    let pool = db.pool.clone();
    let keeps_long = tenant(&pool).await;
    let keeps_default = tenant(&pool).await;
    sqlx::query("UPDATE tenants SET audit_retention_days = 60 WHERE id = $1")
        .bind(keeps_long)
        .execute(&pool)
        .await
        .unwrap();
    let events = [event(keeps_long, 0), event(keeps_default, 0)];
    insert_audit_events(&pool, &events).await.unwrap();
    let count = |tenant: TenantId| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM audit_events WHERE tenant_id = $1")
                .bind(tenant)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(
        (count(keeps_long).await, count(keeps_default).await),
        (1, 1)
    );
    let retention = AuditRetention {
        default_days: 10,
        days_ahead: 3,
    };
    let today = format!("audit_events_p{}", Utc::now().format("%Y%m%d"));

    // Twenty days on: the default tenant's row is past its ten days, the long one's is
    // not, so the partition stays and only the default tenant's row goes.
    let later = Utc::now() + TimeDelta::days(20);
    let done = maintain_audit_partitions(&pool, retention, later)
        .await
        .unwrap()
        .expect("nobody else holds the lock");
    assert_eq!(done.created, 4, "the day twenty days on and three after it");
    assert!(done.dropped.is_empty(), "{:?}", done.dropped);
    assert_eq!(done.deleted_rows, 1);
    assert_eq!(
        (count(keeps_long).await, count(keeps_default).await),
        (1, 0)
    );
    let future = format!(
        "audit_events_p{}",
        (later + TimeDelta::days(3)).format("%Y%m%d")
    );
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(&future)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(exists, "{future} was made ahead");

    // Seventy days on, past the longest retention: today's partition is dropped whole.
    let done = maintain_audit_partitions(&pool, retention, Utc::now() + TimeDelta::days(70))
        .await
        .unwrap()
        .expect("nobody else holds the lock");
    assert!(done.dropped.contains(&today), "{:?}", done.dropped);
    assert!(
        done.dropped
            .iter()
            .any(|name| name.starts_with("audit_events_before_")),
        "{:?}",
        done.dropped
    );
    assert_eq!(count(keeps_long).await, 0);

    // While another replica runs it, this one skips.
    let mut other = pool.begin().await.unwrap();
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(0x6d63_7067_6d6e_7431_i64)
        .execute(&mut *other)
        .await
        .unwrap();
    let skipped = maintain_audit_partitions(&pool, retention, Utc::now())
        .await
        .unwrap();
    assert_eq!(skipped, None);
    other.rollback().await.unwrap();
}
