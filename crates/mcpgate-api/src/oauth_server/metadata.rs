//! Authorization server metadata (RFC 8414), at the well-known path of our issuer (and
//! its path-insertion form, for an API served under a path).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use super::{endpoint, issuer};
use crate::state::AppState;

pub(super) async fn authorization_server(State(state): State<AppState>) -> impl IntoResponse {
    let urls = &state.urls;
    let body = json!({
        "issuer": issuer(urls),
        "authorization_endpoint": endpoint(urls, "/oauth/authorize"),
        "token_endpoint": endpoint(urls, "/oauth/token"),
        "registration_endpoint": endpoint(urls, "/oauth/register"),
        "revocation_endpoint": endpoint(urls, "/oauth/revoke"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["S256"],
        // Public clients only: PKCE binds the code; no secret to leak from a desktop app.
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "client_id_metadata_document_supported": true,
        "authorization_response_iss_parameter_supported": true,
        "service_documentation": endpoint(urls, "/api/v1/docs"),
    });
    ([(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")], Json(body))
}
