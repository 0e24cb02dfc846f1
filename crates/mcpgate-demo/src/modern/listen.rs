//! `subscriptions/listen` (SPEC basic/patterns/subscriptions.mdx): a POST answered by a
//! long-lived SSE stream. The first frame acknowledges the honoured subset; then come
//! the list changes the client opted into, every frame tagged with the subscription id
//! (the listen request's id), with keep-alive comments in between.

use std::convert::Infallible;

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use mcpgate_mcp::sse::message_event;
use serde_json::{Map, Value};
use tokio_stream::wrappers::BroadcastStream;

use super::ladder::Envelope;
use crate::server::{sse_response, SharedState};
use crate::streamable::keep_alives;
use crate::ListChanged;

const SUBSCRIPTION_ID_KEY: &str = "io.modelcontextprotocol/subscriptionId";

pub(crate) fn open(state: &SharedState, request: &Envelope<'_>) -> Response {
    let wanted = request.params.get("notifications");
    let honoured: Vec<ListChanged> = ListChanged::ALL
        .into_iter()
        .filter(|list| {
            wanted
                .and_then(|w| w.get(list.opt_in_key()))
                .and_then(Value::as_bool)
                == Some(true)
        })
        .collect();
    let subscription = request.id.get().to_owned();
    let acknowledged: Map<String, Value> = honoured
        .iter()
        .map(|list| (list.opt_in_key().to_owned(), Value::Bool(true)))
        .collect();
    let ack = format!(
        r#"{{"jsonrpc":"2.0","method":"notifications/subscriptions/acknowledged","params":{{"_meta":{{"{SUBSCRIPTION_ID_KEY}":{subscription}}},"notifications":{}}}}}"#,
        Value::Object(acknowledged)
    );
    // Subscribed before the ack is sent: a change announced after the client read the
    // ack is never missed.
    let changes =
        BroadcastStream::new(state.modern.changes.subscribe()).filter_map(move |change| {
            let frame = match change {
                Ok(list) if honoured.contains(&list) => Some(notification(list, &subscription)),
                _ => None,
            };
            std::future::ready(frame)
        });
    let body = stream::once(std::future::ready(message_event(&ack, None)))
        .chain(stream::select(
            changes,
            keep_alives(state.settings.keep_alive_interval),
        ))
        .take_until(state.shutdown.clone().cancelled_owned())
        .map(Ok::<Bytes, Infallible>);
    let mut response = sse_response(Body::from_stream(body));
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-transform"),
    );
    response
}

fn notification(list: ListChanged, subscription: &str) -> Bytes {
    let json = format!(
        r#"{{"jsonrpc":"2.0","method":"{}","params":{{"_meta":{{"{SUBSCRIPTION_ID_KEY}":{subscription}}}}}}}"#,
        list.method()
    );
    message_event(&json, None)
}
