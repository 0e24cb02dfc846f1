//! A tenant's correction of a tool's classification: set it, remove it, read its
//! history; and whether a tool's classification needs a person's review.
//!
//! The override is stored beside the classifier's verdict and read in its place
//! by every query that reads tools, so the recommended policy, `classes`
//! selectors, the simulator, the tools table and the proxy all follow it.

use mcpgate_catalog::ConfidenceLevel;
use mcpgate_policy::{Category, Risk};
use mcpgate_store::changes::Change;
use mcpgate_store::classifications::{self, ClassificationChange, NewOverride};
use mcpgate_store::servers::{self, Tool};
use mcpgate_store::{ServerId, TenantId};

use crate::domain::{not_found_as, publish};
use crate::error::ApiError;
use crate::state::AppState;

/// The longest reason an override may give.
const MAX_REASON_CHARS: usize = 500;

/// What the tenant says the tool is, and why.
#[derive(Debug, Clone)]
pub struct Correction {
    pub category: String,
    pub risk: String,
    pub reason: String,
}

/// Whether a person should look at the tool's classification: the classifier
/// is unsure and nobody corrected it, or a correction was made against an
/// earlier definition of the tool.
pub fn needs_review(tool: &Tool) -> bool {
    let unsure = tool
        .confidence
        .as_deref()
        .and_then(|level| level.parse::<ConfidenceLevel>().ok())
        == Some(ConfidenceLevel::Low);
    tool.override_stale || (unsure && tool.override_category.is_none())
}

/// Sets the tool's classification (or confirms a stale override against the
/// current definition); recorded, and the proxies reload the server.
pub async fn set(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
    name: &str,
    correction: &Correction,
    actor: &str,
) -> Result<Tool, ApiError> {
    let category: Category = correction
        .category
        .parse()
        .map_err(|e| ApiError::invalid("/category", format!("{e}")))?;
    let risk: Risk = correction
        .risk
        .parse()
        .map_err(|e| ApiError::invalid("/risk", format!("{e}")))?;
    let reason = correction.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::invalid(
            "/reason",
            format!("must say why, in 1 to {MAX_REASON_CHARS} characters"),
        ));
    }
    existing_server(state, tenant, server).await?;
    let tool = classifications::set_override(
        &state.db,
        tenant,
        server,
        name,
        NewOverride {
            category: category.as_str(),
            risk: risk.as_str(),
            reason,
        },
        actor,
    )
    .await
    .map_err(|e| not_found_as(e, "tool"))?;
    publish(state, Change::Server { tenant, server }).await;
    Ok(tool)
}

/// Removes the tool's override: the classifier's verdict applies again.
pub async fn remove(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
    name: &str,
    actor: &str,
) -> Result<Tool, ApiError> {
    existing_tool(state, tenant, server, name).await?;
    let tool = classifications::remove_override(&state.db, tenant, server, name, actor)
        .await
        .map_err(|e| not_found_as(e, "classification override"))?;
    publish(state, Change::Server { tenant, server }).await;
    Ok(tool)
}

/// Every override set or removed on the tool, newest first.
pub async fn history(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
    name: &str,
) -> Result<Vec<ClassificationChange>, ApiError> {
    existing_tool(state, tenant, server, name).await?;
    Ok(classifications::history(&state.db, tenant, server, name).await?)
}

/// The tool, with its classification and override.
pub async fn tool(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
    name: &str,
) -> Result<Tool, ApiError> {
    existing_tool(state, tenant, server, name).await
}

async fn existing_server(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
) -> Result<(), ApiError> {
    servers::server(&state.db, tenant, server)
        .await
        .map_err(|e| not_found_as(e, "server"))?;
    Ok(())
}

async fn existing_tool(
    state: &AppState,
    tenant: TenantId,
    server: ServerId,
    name: &str,
) -> Result<Tool, ApiError> {
    existing_server(state, tenant, server).await?;
    classifications::tool(&state.db, tenant, server, name)
        .await
        .map_err(|e| not_found_as(e, "tool"))
}
