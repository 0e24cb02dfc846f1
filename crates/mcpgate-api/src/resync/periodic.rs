//! Re-syncing every server once per interval, spread over it: each server has a
//! fixed slot in the interval derived from its id, counted on the wall clock, so
//! the load is even and every replica aims at the same server at the same moment
//! — where the shared claim lets only one of them sync it (clocks need only agree
//! to within the cooldown).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mcpgate_store::{servers, ServerId};
use tokio_util::sync::CancellationToken;

use super::Resyncer;

/// Why a periodic sync ran, for the logs.
const REASON: &str = "periodic re-sync";

/// Scans for servers whose slot has come, every `scan_step(interval)`, until
/// `stop`. A scan waits for a free permit before each sync, so when syncs are
/// slow the scans slow down instead of piling up tasks; no slot is skipped,
/// since each scan covers the time since the previous one.
pub(super) async fn resync_periodically(
    resyncer: Resyncer,
    interval: Duration,
    stop: CancellationToken,
) {
    let interval_ms = millis(interval).max(1);
    let mut ticker = tokio::time::interval(scan_step(interval));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await;
    let mut scanned_until = now_ms();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let now = now_ms();
        let everyone = match servers::every_server(&resyncer.state.db).await {
            Ok(everyone) => everyone,
            Err(error) => {
                tracing::warn!(%error, "cannot list servers for the periodic re-sync");
                scanned_until = now;
                continue;
            }
        };
        for (tenant, server) in everyone {
            if !slot_between(
                phase_ms(server, interval_ms),
                interval_ms,
                scanned_until,
                now,
            ) {
                continue;
            }
            let permit = tokio::select! {
                () = stop.cancelled() => return,
                permit = std::sync::Arc::clone(&resyncer.permits).acquire_owned() => permit,
            };
            let Ok(permit) = permit else { return };
            if resyncer.claim(tenant, server).await {
                resyncer.start(tenant, server, REASON.to_owned(), Some(permit));
            }
        }
        scanned_until = now;
    }
}

/// How often to look for due servers: a thirtieth of the interval, between
/// 100 ms and 30 s.
fn scan_step(interval: Duration) -> Duration {
    (interval / 30).clamp(Duration::from_millis(100), Duration::from_secs(30))
}

/// The server's offset within each interval, from the random low half of its id
/// (the high half of a UUIDv7 is a timestamp).
fn phase_ms(server: ServerId, interval_ms: u64) -> u64 {
    let bytes = server.as_uuid().into_bytes();
    let mut low = [0u8; 8];
    low.copy_from_slice(&bytes[8..]);
    u64::from_be_bytes(low) % interval_ms
}

/// Whether a slot `phase + k * interval` (k ≥ 0) lies in `(after, until]`.
fn slot_between(phase: u64, interval: u64, after: u64, until: u64) -> bool {
    if until <= after || until < phase {
        return false;
    }
    let last_slot = phase + (until - phase) / interval * interval;
    last_slot > after
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_slot_falls_in_exactly_one_of_consecutive_scans() {
        let interval = 1_000;
        for phase in [0, 1, 499, 999] {
            let mut hits = 0;
            // Scans of uneven lengths over three intervals.
            let mut after = 10_000;
            for step in [7, 300, 1, 450, 242, 999, 1, 1000].iter().cycle().take(40) {
                let until = after + step;
                if until > 13_000 {
                    break;
                }
                hits += usize::from(slot_between(phase, interval, after, until));
                after = until;
            }
            assert!(after > 12_000, "the scans covered three intervals");
            assert_eq!(hits, 3, "phase {phase}: one sync per interval");
        }
    }

    #[test]
    fn a_clock_that_stands_still_or_goes_back_finds_nothing_due() {
        assert!(!slot_between(5, 1_000, 10_005, 10_005));
        assert!(!slot_between(5, 1_000, 10_006, 10_000));
        assert!(slot_between(5, 1_000, 10_004, 10_005));
    }

    #[test]
    fn phases_spread_servers_over_the_interval() {
        let interval = 900_000;
        let phases: Vec<u64> = (0..1_000)
            .map(|_| phase_ms(ServerId::new(), interval))
            .collect();
        assert!(phases.iter().all(|phase| *phase < interval));
        let first_tenth = phases.iter().filter(|p| **p < interval / 10).count();
        // Uniform: about 100 of 1,000; far from all of them bunched at the start.
        assert!((50..200).contains(&first_tenth), "{first_tenth}");
    }

    #[test]
    fn scans_are_a_thirtieth_of_the_interval_within_bounds() {
        assert_eq!(scan_step(Duration::from_secs(900)), Duration::from_secs(30));
        assert_eq!(
            scan_step(Duration::from_secs(3_600)),
            Duration::from_secs(30)
        );
        assert_eq!(
            scan_step(Duration::from_secs(1)),
            Duration::from_millis(100)
        );
    }
}
