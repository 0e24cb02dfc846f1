//! Discovery over the 2024-11-05 HTTP+SSE transport: GET opens the stream, whose
//! `endpoint` event names where to POST; every response comes back on the stream.

use reqwest::header::ACCEPT;
use reqwest::Url;

use crate::discover::{
    initialize_body, list_body, parse_initialize, parse_page, too_many_pages, Discovery,
    INITIALIZED,
};
use crate::error::DiscoveryError;
use crate::rpc::{check_status, content_type, not_mcp, protocol, EventStream, Rpc};
use crate::Transport;

pub(crate) async fn discover(
    rpc: &Rpc,
    url: &Url,
    max_pages: usize,
    post_status: u16,
) -> Result<Discovery, DiscoveryError> {
    let response = rpc
        .client
        .get(url.clone())
        .headers(rpc.headers.clone())
        .header(ACCEPT, "text/event-stream")
        .send()
        .await
        .map_err(|e| Rpc::send_error(url, e))?;
    let is_stream = content_type(&response).is_some_and(|t| t.starts_with("text/event-stream"));
    if !response.status().is_success() || !is_stream {
        check_status(url, &response)?;
        return Err(DiscoveryError::NotMcp {
            url: url.to_string(),
            status: post_status,
            content_type: content_type(&response),
            detail: format!(
                "the initialize POST got HTTP {post_status} and a GET is not an SSE stream either"
            ),
        });
    }
    let mut stream = EventStream::new(response, rpc.max_body_bytes);
    let endpoint = loop {
        match stream.next(url).await? {
            Some((kind, data)) if kind == "endpoint" => break data,
            Some(_) => continue,
            None => {
                return Err(protocol(
                    "connect",
                    "the SSE stream ended without an endpoint event".into(),
                ))
            }
        }
    };
    let endpoint = message_url(url, &endpoint)?;
    rpc.check_url(&endpoint).await?;

    let id = rpc.next_id();
    post(rpc, &endpoint, initialize_body(id)).await?;
    let result = stream.read_result(url, "initialize", id).await?;
    let (protocol_version, server_info, instructions) = parse_initialize(&result)?;
    post(rpc, &endpoint, INITIALIZED.to_owned()).await?;

    let mut tools = Vec::new();
    let mut cursor = None;
    for _ in 0..max_pages {
        let id = rpc.next_id();
        post(rpc, &endpoint, list_body(id, cursor.as_deref())).await?;
        let result = stream.read_result(url, "tools/list", id).await?;
        cursor = parse_page(&result, &mut tools)?;
        if cursor.is_none() {
            return Ok(Discovery {
                server_info,
                protocol_version,
                era: crate::Era::Handshake,
                instructions,
                tools,
                transport: Transport::LegacySse,
            });
        }
    }
    Err(too_many_pages(max_pages))
}

/// Resolves the endpoint against the SSE URL. It must stay on the same origin: the
/// registered headers (credentials) go to it.
fn message_url(sse_url: &Url, endpoint: &str) -> Result<Url, DiscoveryError> {
    let url = sse_url
        .join(endpoint)
        .map_err(|e| protocol("connect", format!("invalid endpoint {endpoint:?}: {e}")))?;
    if url.origin() != sse_url.origin() {
        return Err(protocol(
            "connect",
            format!("the endpoint {url} is on another origin than {sse_url}; refusing to send credentials there"),
        ));
    }
    Ok(url)
}

async fn post(rpc: &Rpc, endpoint: &Url, body: String) -> Result<(), DiscoveryError> {
    let response = rpc.post(endpoint, None, body).await?;
    check_status(endpoint, &response).map_err(|e| match e {
        DiscoveryError::NotMcp { .. } => not_mcp(
            endpoint,
            &response,
            "the message endpoint refused the POST".into(),
        ),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_resolve_against_the_sse_url_on_the_same_origin() {
        let sse = Url::parse("http://up.example:8080/api/sse").unwrap();
        assert_eq!(
            message_url(&sse, "/message?sessionId=1").unwrap().as_str(),
            "http://up.example:8080/message?sessionId=1"
        );
        assert_eq!(
            message_url(&sse, "messages?s=1").unwrap().as_str(),
            "http://up.example:8080/api/messages?s=1"
        );
        assert!(message_url(&sse, "http://169.254.169.254/latest").is_err());
    }
}
