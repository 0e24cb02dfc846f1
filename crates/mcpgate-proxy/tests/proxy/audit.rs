//! The audit writer under hostile input: rows Postgres cannot store as sent, rows it
//! refuses outright, and one tenant flooding the queue shared with the others.

use std::future::Future;
use std::time::Duration;

use mcpgate_store::audit::{dead_letters, query_audit, AuditEvent};
use mcpgate_store::grants::{self, NewGrant};
use mcpgate_store::servers::{self, DiscoveredServer, NewServer};
use mcpgate_store::{policies, GrantId, ServerId, TenantId};
use serde_json::{json, Value};

use crate::helpers::{
    initialize_body, last_message, mint, seal_upstream_header, sign_up_tenant, spawn, stored_tools,
    Options, TestProxy,
};

const ALLOW_AND_AUDIT_ARGUMENTS: &str =
    r#"{"version":"1","default":"allow","settings":{"audit_arguments":true}}"#;

/// Waits (polling, up to 10 s) until `check` gives a value.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("still not true after 10 s: {what}");
}

/// Every audit row of `tenant`, newest first.
async fn rows_of(proxy: &TestProxy, tenant: TenantId) -> Vec<AuditEvent> {
    query_audit(&proxy.db.pool, tenant, &Default::default(), 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|row| row.event)
        .collect()
}

/// A second tenant on the same proxy: its own server (the same demo upstream), policy,
/// grant and session.
struct OtherTenant {
    tenant: TenantId,
    url: String,
    token: String,
    session: String,
}

impl OtherTenant {
    async fn sign_up(proxy: &TestProxy, policy: &str) -> Self {
        let tenant = sign_up_tenant(&proxy.db.pool, "Globex", "globexkk").await;
        let server = ServerId::new();
        let sealed = seal_upstream_header(&proxy.secret_key, tenant, server);
        servers::create_server(
            &proxy.db.pool,
            tenant,
            &NewServer {
                id: server,
                name: "k8s".into(),
                url: proxy.demo.url(),
                headers_sealed: Some(sealed),
                header_names: vec!["X-Upstream-Key".into()],
                discovered: DiscoveredServer {
                    transport: "streamable_http".into(),
                    server_info: None,
                    protocol_version: None,
                    instructions: None,
                },
            },
            &stored_tools(proxy).await,
        )
        .await
        .expect("creating the second tenant's server");
        policies::add_policy_version(&proxy.db.pool, tenant, server, policy, "test", None)
            .await
            .expect("adding the second tenant's policy");
        let grant = GrantId::new();
        grants::create_grant(
            &proxy.db.pool,
            tenant,
            &NewGrant {
                id: grant,
                name: "agent".into(),
                server_ids: Some(vec![server.as_uuid()]),
                policy: None,
                expires_at: None,
            },
        )
        .await
        .expect("creating the second tenant's grant");
        let token = mint(&proxy.signing_key, tenant, grant, server);
        let url = format!("http://{}/mcp/{server}/", proxy.addr);
        let response = proxy
            .client
            .post(&url)
            .bearer_auth(&token)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .body(initialize_body())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let session = response.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        Self {
            tenant,
            url,
            token,
            session,
        }
    }

    async fn call(&self, proxy: &TestProxy, id: u64, tool: &str, arguments: Value) -> Value {
        let body = json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
            "params":{"name":tool,"arguments":arguments}});
        let response = proxy
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .header("accept", "application/json, text/event-stream")
            .header("content-type", "application/json")
            .header("mcp-session-id", &self.session)
            .header("mcp-protocol-version", "2025-06-18")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        last_message(&response.text().await.unwrap())
    }
}

