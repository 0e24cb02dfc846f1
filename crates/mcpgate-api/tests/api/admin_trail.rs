//! The admin audit trail over REST: every change with its actor and address, a policy
//! change with its version diff, filters, cursors, the JSON-lines export, and rows
//! the database itself refuses to change or delete.

use mcpgate_store::Role;
use mcpgate_testkit::spawn_app;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::access_matrix::key_with_role;
use crate::helpers::{demo, register, seed_policy, sign_up, Tenant};

async fn trail(tenant: &Tenant<'_>, query: &str) -> Value {
    let (status, body) = tenant.get(&format!("/api/v1/admin-audit{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn every_change_is_recorded_with_its_api_key_and_a_policy_with_its_diff() {
    let app = spawn_app().await;
    let tenant = sign_up(&app).await;
    let upstream = demo().await;
    let server = register(&tenant, "k8s", &upstream.url()).await;
    let id = server["id"].as_str().expect("an id").to_owned();
    let manager = Tenant {
        app: &app,
        key: key_with_role(&tenant, Role::PolicyManager).await,
        tenant_id: tenant.tenant_id.clone(),
    };
    let (status, body) = manager
        .put(&format!("/api/v1/servers/{id}/policy"), seed_policy())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut stricter = seed_policy();
    stricter["tools"]["k8s_run_pod"]["limits"][0]["max"] = json!(3);
    let (status, body) = manager
        .put(&format!("/api/v1/servers/{id}/policy"), stricter)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // A refused change (a viewer's, an invalid one) leaves no row.
    let (status, _) = manager
        .put(
            &format!("/api/v1/servers/{id}/policy"),
            json!({"nonsense": true}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let all = trail(&tenant, "").await;
    let events = all["events"].as_array().expect("events");
    // Newest first: two policies, the manager's key, the server.
    let routes: Vec<&str> = events
        .iter()
        .map(|e| e["route"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        routes,
        [
            "/api/v1/servers/{id}/policy",
            "/api/v1/servers/{id}/policy",
            "/api/v1/api-keys",
            "/api/v1/servers",
        ],
        "{all}"
    );
    let latest = &events[0];
    assert_eq!(latest["resource"], "policies");
    assert_eq!(latest["actor_kind"], "api_key");
    assert_eq!(latest["actor_role"], "policy_manager");
    assert!(latest["actor"]
        .as_str()
        .is_some_and(|a| a.starts_with("api-key:")));
    assert_eq!(latest["client_address"], "127.0.0.1");
    assert_eq!(latest["target"]["id"], id.as_str());
    assert_eq!(latest["changes"]["from_version"], 1);
    assert_eq!(latest["changes"]["to_version"], 2);
    let diff: Vec<&str> = latest["changes"]["diff"]
        .as_array()
        .expect("a diff")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!diff.is_empty(), "{latest}");
    assert!(diff
        .iter()
        .all(|line| line.starts_with('+') || line.starts_with('-')));
    assert_eq!(events[3]["actor_role"], "admin");

    // Filters and cursors: two pages of one policy change each, then none.
    let actor = latest["actor"].as_str().expect("the actor");
    let first = trail(&tenant, &format!("?actor={actor}&limit=1")).await;
    assert_eq!(first["events"].as_array().map(Vec::len), Some(1));
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = trail(&tenant, &format!("?actor={actor}&limit=1&cursor={cursor}")).await;
    assert_eq!(second["events"][0]["changes"]["to_version"], 1);
    assert_eq!(second["next_cursor"], Value::Null, "{second}");
    let servers = trail(&tenant, "?resource=servers").await;
    assert_eq!(servers["events"].as_array().map(Vec::len), Some(1));
    let (status, _) = tenant.get("/api/v1/admin-audit?cursor=garbage").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The export holds the same events, one per line.
    let export = app
        .client
        .get(app.api_url("/api/v1/admin-audit/export"))
        .bearer_auth(&tenant.key)
        .send()
        .await
        .expect("the export answers");
    assert_eq!(export.headers()["content-type"], "application/x-ndjson");
    let text = export.text().await.expect("a body");
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["id"], latest["id"]);
}

#[tokio::test]
async fn trail_rows_cannot_be_changed_or_deleted_and_other_tenants_see_none() {
    let app = spawn_app().await;
    let tenant = sign_up(&app).await;
    let (status, _) = tenant
        .post(
            "/api/v1/invitations",
            json!({"email": "ada@example.com", "role": "viewer"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM admin_audit_events")
        .fetch_one(&app.db.pool)
        .await
        .expect("counting");
    assert_eq!(count, 1);
    let update = sqlx::query("UPDATE admin_audit_events SET actor = 'someone else'")
        .execute(&app.db.pool)
        .await;
    assert!(update.is_err(), "an update is refused");
    let delete = sqlx::query("DELETE FROM admin_audit_events")
        .execute(&app.db.pool)
        .await;
    assert!(delete.is_err(), "a delete is refused");
    let still: i64 = sqlx::query_scalar("SELECT count(*) FROM admin_audit_events")
        .fetch_one(&app.db.pool)
        .await
        .expect("counting");
    assert_eq!(still, 1);

    let other = sign_up(&app).await;
    let theirs = trail(&other, "").await;
    assert_eq!(
        theirs["events"].as_array().map(Vec::len),
        Some(0),
        "{theirs}"
    );
    // Deleting the tenant takes its trail with it (the one delete allowed).
    sqlx::query("DELETE FROM tenants WHERE id = $1::uuid")
        .bind(&tenant.tenant_id)
        .execute(&app.db.pool)
        .await
        .expect("a tenant can be deleted");
}
