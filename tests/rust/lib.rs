//! End-to-end tests live in this package's test targets; see `readiness.rs` and `e2e/`.
