//! The dashboard in a real browser: headless Chromium, driven through chromedriver
//! (WebDriver) by `fantoccini`, walks the whole journey against the real product
//! in-process — sign up, add the demo k8s server, read its classification, apply the
//! seed policy in the editor, create a grant on the connect page — and then a real MCP
//! client (the Python SDK) uses the URL and token the page showed and is refused its
//! 11th `k8s_run_pod` call in a minute. Four members with the four roles then each
//! do what their role allows and meet a 403 page where it does not. And an official SDK
//! client with OAuth and no token (the Python SDK 2.x) is let in on the real login and
//! consent pages, and its calls are governed by the server's policy.
//!
//! Every page visited is saved as a full-page screenshot in `test-artifacts/browser/`,
//! so a person can look at what a customer sees. `docs/img/oauth-*.png` are the OAuth
//! journey's, run through `pngquant --quality 60-85` to keep them small.
//!
//! Chromium and chromedriver are Debian's packages, installed by `scripts/test.sh`
//! (`ensure_browser` in `scripts/prereqs.sh`).

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use mcpgate_demo::DemoSettings;
use mcpgate_e2e::drivers::{Driver, Sdk};
use mcpgate_e2e::oauth_upstream::{AuthorizationServer, ProtectedServer};
use mcpgate_e2e::window::ensure_room_in_minute;
use nix::sys::signal::Signal;
use serde_json::{json, Value};

// The OAuth tests' SDK driver and its signed-in member, shared with `oauth.rs`; this
// binary drives the SDK only, and answers consent in the browser instead.
#[allow(dead_code)]
#[path = "oauth/agent.rs"]
mod agent;
#[allow(dead_code)]
#[path = "oauth/member.rs"]
mod member;

use agent::{Agent, OAuthSdk};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const SEED_POLICY: &str = r#"{"version":"1","default":"deny","tools":{"k8s_run_pod":{"limits":[{"counter":"k8s_run_pod_rate","window":"minute","max":10,"scope":"grant"}]}}}"#;
const POD: &str = r#"{"context":"prod","name":"job","image":"registry.internal/tools:1.2"}"#;
const DESKTOP: (u32, u32) = (1280, 900);
/// A phone held upright, give or take.
const NARROW: (u32, u32) = (420, 900);
/// How long an element may take to appear after a navigation.
const PATIENCE: Duration = Duration::from_secs(20);

