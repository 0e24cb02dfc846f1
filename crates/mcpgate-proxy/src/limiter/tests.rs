use std::time::Duration;

use mcpgate_policy::Charge;

use super::*;

fn charge(key: &str, window_secs: u64, max: u64) -> Charge {
    Charge {
        counter: "c".into(),
        key: key.into(),
        scope: mcpgate_policy::Scope::Grant,
        window_secs,
        max,
        cost: 1,
        spend_cap: false,
        rule: "/tools/t/limits/0".into(),
        shadow: false,
    }
}

async fn limiter() -> (mcpgate_testkit::TestRedis, Redis, Limiter) {
    let server = mcpgate_testkit::fresh_redis().await;
    let redis = mcpgate_store::connect_redis(server.url(), Duration::from_secs(5))
        .await
        .unwrap();
    let limiter = Limiter::new(redis.clone(), Duration::from_secs(1));
    (server, redis, limiter)
}

async fn ttl(redis: &Redis, key: &str) -> i64 {
    redis::cmd("TTL")
        .arg(key)
        .query_async(&mut redis.connection())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_release_after_the_window_ended_leaves_no_key_without_expiry() {
    let (_server, redis, limiter) = limiter().await;
    let Reservation::Taken(taken) = limiter.reserve(&[charge("rl:{t}:k", 60, 5)]).await.unwrap()
    else {
        panic!("the first call has room");
    };
    let bucket = taken.buckets[0].0.clone();
    assert!(ttl(&redis, &bucket).await > 0, "a reserved bucket expires");
    // The window ends (the bucket expires) before the failed call gives it back.
    let _: () = redis::cmd("DEL")
        .arg(&bucket)
        .query_async(&mut redis.connection())
        .await
        .unwrap();
    limiter.release(&taken).await;
    assert_eq!(ttl(&redis, &bucket).await, -2, "the bucket stays gone");
}

#[tokio::test]
async fn one_counter_with_two_windows_keeps_two_counts() {
    let (_server, redis, limiter) = limiter().await;
    // Both windows of an hour-aligned second start at the same second: without the
    // window in the key they would share one bucket.
    let minute = charge("rl:{t}:grant:g:shared", 60, 1);
    let hour = charge("rl:{t}:grant:g:shared", 3600, 1);
    let Reservation::Taken(first) = limiter
        .reserve(std::slice::from_ref(&minute))
        .await
        .unwrap()
    else {
        panic!("the minute window has room");
    };
    let Reservation::Taken(second) = limiter.reserve(std::slice::from_ref(&hour)).await.unwrap()
    else {
        panic!("the hour window keeps its own count");
    };
    assert_ne!(first.buckets[0].0, second.buckets[0].0);
    for (key, _) in first.buckets.iter().chain(&second.buckets) {
        assert!(ttl(&redis, key).await > 0, "{key} expires");
    }
    assert!(matches!(
        limiter.reserve(&[minute]).await.unwrap(),
        Reservation::Refused { .. }
    ));
}

/// The charges of one call at its most: server and grant policies both counting, at
/// every scope, with a spend cap, combined as the proxy combines them.
fn charges_of_one_call(tenant: &str) -> Vec<Charge> {
    let decide = |policy: &str| {
        let compiled = mcpgate_policy::compile(&mcpgate_policy::parse(policy).unwrap()).unwrap();
        let arguments = serde_json::json!({"amount": 12});
        mcpgate_policy::evaluate(
            &compiled,
            &mcpgate_policy::ToolCall {
                tenant_id: tenant,
                server_id: "6f1b3c2a-0000-4000-8000-000000000001",
                grant_id: "6f1b3c2a-0000-4000-8000-000000000002",
                tool: "refund",
                classification: None,
                arguments: &arguments,
            },
        )
    };
    let server = decide(
        r#"{"version":"1","default":"allow","tools":{"refund":{"limits":[
            {"counter":"per_grant","window":"minute","max":5,"scope":"grant"},
            {"counter":"per_server","window":"hour","max":50,"scope":"server"},
            {"counter":"per_tenant","window":"day","max":500,"scope":"tenant"}]}}}"#,
    );
    let grant = decide(
        r#"{"version":"1","default":"allow","tools":{"refund":{"limits":[
            {"counter":"spend","window":"7d","max":10000,"scope":"tenant","increment_from":"args.amount"},
            {"counter":"burst","window":"2s","max":3}]}}}"#,
    );
    mcpgate_policy::combine(server, grant).charges
}

