//! Rate limits and spend caps: every counter a decision names is reserved in one
//! Redis round trip (a Lua script, so it is atomic across every proxy process), and
//! released when the upstream call fails.
//!
//! Windows are fixed and come from Redis `TIME`, never from the proxy's clock: the
//! bucket of a counter is `<charge key>:<window seconds>:<window start>`, with
//! `window start = floor(now / window) * window`, expiring at the window's end. The
//! window's length is part of the key, so one counter name used with two windows (in
//! a server's and a grant's policy) keeps two counts. Every write leaves a TTL.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mcpgate_policy::Charge;
use mcpgate_store::{AtomicScript, Redis, ScriptCall};

/// Checks every counter first (current + cost <= max, shadow counters exempt) and only
/// then increments them all, so a refused call consumes nothing. A bucket's expiry (its
/// window's end) is set by the reservation that creates it, not again by every later one:
/// one command fewer a call on the hot path.
///
/// KEYS: the charge keys. ARGV: per key, window seconds, max, cost, shadow (0/1).
/// Returns `{refused index (0: none), retry_after, shadow refused index, bucket keys...}`.
const RESERVE: &str = r"
local now = tonumber(redis.call('TIME')[1])
local buckets = {}
local ends = {}
for i = 1, #KEYS do
  local window = tonumber(ARGV[i * 4 - 3])
  local start = now - (now % window)
  buckets[i] = KEYS[i] .. ':' .. window .. ':' .. start
  ends[i] = start + window
  if ARGV[i * 4] == '0' then
    local current = tonumber(redis.call('GET', buckets[i]) or '0')
    if current + tonumber(ARGV[i * 4 - 1]) > tonumber(ARGV[i * 4 - 2]) then
      return {i, ends[i] - now, 0}
    end
  end
end
local result = {0, 0, 0}
for i = 1, #KEYS do
  local cost = tonumber(ARGV[i * 4 - 1])
  local count = redis.call('INCRBY', buckets[i], cost)
  if count <= cost then
    redis.call('EXPIREAT', buckets[i], ends[i] + 1)
  end
  if ARGV[i * 4] == '1' and result[3] == 0 and count > tonumber(ARGV[i * 4 - 2]) then
    result[2] = ends[i] - now
    result[3] = i
  end
  result[3 + i] = buckets[i]
end
return result
";

/// Gives back what a reservation took, never below zero. A bucket whose window has
/// ended (and so expired) is left alone: DECRBY would create it again without a TTL.
const RELEASE: &str = r"
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    if redis.call('DECRBY', KEYS[i], ARGV[i]) < 0 then
      redis.call('SET', KEYS[i], 0, 'KEEPTTL')
    end
  end
end
return 0
";

/// How often a background probe pings Redis while it is marked down.
const PROBE_INTERVAL: Duration = Duration::from_millis(100);

/// The limiter: two scripts and the shared connection.
#[derive(Debug)]
pub(crate) struct Limiter {
    redis: Redis,
    reserve: AtomicScript,
    release: AtomicScript,
    timeout: Duration,
    health: Arc<Health>,
}

/// Whether Redis is known to be down. While it is, reservations fail at once (no call
/// waits for a timeout or for the connection's reconnect backoff) and one background
/// probe pings Redis until it answers again.
///
/// A failure marks Redis down only if Redis answered nothing since the failed call was
/// sent: a call that hung on a dead node while the probe or other calls found Redis
/// again (a failover, a reconnect) is stale news, and marking down on it would refuse
/// calls again after the limiter had recovered. Any answer marks it up again.
#[derive(Debug, Default)]
struct Health {
    down: AtomicBool,
    probing: AtomicBool,
    /// How many times Redis answered (a reservation or the probe): what a failing call
    /// compares with the count it saw when it was sent.
    answers: AtomicU64,
}

impl Health {
    fn answered(&self) {
        self.answers.fetch_add(1, Ordering::AcqRel);
    }

    /// Redis answered: counted, and no longer marked down (the probe, if one runs, stops
    /// at its next answer).
    fn up(&self) {
        self.answered();
        if self.down.load(Ordering::Relaxed) {
            self.down.store(false, Ordering::Release);
        }
    }
}

/// What a reservation did.
#[derive(Debug)]
pub(crate) enum Reservation {
    /// Every counter had room; the buckets to release if the call fails.
    Taken(Taken),
    /// `charges[index]` is full until `retry_after` seconds from now; nothing was taken.
    Refused { index: usize, retry_after: u64 },
}

/// The buckets a reservation incremented, and by how much.
#[derive(Debug, Default)]
pub(crate) struct Taken {
    pub(crate) buckets: Vec<(String, u64)>,
    /// A shadow counter went over its max: `(index, retry_after)`, to audit.
    pub(crate) shadow_over: Option<(usize, u64)>,
}

/// Redis did not answer in time or answered with an error.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LimiterError {
    #[error("the rate limiter did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the rate limiter failed: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("the rate limiter answered something unexpected")]
    Unexpected,
    #[error("the rate limiter is down (Redis did not answer recently); probing")]
    Down,
}

