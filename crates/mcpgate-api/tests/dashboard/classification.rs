//! Correcting a tool's classification from the tools table: "review this" on an
//! unsure verdict, the form on the row, the override shown, and its removal.

use mcpgate_demo::{Catalog, DemoSettings};
use mcpgate_store::classifications;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::Browser;

const LISTING: &str = "k8s_get_namespaces";

async fn upstream_with_an_opaque_tool() -> mcpgate_demo::DemoHandle {
    let catalogue: Value = serde_json::from_str(include_str!(
        "../../../mcpgate-demo/catalogs/k8s-multicluster-mcp.json"
    ))
    .unwrap();
    let mut tools = catalogue["tools"].as_array().unwrap().clone();
    tools.push(json!({"name": "frobnicate", "inputSchema": {"type": "object"}}));
    mcpgate_demo::spawn(DemoSettings {
        catalog: Catalog::from_tools(&tools).unwrap(),
        ..DemoSettings::default()
    })
    .await
}

#[tokio::test]
async fn a_tenant_corrects_a_tool_from_its_row_and_removes_the_correction() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = upstream_with_an_opaque_tool().await;
    let browser = Browser::signed_up(&app).await;
    let page = browser.add_server("k8s", &upstream.url()).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let server_path = page.path.clone();
    let server_id = server_path.strip_prefix("/servers/").unwrap().to_owned();

    let opaque = page
        .row("tool-row-frobnicate")
        .expect("the opaque tool's row");
    assert!(opaque.contains("data-testid=\"tool-review\""), "{opaque}");
    let listing = page
        .row(&format!("tool-row-{LISTING}"))
        .expect("the listing's row");
    assert!(
        !listing.contains("data-testid=\"tool-review\""),
        "{listing}"
    );
    assert!(
        listing.contains("data-testid=\"category-badge\">read<"),
        "{listing}"
    );
    assert!(listing.contains(&format!("data-testid=\"tool-classify-{LISTING}\"")));
    assert!(
        !listing.contains("data-testid=\"override-badge\""),
        "{listing}"
    );

    let action = format!("{server_path}/tool-classification");
    let corrected = browser
        .submit(
            &server_path,
            &action,
            &[
                ("tool", LISTING),
                ("category", "destructive"),
                ("risk", "high"),
                ("reason", "our fork labels namespaces"),
            ],
        )
        .await;
    assert_eq!(corrected.status, StatusCode::OK, "{}", corrected.html);
    assert_eq!(corrected.path, server_path);
    let row = corrected.row(&format!("tool-row-{LISTING}")).unwrap();
    assert!(
        row.contains("data-testid=\"category-badge\">destructive<"),
        "{row}"
    );
    assert!(row.contains("data-testid=\"risk-badge\">high<"), "{row}");
    assert!(row.contains("data-testid=\"override-badge\""), "{row}");
    let note = corrected
        .testid_text("tool-override")
        .expect("the override note");
    assert!(note.contains(&browser.email), "{note}");
    assert!(note.contains("our fork labels namespaces"), "{note}");
    assert!(note.contains("the classifier said read / low"), "{note}");

    // Audited under the signed-in user.
    let (tenant, server) = mcpgate_store::servers::every_server(&app.db.pool)
        .await
        .unwrap()
        .into_iter()
        .find(|(_, id)| id.to_string() == server_id)
        .expect("the server");
    let history = classifications::history(&app.db.pool, tenant, server, LISTING)
        .await
        .unwrap();
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].actor, format!("user:{}", browser.email));
    assert_eq!(
        (history[0].to_category.as_str(), history[0].to_risk.as_str()),
        ("destructive", "high")
    );

    let removed = browser
        .submit(
            &server_path,
            &format!("{server_path}/tool-classification/remove"),
            &[("tool", LISTING)],
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.html);
    let row = removed.row(&format!("tool-row-{LISTING}")).unwrap();
    assert!(
        row.contains("data-testid=\"category-badge\">read<"),
        "{row}"
    );
    assert!(!row.contains("data-testid=\"override-badge\""), "{row}");
}

#[tokio::test]
async fn the_correction_form_needs_the_session_csrf_token_and_a_reason() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = upstream_with_an_opaque_tool().await;
    let browser = Browser::signed_up(&app).await;
    let page = browser.add_server("k8s", &upstream.url()).await;
    let action = format!("{}/tool-classification", page.path);
    let fields = [("tool", LISTING), ("category", "read"), ("risk", "low")];

    let forged = browser
        .post(&action, &[&fields[..], &[("reason", "x")]].concat())
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.html);
    let blank = browser
        .submit(
            &page.path,
            &action,
            &[&fields[..], &[("reason", " ")]].concat(),
        )
        .await;
    assert_eq!(
        blank.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        blank.html
    );

    let after = browser.get(&page.path).await;
    let row = after.row(&format!("tool-row-{LISTING}")).unwrap();
    assert!(!row.contains("data-testid=\"override-badge\""), "{row}");
}
