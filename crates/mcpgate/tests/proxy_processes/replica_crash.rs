//! A proxy of the production shape SIGKILLed under load: which answered calls have
//! their audit row, on a strict-audit server and on a queued one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mcpgate_store::TenantId;

use super::shape::{Mcp, Shape};

/// What one call of the load came to.
struct Sent {
    server: usize,
    id: String,
    /// The replica that answered, when a tool result came back.
    answered_by: Option<String>,
    /// Sent after proxy 2 was killed.
    after_kill: bool,
}

/// Twelve workers through nginx on `urls` (the queued server, then the strict one);
/// proxy 2 is SIGKILLed after 1.5 s and the load runs 1.5 s more.
pub async fn kill_a_proxy_under_load(
    shape: &Shape,
    mcp: &Mcp,
    pool: &mcpgate_store::PgPool,
    tenant: TenantId,
    urls: [&String; 2],
) {
    let sessions = [mcp.initialize(urls[0]).await, mcp.initialize(urls[1]).await];
    let killed = shape.value("PROXY_2").to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let dead = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(Mutex::new(Vec::<Sent>::new()));
    let workers = (0..12usize).map(|worker| {
        let (stop, dead, sent, sessions) = (stop.clone(), dead.clone(), sent.clone(), &sessions);
        async move {
            for n in 0.. {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let server = (worker + n) % 2;
                let id = format!("load-{worker}-{n}");
                let after_kill = dead.load(Ordering::SeqCst);
                let answer = mcp
                    .call(urls[server], &sessions[server], &id, "k8s_get_nodes")
                    .await;
                let answered_by = match answer {
                    Ok(answer) if answer.ran() => {
                        Some(answer.upstream.expect("nginx names the replica"))
                    }
                    // nginx's 502 for the calls the dead proxy held, or a broken connection.
                    Ok(answer) if answer.status == 502 => None,
                    Err(_) => None,
                    Ok(answer) => panic!("unexpected answer {}: {}", answer.status, answer.message),
                };
                sent.lock().unwrap().push(Sent {
                    server,
                    id,
                    answered_by,
                    after_kill,
                });
            }
        }
    });
    let killer = async {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let before = sent
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.answered_by.as_deref() == Some(&killed))
            .count();
        shape.kill_proxy(2);
        dead.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        stop.store(true, Ordering::SeqCst);
        before
    };
    let (_, answered_by_killed_before) =
        tokio::join!(futures_util::future::join_all(workers), killer);
    let sent = std::mem::take(&mut *sent.lock().unwrap());
    let answered: Vec<&Sent> = sent.iter().filter(|s| s.answered_by.is_some()).collect();
    let unanswered = sent.len() - answered.len();
    assert!(
        answered_by_killed_before > 0,
        "proxy 2 answered calls before it was killed"
    );
    assert!(
        answered
            .iter()
            .any(|s| s.answered_by.as_deref() != Some(&killed)),
        "the survivors answered calls"
    );
    let taken_over = answered.iter().filter(|s| s.after_kill).count();
    assert!(
        taken_over > 0
            && answered
                .iter()
                .filter(|s| s.after_kill)
                .all(|s| s.answered_by.as_deref() != Some(&killed)),
        "after the kill only the survivors answer, and they do ({taken_over} calls)"
    );

    // The survivors flush their queues; wait (bounded) until every call they answered
    // on the queued server has its row, then compare.
    let rows_by_id = |rows: &[mcpgate_store::audit::StoredAuditEvent]| -> HashMap<String, usize> {
        let mut ids = HashMap::new();
        for row in rows.iter().filter(|row| row.event.method == "tools/call") {
            if let Some(id) = &row.event.request_id {
                *ids.entry(id.clone()).or_insert(0) += 1;
            }
        }
        ids
    };
    let missing = |ids: &HashMap<String, usize>, server: usize, from_killed: bool| -> usize {
        answered
            .iter()
            .filter(|s| {
                s.server == server && (s.answered_by.as_deref() == Some(&killed)) == from_killed
            })
            .filter(|s| !ids.contains_key(&s.id))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    let (ids, flushed) = loop {
        let rows = mcpgate_store::audit::query_audit(pool, tenant, &Default::default(), 100_000)
            .await
            .expect("reading the audit log");
        let ids = rows_by_id(&rows);
        let flushed = missing(&ids, 0, false) == 0;
        if flushed || Instant::now() > deadline {
            break (ids, flushed);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let from_killed = |server: usize| {
        answered
            .iter()
            .filter(|s| s.server == server && s.answered_by.as_deref() == Some(&killed))
            .count()
    };
    let answered_on = |server: usize| answered.iter().filter(|s| s.server == server).count();
    eprintln!(
        "proxy 2 killed under load: {} calls sent, {} answered ({} by proxy 2, {taken_over} sent after the kill, {unanswered} unanswered); \
         strict server: {} answered, {} without an audit row; queued server: {} answered, {} by the \
         survivors without a row, {} of the {} proxy 2 answered without a row (its queue died with it)",
        sent.len(),
        answered.len(),
        from_killed(0) + from_killed(1),
        answered_on(1),
        missing(&ids, 1, false) + missing(&ids, 1, true),
        answered_on(0),
        missing(&ids, 0, false),
        missing(&ids, 0, true),
        from_killed(0),
    );
    assert!(
        flushed,
        "the survivors wrote a row for every call they answered"
    );
    assert!(
        answered_on(1) > 0 && from_killed(1) > 0,
        "the strict server was under load on proxy 2 too"
    );
    assert_eq!(
        missing(&ids, 1, false) + missing(&ids, 1, true),
        0,
        "strict audit: every answered call has its row, also those proxy 2 answered"
    );
    assert!(
        ids.iter()
            .filter(|(id, _)| id.starts_with("load-"))
            .all(|(_, rows)| *rows == 1),
        "no call of the load has two rows"
    );
}