impl Limiter {
    pub(crate) fn new(redis: Redis, timeout: Duration) -> Self {
        Self {
            redis,
            reserve: AtomicScript::new(RESERVE),
            release: AtomicScript::new(RELEASE),
            timeout,
            health: Arc::default(),
        }
    }

    /// This limiter on another connection (a serving thread's), sharing its health: Redis
    /// is down or up for the whole process, with one probe, whichever thread saw it first.
    pub(crate) fn on_connection(&self, redis: Redis) -> Self {
        Self {
            redis,
            reserve: self.reserve.clone(),
            release: self.release.clone(),
            timeout: self.timeout,
            health: Arc::clone(&self.health),
        }
    }

    /// Marks Redis down and starts the probe that marks it up again.
    fn mark_down(&self) {
        self.health.down.store(true, Ordering::Release);
        if self.health.probing.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::warn!(
            "Redis is unreachable: rate-limited calls fail at once until it answers again"
        );
        let (redis, health, timeout) = (self.redis.clone(), Arc::clone(&self.health), self.timeout);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROBE_INTERVAL).await;
                if redis.ping(timeout).await.is_ok() {
                    health.up();
                    health.probing.store(false, Ordering::Release);
                    tracing::info!("Redis answers again: the rate limiter is back");
                    return;
                }
            }
        });
    }

    /// Reserves every charge; fails at once while Redis is marked down.
    pub(crate) async fn reserve(&self, charges: &[Charge]) -> Result<Reservation, LimiterError> {
        if charges.is_empty() {
            return Ok(Reservation::Taken(Taken::default()));
        }
        if self.health.down.load(Ordering::Acquire) {
            return Err(LimiterError::Down);
        }
        let answers_before = self.health.answers.load(Ordering::Acquire);
        let result = self.try_reserve(charges).await;
        match &result {
            // An answer proves Redis is back, whatever a call that failed meanwhile
            // concluded: calls stop failing at once, without waiting for the probe.
            Ok(_) => self.health.up(),
            Err(LimiterError::Timeout(_) | LimiterError::Redis(_))
                if self.health.answers.load(Ordering::Acquire) == answers_before =>
            {
                self.mark_down();
            }
            Err(_) => {}
        }
        result
    }

    /// The one script call that reserves `charges`: every key of it (and every bucket the
    /// script derives from them by appending) carries the tenant's hash tag, so on a
    /// cluster the call runs on one node, atomically.
    fn reserve_call(&self, charges: &[Charge]) -> ScriptCall<'_> {
        let mut invocation = self.reserve.call();
        for charge in charges {
            invocation
                .key(&charge.key)
                .arg(charge.window_secs.max(1))
                .arg(charge.max)
                .arg(charge.cost)
                .arg(u8::from(charge.shadow));
        }
        invocation
    }

    /// Reserves every charge in one round trip (EVALSHA; EVAL once on a node that has
    /// not cached the script: restarted, or a replica just promoted).
    async fn try_reserve(&self, charges: &[Charge]) -> Result<Reservation, LimiterError> {
        let invocation = self.reserve_call(charges);
        let mut connection = self.redis.connection();
        let reply: Vec<redis::Value> =
            tokio::time::timeout(self.timeout, invocation.invoke(&mut connection))
                .await
                .map_err(|_| LimiterError::Timeout(self.timeout))??;
        let number = |index: usize| -> Result<u64, LimiterError> {
            match reply.get(index) {
                Some(redis::Value::Int(value)) => {
                    u64::try_from(*value).map_err(|_| LimiterError::Unexpected)
                }
                _ => Err(LimiterError::Unexpected),
            }
        };
        let refused = number(0)?;
        if refused > 0 {
            return Ok(Reservation::Refused {
                index: usize::try_from(refused - 1).map_err(|_| LimiterError::Unexpected)?,
                retry_after: number(1)?,
            });
        }
        let shadow = number(2)?;
        let shadow_over = if shadow > 0 {
            let index = usize::try_from(shadow - 1).map_err(|_| LimiterError::Unexpected)?;
            Some((index, number(1)?))
        } else {
            None
        };
        let mut buckets = Vec::with_capacity(charges.len());
        for (charge, value) in charges.iter().zip(reply.iter().skip(3)) {
            let key = match value {
                redis::Value::BulkString(bytes) => {
                    String::from_utf8(bytes.clone()).map_err(|_| LimiterError::Unexpected)?
                }
                redis::Value::SimpleString(text) => text.clone(),
                _ => return Err(LimiterError::Unexpected),
            };
            buckets.push((key, charge.cost));
        }
        Ok(Reservation::Taken(Taken {
            buckets,
            shadow_over,
        }))
    }

    /// Gives a failed call's reservation back. Best effort: an error is logged.
    pub(crate) async fn release(&self, taken: &Taken) {
        if taken.buckets.is_empty() {
            return;
        }
        let mut invocation = self.release.call();
        for (key, cost) in &taken.buckets {
            invocation.key(key).arg(*cost);
        }
        let mut connection = self.redis.connection();
        let result =
            tokio::time::timeout(self.timeout, invocation.invoke::<i64>(&mut connection)).await;
        match result {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => tracing::warn!(%error, "releasing a reservation failed"),
            Err(_) => tracing::warn!("releasing a reservation timed out"),
        }
    }
}

#[cfg(test)]
mod tests;
