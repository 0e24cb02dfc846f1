//! The admin audit trail page: who changed what, newest first, filtered, paged,
//! and exportable as JSON lines (the same as the REST export).

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use crate::dashboard::grants::time;
use crate::dashboard::page::{render, PageError};
use crate::dashboard::session::{Nav, UserSession};
use crate::domain::admin_audit::TrailFilter;
use crate::extract::QueryParams;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct TrailPage {
    nav: Nav,
    rows: Vec<Row>,
    actor: String,
    resource: String,
    resources: [&'static str; 7],
    /// The query string of the next page, if there is one.
    next: Option<String>,
    /// The query string of the export with these filters.
    export: String,
}

struct Row {
    at: String,
    actor: String,
    role: String,
    client: String,
    resource: String,
    action: String,
    target: String,
    changes: String,
}

fn query_string(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().filter(|(_, value)| !value.is_empty()))
        .finish()
}

pub(crate) async fn export(
    State(state): State<AppState>,
    session: UserSession,
    QueryParams(filter): QueryParams<TrailFilter>,
) -> Result<Response, PageError> {
    Ok(crate::routes::admin_audit_export(
        state,
        session.caller.tenant,
        filter,
    )?)
}

pub(crate) async fn show(
    State(state): State<AppState>,
    session: UserSession,
    QueryParams(filter): QueryParams<TrailFilter>,
) -> Result<Response, PageError> {
    let page = crate::routes::admin_audit_page(&state, session.caller.tenant, &filter).await?;
    let actor = filter.actor.clone().unwrap_or_default();
    let resource = filter.resource.clone().unwrap_or_default();
    let rows = page
        .events
        .into_iter()
        .map(|event| Row {
            at: time(event.at),
            actor: event.actor,
            role: event.actor_role.to_string(),
            client: event.client_address.unwrap_or_default(),
            resource: event.resource,
            action: format!("{} {}", event.method, event.route),
            target: event.target.to_string(),
            changes: event
                .changes
                .map(|changes| serde_json::to_string_pretty(&changes).unwrap_or_default())
                .unwrap_or_default(),
        })
        .collect();
    let next = page.next_cursor.map(|cursor| {
        query_string(&[
            ("actor", &actor),
            ("resource", &resource),
            ("cursor", &cursor),
        ])
    });
    let export = query_string(&[("actor", &actor), ("resource", &resource)]);
    render(&TrailPage {
        nav: session.nav("admin-audit"),
        rows,
        actor,
        resource,
        resources: [
            "servers",
            "policies",
            "grants",
            "approvals",
            "api_keys",
            "members",
            "settings",
        ],
        next,
        export,
    })
}