#[tokio::test]
async fn a_customer_sets_up_a_server_in_the_browser_and_its_agent_is_rate_limited() {
    let started = Instant::now();
    let app = mcpgate_testkit::spawn_app().await;
    let demo = mcpgate_demo::spawn(DemoSettings::default()).await;
    let browser = Browser::start().await;
    let page = |path: &str| app.api_url(path);

    // Sign up.
    browser.goto(&page("/signup")).await;
    browser.screenshot("01-signup").await;
    browser.fill("signup-tenant-name", "Acme Robotics").await;
    browser.fill("signup-email", "ada@example.com").await;
    browser
        .fill("signup-password", "correct horse battery")
        .await;
    browser.click("signup-submit").await;
    browser.wait_for_path("/servers").await;
    assert_eq!(browser.text("tenant-name").await, "Acme Robotics");
    browser.screenshot("02-servers-empty").await;

    // Add the demo k8s server: discovery runs and the browser lands on its page.
    let server_id = browser.add_server("k8s", &demo.url()).await;
    let server_path = format!("/servers/{server_id}");
    assert_eq!(browser.text("server-name-heading").await, "k8s");
    let run_pod = browser.testid("tool-row-k8s_run_pod").await;
    assert_eq!(badge(&run_pod, "category-badge").await, "execute");
    assert_eq!(badge(&run_pod, "risk-badge").await, "high");
    assert_eq!(
        browser.count("[data-testid^='tool-row-']").await,
        57,
        "the demo's whole catalogue is listed"
    );
    browser.screenshot("03-server").await;
    browser.screenshot_narrow("03-server-narrow-420px").await;

    // The servers list, now with one server.
    browser.click("nav-servers").await;
    browser.wait_for_testid("servers-table").await;
    browser.screenshot("04-servers-list").await;

    // The policy page: a bad document is refused at its path, then the seed policy.
    browser.goto(&page(&server_path)).await;
    browser.click("policy-link").await;
    browser.wait_for_testid("policy-editor").await;
    browser.screenshot("05-policy-before").await;
    browser
        .replace_text("policy-editor", r#"{"version":"1","default":"maybe"}"#)
        .await;
    browser.click("policy-save").await;
    browser.wait_for_testid("policy-errors").await;
    let error = browser.testid("policy-error").await;
    assert_eq!(
        error.attr("data-path").await.expect("data-path").as_deref(),
        Some("/default")
    );
    browser.screenshot("06-policy-errors").await;
    browser.replace_text("policy-editor", SEED_POLICY).await;
    browser.click("policy-save").await;
    browser.wait_for_testid("notice").await;
    assert_eq!(browser.count("[data-testid='policy-errors']").await, 0);
    let saved: Value = serde_json::from_str(&browser.value("policy-editor").await)
        .expect("the editor shows the saved policy as JSON");
    assert_eq!(
        saved,
        serde_json::from_str::<Value>(SEED_POLICY).unwrap(),
        "the saved policy is the one typed in"
    );
    browser.screenshot("07-policy-after").await;

    // The tools table shows what the policy does.
    browser.goto(&page(&server_path)).await;
    let run_pod = browser.testid("tool-row-k8s_run_pod").await;
    assert_eq!(
        run_pod.attr("data-status").await.expect("data-status"),
        Some("limited".into())
    );
    browser.screenshot("08-server-with-policy").await;

    // Connect: create a grant, read its token and the proxy URL off the page.
    browser.click("connect-link").await;
    browser.wait_for_testid("grant-create-form").await;
    browser.screenshot("09-connect").await;
    browser.fill("grant-name", "ci-agent").await;
    browser.click("grant-create-submit").await;
    browser.wait_for_testid("grant-token").await;
    let token = browser.text("grant-token").await;
    assert_eq!(token.split('.').count(), 3, "a JWT: {token}");
    let copy = browser.testid("copy-proxy-url").await;
    let target = copy
        .attr("data-copy-target")
        .await
        .expect("data-copy-target")
        .expect("the copy button names its target");
    let proxy_url = browser
        .client
        .find(Locator::Id(&target))
        .await
        .expect("the copy button's target")
        .text()
        .await
        .expect("the proxy URL's text");
    assert_eq!(proxy_url, browser.text("proxy-url").await);
    assert_eq!(proxy_url, app.proxy_url(&format!("/mcp/{server_id}/")));
    assert!(
        browser
            .text("snippet-claude-code-code")
            .await
            .contains(&token),
        "the snippets carry the new token"
    );
    browser.copy_proxy_url(&copy, &proxy_url).await;
    browser.screenshot("10-connect-with-token").await;
    browser.screenshot_narrow("10-connect-narrow-420px").await;

    // A real MCP client through what the page showed: 10 calls pass, the 11th is refused.
    let mut agent = Driver::start(Sdk::Python2, &proxy_url, &token).await;
    assert_eq!(agent.list_tools().await, ["k8s_run_pod"]);
    ensure_room_in_minute(Duration::from_secs(15)).await;
    let calls = agent
        .call_times("k8s_run_pod", serde_json::from_str(POD).unwrap(), 11)
        .await;
    for (number, call) in calls[..10].iter().enumerate() {
        assert!(!call.is_error(), "call {} passes: {call:?}", number + 1);
    }
    assert!(calls[10].is_error(), "the 11th call is refused: {calls:?}");
    assert!(
        calls[10].text().starts_with("[POLICY DENIED] "),
        "{:?}",
        calls[10]
    );
    let (status, stderr) = agent.finish().await;
    assert!(status.success(), "the driver exits cleanly: {stderr}");

    // The rest of the dashboard, with the journey's data in it.
    browser.click("nav-grants").await;
    browser.wait_for_testid("grant-row-ci-agent").await;
    browser.screenshot("11-grants").await;
    browser.click("nav-approvals").await;
    browser.wait_for_testid("approvals-empty").await;
    browser.screenshot("12-approvals").await;
    // The proxy writes audit rows in batches: wait for all eleven.
    let deadline = Instant::now() + PATIENCE;
    loop {
        browser.goto(&page("/audit")).await;
        let rows = browser.count("[data-testid='audit-row']").await;
        if rows >= 11 {
            break;
        }
        assert!(Instant::now() < deadline, "{rows} of 11 audit rows");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    browser.wait_for_testid("audit-chart").await;
    browser.screenshot("13-audit").await;
    browser.screenshot_narrow("13-audit-narrow-420px").await;
    browser.click("nav-api-keys").await;
    browser.wait_for_testid("api-keys-table").await;
    browser.screenshot("14-api-keys").await;

    // Log out, and back in.
    browser.click("logout-submit").await;
    browser.wait_for_testid("login-form").await;
    browser.screenshot("15-login").await;
    browser.fill("login-email", "ada@example.com").await;
    browser
        .fill("login-password", "correct horse battery")
        .await;
    browser.click("login-submit").await;
    browser.wait_for_path("/servers").await;
    browser.wait_for_testid("server-row-k8s").await;

    browser.close().await;
    eprintln!(
        "browser journey took {:.1?}; screenshots in {}",
        started.elapsed(),
        artifacts_dir().display()
    );
}

#[tokio::test]
async fn an_admin_invites_a_policy_manager_who_joins_and_sees_exactly_their_role() {
    let app = mcpgate_testkit::spawn_app().await;
    let browser = Browser::start().await;
    let page = |path: &str| app.api_url(path);

    browser
        .sign_up(&page("/signup"), "Acme Robotics", "grace@example.com")
        .await;

    // The admin invites from the members page; the link is shown once.
    browser.click("nav-members").await;
    browser.wait_for_testid("invite-form").await;
    browser.fill("invite-email", "lin@example.com").await;
    browser
        .testid("invite-role")
        .await
        .select_by_value("policy_manager")
        .await
        .expect("choosing the role");
    browser.click("invite-submit").await;
    let link = browser.wait_for_testid("invitation-link").await;
    let link = link.text().await.expect("the link's text");
    assert!(link.contains("/join/"), "{link}");
    browser.screenshot("20-members-invited").await;

    // The invited person, in this browser once the admin logged out, signs up at the link.
    browser.click("logout-submit").await;
    browser.wait_for_testid("login-form").await;
    browser.goto(&link).await;
    browser.wait_for_testid("join-signup-form").await;
    assert_eq!(browser.text("join-role").await, "policy_manager");
    browser.screenshot("21-join").await;
    browser.fill("join-password", "another horse battery").await;
    browser.click("join-signup").await;
    browser.wait_for_path("/servers").await;
    assert_eq!(browser.text("user-role").await, "policy_manager");
    // No API keys link for a policy manager, and the page itself is refused.
    assert_eq!(browser.count("[data-testid='nav-api-keys']").await, 0);
    browser.goto(&page("/api-keys")).await;
    let refused = browser.client.source().await.expect("the page's source");
    assert!(
        refused.contains("may not manage_api_keys"),
        "the 403 page names the missing permission: {refused}"
    );
    browser.screenshot("22-api-keys-refused").await;

    // The trail shows the invitation and the join, each with its actor.
    browser.goto(&page("/admin-audit")).await;
    browser.wait_for_testid("admin-audit-table").await;
    assert_eq!(browser.count("[data-testid='admin-audit-row']").await, 2);
    browser.screenshot("23-admin-trail").await;
    browser.close().await;
}

/// What each of the four roles meets in the browser: `(role, may save a policy)`.
const ROLES: [(&str, bool); 3] = [
    ("policy_manager", true),
    ("approver", false),
    ("viewer", false),
];

#[tokio::test]
async fn four_members_with_the_four_roles_each_do_what_their_role_allows_and_see_403_otherwise() {
    let app = mcpgate_testkit::spawn_app().await;
    let demo = mcpgate_demo::spawn(DemoSettings::default()).await;
    let browser = Browser::start().await;
    let page = |path: &str| app.api_url(path);

    // The admin signs up, adds a server and invites one member per other role.
    browser
        .sign_up(&page("/signup"), "Four Roles", "admin@example.com")
        .await;
    let server_id = browser.add_server("k8s", &demo.url()).await;
    let server_path = format!("/servers/{server_id}");
    assert_eq!(
        browser.count("[data-testid='nav-sso']").await,
        1,
        "admins see SSO"
    );
    let mut links = Vec::new();
    for (role, _) in ROLES {
        browser.goto(&page("/members")).await;
        browser.wait_for_testid("invite-form").await;
        browser
            .fill("invite-email", &format!("{role}@example.com"))
            .await;
        browser
            .testid("invite-role")
            .await
            .select_by_value(role)
            .await
            .expect("choosing the role");
        browser.click("invite-submit").await;
        let link = browser.wait_for_testid("invitation-link").await;
        links.push(link.text().await.expect("the link's text"));
    }
    browser.click("logout-submit").await;
    browser.wait_for_testid("login-form").await;

    for ((role, may_write_policy), link) in ROLES.into_iter().zip(&links) {
        browser.goto(link).await;
        browser.wait_for_testid("join-signup-form").await;
        assert_eq!(browser.text("join-role").await, role);
        browser.fill("join-password", "another horse battery").await;
        browser.click("join-signup").await;
        browser.wait_for_path("/servers").await;
        assert_eq!(browser.text("user-role").await, role);
        assert_eq!(
            browser.count("[data-testid='nav-api-keys']").await,
            0,
            "{role}"
        );
        assert_eq!(browser.count("[data-testid='nav-sso']").await, 0, "{role}");

        // Every role reads the server, its policy, the audit log and the trail.
        for (path, testid) in [
            (server_path.as_str(), "server-name-heading"),
            ("/audit", "audit-filters"),
            ("/admin-audit", "admin-audit-table"),
        ] {
            browser.goto(&page(path)).await;
            browser.wait_for_testid(testid).await;
        }
        // Saving the policy: the policy manager's, refused with a 403 page for the others.
        browser.goto(&page(&format!("{server_path}/policy"))).await;
        browser.wait_for_testid("policy-editor").await;
        browser.replace_text("policy-editor", SEED_POLICY).await;
        browser.click("policy-save").await;
        if may_write_policy {
            browser.wait_for_testid("notice").await;
        } else {
            let title = browser.wait_for_testid("error-title").await;
            assert!(
                title.text().await.expect("the title").starts_with("403"),
                "{role} saving a policy"
            );
            let source = browser.client.source().await.expect("the page's source");
            assert!(
                source.contains("may not manage_policies"),
                "{role}: {source}"
            );
        }
        browser.screenshot(&format!("30-{role}-policy")).await;
        // Admin-only pages answer 403, naming the missing permission.
        for (path, permission) in [
            ("/api-keys".to_owned(), "manage_api_keys"),
            ("/settings/sso".to_owned(), "manage_settings"),
            (format!("{server_path}/connect"), "manage_grants"),
        ] {
            browser.goto(&page(&path)).await;
            let title = browser.wait_for_testid("error-title").await;
            assert!(
                title.text().await.expect("the title").starts_with("403"),
                "{role} at {path}"
            );
            let source = browser.client.source().await.expect("the page's source");
            assert!(
                source.contains(&format!("may not {permission}")),
                "{role} at {path}: {source}"
            );
        }
        browser.goto(&page("/servers")).await;
        browser.click("logout-submit").await;
        browser.wait_for_testid("login-form").await;
    }

    // Back as the admin: the policy manager's change is in the trail under their name.
    browser.fill("login-email", "admin@example.com").await;
    browser
        .fill("login-password", "correct horse battery")
        .await;
    browser.click("login-submit").await;
    browser.wait_for_path("/servers").await;
    browser.goto(&page("/admin-audit")).await;
    browser.wait_for_testid("admin-audit-table").await;
    let rows = browser
        .client
        .find_all(Locator::Css("[data-testid='admin-audit-row']"))
        .await
        .expect("the trail's rows");
    assert!(
        rows.len() >= 5,
        "three invitations, three joins, a policy: {}",
        rows.len()
    );
    let mut policy_saves = Vec::new();
    for row in &rows {
        if badge(row, "admin-audit-row-action")
            .await
            .contains("/policy")
        {
            policy_saves.push(badge(row, "admin-audit-row-actor").await);
        }
    }
    assert_eq!(
        policy_saves,
        vec!["user:policy_manager@example.com".to_owned()],
        "only the policy manager's save went through, recorded under their name"
    );
    browser.screenshot("31-four-roles-trail").await;
    browser.close().await;
}

/// The demo server's policy for the OAuth journey: one tool allowed, one denied by name.
const OAUTH_POLICY: &str = r#"{"version":"1","default":"deny","tools":{"k8s_get_namespaces":{},"k8s_delete_ns":{"action":"deny","reason":"Agents may not delete namespaces; ask a human."}}}"#;
/// Where the Python SDK driver's authorization ends (`py_oauth_client.py`).
const PYTHON_OAUTH_CALLBACK: &str = "http://127.0.0.1:33418/callback";

#[tokio::test]
async fn an_sdk_client_with_no_token_is_consented_in_the_browser_and_its_calls_are_governed() {
    let app = mcpgate_testkit::spawn_app().await;
    let demo = mcpgate_demo::spawn(DemoSettings::default()).await;
    let browser = Browser::start().await;
    let page = |path: &str| app.api_url(path);

    // An admin signs up, adds the demo server, saves its policy and signs out.
    browser
        .sign_up(&page("/signup"), "Acme Robotics", "ada@example.com")
        .await;
    let server_id = browser.add_server("k8s", &demo.url()).await;
    let server_path = format!("/servers/{server_id}");
    browser.click("policy-link").await;
    browser.wait_for_testid("policy-editor").await;
    browser.replace_text("policy-editor", OAUTH_POLICY).await;
    browser.click("policy-save").await;
    browser.wait_for_testid("notice").await;
    // The connect page tells that a client doing OAuth needs nothing but the URL.
    browser.goto(&page(&format!("{server_path}/connect"))).await;
    assert!(
        browser
            .text("oauth-hint")
            .await
            .contains("need only this URL"),
        "the connect page's OAuth hint"
    );
    browser.click("logout-submit").await;
    browser.wait_for_testid("login-form").await;

    // The SDK starts with only the proxy URL and asks for an authorization.
    let proxy_url = app.proxy_url(&format!("/mcp/{server_id}/"));
    let mut agent = Agent::start(OAuthSdk::Python2, &proxy_url);
    let asked = agent.next().await;
    assert_eq!(asked["op"], "authorize", "{asked}");
    let authorize_url = asked["url"].as_str().expect("the authorization URL");
    assert!(
        authorize_url.starts_with(&page("/oauth/authorize?")),
        "{authorize_url}"
    );

    // The browser opens it: the member signs in on the login page and lands on consent.
    browser.goto(authorize_url).await;
    browser.wait_for_testid("login-form").await;
    assert_eq!(browser.path().await, "/login");
    browser.fill("login-email", "ada@example.com").await;
    browser
        .fill("login-password", "correct horse battery")
        .await;
    browser.click("login-submit").await;
    browser.wait_for_testid("consent-form").await;
    assert_eq!(browser.path().await, "/oauth/authorize");
    let client = OAuthSdk::Python2.client_name();
    assert_eq!(browser.text("consent-client").await, client);
    assert_eq!(browser.text("consent-server").await, "k8s");
    assert_eq!(
        browser.text("consent-title").await,
        format!("Connect {client} to k8s?")
    );
    assert_eq!(
        browser.text("consent-redirect").await,
        PYTHON_OAUTH_CALLBACK
    );
    assert_eq!(
        selected(&browser, "consent-policy").await,
        ("server".to_owned(), "k8s's policy".to_owned())
    );
    assert_eq!(
        browser
            .count("[data-testid='consent-expires'] option")
            .await,
        5,
        "1, 7, 30 or 90 days, or no expiry"
    );
    browser
        .testid("consent-expires")
        .await
        .select_by_value("7")
        .await
        .expect("choosing 7 days");
    assert_eq!(selected(&browser, "consent-expires").await.0, "7");
    browser.screenshot("40-oauth-consent").await;

    // Allow: the browser goes back to the SDK's redirect URI with the code, state and iss.
    browser.click("consent-allow").await;
    let callback = browser.wait_for_url_starting(PYTHON_OAUTH_CALLBACK).await;
    let query: Vec<(String, String)> = url::Url::parse(&callback)
        .expect("the callback URL")
        .query_pairs()
        .into_owned()
        .collect();
    for name in ["code", "state", "iss"] {
        assert!(
            query.iter().any(|(key, _)| key == name),
            "{name} in {callback}"
        );
    }
    agent.send(json!({"callback": callback})).await;
    let init = agent.next().await;
    assert_eq!(
        init["op"], "initialize",
        "the SDK finished the flow: {init}"
    );

    // Its calls are governed by the server's policy, like any grant's.
    let listed = agent.step(json!({"op": "list"})).await;
    let tools = listed["tools"].as_array().expect("a tool list");
    assert!(tools.iter().any(|t| t == "k8s_get_namespaces"), "{listed}");
    let allowed = agent
        .step(json!({"op": "call", "tool": "k8s_get_namespaces", "arguments": {"context": "prod"}}))
        .await;
    assert_eq!(allowed["results"][0]["isError"], false, "{allowed}");
    let denied = agent
        .step(json!({"op": "call", "tool": "k8s_delete_ns", "arguments": {"context": "prod", "name": "x"}}))
        .await;
    let text = denied["results"][0]["text"].as_str().unwrap_or_default();
    assert!(
        text.starts_with("[POLICY DENIED] ") && text.contains("ask a human"),
        "{denied}"
    );

    // The connection is a grant on the Grants page, until 7 days from now.
    browser.goto(&page("/grants")).await;
    let row = browser
        .wait_for_testid(&format!("grant-row-OAuth: {client}"))
        .await;
    let expires = row
        .find(Locator::Css("[data-label='Expires']"))
        .await
        .expect("the Expires cell")
        .text()
        .await
        .expect("its text");
    let in_a_week = (chrono::Utc::now() + chrono::TimeDelta::days(7))
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        expires.contains(&in_a_week),
        "expires {expires:?}, not {in_a_week}"
    );
    browser.screenshot("41-oauth-grant").await;
    browser.close().await;
}

#[tokio::test]
async fn an_oauth_protected_server_added_in_the_browser_is_connected_through_its_authorization_server_and_lists_its_tools(
) {
    let app = mcpgate_testkit::spawn_app_with(mcpgate_testkit::TestAppOptions {
        allow_private_upstreams: true,
        ..Default::default()
    })
    .await;
    let authorization = AuthorizationServer::start(3600).await;
    let upstream = ProtectedServer::start(&authorization.issuer()).await;
    let browser = Browser::start().await;
    let page = |path: &str| app.api_url(path);

    browser
        .sign_up(&page("/signup"), "Acme Robotics", "ada@example.com")
        .await;
    browser.fill("server-name", "notes").await;
    browser.fill("server-url", &upstream.url()).await;
    // Its 401 and Protected Resource Metadata make it a server that needs connecting.
    browser.click("server-add-submit").await;
    let status = browser.wait_for_testid("oauth-status").await;
    assert_eq!(
        status.attr("data-status").await.expect("data-status"),
        Some("needs_connect".into())
    );
    assert_eq!(browser.text("oauth-connect").await, "Connect");
    browser.screenshot("50-upstream-needs-connect").await;
    // Connect takes the browser to the upstream's authorization server (the dashboard's
    // form-action 'self' refuses a form's 303 to it, so the answer is a page that moves on).
    browser.click("oauth-connect").await;
    let at = browser.wait_for_url_starting(&authorization.issuer()).await;
    assert!(
        at.contains("/interaction/"),
        "the authorization server took the request and asks its user to sign in: {at}"
    );
    // The upstream user signs in and allows mcpgate on the provider's own pages; the
    // callback brings the browser back to the server page, connected.
    by_css(&browser, "input[name='login']")
        .await
        .send_keys("ada")
        .await
        .expect("typing the login");
    by_css(&browser, "input[name='password']")
        .await
        .send_keys("pw")
        .await
        .expect("typing the password");
    by_css(&browser, "button[type='submit']")
        .await
        .click()
        .await
        .expect("signing in");
    let deadline = Instant::now() + PATIENCE;
    while !browser.path().await.starts_with("/servers/") {
        if let Ok(allow) = browser
            .client
            .find(Locator::Css("button[type='submit']"))
            .await
        {
            let _ = allow.click().await;
        }
        assert!(
            Instant::now() < deadline,
            "back on the server page: {}",
            browser.describe().await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = browser.wait_for_testid("oauth-status").await;
    assert_eq!(
        status.attr("data-status").await.expect("data-status"),
        Some("connected".into()),
        "{}",
        browser.describe().await
    );
    assert!(
        browser.count("[data-testid^='tool-row-']").await >= 2,
        "the upstream's tools are listed, classified, once connected: {}",
        browser.describe().await
    );
    browser.screenshot("51-upstream-connected").await;
    browser.close().await;
}

/// An element of a page that is not ours (no test ids): the authorization server's.
async fn by_css(browser: &Browser, selector: &str) -> Element {
    match browser.client.find(Locator::Css(selector)).await {
        Ok(element) => element,
        Err(e) => panic!("{selector} on {}: {e}", browser.describe().await),
    }
}

/// The value and label of the option selected in a `<select>`.
async fn selected(browser: &Browser, testid: &str) -> (String, String) {
    let option = browser
        .client
        .find(Locator::Css(&format!(
            "[data-testid='{testid}'] option:checked"
        )))
        .await
        .unwrap_or_else(|e| panic!("the selected option of {testid}: {e}"));
    let value = option
        .attr("value")
        .await
        .expect("the option's value")
        .unwrap_or_default();
    (value, option.text().await.expect("the option's label"))
}

/// A badge's text inside a table row.
async fn badge(row: &Element, testid: &str) -> String {
    row.find(Locator::Css(&format!("[data-testid='{testid}']")))
        .await
        .unwrap_or_else(|e| panic!("{testid} in the row: {e}"))
        .text()
        .await
        .expect("the badge's text")
}

/// `test-artifacts/browser/` at the workspace root (ignored by git).
fn artifacts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .join("test-artifacts/browser")
}

/// chromedriver on a free loopback port, stopped on `Drop`, with a Chromium session.
#[derive(Debug)]
struct Browser {
    client: Client,
    chromedriver: ChromeDriver,
    artifacts: PathBuf,
}

impl Browser {
    async fn start() -> Browser {
        for binary in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                Path::new(binary).exists(),
                "{binary} is missing: the browser test needs headless Chromium and chromedriver. \
                 Run the tests with `scripts/test.sh`, which installs them (ensure_browser in \
                 scripts/prereqs.sh: Debian's chromium and chromium-driver)."
            );
        }
        let chromedriver = ChromeDriver::start().await;
        let profile = chromedriver.profile.path().display().to_string();
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                // The background-networking flags keep Chromium from phoning home: on a
                // closed network those connections are refused, and the noise slows it.
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage", "--hide-scrollbars",
                    format!("--user-data-dir={profile}"),
                    format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
                ],
            }),
        );
        // WebDriver is plain HTTP on loopback: no TLS stack needed.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&chromedriver.url())
            .await
            .unwrap_or_else(|e| {
                panic!(
                    "starting a Chromium session: {e}\n--- chromedriver log ---\n{}",
                    chromedriver.log()
                )
            });
        let artifacts = artifacts_dir();
        std::fs::create_dir_all(&artifacts).expect("creating test-artifacts/browser");
        // Only this run's screenshots, so none is mistaken for a page as it is now.
        for entry in std::fs::read_dir(&artifacts).expect("listing test-artifacts/browser") {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_some_and(|ext| ext == "png") {
                std::fs::remove_file(&path).expect("removing an old screenshot");
            }
        }
        let browser = Browser {
            client,
            chromedriver,
            artifacts,
        };
        browser.resize(DESKTOP).await;
        browser
    }

    /// Signs a new tenant up at `signup_url` (its owner `email`, the tests' password)
    /// and waits for the servers page the dashboard lands on.
    async fn sign_up(&self, signup_url: &str, tenant: &str, email: &str) {
        self.goto(signup_url).await;
        self.fill("signup-tenant-name", tenant).await;
        self.fill("signup-email", email).await;
        self.fill("signup-password", "correct horse battery").await;
        self.click("signup-submit").await;
        self.wait_for_path("/servers").await;
    }

    /// Adds a server on the servers page (discovery runs) and waits for its page: the
    /// server's id.
    async fn add_server(&self, name: &str, url: &str) -> String {
        self.fill("server-name", name).await;
        self.fill("server-url", url).await;
        self.click("server-add-submit").await;
        self.wait_for_testid("server-name-heading").await;
        let path = self.path().await;
        path.strip_prefix("/servers/")
            .unwrap_or_else(|| panic!("on a server's page, not {path}"))
            .to_owned()
    }

    async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// The current page's path.
    async fn path(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("the current URL")
            .path()
            .to_owned()
    }

    /// Waits until the browser is at a URL starting with `prefix` (where a redirect to a
    /// client's callback ends up, served or not): that URL.
    async fn wait_for_url_starting(&self, prefix: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let now = self.client.current_url().await.expect("the current URL");
            if now.as_str().starts_with(prefix) {
                return now.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "expected to be sent to {prefix}, still at {now}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn wait_for_path(&self, path: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let now = self.path().await;
            if now == path {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "expected to land on {path}, still on {now}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn selector(testid: &str) -> String {
        format!("[data-testid='{testid}']")
    }

    async fn testid(&self, testid: &str) -> Element {
        match self
            .client
            .find(Locator::Css(&Self::selector(testid)))
            .await
        {
            Ok(element) => element,
            Err(e) => panic!("data-testid={testid} on {}: {e}", self.describe().await),
        }
    }

    async fn wait_for_testid(&self, testid: &str) -> Element {
        self.client
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(&Self::selector(testid)))
            .await
            .unwrap_or_else(|e| panic!("data-testid={testid} never showed: {e}"))
    }

    async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("finding elements")
            .len()
    }

    async fn text(&self, testid: &str) -> String {
        self.testid(testid)
            .await
            .text()
            .await
            .expect("an element's text")
    }

    async fn value(&self, testid: &str) -> String {
        self.testid(testid)
            .await
            .prop("value")
            .await
            .expect("a form field's value")
            .unwrap_or_default()
    }

    async fn fill(&self, testid: &str, text: &str) {
        let field = self.testid(testid).await;
        field.clear().await.expect("clearing a field");
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {testid}: {e}"));
    }

    /// Selects all of a field's text and types over it, as a person editing it would.
    async fn replace_text(&self, testid: &str, text: &str) {
        let field = self.testid(testid).await;
        field.clear().await.expect("clearing a field");
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("typing into {testid}: {e}"));
        assert_eq!(
            self.value(testid).await,
            text,
            "{testid} holds what was typed"
        );
    }

    async fn click(&self, testid: &str) {
        let element = self.testid(testid).await;
        // Scroll it into view first: a click lands on what is on screen.
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'});",
                vec![serde_json::to_value(&element).expect("an element reference")],
            )
            .await
            .expect("scrolling to an element");
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {testid}: {e}"));
    }

    /// Clicks the proxy URL's copy button and checks what reached the clipboard.
    async fn copy_proxy_url(&self, button: &Element, proxy_url: &str) {
        self.grant_clipboard().await;
        button.click().await.expect("clicking the copy button");
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let label = button.text().await.expect("the button's label");
            if label == "Copied" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the copy button never said Copied (it says {label:?})"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let copied = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 navigator.clipboard.readText().then(done, (e) => done('error: ' + e));",
                vec![],
            )
            .await
            .expect("reading the clipboard");
        assert_eq!(
            copied,
            json!(proxy_url),
            "the clipboard holds the proxy URL"
        );
    }

    async fn grant_clipboard(&self) {
        let origin = {
            let url = self.client.current_url().await.expect("the current URL");
            url.origin().ascii_serialization()
        };
        self.cdp(
            "Browser.grantPermissions",
            json!({"origin": origin, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]}),
        )
        .await;
    }

    async fn resize(&self, (width, height): (u32, u32)) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resizing the window");
        // Emulate the viewport too: a headless window's size is only a hint.
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        )
        .await;
    }

    /// A full-page PNG (the whole document, not just the window), named for the page.
    async fn screenshot(&self, name: &str) {
        let metrics = self.cdp("Page.getLayoutMetrics", json!({})).await;
        let size = &metrics["cssContentSize"];
        let (width, height) = (
            size["width"].as_f64().expect("the page's width"),
            size["height"].as_f64().expect("the page's height"),
        );
        let shot = self
            .cdp(
                "Page.captureScreenshot",
                json!({"format": "png", "captureBeyondViewport": true,
                       "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}),
            )
            .await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("PNG data"))
            .expect("base64 PNG");
        let path = self.artifacts.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    }

    /// The same page at a phone's width, then back to the desktop's.
    async fn screenshot_narrow(&self, name: &str) {
        self.resize(NARROW).await;
        self.screenshot(name).await;
        self.resize(DESKTOP).await;
    }

    /// One Chrome DevTools Protocol command through chromedriver.
    async fn cdp(&self, command: &str, params: Value) -> Value {
        self.client
            .issue_cmd(Cdp(json!({"cmd": command, "params": params})))
            .await
            .unwrap_or_else(|e| panic!("{command}: {e}"))
    }

    /// Where the browser is, for a failure message.
    async fn describe(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .map_or_else(|e| format!("(no URL: {e})"), |url| url.to_string());
        let title = self.client.title().await.unwrap_or_default();
        format!("{url} ({title})")
    }

    async fn close(self) {
        self.client.close().await.expect("closing the browser");
        drop(self.chromedriver);
    }
}

