//! Relaying an upstream `text/event-stream` frame by frame as it arrives, with a hook
//! that may rewrite or watch the one response the proxy cares about: the `tools/list`
//! result (filtered) or the `tools/call` result (an error answer releases the
//! reservation). Progress notifications and server→client requests pass through the
//! moment their frame is complete.
//!
//! Answers are matched to their request by id *value* ([`RequestId`]): an upstream
//! may write `"\u0031"` back as `"1"`. A call whose answer never comes keeps its
//! reservation (it may have run), and an event larger than the cap ends the stream
//! with an error for the client instead of being buffered without end.

use std::collections::VecDeque;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use mcpgate_mcp::sse::{SseEvent, SseParser};
use mcpgate_mcp::{
    error_response, filter_list_event as filter_list_event_of, is_tools_list_result, Incoming,
    Kind, ListKind, RequestId,
};
use serde_json::value::RawValue;

use crate::auth::Caller;
use crate::drift::Drift;
use crate::enforce::listed_visible;
use crate::limiter::{Limiter, Taken};
use crate::refusal::UPSTREAM_UNAVAILABLE;
use crate::tasks::{CreatedTask, ResultKind, TaskBindings, TaskOwner};
use mcpgate_store::{ServerId, TenantId};

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

    /// Moves the reservation out, to give back elsewhere ([`Release::release_now`]).
    pub(crate) fn take(&mut self) -> Release {
        Release {
            limiter: Arc::clone(&self.limiter),
            taken: self.taken.take(),
        }
    }

    /// Gives the reservation back, waiting until Redis has it.
    pub(crate) async fn release_now(mut self) {
        if let Some(taken) = self.taken.take() {
            self.limiter.release(&taken).await;
        }
    }
}

/// What to do with the response to the request `id` when it passes. `id` is the
/// client's raw id (echoed in the proxy's own answers); matching goes by its value.
#[derive(Debug)]
pub(crate) enum Hook {
    /// Every response on the stream is filtered: a POST's stream answers only that POST,
    /// so a response under any id is the list (or a hostile upstream's attempt to pass
    /// one under another id).
    ToolsList {
        id: Box<RawValue>,
        caller: Caller,
        drift: Arc<Drift>,
        kind: ListKind,
    },
    ToolCall {
        id: Box<RawValue>,
        release: Release,
        tasks: Option<TaskBinder>,
    },
    /// A stream of answers to no request of its own (the session's GET stream): a hostile
    /// upstream may slip a tool list onto it for a client to take, so responses that are
    /// tool lists are filtered too.
    StrayLists { caller: Caller, drift: Arc<Drift> },
}

impl Hook {
    fn id(&self) -> Option<&RawValue> {
        match self {
            Hook::ToolsList { id, .. } | Hook::ToolCall { id, .. } => Some(id),
            Hook::StrayLists { .. } => None,
        }
    }
}

/// What the answer to a call says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answered {
    /// A JSON-RPC error: the call did not run.
    Failed,
    /// `resultType: "input_required"` (2026-07-28): the call waits for the client's
    /// retry, which is decided and counted as a call of its own; this round did not
    /// complete, so it is not counted. The state its retry must echo, if any.
    InputRequired(Option<String>),
    /// The call became a task, to be fetched later.
    Task(CreatedTask),
    /// A result: the call ran.
    Done,
}

/// What `data` answers about the request `id` (compared by value), if it is its
/// response.
pub(crate) fn answer_to(data: &[u8], id: &RawValue) -> Option<Answered> {
    let peek = mcpgate_mcp::peek_response(data)?;
    if peek.id? != RequestId::from_raw(id).ok()? {
        return None;
    }
    let Some(result) = peek.result else {
        return Some(Answered::Failed);
    };
    Some(result_kind(result))
}

/// What a result says: a task, a request for input, or done.
fn result_kind(result: &RawValue) -> Answered {
    match crate::tasks::result_kind(result) {
        ResultKind::Task(task) => Answered::Task(task),
        ResultKind::InputRequired { state } => Answered::InputRequired(state),
        ResultKind::Done => Answered::Done,
    }
}

/// Who to bind a task to when a call's answer creates one.
#[derive(Debug, Clone)]
pub(crate) struct TaskBinder {
    pub(crate) bindings: TaskBindings,
    pub(crate) tenant: TenantId,
    pub(crate) server: ServerId,
    pub(crate) owner: TaskOwner,
}

