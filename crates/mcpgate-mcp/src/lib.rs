//! JSON-RPC and MCP message handling for the proxy's hot path.
//!
//! Pure: no I/O, no async. The proxy relays bodies byte-for-byte; this crate only
//! *reads* them (strictly, refusing ambiguous input) and builds the few messages
//! the proxy synthesises itself (denials, tool errors, keep-alives).
//!
//! - [`parse`]: strict envelope parsing of a POST body (single message or batch).
//! - [`error_response`], [`tool_error_result`]: responses with the caller's id echoed.
//! - [`filter_tools_list`]: drop tools from a `tools/list` response without
//!   re-serialising the ones kept.
//! - [`sse`]: an incremental `text/event-stream` parser and an encoder.
//! - [`legacy`]: helpers for the 2024-11-05 HTTP+SSE transport.

mod envelope;
mod era;
mod id;
pub mod legacy;
mod methods;
mod response;
pub mod sse;
mod strict;
mod tools_list;

pub use envelope::{parse, Incoming, Kind, Message, ParseError, ToolCall};
pub use era::{
    check_mirrors, decode_header_value, Era, HeaderMismatch, Mirrors, HANDSHAKE_VERSIONS,
    HEADER_MISMATCH, MODERN_VERSION,
};
pub use id::{peek_response, IdError, RequestId, ResponsePeek};
pub use methods::{classify_method, method_target, MethodClass};
pub use response::{
    error_response, tool_error_result, ToolErrorShape, INTERNAL_ERROR, INVALID_PARAMS,
    INVALID_REQUEST, METHOD_NOT_FOUND, PARSE_ERROR,
};
pub use tools_list::{
    filter_list, filter_list_event, filter_tools_list, filter_tools_list_event,
    is_tools_list_result, FilterError, ListKind,
};