/// `POST /session/{id}/goog/cdp/execute`: chromedriver's way to the DevTools protocol,
/// for what WebDriver has no command for (full-page screenshots, permissions).
#[derive(Debug)]
struct Cdp(Value);

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a WebDriver session");
        base_url.join(&format!("session/{session}/goog/cdp/execute"))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.0.to_string()))
    }
}

/// A chromedriver process on a free loopback port, and Chromium's fresh profile.
#[derive(Debug)]
struct ChromeDriver {
    child: Child,
    port: u16,
    profile: tempfile::TempDir,
    log: PathBuf,
}

impl ChromeDriver {
    async fn start() -> ChromeDriver {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let profile = tempfile::tempdir().expect("a profile directory");
        let log = profile.path().join("chromedriver.log");
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            // Its own process group, so Drop can stop Chromium with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CHROMEDRIVER}: {e}"));
        let driver = ChromeDriver {
            child,
            port,
            profile,
            log,
        };
        let status = format!("{}status", driver.url());
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(response) = reqwest::get(&status).await {
                let body: Value = response.json().await.unwrap_or_default();
                if body["value"]["ready"] == true {
                    return driver;
                }
            }
            assert!(
                Instant::now() < deadline,
                "chromedriver did not answer on port {port}\n{}",
                driver.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // chromedriver and the Chromium processes it started (same process group), even
        // when a failed test left the session open.
        if let Ok(id) = i32::try_from(self.child.id()) {
            let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(id), Signal::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
