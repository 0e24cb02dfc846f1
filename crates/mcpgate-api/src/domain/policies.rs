//! Server policies: validate, store as a new version, roll back, simulate, and
//! recommend one from the classified catalogue.

use std::collections::HashMap;

use mcpgate_catalog::{ClassifiedTool, ToolDefinition};
use mcpgate_policy::{
    Category, Classification, CompiledPolicy, Decision, Risk, SimulatedCall, ValidationErrors,
};
use mcpgate_store::changes::Change;
use mcpgate_store::policies::{self, PolicyVersion};
use mcpgate_store::servers::{self, Tool};
use mcpgate_store::{ServerId, TenantId};
use serde_json::{json, Value};

use crate::domain::{not_found_as, publish};
use crate::error::ApiError;
use crate::state::AppState;

/// Parses and compiles a policy document; every problem comes back at once,
/// each at its JSON Pointer, under `base` (e.g. `/policy` inside a grant).
pub fn validate(text: &str, base: &str) -> Result<CompiledPolicy, ApiError> {
    let policy = mcpgate_policy::parse(text).map_err(|errors| invalid_policy(errors, base))?;
    mcpgate_policy::compile(&policy).map_err(|errors| invalid_policy(errors, base))
}

fn invalid_policy(errors: ValidationErrors, base: &str) -> ApiError {
    let details: Vec<Value> = errors
        .errors
        .iter()
        .map(|e| json!({ "path": format!("{base}{}", e.path), "message": e.message }))
        .collect();
    let first = errors
        .errors
        .first()
        .map(|e| format!("{base}{}: {}", e.path, e.message))
        .unwrap_or_default();
    ApiError::Validation {
        code: "policy_invalid",
        message: format!(
            "the policy has {} problem{}; first: {first}",
            details.len(),
            if details.len() == 1 { "" } else { "s" }
        ),
        details: Value::Array(details),
    }
}

/// Validates `text` and stores it as the server's new active version.
pub async fn put(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
    text: &str,
    author: &str,
    note: Option<&str>,
) -> Result<PolicyVersion, ApiError> {
    servers::server(&state.db, tenant, server)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    validate(text, "")?;
    let previous = policies::active_policy(&state.db, tenant, server).await?;
    let version =
        policies::add_policy_version(&state.db, tenant, server, text, author, note).await?;
    note_version(previous.as_ref(), &version);
    publish(state, Change::Server { tenant, server }).await;
    Ok(version)
}

/// Tells the admin trail which version replaced which, with the line diff.
fn note_version(previous: Option<&PolicyVersion>, stored: &PolicyVersion) {
    let diff: Vec<String> = crate::dashboard::line_diff(
        previous.map_or("", |previous| previous.document.as_str()),
        &stored.document,
    )
    .into_iter()
    .filter(|line| line.sign != " ")
    .map(|line| format!("{}{}", line.sign, line.text))
    .collect();
    crate::access::trail::note(serde_json::json!({
        "server": stored.server_id,
        "from_version": previous.map(|previous| previous.version),
        "to_version": stored.version,
        "note": stored.note,
        "diff": diff,
    }));
}

/// Makes an old version active again by storing it as the newest version.
pub async fn rollback(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
    to_version: i32,
    author: &str,
) -> Result<PolicyVersion, ApiError> {
    let old = policies::policy_version(&state.db, tenant, server, to_version)
        .await
        .map_err(|e| not_found_as(e, "policy version"))?;
    // An old version may no longer compile if the language got stricter; check.
    validate(&old.document, "")?;
    let note = format!("rollback to version {to_version}");
    let previous = policies::active_policy(&state.db, tenant, server).await?;
    let version = policies::add_policy_version(
        &state.db,
        tenant,
        server,
        &old.document,
        author,
        Some(&note),
    )
    .await?;
    note_version(previous.as_ref(), &version);
    publish(state, Change::Server { tenant, server }).await;
    Ok(version)
}

/// A call to simulate, as the API takes it.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulateCall {
    /// The tool's name.
    pub tool: String,
    /// The call's arguments (an object; absent means `{}`).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub arguments: Value,
    /// The grant id the call is made with (counts per-grant limits apart).
    #[serde(default)]
    pub grant: Option<String>,
    /// Unix seconds; calls without it share the previous call's time.
    #[serde(default)]
    pub at: Option<u64>,
}

/// What each call would get under `draft` (or the active policy), in order,
/// counting limits as the calls go.
pub async fn simulate(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
    draft: Option<&str>,
    calls: Vec<SimulateCall>,
) -> Result<Vec<Decision>, ApiError> {
    let text = match draft {
        Some(text) => text.to_owned(),
        None => {
            policies::active_policy(&state.db, tenant, server)
                .await?
                .ok_or(ApiError::Conflict {
                    code: "no_policy",
                    message: "the server has no policy yet: send one as `policy` to simulate it"
                        .into(),
                })?
                .document
        }
    };
    let compiled = validate(&text, "/policy")?;
    let tools = servers::list_tools(&state.db, tenant, server).await?;
    let classes = classifications(&tools);
    let calls: Vec<SimulatedCall> = calls
        .into_iter()
        .map(|call| SimulatedCall {
            tenant_id: tenant.to_string(),
            server_id: server.to_string(),
            grant_id: call.grant.unwrap_or_else(|| "simulated-grant".into()),
            classification: classes.get(call.tool.as_str()).copied(),
            tool: call.tool,
            arguments: if call.arguments.is_null() {
                json!({})
            } else {
                call.arguments
            },
            at: call.at,
        })
        .collect();
    Ok(mcpgate_policy::simulate(&compiled, &calls))
}

/// The policy a careful operator would start from, for the server's current tools.
pub async fn recommended(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
) -> Result<Value, ApiError> {
    servers::server(&state.db, tenant, server)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    let tools = servers::list_tools(&state.db, tenant, server).await?;
    let classified: Vec<ClassifiedTool> = tools
        .iter()
        .filter(|tool| tool.removed_at.is_none())
        .filter_map(|tool| {
            let definition = ToolDefinition::from_value(&tool.definition).ok()?;
            Some(with_override(tool, ClassifiedTool::new(definition)))
        })
        .collect();
    Ok(mcpgate_catalog::recommended_policy(&classified))
}

/// The tenant's correction, when the tool has one, in place of the verdict.
fn with_override(tool: &Tool, mut classified: ClassifiedTool) -> ClassifiedTool {
    let Some(correction) = tool.classification_override() else {
        return classified;
    };
    let (Ok(category), Ok(risk)) = (correction.category.parse(), correction.risk.parse()) else {
        return classified;
    };
    classified.assessment = classified.assessment.overridden(
        Classification { category, risk },
        &correction.by,
        &correction.reason,
    );
    classified
}

/// Each current tool's stored classification, by name.
pub fn classifications(tools: &[Tool]) -> HashMap<&str, Classification> {
    tools
        .iter()
        .filter(|tool| tool.removed_at.is_none())
        .filter_map(|tool| {
            Some((
                tool.name.as_str(),
                Classification {
                    category: tool.category.parse::<Category>().ok()?,
                    risk: tool.risk.parse::<Risk>().ok()?,
                },
            ))
        })
        .collect()
}
