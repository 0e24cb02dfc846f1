//! The dashboard over real HTTP: a browser-like client (cookies, redirects,
//! forms) against the real API, proxy, Postgres, Redis and a demo MCP upstream.

mod helpers;

mod classification;
mod journey;
mod login_limits;
mod members;
mod password;
mod password_reset;
mod security;
mod smtp;
mod sso;