/// What settling a call's answer leaves to do before the client reads the answer: a
/// client that asks again at once (the retry of an `input_required` call, a `tasks/get`)
/// must find the count lowered and the state or task bound.
#[derive(Debug)]
pub(crate) struct Settling {
    release: Option<Release>,
    bind: Option<(TaskBinder, Bound)>,
}

#[derive(Debug)]
enum Bound {
    State(String),
    Task(CreatedTask),
}

impl Settling {
    pub(crate) async fn finish(self) {
        if let Some(release) = self.release {
            release.release_now().await;
        }
        match self.bind {
            Some((binder, Bound::State(state))) => {
                let grant = binder.owner.grant;
                binder
                    .bindings
                    .bind_state(binder.tenant, binder.server, &state, grant)
                    .await;
            }
            Some((binder, Bound::Task(task))) => {
                binder
                    .bindings
                    .bind(binder.tenant, binder.server, &task, binder.owner.clone())
                    .await;
            }
            None => {}
        }
    }
}

/// Settles a call's reservation by what its answer said: given back when it failed or
/// only asked for input, kept otherwise (an answer that never came included); a task or
/// `requestState` it handed out is bound to its grant.
#[must_use]
pub(crate) fn settle(
    answered: Option<Answered>,
    release: &mut Release,
    binder: Option<&TaskBinder>,
) -> Settling {
    let bound = |bound: Bound| binder.map(|binder| (binder.clone(), bound));
    match answered {
        Some(Answered::InputRequired(state)) => Settling {
            release: Some(release.take()),
            bind: state.and_then(|state| bound(Bound::State(state))),
        },
        Some(Answered::Failed) => Settling {
            release: Some(release.take()),
            bind: None,
        },
        Some(Answered::Task(task)) => {
            release.keep();
            Settling {
                release: None,
                bind: bound(Bound::Task(task)),
            }
        }
        Some(Answered::Done) | None => {
            release.keep();
            Settling {
                release: None,
                bind: None,
            }
        }
    }
}

/// `event` with the tools this caller may not see taken out; nothing at all when it
/// cannot be filtered (it may name hidden tools).
pub(crate) fn filter_list_event(
    event: &SseEvent,
    caller: &Caller,
    drift: &Drift,
    kind: ListKind,
) -> Bytes {
    match filter_list_event_of(event, kind, |key, definition| {
        listed_visible(drift, caller, kind, key, definition)
    }) {
        Ok(filtered) => Bytes::from(filtered),
        Err(error) => {
            tracing::warn!(%error, "dropping a tools/list event that cannot be filtered");
            Bytes::new()
        }
    }
}

/// Whether `data` is a JSON-RPC response (to any id), or something the proxy cannot
/// read and so must treat as one.
fn is_response(data: &[u8]) -> bool {
    // An event without data (a stream's priming event, carrying only its id and retry)
    // is no message at all.
    if data.iter().all(u8::is_ascii_whitespace) {
        return false;
    }
    match mcpgate_mcp::parse(data) {
        Ok(Incoming::Single(message)) => message.kind() == Kind::Response,
        Ok(Incoming::Batch(messages)) => messages.iter().any(|m| m.kind() == Kind::Response),
        Err(_) => true,
    }
}

/// Who to tell when the upstream announces `notifications/tools/list_changed` on a
/// stream: the catalogue of that server is re-checked ([`crate::drift`]).
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    pub(crate) drift: Arc<Drift>,
    pub(crate) caller: Caller,
}

impl Watch {
    pub(crate) fn new(drift: &Arc<Drift>, caller: &Caller) -> Self {
        Self {
            drift: Arc::clone(drift),
            caller: caller.clone(),
        }
    }

    /// Looks at one message event's data.
    pub(crate) fn look(&self, data: &str) {
        if !data.contains("notifications/tools/list_changed") {
            return;
        }
        if let Ok(Incoming::Single(message)) = mcpgate_mcp::parse(data.as_bytes()) {
            if message.method() == Some("notifications/tools/list_changed") {
                let server = &self.caller.server;
                self.drift.request_sync(
                    self.caller.tenant,
                    server.id,
                    "the upstream sent notifications/tools/list_changed",
                );
            }
        }
    }
}

struct State<S> {
    upstream: S,
    parser: SseParser,
    ready: VecDeque<Bytes>,
    hook: Option<Hook>,
    watch: Option<Watch>,
    /// What to settle before the next frame goes out.
    settling: Option<Settling>,
    ended: bool,
}

