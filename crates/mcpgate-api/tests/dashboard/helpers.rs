//! A browser-like client: a cookie jar, redirects followed, forms posted with
//! the CSRF token read from the page.

use mcpgate_testkit::TestApp;
use reqwest::redirect::Policy;
use reqwest::StatusCode;

pub const PASSWORD: &str = "correct horse battery";

/// One browser: its own cookie jar.
pub struct Browser<'a> {
    pub app: &'a TestApp,
    pub client: reqwest::Client,
    pub email: String,
}

/// A page as the browser got it, after redirects.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    /// The path it ended on (with the query).
    pub path: String,
    pub html: String,
}

impl Page {
    /// The CSRF token of the page's forms.
    pub fn csrf(&self) -> String {
        attribute_after(&self.html, "name=\"csrf\" value=\"").expect("a form with a CSRF token")
    }

    /// The text of the element carrying `data-testid="<id>"`, tags stripped.
    pub fn testid_text(&self, id: &str) -> Option<String> {
        let marker = format!("data-testid=\"{id}\"");
        let start = self.html.find(&marker)?;
        let rest = &self.html[start..];
        let open_end = rest.find('>')? + 1;
        let close = rest[open_end..].find("</")?;
        Some(unescape(&rest[open_end..open_end + close]))
    }

    /// The HTML from `data-testid="<id>"` to the end of its table row.
    pub fn row(&self, id: &str) -> Option<&str> {
        let start = self.html.find(&format!("data-testid=\"{id}\""))?;
        let end = self.html[start..].find("</tr>")? + start;
        Some(&self.html[start..end])
    }
}

fn attribute_after(html: &str, prefix: &str) -> Option<String> {
    let start = html.find(prefix)? + prefix.len();
    let end = html[start..].find('"')? + start;
    Some(unescape(&html[start..end]))
}

/// Undoes askama's HTML escaping.
pub fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Browser {
            app,
            client: reqwest::Client::builder()
                .cookie_store(true)
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap(),
            email: String::new(),
        }
    }

    /// A browser that has signed up a new tenant and is logged in.
    pub async fn signed_up(app: &'a TestApp) -> Self {
        let mut browser = Browser::new(app);
        browser.email = format!("owner-{}@example.com", uuid::Uuid::new_v4().simple());
        let form = browser.get("/signup").await;
        let email = browser.email.clone();
        let page = browser
            .post(
                "/signup",
                &[
                    ("csrf", form.csrf().as_str()),
                    ("email", &email),
                    ("password", PASSWORD),
                    ("tenant_name", "Acme"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.html);
        assert_eq!(page.path, "/servers");
        browser
    }

    pub async fn get(&self, path: &str) -> Page {
        let response = self
            .client
            .get(self.app.api_url(path))
            .send()
            .await
            .unwrap();
        into_page(response).await
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let response = self
            .client
            .post(self.app.api_url(path))
            .form(form)
            .send()
            .await
            .unwrap();
        into_page(response).await
    }

    /// Adds a server through the servers page's form (discovery runs); the page the
    /// browser lands on: the server's page, or the form again with the error.
    pub async fn add_server(&self, name: &str, url: &str) -> Page {
        self.submit("/servers", "/servers", &[("name", name), ("url", url)])
            .await
    }

    /// Opens `page_path`, then posts `form` (plus the page's CSRF token) to `action`.
    pub async fn submit(&self, page_path: &str, action: &str, form: &[(&str, &str)]) -> Page {
        let csrf = self.get(page_path).await.csrf();
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post(action, &fields).await
    }
}

async fn into_page(response: reqwest::Response) -> Page {
    let status = response.status();
    let url = response.url().clone();
    let path = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    Page {
        status,
        path,
        html: response.text().await.unwrap(),
    }
}

/// A client that neither keeps cookies nor follows redirects.
pub fn bare_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}
