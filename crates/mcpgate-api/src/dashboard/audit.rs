//! The audit log: filters, newest first, cursor pages, and a chart of calls and
//! blocks per hour drawn as inline SVG on the server.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Duration, DurationRound, Utc};
use mcpgate_store::audit::{self, AuditBucket, AuditEvent, AuditFilter};
use mcpgate_store::servers::{self, Server};
use mcpgate_store::{GrantId, ServerId};
use serde::Deserialize;

use crate::dashboard::grants::{parse_expiry, time};
use crate::dashboard::page::{render, PageError};
use crate::dashboard::session::{Nav, UserSession};
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::state::AppState;

const PAGE_SIZE: i64 = 50;
const CHART_HOURS: i32 = 24;

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Nav,
    query: AuditQuery,
    servers: Vec<Server>,
    events: Vec<EventRow>,
    next_page: Option<String>,
    chart: Chart,
}

struct EventRow {
    at: String,
    server: String,
    grant: String,
    tool: String,
    decision: String,
    reason: String,
    rule: String,
}

/// The query string; empty fields (as a GET form sends them) filter nothing.
#[derive(Debug, Default, Clone, Deserialize)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    server: String,
    #[serde(default)]
    grant: String,
    #[serde(default)]
    tool: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
}

fn some(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|t| !t.is_empty())
}

impl AuditQuery {
    fn filter(&self) -> Result<AuditFilter, ApiError> {
        let bad = |what: &str| ApiError::BadRequest(format!("`{what}` is not valid"));
        Ok(AuditFilter {
            server: some(&self.server)
                .map(|s| s.parse::<ServerId>().map_err(|_| bad("server")))
                .transpose()?,
            grant: some(&self.grant)
                .map(|s| s.parse::<GrantId>().map_err(|_| bad("grant")))
                .transpose()?,
            tool: some(&self.tool).map(str::to_owned),
            decision: some(&self.decision).map(str::to_owned),
            since: parse_expiry(&self.since).map_err(|_| bad("since"))?,
            until: parse_expiry(&self.until).map_err(|_| bad("until"))?,
            before_position: some(&self.cursor)
                .map(|cursor| {
                    crate::domain::audit::decode_cursor(cursor).ok_or_else(|| {
                        ApiError::BadRequest("the page link is not one this dashboard made".into())
                    })
                })
                .transpose()?,
        })
    }

    /// This query's URL with `cursor` replaced.
    fn with_cursor(&self, cursor: &str) -> String {
        let mut url = url::form_urlencoded::Serializer::new(String::new());
        for (key, value) in [
            ("server", &self.server),
            ("grant", &self.grant),
            ("tool", &self.tool),
            ("decision", &self.decision),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if !value.trim().is_empty() {
                url.append_pair(key, value);
            }
        }
        url.append_pair("cursor", cursor);
        format!("/audit?{}", url.finish())
    }
}

pub(crate) async fn show(
    State(state): State<AppState>,
    session: UserSession,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Response, PageError> {
    let tenant = session.caller.tenant;
    let filter = query.filter()?;
    let servers = servers::list_servers(&state.db, tenant).await?;
    let mut events = audit::query_audit(&state.db, tenant, &filter, PAGE_SIZE + 1).await?;
    let next_page = if events.len() as i64 > PAGE_SIZE {
        events.truncate(PAGE_SIZE as usize);
        events
            .last()
            .map(|e| query.with_cursor(&crate::domain::audit::encode_cursor(e.position)))
    } else {
        None
    };
    let buckets = audit::audit_histogram(&state.db, tenant, CHART_HOURS).await?;
    let rows = events
        .into_iter()
        .map(|stored| event_row(stored.event, &servers))
        .collect();
    render(&AuditPage {
        nav: session.nav("audit"),
        chart: Chart::new(&buckets, Utc::now()),
        query,
        servers,
        events: rows,
        next_page,
    })
}

fn event_row(event: AuditEvent, servers: &[Server]) -> EventRow {
    EventRow {
        at: event.at.format("%Y-%m-%d %H:%M:%S").to_string(),
        server: event.server_id.map_or_else(String::new, |id| {
            servers
                .iter()
                .find(|s| s.id == id)
                .map_or_else(|| id.to_string(), |s| s.name.clone())
        }),
        grant: event.grant_id.map_or_else(String::new, |g| g.to_string()),
        tool: event.tool.unwrap_or_else(|| event.method.clone()),
        decision: event.decision,
        reason: event.reason.unwrap_or_default(),
        rule: event.rule.unwrap_or_default(),
    }
}

/// One hour's bars, in SVG user units.
pub(crate) struct Bar {
    pub(crate) x: i64,
    pub(crate) calls_y: i64,
    pub(crate) calls_height: i64,
    pub(crate) blocked_y: i64,
    pub(crate) blocked_height: i64,
    pub(crate) label: String,
}

/// The chart: one bar pair per hour of the last day, oldest on the left.
pub(crate) struct Chart {
    pub(crate) bars: Vec<Bar>,
    pub(crate) max: i64,
    pub(crate) total_calls: i64,
    pub(crate) total_blocked: i64,
}

const CHART_HEIGHT: i64 = 100;
const BAR_WIDTH: i64 = 20;

impl Chart {
    fn new(buckets: &[AuditBucket], now: DateTime<Utc>) -> Chart {
        let this_hour = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
        let max = buckets.iter().map(|b| b.calls).max().unwrap_or(0).max(1);
        let scale = |count: i64| (count * CHART_HEIGHT + max - 1) / max;
        let bars = (0..i64::from(CHART_HOURS))
            .map(|index| {
                let hour = this_hour - Duration::hours(i64::from(CHART_HOURS) - 1 - index);
                let bucket = buckets.iter().find(|b| b.bucket == hour);
                let calls = bucket.map_or(0, |b| b.calls);
                let blocked = bucket.map_or(0, |b| b.blocked);
                Bar {
                    x: index * BAR_WIDTH,
                    calls_y: CHART_HEIGHT - scale(calls),
                    calls_height: scale(calls),
                    blocked_y: CHART_HEIGHT - scale(blocked),
                    blocked_height: scale(blocked),
                    label: format!("{}: {calls} calls, {blocked} blocked", time(hour)),
                }
            })
            .collect();
        Chart {
            bars,
            max,
            total_calls: buckets.iter().map(|b| b.calls).sum(),
            total_blocked: buckets.iter().map(|b| b.blocked).sum(),
        }
    }
}
