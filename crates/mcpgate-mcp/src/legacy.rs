//! The 2024-11-05 HTTP+SSE transport: the `endpoint` event names where the client
//! POSTs, and a proxy mounted at another path must rewrite it.

/// The `endpoint` event's data could not be rewritten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointError {
    /// Empty, or containing whitespace or control characters.
    #[error("the endpoint {0:?} is not a usable URL reference")]
    Invalid(String),
    /// An absolute URL with a scheme other than http or https.
    #[error("the endpoint {0:?} has an unsupported scheme")]
    UnsupportedScheme(String),
}

/// Rewrites the data of an upstream `endpoint` event for a proxy mounted at `mount`.
///
/// The upstream's path and query are kept and put under `mount` (e.g. `/mcp/docs`):
/// `/message?sessionId=abc` becomes `/mcp/docs/message?sessionId=abc`. An absolute
/// URL (`http://upstream:8080/message?...`) loses its origin, since the client must
/// POST to the proxy; a relative reference (`message?...`) is resolved against the
/// path of the upstream SSE URL (`upstream_sse_path`, e.g. `/sse`) first.
/// [`upstream_path`] maps the proxy path back.
pub fn rewrite_endpoint(
    data: &str,
    upstream_sse_path: &str,
    mount: &str,
) -> Result<String, EndpointError> {
    if data.is_empty() || data.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(EndpointError::Invalid(data.to_owned()));
    }
    let path_and_query = if let Some(rest) = strip_origin(data)? {
        rest
    } else if data.starts_with('/') {
        data.to_owned()
    } else {
        let base = upstream_sse_path
            .split(['?', '#'])
            .next()
            .unwrap_or_default();
        let directory = base.rfind('/').map_or("/", |slash| &base[..=slash]);
        let directory = if directory.starts_with('/') {
            directory.to_owned()
        } else {
            format!("/{directory}")
        };
        format!("{directory}{data}")
    };
    let path_and_query = path_and_query
        .split('#')
        .next()
        .unwrap_or_default()
        .to_owned();
    Ok(format!("{}{path_and_query}", mount.trim_end_matches('/')))
}

/// The upstream path and query for a proxy path made by [`rewrite_endpoint`]; `None` if
/// `proxy_path_and_query` is not under `mount`.
pub fn upstream_path<'a>(proxy_path_and_query: &'a str, mount: &str) -> Option<&'a str> {
    let rest = proxy_path_and_query.strip_prefix(mount.trim_end_matches('/'))?;
    rest.starts_with('/').then_some(rest)
}

/// `Some(path and query)` for an absolute or network-path URL, `None` for a path reference.
fn strip_origin(data: &str) -> Result<Option<String>, EndpointError> {
    let after_scheme = match data.split_once("://") {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
                return Err(EndpointError::UnsupportedScheme(data.to_owned()));
            }
            rest
        }
        _ => match data.strip_prefix("//") {
            Some(rest) => rest,
            None => return Ok(None),
        },
    };
    let path_start = after_scheme.find(['/', '?']).unwrap_or(after_scheme.len());
    let rest = &after_scheme[path_start..];
    Ok(Some(if rest.starts_with('/') {
        rest.to_owned()
    } else {
        format!("/{rest}")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_relative_absolute_and_network_path_endpoints() {
        let cases = [
            (
                "/message?sessionId=abc",
                "/sse",
                "/mcp/docs/message?sessionId=abc",
            ),
            (
                "message?sessionId=abc",
                "/sse",
                "/mcp/docs/message?sessionId=abc",
            ),
            (
                "messages/?session_id=1",
                "/api/sse",
                "/mcp/docs/api/messages/?session_id=1",
            ),
            (
                "http://10.0.0.1:8080/message?sessionId=abc",
                "/sse",
                "/mcp/docs/message?sessionId=abc",
            ),
            (
                "HTTPS://up.example/x/message?s=1#frag",
                "/sse",
                "/mcp/docs/x/message?s=1",
            ),
            ("//up.example?sessionId=1", "/sse", "/mcp/docs/?sessionId=1"),
        ];
        for (data, sse_path, expected) in cases {
            assert_eq!(
                rewrite_endpoint(data, sse_path, "/mcp/docs/").unwrap(),
                expected,
                "{data}"
            );
        }
    }

    #[test]
    fn refuses_garbage_and_other_schemes() {
        assert!(matches!(
            rewrite_endpoint("", "/sse", "/m"),
            Err(EndpointError::Invalid(_))
        ));
        assert!(matches!(
            rewrite_endpoint("/a b", "/sse", "/m"),
            Err(EndpointError::Invalid(_))
        ));
        assert!(matches!(
            rewrite_endpoint("javascript://x/y", "/sse", "/m"),
            Err(EndpointError::UnsupportedScheme(_))
        ));
    }

    #[test]
    fn maps_the_proxy_path_back() {
        let proxy = rewrite_endpoint("/message?sessionId=abc", "/sse", "/mcp/docs").unwrap();
        assert_eq!(
            upstream_path(&proxy, "/mcp/docs"),
            Some("/message?sessionId=abc")
        );
        assert_eq!(upstream_path("/mcp/docsx/message", "/mcp/docs"), None);
    }
}
