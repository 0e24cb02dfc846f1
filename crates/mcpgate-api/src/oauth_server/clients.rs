//! Who a client is: its Client ID Metadata Document (the `client_id` is an https URL we
//! fetch, through the SSRF guard, and cache), or its Dynamic Client Registration.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcpgate_store::{oauth_server, PgPool};
use mcpgate_upstream::AddressPolicy;
use serde::Deserialize;

/// How long a fetched document is trusted before it is fetched again.
const DOCUMENT_TTL: Duration = Duration::from_secs(5 * 60);
/// Documents remembered at most (then the cache starts afresh).
const DOCUMENT_CACHE_ENTRIES: usize = 1_000;
/// The largest document read.
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// How long fetching one may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The prefix of the client ids we hand out at registration.
pub(super) const REGISTERED_PREFIX: &str = "mcpgate-dcr-";

/// A client, as the consent page names it and the flow checks it.
#[derive(Debug, Clone)]
pub(crate) struct Client {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) redirect_uris: Vec<String>,
    pub(crate) registered: bool,
}

impl Client {
    /// Exact string match (OAuth 2.1 §4.1.1, RFC 9700 §4.1.3): no prefix, no pattern.
    pub(crate) fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|allowed| allowed == uri)
    }
}

/// Why a `client_id` names no usable client.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientError {
    #[error("no client is registered with this client_id")]
    Unknown,
    #[error("the client's metadata document at {url} cannot be used: {reason}")]
    Document { url: String, reason: String },
    #[error(transparent)]
    Store(#[from] mcpgate_store::StoreError),
}

/// Clients by id: registrations from Postgres, documents from their URL (cached).
#[derive(Debug)]
pub(crate) struct ClientDirectory {
    http: reqwest::Client,
    /// Loopback `http://` document URLs are accepted too when private upstreams are
    /// (local installs and tests); everywhere else a document URL must be https.
    allow_loopback_http: bool,
    documents: Mutex<HashMap<String, (Instant, Arc<Client>)>>,
}

impl ClientDirectory {
    pub(crate) fn new(policy: AddressPolicy, allow_private: bool) -> Self {
        let http = mcpgate_upstream::upstream_client(policy, "oauth-client-metadata")
            .timeout(FETCH_TIMEOUT)
            .user_agent(concat!("mcpgate/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Self {
            http,
            allow_loopback_http: allow_private,
            documents: Mutex::new(HashMap::new()),
        }
    }

    /// The client `client_id` names.
    pub(crate) async fn find(&self, db: &PgPool, client_id: &str) -> Result<Client, ClientError> {
        if client_id.starts_with(REGISTERED_PREFIX) {
            let found = oauth_server::registered_client(db, client_id)
                .await?
                .ok_or(ClientError::Unknown)?;
            return Ok(Client {
                id: found.client_id,
                name: found.client_name,
                redirect_uris: found.redirect_uris,
                registered: true,
            });
        }
        let url = self.document_url(client_id).ok_or(ClientError::Unknown)?;
        if let Some(client) = self.cached(client_id) {
            return Ok((*client).clone());
        }
        let client = Arc::new(self.fetch(client_id, url).await?);
        let mut documents = lock(&self.documents);
        if documents.len() >= DOCUMENT_CACHE_ENTRIES {
            documents.clear();
        }
        documents.insert(client_id.to_owned(), (Instant::now(), Arc::clone(&client)));
        Ok((*client).clone())
    }

    fn cached(&self, client_id: &str) -> Option<Arc<Client>> {
        let documents = lock(&self.documents);
        let (at, client) = documents.get(client_id)?;
        (at.elapsed() < DOCUMENT_TTL).then(|| Arc::clone(client))
    }

    /// A `client_id` that is a document URL: https (or loopback http when allowed), with
    /// a path, no fragment and no credentials (CIMD draft §3).
    fn document_url(&self, client_id: &str) -> Option<url::Url> {
        let url = url::Url::parse(client_id).ok()?;
        let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        let scheme_ok = url.scheme() == "https"
            || (url.scheme() == "http" && loopback && self.allow_loopback_http);
        let shape_ok = url.path() != "/"
            && url.fragment().is_none()
            && url.username().is_empty()
            && url.password().is_none();
        (scheme_ok && shape_ok).then_some(url)
    }

    async fn fetch(&self, client_id: &str, url: url::Url) -> Result<Client, ClientError> {
        let refused = |reason: String| ClientError::Document {
            url: client_id.to_owned(),
            reason,
        };
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| refused(format!("fetching it failed ({error})")))?;
        if !response.status().is_success() {
            return Err(refused(format!("it answered HTTP {}", response.status())));
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_DOCUMENT_BYTES as u64)
        {
            return Err(refused("it is larger than 64 KiB".into()));
        }
        let bytes = response
            .bytes()
            .await
            .map_err(|error| refused(format!("reading it failed ({error})")))?;
        if bytes.len() > MAX_DOCUMENT_BYTES {
            return Err(refused("it is larger than 64 KiB".into()));
        }
        let document: Document = serde_json::from_slice(&bytes)
            .map_err(|error| refused(format!("it is not a client metadata document ({error})")))?;
        document.into_client(client_id).map_err(refused)
    }
}

