use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{denial_text, spawn, Options};

#[tokio::test]
async fn the_seed_policy_admits_exactly_10_of_25_calls() {
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let mut admitted = 0;
    let mut limited = None;
    for id in 0..25 {
        let (status, response) = proxy
            .call(&session, id, "k8s_run_pod", json!({"image":"nginx"}))
            .await;
        assert_eq!(status, 200);
        if response["result"]["isError"] == true {
            limited = Some(response);
        } else {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 10);
    let limited = limited.unwrap();
    assert!(denial_text(&limited).contains("Rate limit exceeded for counter 'k8s_run_pod_rate'"));
    let structured = &limited["result"]["structuredContent"];
    assert_eq!(structured["kind"], "rate_limit");
    assert_eq!(structured["counter"], "k8s_run_pod_rate");
    let retry_after = structured["retry_after"].as_u64().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn twenty_five_concurrent_calls_admit_exactly_10() {
    let proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    let calls = (0..25).map(|id| proxy.call(&session, id, "k8s_run_pod", json!({"image":"nginx"})));
    let results = futures_util::future::join_all(calls).await;
    let admitted = results
        .iter()
        .filter(|(status, response)| *status == 200 && response["result"]["isError"] != true)
        .count();
    assert_eq!(admitted, 10);
}

#[tokio::test]
async fn with_redis_gone_limited_calls_fail_closed_fast() {
    let mut proxy = spawn(Options::default()).await;
    let session = proxy.initialize().await;
    proxy.redis.kill().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let (status, response) = proxy
        .call(&session, 1, "k8s_run_pod", json!({"image":"nginx"}))
        .await;
    let elapsed = started.elapsed();
    assert_eq!(status, 200);
    assert!(denial_text(&response).starts_with("[POLICY DENIED] rate limiter unavailable"));
    assert_eq!(
        response["result"]["structuredContent"]["kind"],
        "limiter_unavailable"
    );
    assert!(elapsed < Duration::from_millis(400), "took {elapsed:?}");
    eprintln!("fail-closed answer with Redis down took {elapsed:?}");
}

#[tokio::test]
async fn a_fail_open_policy_lets_calls_through_when_redis_is_gone() {
    let policy = r#"{"version":"1","default":"deny","tools":{"k8s_run_pod":{"limits":[{"counter":"c","window":"minute","max":1}]}},"settings":{"on_limiter_error":"fail_open"}}"#;
    let mut proxy = spawn(Options {
        policy: Some(policy.into()),
        ..Options::default()
    })
    .await;
    let session = proxy.initialize().await;
    proxy.redis.kill().await;
    let (_, response) = proxy.call(&session, 1, "k8s_run_pod", json!({})).await;
    assert!(response["result"]["isError"] != true, "{response}");
}
