//! `/audit/export`: the tenant's SIEM webhook (one per tenant).

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use mcpgate_store::audit::{self, ExportStart, ExportStatus, NewExport};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{Permission, Routes};
use crate::error::ApiError;
use crate::extract::{Caller, JsonBody};
use crate::openapi::schemas::ErrorBody;
use crate::state::AppState;

/// Configuring the export hands out a signing secret and sends the whole audit log
/// off-site, and stopping it blinds the SIEM: `manage_audit_export`, admins only;
/// reading its status is reading the audit log.
pub(crate) fn router() -> Routes {
    Routes::api()
        .put("/audit/export", Permission::ManageAuditExport, configure)
        .get("/audit/export", Permission::ViewAudit, status)
        .delete("/audit/export", Permission::ManageAuditExport, remove)
}

/// This module's routes, for the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(paths(configure, status, remove))]
pub(super) struct Api;

/// Where to send the audit events.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct ExportRequest {
    /// The receiver: `https://…`; `http://` only on loopback, when the deployment allows
    /// private upstreams (development and tests).
    url: String,
    /// For a new export: `now` (default) sends only events written from now on,
    /// `earliest` every event still kept. Ignored when replacing an export, which keeps
    /// its position.
    #[serde(default)]
    start: Option<Start>,
}

#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
enum Start {
    Now,
    Earliest,
}

/// The export, with its signing secret: shown once, keep it.
#[derive(Debug, Serialize, ToSchema)]
struct ConfiguredExport {
    export: ExportStatus,
    /// The HMAC-SHA256 key batches are signed with (`Mcpgate-Signature`). A new one is
    /// made each time the export is configured.
    secret: String,
}

#[utoipa::path(
    put,
    path = "/api/v1/audit/export",
    tag = "audit",
    operation_id = "configure_audit_export",
    summary = "Stream the audit log to a SIEM webhook",
    description = "Creates the tenant's export, or replaces its URL and secret (keeping how \
        far it has delivered). Events are POSTed in batches, oldest first, signed with \
        HMAC-SHA256 (`Mcpgate-Timestamp`, `Mcpgate-Signature: v1=<hex>` over \
        `<timestamp>.<body>`), retried with exponential backoff, at least once: \
        de-duplicate on each event's `id`. See docs/siem-export.md.",
    request_body = ExportRequest,
    responses(
        (status = 200, description = "The export and its new secret", body = ConfiguredExport),
        (status = 422, description = "The URL is not https, or its address is refused (`validation_failed`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn configure(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(request): JsonBody<ExportRequest>,
) -> Result<Json<ConfiguredExport>, ApiError> {
    let url = crate::domain::audit_export::webhook_url(&state.upstreams, &request.url)?;
    let secret = format!("whsec_{}", mcpgate_auth::random_token(32));
    let export = NewExport {
        url,
        secret_sealed: state
            .keys
            .credentials
            .seal_export_secret(caller.tenant.as_uuid(), secret.as_bytes()),
        start: match request.start.unwrap_or(Start::Now) {
            Start::Now => ExportStart::Now,
            Start::Earliest => ExportStart::Earliest,
        },
    };
    let export = audit::put_export(&state.db, caller.tenant, &export).await?;
    Ok(Json(ConfiguredExport { export, secret }))
}

#[utoipa::path(
    get,
    path = "/api/v1/audit/export",
    tag = "audit",
    operation_id = "get_audit_export",
    summary = "How the SIEM export is doing",
    description = "How far it has delivered, how many events were given up on after every \
        retry failed (`dead_letter_events`), and the last error.",
    responses(
        (status = 200, description = "The export", body = ExportStatus),
        (status = 404, description = "No export is configured (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn status(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ExportStatus>, ApiError> {
    audit::export_status(&state.db, caller.tenant)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("audit export"))
}

#[utoipa::path(
    delete,
    path = "/api/v1/audit/export",
    tag = "audit",
    operation_id = "delete_audit_export",
    summary = "Stop the SIEM export",
    responses(
        (status = 204, description = "Stopped and forgotten"),
        (status = 404, description = "No export is configured (`not_found`)", body = ErrorBody),
    ),
    security(("api_key" = []))
)]
async fn remove(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, ApiError> {
    if audit::delete_export(&state.db, caller.tenant).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("audit export"))
    }
}
