//! Rate-limit windows are calendar-aligned (the policy language's `minute` is the UTC
//! calendar minute), so a burst that straddles a boundary is counted in two windows.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time left in the current UTC minute.
pub fn left_in_minute(now: SystemTime) -> Duration {
    let since_epoch = now.duration_since(UNIX_EPOCH).expect("a clock after 1970");
    let into_minute = Duration::from_millis((since_epoch.as_millis() % 60_000) as u64);
    Duration::from_secs(60) - into_minute
}

/// Waits for the next minute when fewer than `needed` remain in this one, so a burst
/// that needs that long is counted in a single window.
pub async fn ensure_room_in_minute(needed: Duration) {
    let left = left_in_minute(SystemTime::now());
    if left < needed {
        // A little past the boundary: Redis's clock and ours are the same machine's.
        tokio::time::sleep(left + Duration::from_millis(250)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_left_counts_down_to_the_next_utc_minute() {
        let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
        assert_eq!(left_in_minute(at(60_000 * 5)), Duration::from_secs(60));
        assert_eq!(
            left_in_minute(at(60_000 * 5 + 45_500)),
            Duration::from_millis(14_500)
        );
        assert_eq!(left_in_minute(at(60_000 * 6 - 1)), Duration::from_millis(1));
    }
}
