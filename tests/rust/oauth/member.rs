//! A member of a tenant as a browser has them: signed in to the dashboard (the session
//! cookie), answering consent pages over HTTP, and holding the tenant's API key.

use mcpgate_e2e::api::Tenant;
use mcpgate_testkit::TestApp;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{redirect::Policy, StatusCode};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

/// A signed-in member (an admin: the account's first).
#[derive(Debug)]
pub struct Member<'a> {
    pub app: &'a TestApp,
    pub tenant: Tenant<'a>,
    /// `mcpgate_session=...`.
    cookie: String,
    /// Follows no redirects: each is asserted.
    pub http: reqwest::Client,
}

/// The browser's client: no redirects followed, cookies sent by hand.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("an HTTP client")
}

/// The value of cookie `name` that `response` sets.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| {
            let pair = value.split(';').next()?;
            let (key, value) = pair.split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
}

/// The `value` of the `<input ... name="{name}" value="...">` in `html`.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    let end = rest.find('"')?;
    Some(unescape(&rest[..end]))
}

fn unescape(text: &str) -> String {
    text.replace("&#x2f;", "/")
        .replace("&#x2F;", "/")
        .replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl<'a> Member<'a> {
    /// Signs up a tenant (REST) and logs its owner in to the dashboard.
    pub async fn sign_up(app: &'a TestApp) -> Member<'a> {
        let email = format!("owner-{}@example.com", uuid_like());
        let (status, body) = mcpgate_testkit::rest::send(
            app,
            reqwest::Method::POST,
            "/api/v1/signup",
            None,
            Some(json!({"email": email, "password": PASSWORD, "tenant_name": "Acme"})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "signing up: {body}");
        let tenant = Tenant(mcpgate_testkit::rest::Tenant {
            app,
            key: body["api_key"]["key_secret"]
                .as_str()
                .expect("the key")
                .to_owned(),
            tenant_id: body["tenant"]["id"]
                .as_str()
                .expect("the tenant")
                .to_owned(),
        });
        let http = browser();
        let page = http
            .get(app.api_url("/login"))
            .send()
            .await
            .expect("the login page");
        let csrf_cookie = set_cookie(&page, "mcpgate_login_csrf").expect("the login CSRF cookie");
        let html = page.text().await.expect("the login page's body");
        let csrf = input_value(&html, "csrf").expect("the login form's CSRF field");
        let login = http
            .post(app.api_url("/login"))
            .header(COOKIE, format!("mcpgate_login_csrf={csrf_cookie}"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", &email),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .expect("logging in");
        assert_eq!(login.status(), StatusCode::SEE_OTHER, "logging in");
        let session = set_cookie(&login, "mcpgate_session").expect("the session cookie");
        Member {
            app,
            tenant,
            cookie: format!("mcpgate_session={session}"),
            http,
        }
    }

    /// `GET url` with the session cookie.
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.http
            .get(url)
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .expect("the API answers")
    }

    /// Opens the consent page at `authorize_url` and answers it with `choice` (e.g.
    /// `[("decision","allow"),("policy","server"),("expires","30")]`); the URL the browser
    /// is sent back to.
    pub async fn consent(&self, authorize_url: &str, choice: &[(&str, &str)]) -> String {
        let page = self.get(authorize_url).await;
        let status = page.status();
        let html = page.text().await.expect("the consent page");
        assert_eq!(status, StatusCode::OK, "the consent page: {html}");
        assert!(html.contains("data-testid=\"consent-form\""), "{html}");
        let mut form: Vec<(String, String)> = [
            "csrf",
            "response_type",
            "client_id",
            "redirect_uri",
            "state",
            "code_challenge",
            "code_challenge_method",
            "resource",
            "scope",
        ]
        .iter()
        .map(|name| {
            let value = input_value(&html, name).unwrap_or_else(|| panic!("the hidden {name}"));
            ((*name).to_owned(), value)
        })
        .collect();
        form.extend(
            choice
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let answer = self
            .http
            .post(self.app.api_url("/oauth/authorize"))
            .header(COOKIE, &self.cookie)
            .form(&form)
            .send()
            .await
            .expect("answering the consent page");
        let status = answer.status();
        let location = answer
            .headers()
            .get(LOCATION)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned);
        let body = answer.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::SEE_OTHER, "the consent answer: {body}");
        location.expect("the redirect back to the client")
    }

    /// [`Member::consent`] allowing with the server's policy for 30 days.
    pub async fn allow(&self, authorize_url: &str) -> String {
        self.consent(
            authorize_url,
            &[
                ("decision", "allow"),
                ("policy", "server"),
                ("expires", "30"),
            ],
        )
        .await
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQUENCE: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{}-{nanos}-{}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    )
}
