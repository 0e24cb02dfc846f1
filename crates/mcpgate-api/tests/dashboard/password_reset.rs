//! Password reset by link: made by an admin (REST or the members page) or mailed by
//! "forgot password" through a real SMTP receiver; single-use, expiring, ending every
//! session of the person; the forgot form answers alike for unknown addresses; and
//! invitations are mailed when SMTP is configured.

use chrono::{Duration, Utc};
use mcpgate_store::password_resets::{self, NewPasswordReset};
use mcpgate_store::UserId;
use mcpgate_testkit::rest::sign_up;
use mcpgate_testkit::{spawn_app, spawn_app_with, TestApp, TestAppOptions};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Browser, Page, PASSWORD};
use crate::smtp::SmtpSink;

const NEW_PASSWORD: &str = "a brand new passphrase";

fn email(name: &str) -> String {
    format!("{name}-{}@example.com", uuid::Uuid::new_v4().simple())
}

/// The path of a link of the app (`http://127.0.0.1:port/reset-password/...`).
fn path_of(link: &str) -> String {
    let rest = link.strip_prefix("http://").expect("an http link");
    rest[rest.find('/').expect("a path")..].to_owned()
}

async fn log_in<'a>(app: &'a TestApp, email: &str, password: &str) -> (Browser<'a>, Page) {
    let mut browser = Browser::new(app);
    browser.email = email.to_owned();
    let form = browser.get("/login").await;
    let page = browser
        .post(
            "/login",
            &[
                ("csrf", form.csrf().as_str()),
                ("email", email),
                ("password", password),
            ],
        )
        .await;
    (browser, page)
}

