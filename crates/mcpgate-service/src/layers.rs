//! The layers every service puts around its router: a request id on every
//! request (kept from the caller or made here, and returned), and a tracing span
//! per request that carries it.

use std::convert::Infallible;

use axum::extract::Request;
use axum::response::Response;
use axum::Router;
use http::HeaderName;
use tower::{Service, ServiceBuilder};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::Span;

/// The header that carries the request id, in and out.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Wraps `service` (a router, or a router with the service's own layers) with request
/// ids and per-request spans.
///
/// The layers wrap the service once, as one stack, instead of through `Router::layer`:
/// that applies each layer to every route separately and boxes each layer's future on
/// every request (three allocations and copies per request for these three).
pub fn with_common_layers<T>(service: T) -> Router
where
    T: Service<Request, Response = Response, Error = Infallible> + Clone + Send + Sync + 'static,
    T::Future: Send + 'static,
{
    let header = HeaderName::from_static(REQUEST_ID_HEADER);
    let layered = ServiceBuilder::new()
        .layer(SetRequestIdLayer::new(header.clone(), MakeRequestUuid))
        .layer(PropagateRequestIdLayer::new(header))
        .layer(TraceLayer::new_for_http().make_span_with(request_span as fn(&Request) -> Span))
        .service(service);
    Router::new().fallback_service(layered)
}

/// The span of one request: method, path and request id.
fn request_span(request: &Request) -> Span {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        request_id = %request_id,
    )
}
