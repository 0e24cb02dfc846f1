//! Two proxies on one Postgres and one Redis, as two replicas behind a load balancer.

use serde_json::json;

use crate::helpers::{
    denial_text, initialize_body, redis_time, spawn, wait_for_window_start, Options,
};

#[tokio::test]
async fn a_session_moves_freely_between_replicas() {
    let proxy = spawn(Options::default()).await;
    let other = proxy.replica().await;
    let (a, b) = (proxy.addr, other.addr);

    let response = proxy
        .request_at(a, None, initialize_body())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let session = response.headers()["mcp-session-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let initialized = proxy
        .request_at(
            b,
            Some(&session),
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(initialized.status(), 202);

    let (status, response) = proxy
        .call_at(b, &session, 1, "k8s_run_pod", json!({"image":"nginx"}))
        .await;
    assert_eq!(status, 200);
    assert!(response["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("k8s_run_pod ok"));

    let stream = proxy
        .client
        .get(proxy.url_at(a))
        .bearer_auth(&proxy.token)
        .header("accept", "text/event-stream")
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    drop(stream);

    let ended = proxy
        .client
        .delete(proxy.url_at(b))
        .bearer_auth(&proxy.token)
        .header("mcp-session-id", &session)
        .send()
        .await
        .unwrap();
    assert!(ended.status().is_success(), "{}", ended.status());
    let after = proxy
        .request_at(
            a,
            Some(&session),
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        )
        .send()
        .await
        .unwrap();
    assert!(after.status().is_client_error(), "{}", after.status());
}

#[tokio::test]
async fn a_limit_of_10_admits_exactly_10_of_100_concurrent_calls_across_two_replicas() {
    let proxy = spawn(Options::default()).await;
    let other = proxy.replica().await;
    let session = proxy.initialize().await;
    // The seed limit is 10 a minute: do not let the calls straddle two minutes.
    let (seconds, _) = redis_time(&proxy.redis_conn).await;
    if 60 - seconds % 60 < 15 {
        wait_for_window_start(&proxy.redis_conn, 60).await;
    }
    let calls = (0..100u64).map(|id| {
        let addr = if id % 2 == 0 { proxy.addr } else { other.addr };
        proxy.call_at(addr, &session, id, "k8s_run_pod", json!({"image":"nginx"}))
    });
    let results = futures_util::future::join_all(calls).await;
    let admitted = results
        .iter()
        .filter(|(_, response)| response["result"]["isError"] != true)
        .count();
    let limited = results
        .iter()
        .filter(|(_, response)| response["result"]["structuredContent"]["kind"] == "rate_limit")
        .count();
    for (status, response) in &results {
        let kind = &response["result"]["structuredContent"]["kind"];
        if response["result"]["isError"] == true && kind != "rate_limit" {
            eprintln!("unexpected answer: {status} {response}");
        }
    }
    assert!(results.iter().all(|(status, _)| *status == 200));
    assert_eq!(admitted, 10);
    assert_eq!(limited, 90);
}

#[tokio::test]
async fn a_fixed_window_resets_at_its_boundary_on_redis_time() {
    let policy = r#"{"version":"1","default":"deny","tools":{"k8s_run_pod":{"limits":[{"counter":"burst","window":"2s","max":3}]}}}"#;
    let proxy = spawn(Options {
        policy: Some(policy.into()),
        ..Options::default()
    })
    .await;
    let other = proxy.replica().await;
    let session = proxy.initialize().await;
    let mut outcomes = Vec::new();
    for round in 0..2u64 {
        wait_for_window_start(&proxy.redis_conn, 2).await;
        let mut admitted = 0;
        let mut refusal = None;
        for id in 0..4 {
            let addr = if id % 2 == 0 { proxy.addr } else { other.addr };
            let (_, response) = proxy
                .call_at(addr, &session, round * 10 + id, "k8s_run_pod", json!({}))
                .await;
            if response["result"]["isError"] == true {
                refusal = Some(response);
            } else {
                admitted += 1;
            }
        }
        let (seconds, _) = redis_time(&proxy.redis_conn).await;
        outcomes.push((admitted, refusal, seconds));
    }
    for (admitted, refusal, _) in &outcomes {
        assert_eq!(*admitted, 3, "each window admits its max");
        let refusal = refusal.as_ref().expect("the fourth call is limited");
        assert!(denial_text(refusal).contains("'burst'"));
        let retry_after = refusal["result"]["structuredContent"]["retry_after"]
            .as_u64()
            .unwrap();
        assert!((1..=2).contains(&retry_after), "{retry_after}");
    }
    // Both rounds ran inside their own window (Redis time), so the reset came from the
    // boundary and not from a key expiring.
    assert!(outcomes[1].2 > outcomes[0].2);
}