/// The fields of a Client ID Metadata Document we use.
#[derive(Debug, Deserialize)]
struct Document {
    client_id: String,
    #[serde(default)]
    client_name: Option<String>,
    redirect_uris: Vec<String>,
}

impl Document {
    fn into_client(self, client_id: &str) -> Result<Client, String> {
        if self.client_id != client_id {
            return Err(format!(
                "its client_id is {:?}, not the URL it was fetched from",
                self.client_id
            ));
        }
        if self.redirect_uris.is_empty() {
            return Err("it lists no redirect_uris".into());
        }
        let name = self
            .client_name
            .map(|name| name.trim().chars().take(100).collect::<String>())
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| client_id.to_owned());
        Ok(Client {
            id: self.client_id,
            name,
            redirect_uris: self.redirect_uris,
            registered: false,
        })
    }
}

// A poisoned lock only means a panic elsewhere during an insert: the map is intact.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory(allow_private: bool) -> ClientDirectory {
        ClientDirectory::new(AddressPolicy::new(allow_private), allow_private)
    }

    #[test]
    fn a_document_url_is_https_with_a_path_and_loopback_http_only_when_allowed() {
        let strict = directory(false);
        assert!(strict
            .document_url("https://app.example.com/oauth/client.json")
            .is_some());
        assert!(strict.document_url("https://app.example.com/").is_none());
        assert!(strict.document_url("https://app.example.com/c#x").is_none());
        assert!(strict
            .document_url("https://u:p@app.example.com/c")
            .is_none());
        assert!(strict
            .document_url("http://127.0.0.1:9/client.json")
            .is_none());
        assert!(strict.document_url("my-client").is_none());
        assert!(directory(true)
            .document_url("http://127.0.0.1:9/client.json")
            .is_some());
        assert!(directory(true)
            .document_url("http://example.com/client.json")
            .is_none());
    }

    #[test]
    fn a_document_must_name_its_own_url_and_a_redirect_uri() {
        let id = "https://app.example.com/client.json";
        let document = |client_id: &str, uris: Vec<String>| Document {
            client_id: client_id.into(),
            client_name: Some("  Acme Agent ".into()),
            redirect_uris: uris,
        };
        let client = document(id, vec!["http://127.0.0.1:3000/cb".into()])
            .into_client(id)
            .unwrap();
        assert_eq!(client.name, "Acme Agent");
        assert!(client.allows_redirect("http://127.0.0.1:3000/cb"));
        assert!(!client.allows_redirect("http://127.0.0.1:3000/cb/"));
        assert!(!client.allows_redirect("http://127.0.0.1:3000/cb?x=1"));
        assert!(
            document("https://other.example.com/c", vec!["x:/cb".into()])
                .into_client(id)
                .is_err()
        );
        assert!(document(id, vec![]).into_client(id).is_err());
    }
}