/// The client's body for an upstream event stream; an event larger than
/// `max_event_bytes` ends it.
pub(crate) fn relay_events<S, E>(
    upstream: S,
    hook: Option<Hook>,
    watch: Option<Watch>,
    max_event_bytes: usize,
) -> impl Stream<Item = Result<Bytes, E>> + Send
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: Send + 'static,
{
    let state = State {
        upstream,
        parser: SseParser::with_max_event_bytes(max_event_bytes),
        ready: VecDeque::new(),
        hook,
        watch,
        settling: None,
        ended: false,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(settling) = state.settling.take() {
                settling.finish().await;
            }
            if let Some(frame) = state.ready.pop_front() {
                return Some((Ok(frame), state));
            }
            if state.ended {
                return None;
            }
            match state.upstream.next().await {
                Some(Ok(chunk)) => {
                    if let Err(error) = state.parser.push(&chunk) {
                        // Neither buffered further nor relayed unread (it may be a list
                        // to filter): the stream ends with an error the client can read.
                        tracing::warn!(%error, "ending an upstream event stream");
                        state.ended = true;
                        state.end_too_large(&error.to_string());
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
        if !event.is_message() {
            return event.raw().clone();
        }
        if let Some(watch) = &self.watch {
            watch.look(event.data().unwrap_or_default());
        }
        let Some(hook) = &mut self.hook else {
            return event.raw().clone();
        };
        let data = event.data().unwrap_or_default().as_bytes();
        match hook {
            Hook::ToolsList {
                caller,
                drift,
                kind,
                ..
            } => {
                // The hook stays for the whole stream: a second "answer" is filtered too.
                if !is_response(data) {
                    return event.raw().clone();
                }
                filter_list_event(event, caller, drift, *kind)
            }
            Hook::StrayLists { caller, drift } => {
                if !is_tools_list_result(data) {
                    return event.raw().clone();
                }
                filter_list_event(event, caller, drift, ListKind::Tools)
            }
            Hook::ToolCall { id, release, tasks } => {
                let Some(answered) = answer_to(data, id) else {
                    return event.raw().clone();
                };
                self.settling = Some(settle(Some(answered), release, tasks.as_ref()));
                self.hook = None;
                event.raw().clone()
            }
        }
    }

    /// The stream ended or broke before the response. The request reached the upstream,
    /// which may have run it: the reservation is kept.
    fn finish_hook_unanswered(&mut self) {
        if let Some(Hook::ToolCall { release, .. }) = &mut self.hook {
            release.keep();
        }
        self.hook = None;
    }

    /// An event past the cap: the stream ends here, with a JSON-RPC error for the
    /// request when its answer had not come yet. The reservation is kept (the call ran).
    fn end_too_large(&mut self, error: &str) {
        if let Some(id) = self.hook.as_ref().and_then(Hook::id) {
            let message = format!("the upstream's answer was cut off: {error}");
            let answer = error_response(Some(id), UPSTREAM_UNAVAILABLE, &message, None);
            self.ready
                .push_back(crate::approval::message_frame(&answer));
        }
        self.finish_hook_unanswered();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_response_is_matched_by_its_id_value_and_read_for_what_it_says() {
        let id = RawValue::from_string("\"a\"".into()).unwrap();
        let answer = |body: &str| answer_to(body.as_bytes(), &id);
        assert_eq!(
            answer(r#"{"jsonrpc":"2.0","id":"a","result":{}}"#),
            Some(Answered::Done)
        );
        assert_eq!(
            answer(r#"{"jsonrpc":"2.0","id":"\u0061","result":{}}"#),
            Some(Answered::Done)
        );
        assert_eq!(
            answer(r#"{"jsonrpc":"2.0","id":"a","error":{"code":1,"message":"x"}}"#),
            Some(Answered::Failed)
        );
        assert_eq!(
            answer(
                r#"{"jsonrpc":"2.0","id":"a","result":{"resultType":"input_required","inputRequests":{}}}"#
            ),
            Some(Answered::InputRequired(None))
        );
        assert!(matches!(
            answer(r#"{"jsonrpc":"2.0","id":"a","result":{"resultType":"task","taskId":"t"}}"#),
            Some(Answered::Task(_))
        ));
        assert_eq!(answer(r#"{"jsonrpc":"2.0","id":"b","result":{}}"#), None);
        assert_eq!(
            answer(r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#),
            None
        );
    }
}
