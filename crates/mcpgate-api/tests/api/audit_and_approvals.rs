use chrono::{TimeDelta, Utc};
use mcpgate_store::approvals::{create_approval, NewApproval};
use mcpgate_store::audit::{insert_audit_events, AuditEvent};
use mcpgate_store::{ApprovalId, AuditEventId, ServerId, TenantId};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{demo, register, sign_up};

fn event(
    tenant: TenantId,
    server: ServerId,
    tool: &str,
    decision: &str,
    seconds_ago: i64,
) -> AuditEvent {
    AuditEvent {
        id: AuditEventId::new(),
        tenant_id: tenant,
        at: Utc::now() - TimeDelta::seconds(seconds_ago),
        server_id: Some(server),
        grant_id: None,
        request_id: None,
        method: "tools/call".into(),
        tool: Some(tool.into()),
        decision: decision.into(),
        rule: None,
        reason: None,
        policy_version: Some(1),
        upstream_status: Some(200),
        latency_us: Some(800),
        argument_keys: vec!["image".into()],
        arguments: None,
        actor: None,
    }
}

#[tokio::test]
async fn the_audit_log_filters_and_pages_newest_first() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = demo().await;
    let tenant = sign_up(&app).await;
    let server = register(&tenant, "k8s", &upstream.url()).await;
    let tenant_id: TenantId = tenant.tenant_id.parse().unwrap();
    let server_id: ServerId = server["id"].as_str().unwrap().parse().unwrap();
    let events: Vec<AuditEvent> = (0..25)
        .map(|i| {
            event(
                tenant_id,
                server_id,
                if i % 5 == 0 {
                    "k8s_delete_ns"
                } else {
                    "k8s_run_pod"
                },
                if i % 5 == 0 { "deny" } else { "allow" },
                i,
            )
        })
        .collect();
    insert_audit_events(&app.db.pool, &events).await.unwrap();
    // A retried batch does not duplicate rows.
    insert_audit_events(&app.db.pool, &events[..3])
        .await
        .unwrap();

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/audit?limit=10&cursor={c}"),
            None => "/api/v1/audit?limit=10".into(),
        };
        let (status, page) = tenant.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["at"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 25);
    let mut sorted = seen.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, sorted, "newest first");

    let (_, denied) = tenant
        .get("/api/v1/audit?decision=deny&tool=k8s_delete_ns")
        .await;
    assert_eq!(denied["events"].as_array().unwrap().len(), 5);
    let (status, body) = tenant.get("/api/v1/audit?cursor=garbage").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = tenant.get("/api/v1/audit?limit=0").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_held_call_is_approved_once_and_the_decision_is_published() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = demo().await;
    let tenant = sign_up(&app).await;
    let server = register(&tenant, "k8s", &upstream.url()).await;
    let tenant_id: TenantId = tenant.tenant_id.parse().unwrap();
    let id = ApprovalId::new();
    create_approval(
        &app.db.pool,
        tenant_id,
        &NewApproval {
            id,
            server_id: server["id"].as_str().unwrap().parse().unwrap(),
            grant_id: None,
            tool: "k8s_delete_ns".into(),
            arguments: json!({"name": "staging"}),
            rule: Some("/tools/k8s_delete_ns".into()),
            reason: Some("deleting a namespace needs a human".into()),
            expires_at: Utc::now() + TimeDelta::minutes(5),
        },
    )
    .await
    .unwrap();

    let (status, pending) = tenant.get("/api/v1/approvals?status=pending").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        pending["approvals"][0]["arguments"],
        json!({"name": "staging"})
    );

    let (status, decided) = tenant
        .post(
            &format!("/api/v1/approvals/{id}/approve"),
            json!({"reason": "planned"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(decided["status"], "approved");
    assert!(decided["decided_by"]
        .as_str()
        .unwrap()
        .starts_with("api-key:"));
    let (status, body) = tenant
        .post(&format!("/api/v1/approvals/{id}/deny"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "approval_not_pending");
    let (status, _) = tenant.get("/api/v1/approvals?status=bogus").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
