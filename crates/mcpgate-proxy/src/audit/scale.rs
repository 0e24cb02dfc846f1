//! The audit log at scale (issue 17, item 3): the real writer (queue, batches, the
//! write lock) filling `audit_events` with `AUDIT_SCALE_ROWS` rows (10 million by
//! default), then the API's audit list query, first and deep pages, with and without
//! filters. Ignored: run by `scripts/audit-scale.sh`, not CI; the figures are in
//! docs/benchmarks.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use mcpgate_store::audit::{query_audit, AuditEvent, AuditFilter};
use mcpgate_store::{AuditEventId, ServerId, TenantId};
use tokio_util::sync::CancellationToken;

use super::{start, WriterSettings};
use crate::metrics::Metrics;

const TENANTS: usize = 20;
const TOOLS: [&str; 10] = [
    "k8s_get_nodes",
    "k8s_get_pods",
    "k8s_run_pod",
    "k8s_delete_pod",
    "k8s_logs",
    "k8s_exec",
    "k8s_scale",
    "k8s_apply",
    "k8s_describe",
    "k8s_rollout",
];
/// The rows are spread over this many days, one partition each.
const DAYS: i64 = 10;

fn scale_event(i: u64, rows: u64, tenants: &[TenantId], server: ServerId) -> AuditEvent {
    // Half the rows are the first tenant's, the rest spread evenly.
    let tenant = if i % 2 == 0 {
        tenants[0]
    } else {
        tenants[1 + (i as usize / 2) % (TENANTS - 1)]
    };
    let decision = match i % 100 {
        0 | 1 => "deny",
        2..=6 => "limited",
        _ => "allow",
    };
    let offset = TimeDelta::milliseconds((DAYS * 86_400_000) * i as i64 / rows as i64);
    AuditEvent {
        id: AuditEventId::new(),
        tenant_id: tenant,
        // From now on, into the partitions made ahead.
        at: Utc::now() + offset,
        server_id: Some(server),
        grant_id: None,
        request_id: Some(format!("req-{i}")),
        method: "tools/call".into(),
        tool: Some(TOOLS[(i as usize / 7) % TOOLS.len()].into()),
        decision: decision.into(),
        rule: (decision != "allow").then(|| "tools.k8s_run_pod".into()),
        reason: None,
        policy_version: Some(3),
        upstream_status: Some(200),
        latency_us: Some(900 + (i % 500) as i64),
        argument_keys: vec!["namespace".into(), "name".into()],
        arguments: None,
        actor: None,
    }
}

/// Median and 95th percentile of `runs` timings of `query`.
async fn time_query(
    pool: &mcpgate_store::PgPool,
    tenant: TenantId,
    filter: &AuditFilter,
    runs: usize,
) -> (Duration, Duration, usize) {
    let mut timings = Vec::with_capacity(runs);
    let mut rows = 0;
    for _ in 0..runs {
        let started = Instant::now();
        rows = query_audit(pool, tenant, filter, 51).await.unwrap().len();
        timings.push(started.elapsed());
    }
    timings.sort();
    (timings[runs / 2], timings[runs * 95 / 100], rows)
}

