//! A proxy of the production shape SIGKILLed under load: every answered call has its
//! audit row, on a strict-audit server (written before the call went on) and on a
//! queued one (journaled in the shared audit spool before the answer, and written by a
//! survivor that takes over the dead proxy's journal).

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
        let killed_at = Instant::now();
        dead.store(true, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        stop.store(true, Ordering::SeqCst);
        (before, killed_at)
    };
    let (_, (answered_by_killed_before, killed_at)) =
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

    // The survivors flush their queues and take over proxy 2's journal (every 2 s);
    // wait (bounded) until every answered call on the queued server has its row.
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
        let flushed = missing(&ids, 0, false) == 0 && missing(&ids, 0, true) == 0;
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
    let complete_after = killed_at.elapsed();
    eprintln!(
        "proxy 2 killed under load (every row there {complete_after:?} after the kill): {} calls sent, {} answered ({} by proxy 2, {taken_over} sent after the kill, {unanswered} unanswered); \
         strict server: {} answered, {} without an audit row; queued server: {} answered, {} by the \
         survivors without a row, {} of the {} proxy 2 answered without a row",
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
        from_killed(0) > 0,
        "proxy 2 answered calls of the queued server before it was killed"
    );
    assert_eq!(
        missing(&ids, 0, false),
        0,
        "the survivors wrote a row for every call they answered"
    );
    assert_eq!(
        missing(&ids, 0, true),
        0,
        "queued audit: every call proxy 2 answered has its row, taken over from its journal"
    );
    assert!(flushed);
    let survivors = [shape.proxies()[0].clone(), shape.proxies()[2].clone()];
    let mut taken_over = 0.0;
    for proxy in &survivors {
        let metrics = reqwest::get(format!("{proxy}/metrics"))
            .await
            .expect("a survivor's /metrics")
            .text()
            .await
            .expect("its text");
        taken_over += metrics
            .lines()
            .find_map(|line| line.strip_prefix("mcpgate_proxy_audit_taken_over_total "))
            .expect("the taken-over counter is exported")
            .parse::<f64>()
            .expect("a number");
    }
    assert!(
        taken_over > 0.0,
        "a survivor took over proxy 2's journal (it held rows not yet written when it died)"
    );
    let journals: Vec<_> = std::fs::read_dir(shape.value("AUDIT_SPOOL_DIR"))
        .expect("the shared spool")
        .collect();
    assert_eq!(
        journals.len(),
        2,
        "the two survivors' journals; proxy 2's is gone"
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
