//! Latency percentiles and throughput.

use std::fmt;
use std::time::Duration;

pub struct Summary {
    count: usize,
    errors: usize,
    per_second: f64,
    p50: Duration,
    p90: Duration,
    p99: Duration,
    p999: Duration,
    max: Duration,
}

impl Summary {
    pub fn new(results: &[(Duration, bool)], over: Duration) -> Self {
        let mut latencies: Vec<Duration> = results.iter().map(|(latency, _)| *latency).collect();
        latencies.sort();
        let at = |q: f64| -> Duration {
            if latencies.is_empty() {
                return Duration::ZERO;
            }
            let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
            latencies[index]
        };
        Self {
            count: results.len(),
            errors: results.iter().filter(|(_, ok)| !ok).count(),
            per_second: results.len() as f64 / over.as_secs_f64(),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            max: latencies.last().copied().unwrap_or_default(),
        }
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = |d: Duration| d.as_micros();
        write!(
            f,
            "calls={} errors={} throughput={:.0}/s p50={}us p90={}us p99={}us p99.9={}us max={}us",
            self.count,
            self.errors,
            self.per_second,
            us(self.p50),
            us(self.p90),
            us(self.p99),
            us(self.p999),
            us(self.max)
        )
    }
}
