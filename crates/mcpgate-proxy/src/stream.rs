//! Relaying an upstream `text/event-stream` frame by frame as it arrives, with a hook
//! that may rewrite or watch the one response the proxy cares about: the `tools/list`
//! result (filtered) or the `tools/call` result (a failure releases the reservation).
//! Progress notifications and server→client requests pass through the moment their
//! frame is complete.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use mcpgate_mcp::sse::{SseEvent, SseParser};
use mcpgate_mcp::{filter_tools_list_event, Incoming, Kind};
use serde_json::value::RawValue;

use crate::auth::Caller;
use crate::enforce::tool_visible;
use crate::limiter::{Limiter, Taken};

/// A reservation to give back if the call fails.
#[derive(Debug)]
pub(crate) struct Release {
    limiter: Arc<Limiter>,
    taken: Option<Taken>,
}

impl Release {
    pub(crate) fn new(limiter: Arc<Limiter>, taken: Taken) -> Self {
        Self {
            limiter,
            taken: (!taken.buckets.is_empty()).then_some(taken),
        }
    }

    /// The call failed upstream: release in the background.
    pub(crate) fn release(&mut self) {
        if let Some(taken) = self.taken.take() {
            let limiter = Arc::clone(&self.limiter);
            tokio::spawn(async move { limiter.release(&taken).await });
        }
    }

    /// The reservation itself, for a new `Release` later (a held call that resumes).
    pub(crate) fn into_taken(mut self) -> Taken {
        self.taken.take().unwrap_or_default()
    }

    /// The call was made: keep the reservation.
    pub(crate) fn keep(&mut self) {
        self.taken = None;
    }
}

/// What to do with the response to the request `id` when it passes.
#[derive(Debug)]
pub(crate) enum Hook {
    ToolsList { id: Box<RawValue>, caller: Caller },
    ToolCall { id: Box<RawValue>, release: Release },
}

/// Whether `data` is the JSON-RPC response to `id`; `Some(is_error)` if so.
pub(crate) fn response_to(data: &[u8], id: &RawValue) -> Option<bool> {
    let Ok(Incoming::Single(message)) = mcpgate_mcp::parse(data) else {
        return None;
    };
    (message.kind() == Kind::Response && message.id().map(RawValue::get) == Some(id.get()))
        .then(|| message.error().is_some())
}

struct State<S> {
    upstream: S,
    parser: SseParser,
    ready: VecDeque<Bytes>,
    hook: Option<Hook>,
    ended: bool,
}

/// The client's body for an upstream event stream.
pub(crate) fn relay_events<S, E>(
    upstream: S,
    hook: Option<Hook>,
) -> impl Stream<Item = Result<Bytes, E>> + Send
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: Send + 'static,
{
    let state = State {
        upstream,
        parser: SseParser::new(),
        ready: VecDeque::new(),
        hook,
        ended: false,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(frame) = state.ready.pop_front() {
                return Some((Ok(frame), state));
            }
            if state.ended {
                return None;
            }
            match state.upstream.next().await {
                Some(Ok(chunk)) => {
                    if state.parser.push(&chunk).is_err() {
                        // An event past the parser's cap: relay the rest untouched.
                        state.ready.push_back(chunk);
                        state.finish_hook_unanswered();
                        continue;
                    }
                    while let Some(event) = state.parser.next_event() {
                        let frame = state.frame(&event);
                        state.ready.push_back(frame);
                    }
                }
                Some(Err(error)) => {
                    state.ended = true;
                    state.finish_hook_unanswered();
                    return Some((Err(error), state));
                }
                None => {
                    state.ended = true;
                    if let Some(rest) = state.parser.finish() {
                        state.ready.push_back(rest);
                    }
                    while let Some(event) = state.parser.next_event() {
                        let frame = state.frame(&event);
                        state.ready.push_back(frame);
                    }
                    state.finish_hook_unanswered();
                }
            }
        }
    })
}

impl<S> State<S> {
    fn frame(&mut self, event: &SseEvent) -> Bytes {
        let Some(hook) = &mut self.hook else {
            return event.raw().clone();
        };
        if !event.is_message() {
            return event.raw().clone();
        }
        let data = event.data().unwrap_or_default().as_bytes();
        match hook {
            Hook::ToolsList { id, caller } => {
                if response_to(data, id).is_none() {
                    return event.raw().clone();
                }
                let caller = caller.clone();
                self.hook = None;
                match filter_tools_list_event(event, |name| tool_visible(&caller, name)) {
                    Ok(filtered) => Bytes::from(filtered),
                    Err(error) => {
                        // Never let an unfilterable list through: it may name hidden tools.
                        tracing::warn!(%error, "dropping a tools/list event that cannot be filtered");
                        Bytes::new()
                    }
                }
            }
            Hook::ToolCall { id, release } => {
                match response_to(data, id) {
                    Some(true) => release.release(),
                    Some(false) => release.keep(),
                    None => return event.raw().clone(),
                }
                self.hook = None;
                event.raw().clone()
            }
        }
    }

    /// The stream ended or broke before the response: the call failed.
    fn finish_hook_unanswered(&mut self) {
        if let Some(Hook::ToolCall { release, .. }) = &mut self.hook {
            release.release();
        }
        self.hook = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_is_matched_by_its_exact_id() {
        let id = RawValue::from_string("\"a\"".into()).unwrap();
        assert_eq!(
            response_to(br#"{"jsonrpc":"2.0","id":"a","result":{}}"#, &id),
            Some(false)
        );
        assert_eq!(
            response_to(
                br#"{"jsonrpc":"2.0","id":"a","error":{"code":1,"message":"x"}}"#,
                &id
            ),
            Some(true)
        );
        assert_eq!(
            response_to(br#"{"jsonrpc":"2.0","id":"b","result":{}}"#, &id),
            None
        );
        assert_eq!(
            response_to(
                br#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#,
                &id
            ),
            None
        );
    }
}
