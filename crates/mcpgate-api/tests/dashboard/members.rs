//! Members through the dashboard's forms: inviting, joining by the link once,
//! roles applied on the next request, the last admin kept, removal ending access,
//! switching tenants, the session list and signing out everywhere, and the admin
//! trail recording each change with its actor.

use mcpgate_testkit::spawn_app;
use reqwest::StatusCode;

use crate::helpers::{Browser, Page, PASSWORD};

/// The admin invites `email` as `role` from the members page; the link shown once.
async fn invite(admin: &Browser<'_>, email: &str, role: &str) -> String {
    let page = admin
        .submit(
            "/members",
            "/members/invite",
            &[("email", email), ("role", role)],
        )
        .await;
    assert_eq!(page.status, StatusCode::CREATED, "{}", page.html);
    let link = page
        .testid_text("invitation-link")
        .expect("the link is shown");
    assert!(link.contains("/join/"), "{link}");
    link
}

/// The path part of an invitation link.
fn path_of(link: &str) -> String {
    let at = link.find("/join/").expect("a join link");
    link[at..].to_owned()
}

/// A new browser that opens `link` and signs up with `email` to join.
async fn join_by_signing_up<'a>(
    app: &'a mcpgate_testkit::TestApp,
    link: &str,
    email: &str,
) -> Browser<'a> {
    let mut browser = Browser::new(app);
    browser.email = email.to_owned();
    let page = browser.get(&path_of(link)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let csrf = page.csrf();
    let joined = browser
        .post(
            &format!("{}/signup", path_of(link)),
            &[("csrf", csrf.as_str()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(joined.status, StatusCode::OK, "{}", joined.html);
    assert_eq!(joined.path, "/servers");
    browser
}

fn email(name: &str) -> String {
    format!("{name}-{}@example.com", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn an_invitation_link_works_once_and_gives_exactly_the_invited_role() {
    let app = spawn_app().await;
    let admin = Browser::signed_up(&app).await;
    let approver_email = email("approver");
    let link = invite(&admin, &approver_email, "approver").await;

    let approver = join_by_signing_up(&app, &link, &approver_email).await;
    let servers = approver.get("/servers").await;
    assert_eq!(
        servers.testid_text("user-role").as_deref(),
        Some("approver")
    );
    // Approvers read and decide; they do not manage keys, servers or members.
    assert_eq!(
        approver.get("/api-keys").await.status,
        StatusCode::FORBIDDEN
    );
    let add = approver
        .submit(
            "/servers",
            "/servers",
            &[("name", "x"), ("url", "http://127.0.0.1:9/")],
        )
        .await;
    assert_eq!(add.status, StatusCode::FORBIDDEN, "{}", add.html);
    let decide = approver
        .submit(
            "/approvals",
            &format!("/approvals/{}/decide", uuid::Uuid::now_v7()),
            &[("decision", "approve")],
        )
        .await;
    assert_ne!(decide.status, StatusCode::FORBIDDEN, "{}", decide.html);

    // The link is spent: a second browser finds nothing there.
    let again = Browser::new(&app).get(&path_of(&link)).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND, "{}", again.html);

    let members = admin.get("/members").await;
    let row = members
        .row(&format!("member-row-{approver_email}"))
        .expect("the new member is listed");
    assert!(row.contains("value=\"approver\" selected"), "{row}");
    let invitations = members
        .row(&format!("invitation-row-{approver_email}"))
        .expect("the invitation is listed");
    assert!(invitations.contains("accepted"), "{invitations}");
}

#[tokio::test]
async fn the_last_admin_can_neither_be_demoted_nor_removed() {
    let app = spawn_app().await;
    let admin = Browser::signed_up(&app).await;
    let members = admin.get("/members").await;
    let row = members
        .row(&format!("member-row-{}", admin.email))
        .expect("the admin is listed")
        .to_owned();
    let user_id = row
        .split("/members/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("the member's id in the row's forms")
        .to_owned();

    let demote = admin
        .submit(
            "/members",
            &format!("/members/{user_id}/role"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(demote.status, StatusCode::CONFLICT, "{}", demote.html);
    assert!(
        demote.html.contains("at least one admin"),
        "{}",
        demote.html
    );
    let remove = admin
        .submit("/members", &format!("/members/{user_id}/remove"), &[])
        .await;
    assert_eq!(remove.status, StatusCode::CONFLICT, "{}", remove.html);
    let still = admin.get("/members").await;
    assert_eq!(still.testid_text("user-role").as_deref(), Some("admin"));

    // With a second admin, the first may step down.
    let second_email = email("second-admin");
    let link = invite(&admin, &second_email, "admin").await;
    join_by_signing_up(&app, &link, &second_email).await;
    let demote = admin
        .submit(
            "/members",
            &format!("/members/{user_id}/role"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(demote.status, StatusCode::OK, "{}", demote.html);
    assert_eq!(demote.testid_text("user-role").as_deref(), Some("viewer"));
}

fn member_id(members: &Page, email: &str) -> String {
    members
        .row(&format!("member-row-{email}"))
        .expect("the member is listed")
        .split("/members/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("the member's id")
        .to_owned()
}

#[tokio::test]
async fn a_role_change_applies_on_the_next_request_and_a_removed_member_is_signed_out() {
    let app = spawn_app().await;
    let admin = Browser::signed_up(&app).await;
    let viewer_email = email("viewer");
    let link = invite(&admin, &viewer_email, "viewer").await;
    let viewer = join_by_signing_up(&app, &link, &viewer_email).await;
    assert_eq!(viewer.get("/api-keys").await.status, StatusCode::FORBIDDEN);

    let id = member_id(&admin.get("/members").await, &viewer_email);
    let promote = admin
        .submit(
            "/members",
            &format!("/members/{id}/role"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(promote.status, StatusCode::OK, "{}", promote.html);
    assert_eq!(viewer.get("/api-keys").await.status, StatusCode::OK);

    let remove = admin
        .submit("/members", &format!("/members/{id}/remove"), &[])
        .await;
    assert_eq!(remove.status, StatusCode::OK, "{}", remove.html);
    let after = viewer.get("/servers").await;
    assert_eq!(
        after.path, "/login",
        "a removed member's next request goes to login"
    );
}

#[tokio::test]
async fn a_person_in_two_tenants_switches_lists_sessions_and_signs_out_everywhere() {
    let app = spawn_app().await;
    let first = Browser::signed_up(&app).await;
    let second = Browser::signed_up(&app).await;
    let person = email("consultant");
    let link = invite(&first, &person, "viewer").await;
    let browser = join_by_signing_up(&app, &link, &person).await;
    let other_link = invite(&second, &person, "policy_manager").await;

    // Signed in, the second link offers to join, and joining moves there.
    let offer = browser.get(&path_of(&other_link)).await;
    assert!(
        offer.html.contains("data-testid=\"join-accept\""),
        "{}",
        offer.html
    );
    let joined = browser
        .post(
            &format!("{}/accept", path_of(&other_link)),
            &[("csrf", offer.csrf().as_str())],
        )
        .await;
    assert_eq!(joined.path, "/servers", "{}", joined.html);
    assert_eq!(
        joined.testid_text("user-role").as_deref(),
        Some("policy_manager")
    );
    assert!(
        joined.html.contains("data-testid=\"switch-tenant\""),
        "two tenants: a switcher"
    );

    let first_id = joined
        .html
        .split("<option value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap_or_default().to_owned())
        .find(|id| !joined.html.contains(&format!("value=\"{id}\" selected")))
        .expect("the other tenant in the switcher");
    let switched = browser
        .post(
            "/switch-tenant",
            &[
                ("csrf", joined.csrf().as_str()),
                ("tenant_id", first_id.as_str()),
            ],
        )
        .await;
    assert_eq!(switched.testid_text("user-role").as_deref(), Some("viewer"));
    // Another tenant's id is not one to switch to.
    let refused = browser
        .post(
            "/switch-tenant",
            &[
                ("csrf", switched.csrf().as_str()),
                ("tenant_id", &uuid::Uuid::now_v7().to_string()),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);

    // Two sessions: the sign-up's (moved by accepting) and... one browser, one session.
    let sessions = browser.get("/account/sessions").await;
    assert_eq!(sessions.status, StatusCode::OK);
    assert_eq!(
        sessions.html.matches("data-testid=\"session-row\"").count(),
        1
    );
    assert!(sessions.html.contains("data-testid=\"session-current\""));
    let out = browser
        .post(
            "/account/sessions/end-all",
            &[("csrf", sessions.csrf().as_str())],
        )
        .await;
    assert_eq!(out.path, "/login");
    assert_eq!(browser.get("/servers").await.path, "/login");
}

#[tokio::test]
async fn the_admin_trail_shows_each_dashboard_change_with_its_actor() {
    let app = spawn_app().await;
    let admin = Browser::signed_up(&app).await;
    let person = email("policy");
    let link = invite(&admin, &person, "policy_manager").await;
    let manager = join_by_signing_up(&app, &link, &person).await;

    let trail = manager.get("/admin-audit").await;
    assert_eq!(trail.status, StatusCode::OK, "{}", trail.html);
    let rows = trail
        .html
        .matches("data-testid=\"admin-audit-row\"")
        .count();
    assert_eq!(rows, 2, "the invitation and the join: {}", trail.html);
    assert!(
        trail.html.contains(&format!("user:{}", admin.email)),
        "the inviter"
    );
    assert!(
        trail.html.contains(&format!("user:{person}")),
        "the person joining"
    );
    assert!(trail.html.contains("POST /members/invite"));
    // The link's token is never in the trail.
    let token = path_of(&link).trim_start_matches("/join/").to_owned();
    assert!(!trail.html.contains(&token));

    let filtered = manager
        .get(&format!("/admin-audit?actor=user:{person}"))
        .await;
    assert_eq!(
        filtered
            .html
            .matches("data-testid=\"admin-audit-row\"")
            .count(),
        1
    );

    let export = manager.get("/admin-audit/export").await;
    assert_eq!(export.status, StatusCode::OK);
    let lines: Vec<serde_json::Value> = export
        .html
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", export.html);
    assert_eq!(lines[0]["actor"], format!("user:{person}"));
    assert_eq!(lines[0]["client_address"], "127.0.0.1");
}

#[tokio::test]
async fn the_single_sign_on_settings_are_linked_from_the_nav_for_admins_only() {
    let app = spawn_app().await;
    let admin = Browser::signed_up(&app).await;
    let servers = admin.get("/servers").await;
    assert!(
        servers.testid_text("nav").is_some(),
        "the nav is on the page"
    );
    assert!(
        servers
            .html
            .contains(r#"href="/settings/sso" data-testid="nav-sso""#),
        "an admin sees the link"
    );
    let settings = admin.get("/settings/sso").await;
    assert_eq!(settings.status, StatusCode::OK);
    assert!(settings
        .html
        .contains(r#"data-testid="nav-sso" class="active""#));

    for role in ["policy_manager", "approver", "viewer"] {
        let address = email(role);
        let link = invite(&admin, &address, role).await;
        let member = join_by_signing_up(&app, &link, &address).await;
        let page = member.get("/servers").await;
        assert_eq!(page.testid_text("user-role").as_deref(), Some(role));
        assert!(!page.html.contains("nav-sso"), "{role} sees no SSO link");
        let refused = member.get("/settings/sso").await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{role}");
    }
}