#[tokio::test]
#[ignore = "minutes of work at 10 million rows: run by scripts/audit-scale.sh"]
async fn audit_log_at_scale() {
    let rows: u64 = std::env::var("AUDIT_SCALE_ROWS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(10_000_000);
    let db = mcpgate_testkit::fresh_database().await;
    let pool = db.pool.clone();
    let tenants: Vec<TenantId> = (0..TENANTS).map(|_| TenantId::new()).collect();
    for tenant in &tenants {
        sqlx::query("INSERT INTO tenants (id, name) VALUES ($1, 'scale')")
            .bind(tenant)
            .execute(&pool)
            .await
            .unwrap();
    }
    let server = ServerId::new();

    // The proxy's production writer settings.
    let settings = WriterSettings {
        capacity: 50_000,
        batch_size: 500,
        flush_interval: Duration::from_millis(200),
    };
    let metrics = Arc::new(Metrics::default());
    let stop = CancellationToken::new();
    let (queue, writer) = start(
        pool.clone(),
        settings,
        None,
        Arc::clone(&metrics),
        stop.clone(),
        CancellationToken::new(),
    )
    .unwrap();
    let started = Instant::now();
    for i in 0..rows {
        // Keep below the queue's bound: a real proxy would drop, a benchmark waits.
        while queue.depth() >= settings.capacity - 1 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        queue.record(scale_event(i, rows, &tenants, server));
        if i % 1_000_000 == 999_999 {
            eprintln!(
                "{} rows queued after {:.0?} ({:.0} rows/s)",
                i + 1,
                started.elapsed(),
                (i + 1) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    stop.cancel();
    writer.await.unwrap();
    let elapsed = started.elapsed();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM audit_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(stored as u64, rows, "every row written, none dropped");
    let partitions: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit_events'::regclass",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    println!(
        "insert: {rows} rows in {:.1} s = {:.0} rows/s (writer: batches of {}, one writer), {partitions} partitions",
        elapsed.as_secs_f64(),
        rows as f64 / elapsed.as_secs_f64(),
        settings.batch_size
    );
    sqlx::query("ANALYZE audit_events")
        .execute(&pool)
        .await
        .unwrap();

    let big = tenants[0];
    let small = tenants[1];
    // A cursor halfway down the big tenant's log, and one 95% down.
    let position_at = |fraction: f64| {
        let pool = pool.clone();
        async move {
            let offset = ((rows / 2) as f64 * fraction) as i64;
            sqlx::query_scalar::<_, i64>(
                "SELECT position FROM audit_events WHERE tenant_id = $1 \
                 ORDER BY position DESC OFFSET $2 LIMIT 1",
            )
            .bind(big)
            .bind(offset)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let middle = position_at(0.5).await;
    let deep = position_at(0.95).await;
    let day = Utc::now() + TimeDelta::days(4);
    let cases: Vec<(&str, TenantId, AuditFilter)> = vec![
        ("big tenant, first page", big, AuditFilter::default()),
        (
            "big tenant, cursor halfway",
            big,
            AuditFilter {
                before_position: Some(middle),
                ..AuditFilter::default()
            },
        ),
        (
            "big tenant, cursor 95% down",
            big,
            AuditFilter {
                before_position: Some(deep),
                ..AuditFilter::default()
            },
        ),
        (
            "big tenant, decision=deny, first page",
            big,
            AuditFilter {
                decision: Some("deny".into()),
                ..AuditFilter::default()
            },
        ),
        (
            "big tenant, decision=deny, cursor 95% down",
            big,
            AuditFilter {
                decision: Some("deny".into()),
                before_position: Some(deep),
                ..AuditFilter::default()
            },
        ),
        (
            "big tenant, tool=k8s_exec, first page",
            big,
            AuditFilter {
                tool: Some("k8s_exec".into()),
                ..AuditFilter::default()
            },
        ),
        (
            "big tenant, tool=k8s_exec, cursor 95% down",
            big,
            AuditFilter {
                tool: Some("k8s_exec".into()),
                before_position: Some(deep),
                ..AuditFilter::default()
            },
        ),
        (
            "big tenant, one hour (since/until)",
            big,
            AuditFilter {
                since: Some(day),
                until: Some(day + TimeDelta::hours(1)),
                ..AuditFilter::default()
            },
        ),
        ("small tenant, first page", small, AuditFilter::default()),
        (
            "small tenant, decision=deny, first page",
            small,
            AuditFilter {
                decision: Some("deny".into()),
                ..AuditFilter::default()
            },
        ),
    ];
    println!("| query (51 rows asked) | median | p95 | rows |");
    println!("|---|---|---|---|");
    for (name, tenant, filter) in cases {
        // One warm-up, then the timed runs.
        time_query(&pool, tenant, &filter, 1).await;
        let (median, p95, got) = time_query(&pool, tenant, &filter, 40).await;
        assert!(got > 0, "precondition: {name} finds rows");
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {got} |",
            median.as_secs_f64() * 1000.0,
            p95.as_secs_f64() * 1000.0
        );
    }
    assert_eq!(metrics.audit_dropped(0), 0, "nothing dropped");
}
