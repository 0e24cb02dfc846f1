//! `GET /healthz` (the process answers) and `GET /readyz` (its dependencies
//! answer: 503 with a JSON body naming what is down).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use mcpgate_store::{PgPool, Redis};
use serde_json::{json, Map, Value};

/// The dependencies a service needs before it can take traffic.
#[derive(Debug, Clone)]
pub struct Readiness {
    postgres: Option<PgPool>,
    redis: Option<Redis>,
    timeout: Duration,
}

impl Readiness {
    /// Checks the given dependencies, each bounded by `timeout`.
    pub fn new(postgres: Option<PgPool>, redis: Option<Redis>, timeout: Duration) -> Self {
        Self {
            postgres,
            redis,
            timeout,
        }
    }

    /// Checks every dependency concurrently; `Err` lists what is down.
    pub async fn check(&self) -> Result<Value, (Vec<&'static str>, Value)> {
        let postgres = async {
            match &self.postgres {
                None => None,
                Some(pool) => Some(
                    match tokio::time::timeout(self.timeout, sqlx_ping(pool)).await {
                        Ok(Ok(())) => Ok(()),
                        Ok(Err(err)) => Err(err.to_string()),
                        Err(_) => Err(format!("no answer within {:?}", self.timeout)),
                    },
                ),
            }
        };
        let redis = async {
            match &self.redis {
                None => None,
                Some(redis) => Some(redis.ping(self.timeout).await.map_err(|e| e.to_string())),
            }
        };
        let (postgres, redis) = tokio::join!(postgres, redis);

        let mut checks = Map::new();
        let mut down = Vec::new();
        for (name, result) in [("postgres", postgres), ("redis", redis)] {
            match result {
                None => {}
                Some(Ok(())) => {
                    checks.insert(name.into(), json!({"status": "up"}));
                }
                Some(Err(error)) => {
                    down.push(name);
                    checks.insert(name.into(), json!({"status": "down", "error": error}));
                }
            }
        }
        // Which Redis the process runs on (one node, a cluster, or Sentinel and the
        // master it follows now), up or down.
        if let (Some(redis), Some(Value::Object(check))) = (&self.redis, checks.get_mut("redis")) {
            check.insert("topology".into(), json!(redis.topology()));
        }
        if down.is_empty() {
            Ok(Value::Object(checks))
        } else {
            Err((down, Value::Object(checks)))
        }
    }
}

async fn sqlx_ping(pool: &PgPool) -> Result<(), mcpgate_store::StoreError> {
    mcpgate_store::ping_postgres(pool).await
}

/// The `/healthz` and `/readyz` routes.
pub fn health_router<S>(readiness: Readiness) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(readiness)
}

async fn healthz() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn readyz(State(readiness): State<Readiness>) -> Response {
    match readiness.check().await {
        Ok(checks) => Json(json!({"status": "ready", "checks": checks})).into_response(),
        Err((down, checks)) => {
            let message = format!("not ready: {} down", down.join(" and "));
            tracing::warn!(%message, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "error": {"code": "not_ready", "message": message, "details": {"down": down}},
                    "checks": checks,
                })),
            )
                .into_response()
        }
    }
}
