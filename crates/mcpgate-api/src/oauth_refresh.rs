//! Upstream OAuth tokens renewed ahead of their expiry, so the proxies' hot path rarely
//! has to refresh one: every API replica scans now and then for connected servers whose
//! access token expires within the margin (`MCPGATE_API_UPSTREAM_OAUTH_REFRESH_MARGIN_SECONDS`)
//! and refreshes them through the same function the proxies use
//! (`mcpgate_service::upstream_oauth::refresh`), so the connection's row lock and
//! generation make several replicas (and a racing proxy) refresh it once, and a backoff
//! recorded after an unreachable authorization server is respected.

use std::time::Duration;

use mcpgate_service::upstream_oauth::{self as refreshing, Occasion, Refreshed, Refresher};
use mcpgate_store::changes::{self, Change};
use mcpgate_store::upstream_oauth::{connections_due, DueConnection};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::state::AppState;

/// Renew a token this long before it expires, by default (at most half its lifetime).
pub const DEFAULT_UPSTREAM_OAUTH_REFRESH_MARGIN: Duration = Duration::from_secs(300);
/// Connections refreshed per scan; the rest wait for the next one.
const PER_SCAN: i64 = 100;
/// How long a refresh waits for another replica's lock on the same connection.
const LOCK_WAIT: Duration = Duration::from_secs(5);
/// Who refreshes, in the audit log.
const ACTOR: &str = "mcpgate-api";

/// How often to scan for a margin: eight times per margin, between a second and a
/// minute, so a token is renewed at most an eighth of the margin late.
fn scan_interval(margin: Duration) -> Duration {
    (margin / 8).clamp(Duration::from_secs(1), Duration::from_secs(60))
}

/// Scans until `stop`; `None` when the margin is zero (renewing ahead is off).
pub(crate) fn spawn(
    state: AppState,
    margin: Duration,
    stop: CancellationToken,
) -> Option<JoinHandle<()>> {
    if margin.is_zero() {
        return None;
    }
    let http = match crate::domain::upstream_oauth::authorization_client(&state) {
        Ok(http) => http,
        Err(error) => {
            tracing::error!(%error, "no client for authorization servers; upstream OAuth tokens are only refreshed by the proxies");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        let mut ticker = tokio::time::interval(scan_interval(margin));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            let due = match connections_due(&state.db, margin, PER_SCAN).await {
                Ok(due) => due,
                Err(error) => {
                    tracing::warn!(%error, "could not list the upstream OAuth tokens to renew; retrying at the next scan");
                    continue;
                }
            };
            for connection in due {
                if stop.is_cancelled() {
                    return;
                }
                renew(&state, &http, connection).await;
            }
        }
    }))
}

async fn renew(state: &AppState, http: &reqwest::Client, due: DueConnection) {
    let refresher = Refresher {
        db: &state.db,
        credentials: &state.keys.credentials,
        http,
        actor: ACTOR,
    };
    let (tenant, server) = (due.tenant_id, due.server_id);
    let outcome = refreshing::refresh_for(
        refresher,
        tenant,
        server,
        due.grant_id,
        due.generation,
        LOCK_WAIT,
        Occasion::Ahead,
    )
    .await;
    match &outcome {
        Ok(Refreshed::Stored) => {
            tracing::debug!(%server, "renewed an upstream OAuth token ahead of its expiry")
        }
        Ok(Refreshed::Refused(reason)) => {
            tracing::info!(%server, %reason, "an upstream OAuth refresh was refused; the server needs reconnecting")
        }
        Ok(Refreshed::Postponed(failure)) => tracing::warn!(
            %server,
            reason = %failure.reason,
            attempts = failure.attempts,
            next_attempt_at = %failure.next_attempt_at,
            "an upstream OAuth authorization server is unavailable; backing off"
        ),
        Ok(Refreshed::AlreadyDone | Refreshed::BackingOff(_) | Refreshed::NotRefreshable) => {}
        Err(error) => {
            tracing::warn!(%server, %error, "renewing an upstream OAuth token failed; retrying at the next scan")
        }
    }
    if outcome.as_ref().is_ok_and(Refreshed::changed) {
        // A grant's own connection rides in the proxies' entry of the grant.
        let change = match due.grant_id {
            Some(grant) => Change::Grant { tenant, grant },
            None => Change::Server { tenant, server },
        };
        if let Err(error) = changes::publish(&state.redis, &change).await {
            tracing::warn!(%error, "could not announce a renewed token; proxies reload at their resync");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_runs_eight_times_per_margin_between_a_second_and_a_minute() {
        assert_eq!(
            scan_interval(Duration::from_secs(300)),
            Duration::from_millis(37_500)
        );
        assert_eq!(
            scan_interval(Duration::from_secs(3600)),
            Duration::from_secs(60)
        );
        assert_eq!(
            scan_interval(Duration::from_secs(30)),
            Duration::from_millis(3750)
        );
        assert_eq!(
            scan_interval(Duration::from_secs(2)),
            Duration::from_secs(1)
        );
    }
}