#[tokio::test]
async fn a_nul_byte_in_a_call_neither_stops_the_audit_log_nor_hides_the_evidence() {
    let proxy = spawn(Options {
        policy: Some(ALLOW_AND_AUDIT_ARGUMENTS.into()),
        ..Options::default()
    })
    .await;
    let other = OtherTenant::sign_up(&proxy, ALLOW_AND_AUDIT_ARGUMENTS).await;
    let session = proxy.initialize().await;

    // A NUL in the tool name, in an argument key and in an argument value: Postgres
    // refuses every one of them as sent (text columns and jsonb alike).
    let poisoned = json!({"na\u{0}me": "value\u{0}here", "nested": {"k\u{0}": ["\u{0}"]}});
    let (status, _) = proxy.call(&session, 1, "x\u{0}", poisoned.clone()).await;
    assert_eq!(status, 200);
    let (_, answer) = proxy
        .call(&session, 2, "k8s_get_nodes", poisoned.clone())
        .await;
    assert!(answer["result"]["isError"] != true, "{answer}");
    // Normal calls of both tenants afterwards.
    let (_, answer) = proxy
        .call(&session, 3, "k8s_get_nodes", json!({"a": 1}))
        .await;
    assert!(answer["result"]["isError"] != true, "{answer}");
    let answer = other
        .call(&proxy, 4, "k8s_get_nodes", json!({"b": 2}))
        .await;
    assert!(answer["result"]["isError"] != true, "{answer}");

    let ours = eventually("tenant A's three rows are written", || async {
        let rows = rows_of(&proxy, proxy.tenant).await;
        (rows.len() >= 3).then_some(rows)
    })
    .await;
    let theirs = eventually("tenant B's row is written", || async {
        let rows = rows_of(&proxy, other.tenant).await;
        (!rows.is_empty()).then_some(rows)
    })
    .await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].argument_keys, ["b"]);
    assert_eq!(ours.len(), 3, "{ours:?}");

    // The evidence stays readable: every NUL is shown as U+2400 SYMBOL FOR NULL.
    let odd_tool = ours
        .iter()
        .find(|row| row.tool.as_deref() == Some("x\u{2400}"))
        .expect("the call to the NUL-named tool is audited under its sanitised name");
    assert_eq!(odd_tool.argument_keys, ["na\u{2400}me", "nested"]);
    let allowed = ours
        .iter()
        .find(|row| row.tool.as_deref() == Some("k8s_get_nodes") && row.argument_keys.len() == 2)
        .expect("the allowed poisoned call is audited");
    assert_eq!(allowed.decision, "allow");
    assert_eq!(
        allowed.arguments,
        Some(json!({"na\u{2400}me": "value\u{2400}here", "nested": {"k\u{2400}": ["\u{2400}"]}}))
    );
    let dead = dead_letters(&proxy.db.pool, proxy.tenant, 10)
        .await
        .unwrap();
    assert!(
        dead.is_empty(),
        "sanitised rows need no dead letter: {dead:?}"
    );
}

