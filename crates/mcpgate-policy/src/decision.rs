//! What the engine decided about a call, and how decisions combine.

use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::document::Scope;
use crate::span::Span;

/// What happens to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Forward the call (after reserving the charges).
    Allow,
    /// Refuse the call with the reason.
    Deny,
    /// Hold the call until a human approves it.
    RequireApproval,
}

impl Outcome {
    /// Deny beats require_approval beats allow.
    fn severity(self) -> u8 {
        match self {
            Outcome::Allow => 0,
            Outcome::RequireApproval => 1,
            Outcome::Deny => 2,
        }
    }
}

/// The engine's answer for one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// What the proxy must do. `Allow` whenever `shadow` is set.
    pub outcome: Outcome,
    /// What the deciding rule decided; differs from `outcome` only in shadow mode. Audit this.
    pub decided: Outcome,
    /// Whether the deciding rule is in shadow mode (reported, not enforced).
    pub shadow: bool,
    /// The sentence for the agent (or the approver) when the call is blocked or held.
    pub reason: Option<Arc<str>>,
    /// The deciding rule: a JSON Pointer into the document (`/tools/k8s_run_pod/limits/0`,
    /// `/hide/2`, `/methods/resources~1read/require/0`) or a marker, `(default allow)`,
    /// `(default deny)` or, for a method, [`crate::UNKNOWN_METHOD_RULE`].
    pub rule: Arc<str>,
    /// The counters to reserve before forwarding; empty when the call is denied.
    pub charges: Vec<Charge>,
}

/// One counter a call must reserve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Charge {
    /// The counter's name in the document.
    pub counter: Arc<str>,
    /// The Redis key, `rl:{<tenant>}:<scope>:<scope_id>:<counter>`; the proxy appends
    /// the window bucket from Redis server time.
    pub key: String,
    /// Whose calls share the count.
    pub scope: Scope,
    /// The fixed window's length, in seconds.
    pub window_secs: u64,
    /// The budget per window.
    pub max: u64,
    /// What this call adds: 1, or the `increment_from` amount rounded up.
    pub cost: u64,
    /// Whether this is a spend cap (`increment_from`) rather than a call count.
    pub spend_cap: bool,
    /// The limit's JSON Pointer.
    pub rule: Arc<str>,
    /// Whether the limit is in shadow mode: count, report, but never block.
    pub shadow: bool,
}

impl Decision {
    /// The decision for a call whose `charge` found its counter full: a deny (or, for a
    /// shadowed limit, an allow that reports the would-be deny), pointing at the limit.
    pub fn limit_exceeded(charge: &Charge, retry_after_secs: u64) -> Decision {
        let what = if charge.spend_cap {
            "Spend cap"
        } else {
            "Rate limit"
        };
        let per = Span::from_seconds(charge.window_secs).map_or_else(
            || format!("{}s", charge.window_secs),
            |span| span.to_string(),
        );
        let reason = format!(
            "{what} exceeded for counter '{}': {} per {per} (scope: {}). Retry after {retry_after_secs}s.",
            charge.counter,
            charge.max,
            charge.scope.as_str(),
        );
        Decision {
            outcome: if charge.shadow {
                Outcome::Allow
            } else {
                Outcome::Deny
            },
            decided: Outcome::Deny,
            shadow: charge.shadow,
            reason: Some(reason.into()),
            rule: charge.rule.clone(),
            charges: Vec::new(),
        }
    }

    /// Whether the proxy must refuse the call.
    pub fn is_denied(&self) -> bool {
        self.outcome == Outcome::Deny
    }
}

/// Combines the server policy's decision with the grant policy's, which can only narrow it.
///
/// The stricter effective outcome wins (deny, then require_approval, then allow); on a
/// tie, the stricter would-be outcome (so a shadowed deny stays visible to audit), then
/// the server's. Charges are the union of both, a counter key appearing in both (same
/// window) once with the larger cost and the smaller max; a denied call has none.
pub fn combine(server: Decision, grant: Decision) -> Decision {
    let rank = |d: &Decision| (d.outcome.severity(), d.decided.severity());
    let (mut winner, other) = if rank(&grant) > rank(&server) {
        (grant, server)
    } else {
        (server, grant)
    };
    if winner.outcome == Outcome::Deny {
        winner.charges.clear();
        return winner;
    }
    for charge in other.charges {
        merge_charge(&mut winner.charges, charge);
    }
    winner
}

/// Adds a charge, merging it with one for the same counter key and window.
pub(crate) fn merge_charge(charges: &mut Vec<Charge>, charge: Charge) {
    let same = charges
        .iter_mut()
        .find(|c| c.key == charge.key && c.window_secs == charge.window_secs);
    match same {
        Some(existing) => {
            existing.cost = existing.cost.max(charge.cost);
            existing.max = existing.max.min(charge.max);
            existing.shadow &= charge.shadow;
        }
        None => charges.push(charge),
    }
}
