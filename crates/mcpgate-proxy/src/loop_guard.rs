//! Loops through mcpgate end at the first hop.
//!
//! Every request the proxy (and the API's discovery) sends upstream carries
//! [`HOP_HEADER`] (the client is built with it as a default header, see `startup.rs`). A
//! request that arrives with it can only have come from mcpgate: a server whose URL
//! leads back to a proxy of this deployment, by a name or a load balancer the own-address
//! check does not know. It is answered 508 Loop Detected (RFC 5842 §7.2) before any
//! other work, so the loop costs one hop instead of running until something times out.

use std::convert::Infallible;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::{ready, Either, Ready};
use mcpgate_mcp::{error_response, INVALID_REQUEST};
pub(crate) use mcpgate_upstream::HOP_HEADER;
use tower::Service;

/// What the proxy puts in [`HOP_HEADER`] on the requests it forwards.
pub(crate) const HOP_VALUE: &str = "proxy";

/// Refuses a request that carries [`HOP_HEADER`] and passes any other on to `S`: a
/// plain tower service with a concrete future, since a middleware from `from_fn` boxes
/// its future and the rest of the stack's on every request (docs/benchmarks.md).
#[derive(Debug, Clone)]
pub(crate) struct LoopGuard<S>(pub(crate) S);

impl<S> Service<Request> for LoopGuard<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<Ready<Result<Response, Infallible>>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        match request.headers().get(HOP_HEADER) {
            Some(hop) => {
                tracing::warn!(
                    hop = %String::from_utf8_lossy(hop.as_bytes()),
                    path = %request.uri().path(),
                    "refused a request that mcpgate itself sent: an upstream URL leads back to the proxy"
                );
                Either::Left(ready(Ok(looped())))
            }
            None => Either::Right(self.0.call(request)),
        }
    }
}

/// The 508 answer, as a JSON-RPC error without an id like the proxy's other refusals.
fn looped() -> Response {
    let body = error_response(
        None,
        INVALID_REQUEST,
        "loop detected: this request was sent by mcpgate itself (it carries Mcp-Gate-Hop), \
         so an upstream URL leads back to the proxy; point the server at the real MCP server",
        None,
    );
    let mut response = (StatusCode::LOOP_DETECTED, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
