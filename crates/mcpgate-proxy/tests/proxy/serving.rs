//! The serving threads (`MCPGATE_PROXY_THREADS`): each opens its own Redis connection,
//! connections are spread over them, and a limit stays exact across them.

use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::helpers::{last_message, spawn, Options, TestProxy};

/// The connections Redis has open (the proxy's and the test's own).
async fn redis_clients(proxy: &TestProxy) -> usize {
    let mut redis = proxy.redis_conn.connection();
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut redis)
        .await
        .expect("CLIENT LIST");
    list.lines().count()
}

#[tokio::test]
async fn each_serving_thread_opens_its_own_redis_connection_and_a_limit_stays_exact_across_them() {
    let one = spawn(Options {
        settings: |settings| settings.serving_threads = NonZeroUsize::MIN,
        ..Options::default()
    })
    .await;
    let three = spawn(Options {
        settings: |settings| settings.serving_threads = NonZeroUsize::new(3).unwrap(),
        ..Options::default()
    })
    .await;
    one.initialize().await;
    let session = three.initialize().await;

    // The same deployment but for its threads: two more threads, two more connections
    // (each thread opens its own as it starts, so wait for the last to be up).
    let deadline = Instant::now() + Duration::from_secs(10);
    let (mut of_one, mut of_three) = (0, 0);
    while Instant::now() < deadline {
        (of_one, of_three) = (redis_clients(&one).await, redis_clients(&three).await);
        if of_three == of_one + 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        of_one >= 2,
        "the proxy's and the test's connections: {of_one}"
    );
    assert_eq!(
        of_three,
        of_one + 2,
        "Redis connections with 1 and 3 serving threads"
    );

    // Twelve concurrent calls, each on a new connection (no idle pool), so every thread
    // serves some: the seed policy's 10 a minute admits exactly 10.
    let fresh = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let calls = (0..12u64).map(|id| {
        let request = three.request_on(
            &fresh,
            three.addr,
            Some(&session),
            json!({"jsonrpc":"2.0","id":id,"method":"tools/call",
                "params":{"name":"k8s_run_pod","arguments":{"image":"nginx"}}})
            .to_string(),
        );
        async move {
            let response = request.send().await.expect("the proxy answers");
            assert_eq!(response.status(), 200);
            last_message(&response.text().await.unwrap())
        }
    });
    let answers = futures_util::future::join_all(calls).await;
    assert_eq!(answers.len(), 12);
    let admitted = answers
        .iter()
        .filter(|answer| answer["result"].is_object() && answer["result"]["isError"] != true)
        .count();
    assert_eq!(admitted, 10, "{answers:?}");
}