#[tokio::test]
async fn every_key_one_call_touches_is_in_one_cluster_slot_and_the_script_runs_there() {
    let cluster = mcpgate_testkit::TestCluster::start(3, 0).await;
    let redis = mcpgate_store::connect_redis(&cluster.url(), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(redis.topology().kind, "cluster");
    let limiter = Limiter::new(redis.clone(), Duration::from_secs(2));
    // Tenants whose tags land on each of the three masters: none is special.
    let tenants = [
        "0b5e2f4c-1d3a-4b6e-9f70-1a2b3c4d5e6f",
        "7c9d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f",
        "f0e1d2c3-b4a5-4968-8776-655443322110",
    ];
    let mut masters = std::collections::BTreeSet::new();
    for tenant in tenants {
        let charges = charges_of_one_call(tenant);
        assert_eq!(charges.len(), 5, "{charges:?}");
        let call = limiter.reserve_call(&charges);
        let mut keys: Vec<String> = call
            .keys()
            .map(|key| String::from_utf8(key.to_vec()).unwrap())
            .collect();
        assert_eq!(keys.len(), charges.len());
        let Reservation::Taken(taken) = limiter.reserve(&charges).await.unwrap() else {
            panic!("the first call has room");
        };
        // The buckets the script derives (and increments, and a release decrements).
        keys.extend(taken.buckets.iter().map(|(key, _)| key.clone()));
        assert_eq!(keys.len(), 2 * charges.len());
        let mut slots = std::collections::BTreeSet::new();
        for key in &keys {
            slots.insert(cluster.key_slot(key).await);
        }
        assert_eq!(slots.len(), 1, "{tenant}: {keys:?} span slots {slots:?}");
        masters.insert(cluster.master_of(&keys[0]).await);
        for key in &taken.buckets {
            assert!(ttl(&redis, &key.0).await > 0, "{} expires", key.0);
        }
        limiter.release(&taken).await;
    }
    assert!(
        masters.len() >= 2,
        "the tenants' slots live on several masters: {masters:?}"
    );
}

mod tls;

/// Two limiters sharing one health, as a replica's serving threads on their own
/// connections do ([`Limiter::on_connection`]): `stalled`'s Redis is paused (its calls hang until they
/// time out), `live`'s answers.
async fn stalled_and_live() -> ([mcpgate_testkit::TestRedis; 2], Redis, Limiter, Limiter) {
    let (live_server, _, live) = limiter().await;
    let stalled_server = mcpgate_testkit::fresh_redis().await;
    let stalled_redis = mcpgate_store::connect_redis(stalled_server.url(), Duration::from_secs(5))
        .await
        .unwrap();
    let stalled = Limiter {
        timeout: Duration::from_millis(400),
        ..live.on_connection(stalled_redis.clone())
    };
    ([stalled_server, live_server], stalled_redis, stalled, live)
}

/// Pauses every client's commands on `redis` for `ms` (the pausing one gets its answer).
async fn pause(redis: &Redis, ms: u64) {
    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(ms)
        .arg("ALL")
        .query_async(&mut redis.connection())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_call_that_timed_out_after_redis_answered_others_does_not_mark_it_down() {
    let (_servers, stalled_redis, stalled, live) = stalled_and_live().await;
    let key = [charge("rl:{t}:k", 60, 1_000)];
    assert!(live.reserve(&key).await.is_ok(), "the live Redis answers");
    pause(&stalled_redis, 1_500).await;
    let (hung, answered) = tokio::join!(stalled.reserve(&key), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        live.reserve(&key).await
    });
    assert!(answered.is_ok(), "a call sent meanwhile is answered");
    assert!(
        matches!(hung, Err(LimiterError::Timeout(_))),
        "the stalled call times out: {hung:?}"
    );
    // Redis answered after the stalled call was sent: its timeout is stale news.
    assert!(
        live.reserve(&key).await.is_ok(),
        "the limiter is not marked down by it"
    );
}

#[tokio::test]
async fn a_call_that_timed_out_with_nothing_answered_since_marks_redis_down() {
    let (_servers, stalled_redis, stalled, live) = stalled_and_live().await;
    let key = [charge("rl:{t}:k", 60, 1_000)];
    pause(&stalled_redis, 1_500).await;
    assert!(
        matches!(stalled.reserve(&key).await, Err(LimiterError::Timeout(_))),
        "the stalled call times out"
    );
    assert!(
        matches!(live.reserve(&key).await, Err(LimiterError::Down)),
        "with nothing answered since, the limiter is marked down for the whole process"
    );
}

#[tokio::test]
async fn an_answer_after_redis_was_marked_down_marks_it_up_without_waiting_for_the_probe() {
    let (_servers, stalled_redis, _, live) = stalled_and_live().await;
    // Gives up well before the live Redis's pause ends (and that ends before the
    // connection's own 500 ms response timeout).
    let stalled = Limiter {
        timeout: Duration::from_millis(150),
        ..live.on_connection(stalled_redis.clone())
    };
    let key = [charge("rl:{t}:k", 60, 1_000)];
    assert!(live.reserve(&key).await.is_ok(), "the live Redis answers");
    // The probe pings the stalled Redis, paused far longer than the live one.
    pause(&stalled_redis, 3_000).await;
    pause(&live.redis, 350).await;
    let (hung, slow) = tokio::join!(stalled.reserve(&key), live.reserve(&key));
    assert!(
        matches!(hung, Err(LimiterError::Timeout(_))),
        "the stalled call times out first, with nothing answered since: {hung:?}"
    );
    assert!(
        slow.is_ok(),
        "the slow call is answered after that: {slow:?}"
    );
    assert!(
        live.reserve(&key).await.is_ok(),
        "its answer marked Redis up: the next call is not refused as down"
    );
}
