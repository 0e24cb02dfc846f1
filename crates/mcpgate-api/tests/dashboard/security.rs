//! Sessions, CSRF, tenant isolation, the login rate limit, cookie flags and
//! validation errors shown at their paths.

use mcpgate_demo::DemoSettings;
use reqwest::{header, StatusCode};

use crate::helpers::{bare_client, Browser, PASSWORD};

#[tokio::test]
async fn a_form_posted_without_its_csrf_token_is_refused_with_403() {
    let app = mcpgate_testkit::spawn_app().await;
    let browser = Browser::signed_up(&app).await;

    let missing = browser
        .post("/servers", &[("name", "x"), ("url", "http://127.0.0.1:1/")])
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(missing.html.contains("data-testid=\"error-message\""));

    let wrong = browser
        .post("/api-keys", &[("csrf", "not-the-token"), ("name", "k")])
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);

    let logout = browser.post("/logout", &[]).await;
    assert_eq!(logout.status, StatusCode::FORBIDDEN);

    // Login and sign-up forms are guarded too (by the pre-login cookie).
    let anonymous = Browser::new(&app);
    let login = anonymous
        .post(
            "/login",
            &[("email", "a@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(login.status, StatusCode::FORBIDDEN);

    // With the token, the same API-key form works.
    let created = browser
        .submit("/api-keys", "/api-keys", &[("name", "ci")])
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.html);
    assert!(created.testid_text("api-key-secret").is_some());
}

#[tokio::test]
async fn another_tenants_server_pages_are_not_found() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = mcpgate_demo::spawn(DemoSettings::default()).await;
    let owner = Browser::signed_up(&app).await;
    let server = owner.add_server("mine", &upstream.url()).await;
    assert_eq!(server.status, StatusCode::OK, "{}", server.html);

    let stranger = Browser::signed_up(&app).await;
    for suffix in ["", "/policy", "/connect"] {
        let page = stranger.get(&format!("{}{suffix}", server.path)).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{suffix}");
    }
    let sync = stranger
        .submit("/servers", &format!("{}/sync", server.path), &[])
        .await;
    assert_eq!(sync.status, StatusCode::NOT_FOUND);
    let listed = stranger.get("/servers").await;
    assert!(!listed.html.contains("mine"));
}

#[tokio::test]
async fn logged_out_pages_redirect_to_login() {
    let app = mcpgate_testkit::spawn_app().await;
    let client = bare_client();
    for path in [
        "/",
        "/servers",
        "/grants",
        "/approvals",
        "/audit",
        "/api-keys",
        "/servers/0190a5c4-0000-7000-8000-000000000000",
    ] {
        let response = client.get(app.api_url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()[header::LOCATION], "/login", "{path}");
    }

    // After logging out, the old session no longer opens pages.
    let browser = Browser::signed_up(&app).await;
    let page = browser.submit("/servers", "/logout", &[]).await;
    assert_eq!(page.path, "/login");
    let after = browser.get("/servers").await;
    assert_eq!(after.path, "/login");
}

#[tokio::test]
async fn repeated_failed_logins_are_answered_with_429() {
    let app = mcpgate_testkit::spawn_app().await;
    let email = Browser::signed_up(&app).await.email;

    let browser = Browser::new(&app);
    for attempt in 1..=5 {
        let page = browser
            .submit(
                "/login",
                "/login",
                &[("email", &email), ("password", "wrong password!")],
            )
            .await;
        assert_eq!(page.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
        assert!(page.html.contains("Wrong email or password"));
    }
    // Even the right password waits now.
    let page = browser
        .submit(
            "/login",
            "/login",
            &[("email", &email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        page.html.contains("Too many failed logins"),
        "{}",
        page.html
    );

    // Another account is not affected.
    let other = Browser::signed_up(&app).await.email;
    let page = browser
        .submit(
            "/login",
            "/login",
            &[("email", &other), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.path, "/servers");
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_same_site_lax() {
    let app = mcpgate_testkit::spawn_app().await;
    let client = bare_client();
    let form = client.get(app.api_url("/signup")).send().await.unwrap();
    let login_cookie = form.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .to_owned();
    let pre = login_cookie.split(';').next().unwrap().to_owned();
    let html = form.text().await.unwrap();
    let csrf = crate::helpers::Page {
        status: StatusCode::OK,
        path: String::new(),
        html,
    }
    .csrf();
    let response = client
        .post(app.api_url("/signup"))
        .header(header::COOKIE, pre)
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "flags@example.com"),
            ("password", PASSWORD),
            ("tenant_name", "Flags"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let session = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("mcpgate_session="))
        .expect("a session cookie")
        .to_owned();
    assert!(session.contains("; HttpOnly"), "{session}");
    assert!(session.contains("; SameSite=Lax"), "{session}");
    assert!(session.contains("; Path=/"), "{session}");
    // The test app's public URL is http: no Secure flag, or the browser would drop it.
    assert!(!session.contains("Secure"), "{session}");

    // Pages that may show a secret once are not cached, nor framed.
    let page = client.get(app.api_url("/login")).send().await.unwrap();
    assert_eq!(page.headers()[header::CACHE_CONTROL], "no-store");
    assert_eq!(page.headers()[header::X_FRAME_OPTIONS], "DENY");
}

#[tokio::test]
async fn an_invalid_policy_is_shown_again_with_errors_at_their_paths() {
    let app = mcpgate_testkit::spawn_app().await;
    let upstream = mcpgate_demo::spawn(DemoSettings::default()).await;
    let browser = Browser::signed_up(&app).await;
    let server = browser.add_server("k8s", &upstream.url()).await;
    let policy = format!("{}/policy", server.path);
    let invalid = r#"{"version":"2","default":"deny","tools":{"k8s_run_pod":{"limits":[{"counter":"c","window":"fortnight","max":10}]}}}"#;
    let page = browser
        .submit(&policy, &policy, &[("document", invalid)])
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.html
    );
    assert!(
        page.html.contains("data-path=\"/version\""),
        "{}",
        page.html
    );
    assert!(
        page.html
            .contains("data-path=\"/tools/k8s_run_pod/limits/0/window\""),
        "{}",
        page.html
    );
    // What the user typed is kept in the editor.
    assert_eq!(page.testid_text("policy-editor").unwrap(), invalid);
    // Nothing was saved.
    assert!(!page.html.contains("data-testid=\"policy-version-1\""));
}

#[tokio::test]
async fn an_unreachable_server_is_explained_on_the_form_with_the_input_kept() {
    let app = mcpgate_testkit::spawn_app().await;
    let browser = Browser::signed_up(&app).await;
    let page = browser.add_server("gone", "http://127.0.0.1:9/mcp").await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.html
    );
    assert!(page.html.contains("data-testid=\"form-errors\""));
    assert!(page.html.contains("value=\"http://127.0.0.1:9/mcp\""));
}
