//! DNS-rebinding protection (MCP transport spec, "Security Warning"): a request whose
//! `Origin` is present and is not the proxy's own public origin is refused. When the
//! public URL is itself on loopback, any loopback origin is accepted (local tools).

use http::HeaderMap;

/// The origins the proxy accepts.
#[derive(Debug, Clone)]
pub(crate) struct AllowedOrigins {
    public: String,
    any_loopback: bool,
}

impl AllowedOrigins {
    /// From the public URL; an unparsable one accepts no `Origin` at all (requests
    /// without `Origin`, as every non-browser client sends, still pass).
    pub(crate) fn new(public_url: &str) -> Self {
        match reqwest::Url::parse(public_url) {
            Ok(url) => Self {
                public: url.origin().ascii_serialization(),
                any_loopback: url.host_str().is_some_and(is_loopback),
            },
            Err(_) => Self {
                public: String::new(),
                any_loopback: false,
            },
        }
    }

    /// `Err(origin)` when the request carries a foreign `Origin`.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), String> {
        let Some(origin) = headers.get(http::header::ORIGIN) else {
            return Ok(());
        };
        let origin = String::from_utf8_lossy(origin.as_bytes());
        let text = origin.trim_end_matches('/');
        if !self.public.is_empty() && text.eq_ignore_ascii_case(&self.public) {
            return Ok(());
        }
        if self.any_loopback {
            if let Ok(url) = reqwest::Url::parse(text) {
                if matches!(url.scheme(), "http" | "https")
                    && url.host_str().is_some_and(is_loopback)
                {
                    return Ok(());
                }
            }
        }
        Err(origin.into_owned())
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_origin(origin: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::ORIGIN, origin.parse().unwrap());
        headers
    }

    #[test]
    fn only_the_public_origin_or_loopback_for_a_loopback_proxy() {
        let public = AllowedOrigins::new("https://gate.example.com/");
        assert!(public.check(&HeaderMap::new()).is_ok());
        assert!(public
            .check(&with_origin("https://gate.example.com"))
            .is_ok());
        assert!(public
            .check(&with_origin("https://evil.example.com"))
            .is_err());
        assert!(public.check(&with_origin("http://localhost:3000")).is_err());
        assert!(public.check(&with_origin("null")).is_err());

        let local = AllowedOrigins::new("http://127.0.0.1:8081");
        assert!(local.check(&with_origin("http://localhost:5173")).is_ok());
        assert!(local.check(&with_origin("http://[::1]:1")).is_ok());
        assert!(local
            .check(&with_origin("http://evil.example.com"))
            .is_err());
    }
}
