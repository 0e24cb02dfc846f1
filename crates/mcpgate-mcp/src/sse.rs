//! `text/event-stream` framing: an incremental parser that keeps each event's exact
//! bytes (so the proxy relays them unchanged) next to its parsed fields, and an
//! encoder for the events the proxy writes itself.
//!
//! Follows the WHATWG HTML "server-sent events" parsing rules: lines end with CRLF,
//! LF or CR; `data:` lines accumulate; one leading space after the colon is dropped.

mod encode;
mod parser;

pub use encode::{comment, message_event, SseEventBuilder, KEEP_ALIVE};
pub use parser::{SseError, SseEvent, SseParser};
