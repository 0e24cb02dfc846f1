//! Test helpers: a fresh Postgres database per test, a private Redis per test,
//! and the real API and proxy on port 0 in the test's own process.
//!
//! The Postgres server is shared: `scripts/test.sh` starts one and exports
//! `MCPGATE_TEST_DATABASE_URL` (a URL to its `postgres` database); each test
//! creates its own database there, so tests run in parallel without touching
//! each other. Redis servers are cheap, so every test gets its own, which it may
//! kill to see what happens.

mod app;
mod db;
pub mod rest;
pub mod topology;

pub use app::{
    copy_secret_key, copy_signing_key, spawn_app, spawn_app_with, ApiReplica, ProxyReplica,
    TestApp, TestAppOptions,
};
pub use db::{fresh_database, fresh_redis, TestDb, TestRedis};
pub use topology::{TestCluster, TestSentinel, TestTlsRedis};
