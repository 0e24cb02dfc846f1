//! A tenant's correction of a tool's classification wins everywhere the
//! classification is used, survives re-syncs of the same definition, is flagged
//! when the definition changes, is audited, and is invisible to other tenants.

mod support;

use mcpgate_store::{servers, ServerId, TenantId};
use reqwest::StatusCode;
use serde_json::{json, Value};

use self::support::{
    eventually, grant, refused, rewritten_upstream, rewritten_upstream_of, tool_path, upstream,
    Agent, LISTING, OPAQUE,
};
use crate::helpers::{register, sign_up};

const REASON: &str = "it also labels namespaces in our fork";

fn correction() -> Value {
    json!({"category": "destructive", "risk": "high", "reason": REASON})
}

#[tokio::test]
async fn an_override_wins_in_the_tool_the_recommended_policy_a_class_rule_and_the_proxy() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = upstream().await;
    let tenant = sign_up(&app).await;
    let server = register(&tenant, "k8s", &upstream.url()).await;
    let id = server["id"].as_str().unwrap();
    let (_, before) = tenant.get(&tool_path(id, LISTING, "")).await;
    assert_eq!(
        (&before["category"], &before["risk"]),
        (&json!("read"), &json!("low"))
    );
    assert_eq!(before["override"], Value::Null);

    // An active policy that allows reads by class and denies everything else.
    let policy =
        json!({"version": "1", "default": "deny", "classes": [{"match": {"category": "read"}}]});
    let (status, body) = tenant
        .put(&format!("/api/v1/servers/{id}/policy"), policy)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let agent = Agent::connect(&app, id, grant(&tenant, id).await).await;
    assert!(
        !refused(&agent.call(LISTING).await),
        "a read is allowed by its class"
    );

    let (status, corrected) = tenant
        .put(&tool_path(id, LISTING, "/classification"), correction())
        .await;
    assert_eq!(status, StatusCode::OK, "{corrected}");
    assert_eq!(corrected["category"], "destructive");
    assert_eq!(corrected["risk"], "high");
    assert_eq!(
        corrected["classified_as"],
        json!({"category": "read", "risk": "low"})
    );
    assert_eq!(corrected["override"]["reason"], REASON);
    assert_eq!(corrected["override"]["stale"], false);
    assert_eq!(corrected["review"], false);
    let (_, shown) = tenant.get(&tool_path(id, LISTING, "")).await;
    assert_eq!(shown["category"], "destructive");
    let (_, listed) = tenant.get(&format!("/api/v1/servers/{id}/tools")).await;
    let in_list = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == LISTING);
    assert_eq!(in_list.expect("listed")["risk"], "high");

    // The recommended policy treats it as destructive, and says why.
    let (_, recommended) = tenant
        .get(&format!("/api/v1/servers/{id}/policy/recommended"))
        .await;
    let entry = &recommended["tools"][LISTING];
    assert_eq!(entry["action"], "require_approval", "{recommended}");
    assert!(
        entry["reason"].as_str().unwrap().contains(REASON),
        "{entry}"
    );

    // The query the proxy loads tools with reads the override...
    let tenant_id: TenantId = tenant.tenant_id.parse().unwrap();
    let server_id: ServerId = id.parse().unwrap();
    let stored = servers::list_tools(&app.db.pool, tenant_id, server_id)
        .await
        .unwrap();
    let stored = stored.iter().find(|t| t.name == LISTING).expect("stored");
    assert_eq!(
        (stored.category.as_str(), stored.risk.as_str()),
        ("destructive", "high")
    );
    // ...and the proxy, told to reload, no longer lets the class rule allow it.
    let refusal = eventually("the proxy to follow the override", || async {
        let answer = agent.call(LISTING).await;
        refused(&answer).then_some(answer)
    })
    .await;
    let decision = &refusal["result"]["structuredContent"];
    assert_eq!(
        decision["rule"], "(default deny)",
        "no class selects it: {refusal}"
    );

    // Removing the override gives the classifier's verdict back, everywhere.
    let (status, removed) = tenant
        .delete(&tool_path(id, LISTING, "/classification"))
        .await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_eq!(
        (&removed["category"], &removed["override"]),
        (&json!("read"), &Value::Null)
    );
    eventually("the proxy to follow the removal", || async {
        (!refused(&agent.call(LISTING).await)).then_some(())
    })
    .await;
    let (status, again) = tenant
        .delete(&tool_path(id, LISTING, "/classification"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{again}");
}

#[tokio::test]
async fn every_override_is_recorded_with_who_when_from_and_to() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = upstream().await;
    let tenant = sign_up(&app).await;
    let id = register(&tenant, "k8s", &upstream.url()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = tool_path(&id, LISTING, "/classification");
    assert_eq!(tenant.put(&path, correction()).await.0, StatusCode::OK);
    let second = json!({"category": "write", "risk": "medium", "reason": "labels only"});
    assert_eq!(tenant.put(&path, second).await.0, StatusCode::OK);
    assert_eq!(tenant.delete(&path).await.0, StatusCode::OK);

    let (status, history) = tenant.get(&format!("{path}/history")).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let changes = history["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 3, "{history}");
    let summary: Vec<(&str, &str, &str, bool, &str, &str, bool)> = changes
        .iter()
        .map(|c| {
            (
                c["action"].as_str().unwrap(),
                c["from_category"].as_str().unwrap(),
                c["from_risk"].as_str().unwrap(),
                c["from_override"].as_bool().unwrap(),
                c["to_category"].as_str().unwrap(),
                c["to_risk"].as_str().unwrap(),
                c["to_override"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("removed", "write", "medium", true, "read", "low", false),
            ("set", "destructive", "high", true, "write", "medium", true),
            ("set", "read", "low", false, "destructive", "high", true),
        ],
        "newest first"
    );
    for change in changes {
        assert!(
            change["actor"].as_str().unwrap().starts_with("api-key:"),
            "{change}"
        );
        assert!(
            change["at"].is_string() && change["fingerprint"].is_string(),
            "{change}"
        );
    }
    assert_eq!(changes[2]["reason"], REASON);
    assert_eq!(changes[0]["reason"], Value::Null);
}

#[tokio::test]
async fn an_override_survives_a_resync_and_is_flagged_when_the_definition_changes() {
    let app = mcpgate_testkit::spawn_app().await;
    let (original, rewritten) = (upstream().await, rewritten_upstream().await);
    let tenant = sign_up(&app).await;
    let id = register(&tenant, "k8s", &original.url()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = tool_path(&id, LISTING, "/classification");
    let (_, set) = tenant.put(&path, correction()).await;
    assert_eq!(set["override"]["fingerprint"], set["fingerprint"]);

    let (status, sync) = tenant
        .post(&format!("/api/v1/servers/{id}/sync"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{sync}");
    assert!(sync["sync"]["unchanged"].as_u64().unwrap() > 0, "{sync}");
    let (_, kept) = tenant.get(&tool_path(&id, LISTING, "")).await;
    assert_eq!(
        (&kept["category"], &kept["override"]["stale"]),
        (&json!("destructive"), &json!(false))
    );
    assert_eq!(kept["review"], false);

    // Another address serving the tool with a changed definition (PATCH rediscovers).
    let patch = json!({"url": rewritten.url()});
    assert_eq!(
        tenant
            .patch(&format!("/api/v1/servers/{id}"), patch)
            .await
            .0,
        StatusCode::OK
    );
    let (_, flagged) = tenant.get(&tool_path(&id, LISTING, "")).await;
    assert_ne!(
        flagged["fingerprint"], set["fingerprint"],
        "the definition changed"
    );
    assert_eq!(
        flagged["category"], "destructive",
        "the override still applies"
    );
    assert_eq!(flagged["override"]["stale"], true);
    assert_eq!(
        flagged["override"]["applies"], true,
        "stricter than the new verdict, it keeps holding"
    );
    assert_eq!(flagged["review"], true);

    // Setting it again confirms it against the new definition.
    let (_, confirmed) = tenant.put(&path, correction()).await;
    assert_eq!(
        (&confirmed["override"]["stale"], &confirmed["review"]),
        (&json!(false), &json!(false))
    );
}

#[tokio::test]
async fn a_stale_override_that_loosened_a_tool_stops_applying_and_asks_for_review() {
    const DELETION: &str = "k8s_delete_ns";
    let app = mcpgate_testkit::spawn_app().await;
    let (original, rewritten) = (
        upstream().await,
        rewritten_upstream_of(DELETION, "Delete a namespace and all resources in it, now.").await,
    );
    let tenant = sign_up(&app).await;
    let id = register(&tenant, "k8s", &original.url()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, before) = tenant.get(&tool_path(&id, DELETION, "")).await;
    assert_eq!(
        (&before["category"], &before["risk"]),
        (&json!("destructive"), &json!("critical")),
        "{before}"
    );
    let loosened = json!({"category": "read", "risk": "low", "reason": "a dry run in our fork"});
    let (status, set) = tenant
        .put(&tool_path(&id, DELETION, "/classification"), loosened)
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(
        (&set["category"], &set["risk"]),
        (&json!("read"), &json!("low"))
    );
    assert_eq!(set["override"]["applies"], true);

    let patch = json!({"url": rewritten.url()});
    let (status, body) = tenant.patch(&format!("/api/v1/servers/{id}"), patch).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, flagged) = tenant.get(&tool_path(&id, DELETION, "")).await;
    assert_ne!(
        flagged["fingerprint"], set["fingerprint"],
        "the definition changed"
    );
    assert_eq!(
        (&flagged["category"], &flagged["risk"]),
        (&json!("destructive"), &json!("critical")),
        "the classifier's verdict on the new definition applies: {flagged}"
    );
    assert_eq!(
        (
            &flagged["override"]["stale"],
            &flagged["override"]["applies"]
        ),
        (&json!(true), &json!(false))
    );
    assert_eq!(flagged["override"]["category"], "read", "kept, for review");
    assert_eq!(flagged["review"], true);
    // The query the proxy loads tools with agrees.
    let tenant_id: TenantId = tenant.tenant_id.parse().unwrap();
    let server_id: ServerId = id.parse().unwrap();
    let stored = servers::list_tools(&app.db.pool, tenant_id, server_id)
        .await
        .unwrap();
    let stored = stored.iter().find(|t| t.name == DELETION).expect("stored");
    assert_eq!(
        (stored.category.as_str(), stored.risk.as_str()),
        ("destructive", "critical")
    );

    // Confirming it against the new definition makes it apply again.
    let confirmed = json!({"category": "read", "risk": "low", "reason": "still a dry run"});
    let (_, again) = tenant
        .put(&tool_path(&id, DELETION, "/classification"), confirmed)
        .await;
    assert_eq!(
        (
            &again["category"],
            &again["override"]["applies"],
            &again["review"]
        ),
        (&json!("read"), &json!(true), &json!(false))
    );
}

#[tokio::test]
async fn a_low_confidence_verdict_asks_for_review_until_someone_corrects_it() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = upstream().await;
    let tenant = sign_up(&app).await;
    let id = register(&tenant, "k8s", &upstream.url()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, opaque) = tenant.get(&tool_path(&id, OPAQUE, "")).await;
    assert_eq!(opaque["confidence"], "low", "{opaque}");
    assert!(!opaque["confidence_reasons"].as_array().unwrap().is_empty());
    assert_eq!(opaque["review"], true);
    let (_, listing) = tenant.get(&tool_path(&id, LISTING, "")).await;
    assert_ne!(listing["confidence"], "low", "{listing}");
    assert_eq!(listing["review"], false);

    let reviewed = json!({"category": "read", "risk": "low", "reason": "returns a random word"});
    let (_, corrected) = tenant
        .put(&tool_path(&id, OPAQUE, "/classification"), reviewed)
        .await;
    assert_eq!(
        (&corrected["confidence"], &corrected["review"]),
        (&json!("low"), &json!(false))
    );
}

#[tokio::test]
async fn bad_corrections_are_refused_at_their_field() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = upstream().await;
    let tenant = sign_up(&app).await;
    let id = register(&tenant, "k8s", &upstream.url()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = tool_path(&id, LISTING, "/classification");
    for (body, at) in [
        (
            json!({"category": "harmless", "risk": "low", "reason": "x"}),
            "/category",
        ),
        (
            json!({"category": "read", "risk": "none", "reason": "x"}),
            "/risk",
        ),
        (
            json!({"category": "read", "risk": "low", "reason": "  "}),
            "/reason",
        ),
    ] {
        let (status, error) = tenant.put(&path, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{error}");
        assert_eq!(error["error"]["details"][0]["path"], at, "{error}");
    }
    let (status, _) = tenant
        .put(
            &tool_path(&id, "no_such_tool", "/classification"),
            correction(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, unchanged) = tenant.get(&tool_path(&id, LISTING, "")).await;
    assert_eq!(unchanged["override"], Value::Null);
}

#[tokio::test]
async fn another_tenant_can_neither_see_nor_correct_the_classification() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = upstream().await;
    let owner = sign_up(&app).await;
    let other = sign_up(&app).await;
    let id = register(&owner, "k8s", &upstream.url()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = tool_path(&id, LISTING, "/classification");
    assert_eq!(owner.put(&path, correction()).await.0, StatusCode::OK);

    assert_eq!(
        other.get(&tool_path(&id, LISTING, "")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        other
            .put(
                &path,
                json!({"category": "read", "risk": "low", "reason": "mine"})
            )
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(other.delete(&path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        other.get(&format!("{path}/history")).await.0,
        StatusCode::NOT_FOUND
    );

    let (_, still) = owner.get(&tool_path(&id, LISTING, "")).await;
    assert_eq!(still["override"]["reason"], REASON);
    let (_, history) = owner.get(&format!("{path}/history")).await;
    assert_eq!(history["changes"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_correction_is_stored_and_audited_while_redis_is_down() {
    let mut app = mcpgate_testkit::spawn_app().await;
    let upstream = upstream().await;
    let (key, tenant_id, id) = {
        let tenant = sign_up(&app).await;
        let server = register(&tenant, "k8s", &upstream.url()).await;
        let id = server["id"].as_str().unwrap().to_owned();
        (tenant.key, tenant.tenant_id, id)
    };
    app.redis.kill().await;
    let tenant = mcpgate_testkit::rest::Tenant {
        app: &app,
        key,
        tenant_id,
    };

    // The change cannot be announced; it is committed, answered and recorded
    // anyway, and proxies pick it up when they next load the server.
    let started = std::time::Instant::now();
    let (status, corrected) = tenant
        .put(&tool_path(&id, LISTING, "/classification"), correction())
        .await;
    assert_eq!(status, StatusCode::OK, "{corrected}");
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    let (_, shown) = tenant.get(&tool_path(&id, LISTING, "")).await;
    assert_eq!(shown["category"], "destructive");
    let path = tool_path(&id, LISTING, "/classification/history");
    let (_, history) = tenant.get(&path).await;
    assert_eq!(history["changes"].as_array().unwrap().len(), 1, "{history}");
}
