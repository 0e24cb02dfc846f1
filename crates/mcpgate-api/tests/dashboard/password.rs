//! Changing one's password from the account pages.

use mcpgate_testkit::spawn_app;
use reqwest::StatusCode;

use crate::helpers::{Browser, PASSWORD};

const NEW_PASSWORD: &str = "a new and longer passphrase";

async fn log_in<'a>(
    app: &'a mcpgate_testkit::TestApp,
    email: &str,
    password: &str,
) -> (Browser<'a>, String) {
    let browser = Browser::new(app);
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
    (browser, page.path)
}

#[tokio::test]
async fn a_password_change_needs_the_current_password_and_signs_out_the_other_sessions() {
    let app = spawn_app().await;
    let owner = Browser::signed_up(&app).await;
    let (other, landed) = log_in(&app, &owner.email, PASSWORD).await;
    assert_eq!(landed, "/servers", "a second session of the same person");
    let sessions = owner.get("/account/sessions").await;
    assert!(sessions.html.contains(r#"href="/account/password""#));

    // A wrong current password, and a mismatched confirmation, change nothing.
    let wrong = owner
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", "not my password at all"),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.html);
    assert!(wrong
        .testid_text("password-error")
        .unwrap()
        .contains("current password is wrong"));
    let mismatch = owner
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", "something else entirely"),
            ],
        )
        .await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    let short = owner
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "short"),
                ("confirm_password", "short"),
            ],
        )
        .await;
    assert_eq!(
        short.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        short.html
    );
    assert_eq!(
        other.get("/servers").await.path,
        "/servers",
        "nothing changed yet"
    );

    let changed = owner
        .submit(
            "/account/password",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", NEW_PASSWORD),
                ("confirm_password", NEW_PASSWORD),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.html);
    assert!(changed
        .testid_text("password-changed")
        .unwrap()
        .contains("1 other session(s)"));
    // This browser stays signed in; the other session is gone.
    assert_eq!(owner.get("/servers").await.path, "/servers");
    assert_eq!(other.get("/servers").await.path, "/login");
    // Only the new password logs in now.
    assert_eq!(log_in(&app, &owner.email, PASSWORD).await.1, "/login");
    assert_eq!(log_in(&app, &owner.email, NEW_PASSWORD).await.1, "/servers");
}
