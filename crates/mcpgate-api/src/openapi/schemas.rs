//! Shapes the spec names that no handler type carries: the error body, the
//! reusable error responses, policy documents and the engine's decisions.
//!
//! Nothing here is constructed: the error body is built in `error.rs` and the
//! decisions come from `mcpgate_policy`; these types only describe them.
#![expect(
    dead_code,
    reason = "spec-only types: they describe bodies built elsewhere"
)]

use std::borrow::Cow;

use serde_json::Value;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToResponse, ToSchema};

/// Every error answer: `{"error": {"code", "message", "details"?}}`.
#[derive(ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable and machine-readable, e.g. `not_found`, `validation_failed`, `policy_invalid`.
    code: String,
    /// A sentence for a person.
    message: String,
    /// Only on some errors: for 422s a list of `{"path", "message"}` (`path` is a JSON
    /// Pointer into the request body).
    details: Option<Value>,
}

/// The request is malformed: bad JSON, an unknown field, a bad query parameter (`bad_request`).
#[derive(ToResponse)]
pub(crate) struct BadRequest(ErrorBody);

/// No API key, or one that is invalid or revoked (`unauthorized`); the answer carries
/// `WWW-Authenticate: Bearer realm="mcpgate"`.
#[derive(ToResponse)]
pub(crate) struct Unauthorized(ErrorBody);

/// The API key's role does not hold the permission the operation names in
/// `x-mcpgate-permission` (`role_forbidden`; `details` has `role` and `permission`).
#[derive(ToResponse)]
pub(crate) struct Forbidden(ErrorBody);

/// No such resource in this account (`not_found`). Other accounts' ids and malformed ids
/// are not found either.
#[derive(ToResponse)]
pub(crate) struct NotFound(ErrorBody);

/// Well-formed but invalid (`validation_failed`, `invalid_body`): `details` lists every
/// problem with its JSON Pointer.
#[derive(ToResponse)]
pub(crate) struct Invalid(ErrorBody);

/// The body is larger than the limit of 1 MiB (`payload_too_large`).
#[derive(ToResponse)]
pub(crate) struct PayloadTooLarge(ErrorBody);

/// Something failed on our side (`internal_error`); the cause is logged, not shown.
#[derive(ToResponse)]
pub(crate) struct Internal(ErrorBody);

/// The upstream MCP server could not be reached or spoke no MCP we understand
/// (`upstream_unreachable`, `upstream_protocol_error`).
#[derive(ToResponse)]
pub(crate) struct UpstreamFailed(ErrorBody);

/// The upstream MCP server did not answer in time (`upstream_timeout`).
#[derive(ToResponse)]
pub(crate) struct UpstreamTimeout(ErrorBody);

/// A policy document. Its full JSON Schema is published as `docs/policy.schema.json`
/// and embedded in `openapi.json` under this name; the language is described in
/// `docs/policy.md`.
#[derive(Debug)]
pub(crate) struct PolicyDocument;

/// The description the spec gives policy documents, kept when the full schema is embedded.
pub(crate) const POLICY_DOCUMENT_DESCRIPTION: &str = "A policy document: JSON, validated in full \
(every problem is reported with its JSON Pointer, declared tests are run). Its JSON Schema is \
published as `docs/policy.schema.json` and the language is described in `docs/policy.md`.";

impl PartialSchema for PolicyDocument {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(POLICY_DOCUMENT_DESCRIPTION))
            .into()
    }
}

impl ToSchema for PolicyDocument {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("PolicyDocument")
    }
}

/// What the engine decided for one simulated call (`mcpgate_policy::Decision`).
#[derive(ToSchema)]
pub(crate) struct Decision {
    /// What the proxy would do: `allow`, `deny` or `require_approval`; `allow` whenever
    /// `shadow` is set.
    outcome: String,
    /// What the deciding rule decided; differs from `outcome` only in shadow mode.
    decided: String,
    /// Whether the deciding rule is in shadow mode (reported, not enforced).
    shadow: bool,
    /// The sentence for the agent (or the approver) when the call is blocked or held.
    reason: Option<String>,
    /// The deciding rule: a JSON Pointer into the document, or `(default allow)` /
    /// `(default deny)`.
    rule: String,
    /// The counters the call would reserve; empty when it is denied.
    charges: Vec<Charge>,
}

/// One counter a call must reserve (`mcpgate_policy::Charge`).
#[derive(ToSchema)]
pub(crate) struct Charge {
    /// The counter's name in the document.
    counter: String,
    /// The Redis key the proxy counts in.
    key: String,
    /// Whose calls share the count: `grant`, `server` or `tenant`.
    scope: String,
    /// The fixed window's length, in seconds.
    window_secs: u64,
    /// The budget per window.
    max: u64,
    /// What this call adds.
    cost: u64,
    /// Whether this is a spend cap rather than a call count.
    spend_cap: bool,
    /// The limit's JSON Pointer.
    rule: String,
    /// Whether the limit is in shadow mode.
    shadow: bool,
}
