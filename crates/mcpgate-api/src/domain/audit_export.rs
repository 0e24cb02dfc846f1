//! What a SIEM webhook may be: HTTPS to an address the SSRF guard allows; plain HTTP
//! only to loopback, and only where the deployment allows private upstreams
//! (development and tests), since batches carry the tenant's audit log.

use mcpgate_upstream::AddressPolicy;

use crate::error::ApiError;

/// `url` as an export may use it, or the 422 saying why not.
pub fn webhook_url(policy: &AddressPolicy, url: &str) -> Result<String, ApiError> {
    const PATH: &str = "/url";
    let url = url.trim();
    let parsed = url::Url::parse(url)
        .ok()
        .filter(|parsed| {
            url.len() <= 2048
                && parsed.username().is_empty()
                && parsed.password().is_none()
                && parsed.host_str().is_some_and(|host| !host.is_empty())
        })
        .ok_or_else(|| {
            ApiError::invalid(
                PATH,
                "must be an absolute https:// URL of at most 2048 characters, without credentials",
            )
        })?;
    let loopback = match parsed.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => false,
    };
    match parsed.scheme() {
        "https" => {}
        "http" if loopback && policy.allow_private => {}
        _ => {
            return Err(ApiError::invalid(
                PATH,
                "must be https:// (http:// is allowed only to loopback, where the deployment \
                 allows private upstreams)",
            ))
        }
    }
    let (Some(host), Some(port)) = (parsed.host_str(), parsed.port_or_known_default()) else {
        return Err(ApiError::invalid(PATH, "must name a host"));
    };
    if let Some(reason) = policy.check_host(host, port) {
        return Err(ApiError::invalid(
            PATH,
            format!("{host}:{port} is refused: {reason}"),
        ));
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_is_required_and_http_only_reaches_loopback_in_development() {
        let strict = AddressPolicy::new(false);
        let development = AddressPolicy::new(true);
        assert!(webhook_url(&strict, "https://siem.example.com/ingest").is_ok());
        assert!(webhook_url(&strict, "http://siem.example.com/ingest").is_err());
        assert!(webhook_url(&strict, "http://127.0.0.1:9000/").is_err());
        assert!(
            webhook_url(&strict, "https://127.0.0.1:9000/").is_err(),
            "SSRF guard"
        );
        assert!(webhook_url(&strict, "https://169.254.169.254/").is_err());
        assert!(webhook_url(&development, "http://127.0.0.1:9000/hook").is_ok());
        assert!(webhook_url(&development, "http://10.0.0.5/hook").is_err());
        assert!(webhook_url(&development, "ftp://127.0.0.1/").is_err());
        assert!(webhook_url(&development, "https://user:pw@siem.example.com/").is_err());
    }
}