/// A new person joins through `link` by signing up with `address`.
async fn join<'a>(app: &'a TestApp, link: &str, address: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    browser.email = address.to_owned();
    let page = browser.get(&path_of(link)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let joined = browser
        .post(
            &format!("{}/signup", path_of(link)),
            &[("csrf", page.csrf().as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(joined.path, "/servers", "{}", joined.html);
    browser
}

async fn user_id(app: &TestApp, address: &str) -> UserId {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(address)
        .fetch_one(&app.db.pool)
        .await
        .expect("the person's account")
}

/// Opens a reset link's page and posts the new password twice.
async fn use_link(app: &TestApp, link: &str, password: &str, confirm: &str) -> Page {
    let browser = Browser::new(app);
    browser
        .submit(
            &path_of(link),
            &path_of(link),
            &[("new_password", password), ("confirm_password", confirm)],
        )
        .await
}

#[tokio::test]
async fn an_admins_reset_link_sets_the_password_once_and_ends_every_session_of_the_member() {
    let app = spawn_app().await;
    let tenant = sign_up(&app).await;
    let address = email("forgetful");
    let (status, invited) = tenant
        .post(
            "/api/v1/invitations",
            json!({"email": address, "role": "viewer"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    assert_eq!(invited["emailed"], false, "no SMTP server: nothing mailed");
    let member = join(&app, invited["link"].as_str().unwrap(), &address).await;
    let (second, landed) = log_in(&app, &address, PASSWORD).await;
    assert_eq!(landed.path, "/servers", "a second session of the member");
    let id = user_id(&app, &address).await;

    let (status, issued) = tenant
        .post(&format!("/api/v1/members/{id}/password-reset"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{issued}");
    let link = issued["link"].as_str().expect("the link, shown once");
    assert!(link.contains("/reset-password/"), "{link}");
    assert_eq!(issued["email"], address.as_str());

    // Only the hash is stored; the trail says a link was made, never the link.
    let token = link.rsplit('/').next().unwrap();
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM password_resets WHERE user_id = $1 AND used_at IS NULL \
         AND token_hash = sha256(convert_to($2, 'UTF8'))",
    )
    .bind(id)
    .bind(token)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(stored, 1);
    let trail: Vec<String> = sqlx::query_scalar(
        "SELECT row_to_json(e)::text FROM admin_audit_events e \
         WHERE route = '/api/v1/members/{id}/password-reset'",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(trail.len(), 1, "{trail:?}");
    assert!(trail[0].contains(&address), "{}", trail[0]);
    assert!(!trail[0].contains(token), "{}", trail[0]);

    // A mismatched confirmation and a too-short password change nothing.
    let mismatch = use_link(&app, link, NEW_PASSWORD, "something else entirely").await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch
        .testid_text("reset-error")
        .unwrap()
        .contains("differ"));
    let short = use_link(&app, link, "short", "short").await;
    assert_eq!(
        short.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        short.html
    );

    let done = use_link(&app, link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert!(done.testid_text("reset-done").is_some(), "{}", done.html);
    assert_eq!(
        done.testid_text("reset-sessions-ended").as_deref(),
        Some("2"),
        "both sessions of the member ended"
    );
    for (name, browser) in [("the joining session", &member), ("the second", &second)] {
        let page = browser.get("/servers").await;
        assert_eq!(page.path, "/login", "{name} is signed out");
    }

    // The link works once: its page and its form are refused the second time.
    let again = Browser::new(&app).get(&path_of(link)).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.html);
    let csrf_page = Browser::new(&app);
    let form = csrf_page.get("/login").await;
    let replay = csrf_page
        .post(
            &path_of(link),
            &[
                ("csrf", form.csrf().as_str()),
                ("new_password", "yet another passphrase"),
                ("confirm_password", "yet another passphrase"),
            ],
        )
        .await;
    assert_eq!(replay.status, StatusCode::CONFLICT, "{}", replay.html);

    let (_, old) = log_in(&app, &address, PASSWORD).await;
    assert_eq!(
        old.status,
        StatusCode::UNAUTHORIZED,
        "the old password is gone"
    );
    let (_, new) = log_in(&app, &address, NEW_PASSWORD).await;
    assert_eq!(new.path, "/servers", "{}", new.html);
}

#[tokio::test]
async fn an_expired_or_replaced_reset_link_is_refused() {
    let app = spawn_app().await;
    let owner = Browser::signed_up(&app).await;
    let id = user_id(&app, &owner.email).await;
    let expired = NewPasswordReset {
        user: id,
        token: mcpgate_auth::random_token(32),
        requested_by: "self".into(),
        tenant: None,
        expires_at: Utc::now() - Duration::minutes(1),
    };
    password_resets::create_reset(&app.db.pool, &expired)
        .await
        .unwrap();
    let link = format!("{}/reset-password/{}", app.api_url(""), expired.token);
    let page = Browser::new(&app).get(&path_of(&link)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND, "{}", page.html);
    let form = Browser::new(&app);
    let csrf = form.get("/login").await.csrf();
    let refused = form
        .post(
            &path_of(&link),
            &[
                ("csrf", csrf.as_str()),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.html);

    // A newer link retires the one before it.
    let members = owner.get("/members").await;
    let row = members
        .row(&format!("member-row-{}", owner.email))
        .expect("the owner's row");
    assert!(
        row.contains(&format!("/members/{id}/password-reset")),
        "{row}"
    );
    let first = owner
        .submit("/members", &format!("/members/{id}/password-reset"), &[])
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.html);
    let first = first.testid_text("reset-link").expect("the link is shown");
    let second = owner
        .submit("/members", &format!("/members/{id}/password-reset"), &[])
        .await;
    let second = second.testid_text("reset-link").expect("the link is shown");
    assert_ne!(first, second);
    let replaced = Browser::new(&app).get(&path_of(&first)).await;
    assert_eq!(replaced.status, StatusCode::NOT_FOUND);
    let live = Browser::new(&app).get(&path_of(&second)).await;
    assert_eq!(live.status, StatusCode::OK, "{}", live.html);
    assert_eq!(
        owner.get("/servers").await.path,
        "/servers",
        "making links ends nothing"
    );
}

#[tokio::test]
async fn an_admin_cannot_make_a_reset_link_for_someone_who_belongs_to_other_tenants() {
    let app = spawn_app().await;
    let other_tenant = Browser::signed_up(&app).await;
    let tenant = sign_up(&app).await;
    let (status, invited) = tenant
        .post(
            "/api/v1/invitations",
            json!({"email": other_tenant.email, "role": "approver"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{invited}");
    let join_path = path_of(invited["link"].as_str().unwrap());
    let accepted = other_tenant
        .submit(&join_path, &format!("{join_path}/accept"), &[])
        .await;
    assert_eq!(accepted.path, "/servers", "{}", accepted.html);
    let id = user_id(&app, &other_tenant.email).await;
    let (status, members) = tenant.get("/api/v1/members").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        members.to_string().contains(&other_tenant.email),
        "a member now"
    );

    let (status, refused) = tenant
        .post(&format!("/api/v1/members/{id}/password-reset"), json!({}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(
        refused["error"]["code"], "member_of_other_tenants",
        "{refused}"
    );
    let (status, _) = tenant
        .post(
            &format!("/api/v1/members/{}/password-reset", UserId::new()),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not a member of this tenant");
    let made: i64 = sqlx::query_scalar("SELECT count(*) FROM password_resets")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(made, 0);
}

/// Posts the forgot-password form for `address` from a fresh browser.
async fn forgot(app: &TestApp, address: &str) -> Page {
    let browser = Browser::new(app);
    browser
        .submit(
            "/forgot-password",
            "/forgot-password",
            &[("email", address)],
        )
        .await
}

#[tokio::test]
async fn forgot_password_mails_a_working_link_and_answers_alike_for_an_unknown_address() {
    let smtp = SmtpSink::start().await;
    let app = spawn_app_with(TestAppOptions {
        smtp_server: Some(smtp.address),
        ..TestAppOptions::default()
    })
    .await;
    let owner = Browser::signed_up(&app).await;
    let login = owner.get("/servers").await;
    assert_eq!(login.path, "/servers");
    let form = Browser::new(&app).get("/login").await;
    assert!(form.html.contains(r#"href="/forgot-password""#));

    let unknown = email("nobody");
    let for_unknown = forgot(&app, &unknown).await;
    let for_known = forgot(&app, &owner.email).await;
    assert_eq!(for_unknown.status, StatusCode::OK, "{}", for_unknown.html);
    assert_eq!(for_known.status, for_unknown.status);
    assert_eq!(
        for_known.html.replace(&owner.email, "ADDRESS"),
        for_unknown.html.replace(&unknown, "ADDRESS"),
        "the same page whether or not the address has an account"
    );
    assert!(for_known.testid_text("forgot-sent").is_some());

    let mail = smtp.wait_for(&owner.email).await;
    assert_eq!(mail.from, "mcpgate@example.com");
    assert!(mail.subject.contains("Reset"), "{}", mail.subject);
    let link = mail.link("/reset-password/").expect("the link in the mail");
    assert!(
        smtp.delivered()
            .iter()
            .all(|mail| !mail.rcpt_tos.iter().any(|to| to == &unknown)),
        "nothing is mailed to an address without an account"
    );

    let done = use_link(&app, &link, NEW_PASSWORD, NEW_PASSWORD).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    assert_eq!(
        owner.get("/servers").await.path,
        "/login",
        "signed out everywhere"
    );
    let (_, new) = log_in(&app, &owner.email, NEW_PASSWORD).await;
    assert_eq!(new.path, "/servers");
    let reused = Browser::new(&app).get(&path_of(&link)).await;
    assert_eq!(reused.status, StatusCode::NOT_FOUND);

    // Three requests per address an hour, counted alike for unknown addresses.
    for address in [&owner.email, &unknown] {
        let mut statuses = Vec::new();
        for _ in 0..3 {
            statuses.push(forgot(&app, address).await.status);
        }
        assert_eq!(
            statuses,
            vec![
                StatusCode::OK,
                StatusCode::OK,
                StatusCode::TOO_MANY_REQUESTS
            ],
            "{address} (one request was made earlier)"
        );
    }
    let limited = forgot(&app, &owner.email.to_uppercase()).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the address in any case"
    );
}

#[tokio::test]
async fn an_invitation_is_mailed_when_smtp_is_configured_and_forgot_password_needs_smtp() {
    let smtp = SmtpSink::start().await;
    let app = spawn_app_with(TestAppOptions {
        smtp_server: Some(smtp.address),
        ..TestAppOptions::default()
    })
    .await;
    let owner = Browser::signed_up(&app).await;
    let invited = email("invited");
    let page = owner
        .submit(
            "/members",
            "/members/invite",
            &[("email", &invited), ("role", "policy_manager")],
        )
        .await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.html);
    assert!(page.html.contains("It was also mailed to the address"));
    let shown = page.testid_text("invitation-link").expect("the link");
    let mail = smtp.wait_for(&invited).await;
    assert!(mail.subject.contains("Acme"), "{}", mail.subject);
    assert!(mail.text.contains("policy_manager"), "{}", mail.text);
    assert_eq!(mail.link("/join/").as_deref(), Some(shown.as_str()));
    join(&app, &shown, &invited).await;

    // Without SMTP the form is not offered and its endpoint finds nothing.
    let plain = spawn_app().await;
    let forgot_page = Browser::new(&plain).get("/forgot-password").await;
    assert_eq!(forgot_page.status, StatusCode::OK);
    assert!(forgot_page.testid_text("forgot-ask-admin").is_some());
    assert!(!forgot_page.html.contains("forgot-form"));
    let browser = Browser::new(&plain);
    let csrf = browser.get("/login").await.csrf();
    let refused = browser
        .post(
            "/forgot-password",
            &[("csrf", csrf.as_str()), ("email", "someone@example.com")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "{}", refused.html);
}