/// A counter or gauge of the proxy's `/metrics`.
async fn metric(proxy: &TestProxy, name: &str) -> u64 {
    let text = proxy
        .client
        .get(format!("http://{}/metrics", proxy.addr))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_row_postgres_still_refuses_is_set_aside_and_the_rest_of_its_batch_is_written() {
    let proxy = spawn(Options {
        policy: Some(ALLOW_AND_AUDIT_ARGUMENTS.into()),
        settings: |s| {
            // Rows are written only as full batches of five: the poisoned one shares its
            // batch with four good ones.
            s.audit_batch_size = 5;
            s.audit_flush_interval = Duration::from_secs(3600);
        },
        ..Options::default()
    })
    .await;
    // A refusal no sanitising can avoid.
    sqlx::query(
        "ALTER TABLE audit_events ADD CONSTRAINT test_refuses_poison \
         CHECK (NOT ('poison' = ANY (argument_keys)))",
    )
    .execute(&proxy.db.pool)
    .await
    .unwrap();
    let session = proxy.initialize().await;
    for id in 1..=5u64 {
        let arguments = if id == 3 {
            json!({"poison": true})
        } else {
            json!({"n": id})
        };
        let (_, answer) = proxy.call(&session, id, "k8s_get_nodes", arguments).await;
        assert!(answer["result"]["isError"] != true, "{answer}");
    }

    let dead = eventually("the refused row is set aside", || async {
        let dead = dead_letters(&proxy.db.pool, proxy.tenant, 10)
            .await
            .unwrap();
        (!dead.is_empty()).then_some(dead)
    })
    .await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(
        dead[0].error.contains("test_refuses_poison"),
        "{}",
        dead[0].error
    );
    let kept: AuditEvent = serde_json::from_str(&dead[0].event).expect("the event is JSON");
    assert_eq!(kept.id, dead[0].id);
    assert_eq!(kept.tenant_id, proxy.tenant);
    assert_eq!(kept.argument_keys, ["poison"]);
    assert_eq!(kept.arguments, Some(json!({"poison": true})));
    let rows = eventually("the other four rows of the batch are written", || async {
        let rows = rows_of(&proxy, proxy.tenant).await;
        (rows.len() >= 4).then_some(rows)
    })
    .await;
    assert_eq!(rows.len(), 4);
    assert!(
        rows.iter().all(|row| row.argument_keys == ["n"]),
        "{rows:?}"
    );
    assert_eq!(
        metric(&proxy, "mcpgate_proxy_audit_dead_letter_total").await,
        1
    );
    assert_eq!(metric(&proxy, "mcpgate_proxy_audit_dropped_total").await, 0);

    // And the writer carries on.
    for id in 6..=10u64 {
        proxy
            .call(&session, id, "k8s_get_nodes", json!({"n": id}))
            .await;
    }
    eventually("the next batch is written", || async {
        (rows_of(&proxy, proxy.tenant).await.len() == 9).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_failing_database_keeps_audit_rows_queued_and_writes_them_once_it_recovers() {
    let proxy = spawn(Options {
        policy: Some(ALLOW_AND_AUDIT_ARGUMENTS.into()),
        ..Options::default()
    })
    .await;
    // Every insert fails as a cancelled statement (a timeout, not the rows' fault),
    // and counts its attempt in a sequence, which a failed statement does not roll back.
    sqlx::raw_sql(
        "CREATE SEQUENCE test_audit_attempts;
         CREATE FUNCTION test_audit_outage() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             PERFORM nextval('test_audit_attempts');
             RAISE EXCEPTION 'simulated outage' USING ERRCODE = '57014';
         END $$;
         CREATE TRIGGER test_audit_outage BEFORE INSERT ON audit_events
             FOR EACH STATEMENT EXECUTE FUNCTION test_audit_outage();",
    )
    .execute(&proxy.db.pool)
    .await
    .unwrap();
    let session = proxy.initialize().await;
    for id in 1..=3u64 {
        let (_, answer) = proxy
            .call(&session, id, "k8s_get_nodes", json!({"n": id}))
            .await;
        assert!(answer["result"]["isError"] != true, "{answer}");
    }
    eventually("the writer has tried and failed more than once", || async {
        let (attempts, called): (i64, bool) =
            sqlx::query_as("SELECT last_value, is_called FROM test_audit_attempts")
                .fetch_one(&proxy.db.pool)
                .await
                .unwrap();
        (called && attempts >= 3).then_some(())
    })
    .await;
    assert!(
        rows_of(&proxy, proxy.tenant).await.is_empty(),
        "precondition"
    );
    // The depth counts the rows waiting in the queue, not the batch the writer holds
    // while an attempt fails: wait for a moment between attempts.
    eventually("the three rows wait in the queue", || async {
        (metric(&proxy, "mcpgate_proxy_audit_queue_depth").await == 3).then_some(())
    })
    .await;

    sqlx::query("DROP TRIGGER test_audit_outage ON audit_events")
        .execute(&proxy.db.pool)
        .await
        .unwrap();
    let rows = eventually("the queued rows are written", || async {
        let rows = rows_of(&proxy, proxy.tenant).await;
        (rows.len() >= 3).then_some(rows)
    })
    .await;
    assert_eq!(rows.len(), 3);
    let dead = dead_letters(&proxy.db.pool, proxy.tenant, 10)
        .await
        .unwrap();
    assert!(
        dead.is_empty(),
        "an outage is not the rows' fault: {dead:?}"
    );
    assert_eq!(metric(&proxy, "mcpgate_proxy_audit_dropped_total").await, 0);
}

#[tokio::test]
async fn a_tenant_flooding_the_audit_queue_loses_its_own_rows_and_not_another_tenants() {
    let policy = r#"{"version":"1","default":"allow"}"#;
    let proxy = spawn(Options {
        policy: Some(policy.into()),
        settings: |s| s.audit_queue_capacity = 20,
        ..Options::default()
    })
    .await;
    let other = OtherTenant::sign_up(&proxy, policy).await;
    let session = proxy.initialize().await;

    // Stall the writer: it takes tenant A's first row and waits on a locked table.
    let mut lock = proxy.db.pool.begin().await.unwrap();
    sqlx::query("LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();
    proxy.call(&session, 0, "k8s_get_nodes", json!({})).await;
    eventually("the writer waits on the lock", || async {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
             AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO audit_events%'",
        )
        .fetch_one(&proxy.db.pool)
        .await
        .unwrap();
        (waiting == 1).then_some(())
    })
    .await;

    // Tenant A floods the queue well past its capacity of 20.
    for id in 1..=30u64 {
        proxy.call(&session, id, "k8s_get_nodes", json!({})).await;
    }
    let depth = metric(&proxy, "mcpgate_proxy_audit_queue_depth").await;
    assert_eq!(depth, 20, "precondition: the queue is full");
    let dropped = metric(&proxy, "mcpgate_proxy_audit_dropped_total").await;
    assert!(
        dropped >= 10,
        "precondition: A's surplus was dropped ({dropped})"
    );

    // Tenant B's rows are still accepted: A, holding the most, loses its newest instead.
    for id in 1..=3u64 {
        let answer = other.call(&proxy, id, "k8s_get_nodes", json!({})).await;
        assert!(answer["result"]["isError"] != true, "{answer}");
    }
    lock.commit().await.unwrap();
    let theirs = eventually("tenant B's rows are written", || async {
        let rows = rows_of(&proxy, other.tenant).await;
        (rows.len() >= 3).then_some(rows)
    })
    .await;
    assert_eq!(theirs.len(), 3);
    eventually("the queue is written out", || async {
        (metric(&proxy, "mcpgate_proxy_audit_queue_depth").await == 0).then_some(())
    })
    .await;
    // The row in flight when the writer stalled, and the 17 of A's left in the queue
    // after B's three took the place of A's newest.
    assert_eq!(rows_of(&proxy, proxy.tenant).await.len(), 18);
    assert_eq!(
        metric(&proxy, "mcpgate_proxy_audit_dropped_total").await,
        13
    );
}
