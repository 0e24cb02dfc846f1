//! Strict parsing of a JSON-RPC POST body into messages.

use std::borrow::Cow;
use std::fmt;

use serde::de::{DeserializeSeed, Error as _, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::id::RequestId;
use crate::response::{INVALID_PARAMS, INVALID_REQUEST, PARSE_ERROR};
use crate::strict::{self, BorrowedStr, Scratch, Strict};

/// Why a body was refused. [`ParseError::code`] gives the JSON-RPC error code to answer with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The body is not UTF-8 (JSON-RPC `-32700`).
    #[error("the body is not valid UTF-8")]
    InvalidUtf8,
    /// The body is not JSON, or has a lone surrogate escape (JSON-RPC `-32700`).
    #[error("the body is not valid JSON: {0}")]
    Syntax(String),
    /// An object in the body has the same key twice (JSON-RPC `-32600`). Parsers
    /// disagree on which one wins, so the proxy cannot know what the upstream would run.
    #[error("the body is ambiguous: key {key:?} appears twice in one object")]
    Ambiguous {
        /// The repeated key, unescaped.
        key: String,
    },
    /// Valid JSON that is not a JSON-RPC 2.0 message or batch (JSON-RPC `-32600`).
    #[error("invalid JSON-RPC message: {0}")]
    InvalidRequest(String),
    /// The message is well formed but its `params` do not fit the method (JSON-RPC `-32602`).
    #[error("invalid params: {0}")]
    InvalidParams(String),
}

impl ParseError {
    /// The JSON-RPC error code for this error.
    pub fn code(&self) -> i64 {
        match self {
            ParseError::InvalidUtf8 | ParseError::Syntax(_) => PARSE_ERROR,
            ParseError::Ambiguous { .. } | ParseError::InvalidRequest(_) => INVALID_REQUEST,
            ParseError::InvalidParams(_) => INVALID_PARAMS,
        }
    }

    fn from_json(error: &serde_json::Error) -> Self {
        match error.classify() {
            serde_json::error::Category::Data => ParseError::InvalidRequest(error.to_string()),
            serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof
            | serde_json::error::Category::Io => ParseError::Syntax(error.to_string()),
        }
    }
}

/// A parsed POST body: one message, or a batch (allowed by MCP 2025-03-26 only).
#[derive(Debug, Clone)]
pub enum Incoming<'a> {
    /// A single JSON-RPC message.
    Single(Message<'a>),
    /// A non-empty JSON array of messages.
    Batch(Vec<Message<'a>>),
}

impl<'a> Incoming<'a> {
    /// The messages, one for a single message.
    pub fn messages(&self) -> &[Message<'a>] {
        match self {
            Incoming::Single(message) => std::slice::from_ref(message),
            Incoming::Batch(messages) => messages,
        }
    }
}

/// What a JSON-RPC message is, from the fields it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `method` and `id`: expects a response.
    Request,
    /// `method` without `id`: no response.
    Notification,
    /// `id` with `result` or `error`, no `method`.
    Response,
}

/// One JSON-RPC 2.0 message, borrowing from the body.
#[derive(Debug, Clone)]
pub struct Message<'a> {
    kind: Kind,
    id: Option<&'a RawValue>,
    method: Option<Cow<'a, str>>,
    params: Option<&'a RawValue>,
    result: Option<&'a RawValue>,
    error: Option<&'a RawValue>,
}

/// The `params` of a `tools/call` request.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall<'a> {
    /// The tool name, exactly as sent (unescaped).
    pub name: Cow<'a, str>,
    /// The arguments; an empty object when absent or `null`.
    pub arguments: serde_json::Value,
    /// The `requestState` a retry echoes (2026-07-28 multi round-trip requests).
    pub request_state: Option<String>,
}

impl<'a> Message<'a> {
    /// Request, notification or response.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The id as its raw JSON text (`0`, `"abc"`, `1.0` are kept as sent). `None` for notifications.
    pub fn id(&self) -> Option<&'a RawValue> {
        self.id
    }

    /// The id by value, for matching an answer to its request (`None` for notifications
    /// and for an id with no value, such as `null`).
    pub fn request_id(&self) -> Option<RequestId> {
        self.id.and_then(|raw| RequestId::from_raw(raw).ok())
    }

    /// The method name, unescaped. `None` for responses.
    pub fn method(&self) -> Option<&str> {
        self.method.as_deref()
    }

    /// The raw `params` (an object or array), if any.
    pub fn params(&self) -> Option<&'a RawValue> {
        self.params
    }

    /// The raw `result` of a response.
    pub fn result(&self) -> Option<&'a RawValue> {
        self.result
    }

    /// The raw `error` object of an error response.
    pub fn error(&self) -> Option<&'a RawValue> {
        self.error
    }

    /// For a `tools/call` request, the tool name and arguments; `Ok(None)` for any other message.
    pub fn tool_call(&self) -> Result<Option<ToolCall<'a>>, ParseError> {
        if self.kind != Kind::Request || self.method() != Some("tools/call") {
            return Ok(None);
        }
        let params = self
            .params
            .ok_or_else(|| ParseError::InvalidParams("tools/call needs params".into()))?;
        #[derive(Deserialize)]
        struct Params<'a> {
            #[serde(borrow)]
            name: Cow<'a, str>,
            #[serde(default)]
            arguments: Option<serde_json::Value>,
            #[serde(default, rename = "requestState")]
            request_state: Option<String>,
        }
        let Params {
            name,
            arguments,
            request_state,
        } = serde_json::from_str(params.get())
            .map_err(|e| ParseError::InvalidParams(e.to_string()))?;
        let arguments = match arguments {
            None | Some(serde_json::Value::Null) => serde_json::Value::Object(Default::default()),
            Some(object @ serde_json::Value::Object(_)) => object,
            Some(_) => {
                return Err(ParseError::InvalidParams(
                    "tools/call arguments must be an object".into(),
                ))
            }
        };
        Ok(Some(ToolCall {
            name,
            arguments,
            request_state,
        }))
    }
}

/// Parses a POST body strictly: UTF-8, one JSON value, every object free of duplicate
/// keys at any depth, each message a JSON-RPC 2.0 request, notification or response.
///
/// Nothing is re-serialised: ids, params and results borrow from `body`.
pub fn parse(body: &[u8]) -> Result<Incoming<'_>, ParseError> {
    let text = std::str::from_utf8(body).map_err(|_| ParseError::InvalidUtf8)?;
    let mut context = Context::default();
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = Top(&mut context)
        .deserialize(&mut deserializer)
        .and_then(|incoming| deserializer.end().map(|()| incoming));
    let incoming = match parsed {
        Ok(incoming) => incoming,
        Err(error) => return Err(context.error_for(&error)),
    };
    // Raw members were only skimmed by serde_json: walk them for duplicate keys and
    // surrogates now, sharing the scratch space.
    for message in incoming.messages() {
        for raw in [message.params, message.result, message.error]
            .into_iter()
            .flatten()
        {
            strict::check(raw.get(), &mut context.scratch).map_err(|e| context.error_for(&e))?;
        }
        if let Some(id) = message.id {
            if id.get().contains('\\') {
                serde_json::from_str::<String>(id.get())
                    .map_err(|e| ParseError::Syntax(e.to_string()))?;
            }
        }
    }
    Ok(incoming)
}

#[derive(Debug, Default)]
struct Context<'de> {
    scratch: Scratch<'de>,
    invalid: Option<String>,
}

impl Context<'_> {
    fn error_for(&mut self, error: &serde_json::Error) -> ParseError {
        if let Some(key) = self.scratch.duplicate.take() {
            return ParseError::Ambiguous { key };
        }
        if let Some(reason) = self.invalid.take() {
            return ParseError::InvalidRequest(reason);
        }
        ParseError::from_json(error)
    }

    fn invalid<E: serde::de::Error>(&mut self, reason: impl Into<String>) -> E {
        let reason = reason.into();
        let error = E::custom(&reason);
        self.invalid = Some(reason);
        error
    }
}

/// The body's top level: an object or a non-empty array of objects.
struct Top<'c, 'de>(&'c mut Context<'de>);

impl<'de> DeserializeSeed<'de> for Top<'_, 'de> {
    type Value = Incoming<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

macro_rules! not_an_object {
    ($($name:ident: $ty:ty),*) => {
        $(fn $name<E: serde::de::Error>(self, _: $ty) -> Result<Self::Value, E> {
            Err(self.0.invalid("a JSON-RPC message must be an object"))
        })*
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Err(self.0.invalid("a JSON-RPC message must be an object"))
        }
    };
}

impl<'de> Visitor<'de> for Top<'_, 'de> {
    type Value = Incoming<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC message or batch")
    }

    not_an_object!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        message_from_map(map, self.0).map(Incoming::Single)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut messages = Vec::new();
        while let Some(message) = seq.next_element_seed(Element(&mut *self.0))? {
            messages.push(message);
        }
        if messages.is_empty() {
            return Err(self.0.invalid("a batch must not be empty"));
        }
        Ok(Incoming::Batch(messages))
    }
}

/// One message of a batch.
struct Element<'c, 'de>(&'c mut Context<'de>);

impl<'de> DeserializeSeed<'de> for Element<'_, 'de> {
    type Value = Message<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Element<'_, 'de> {
    type Value = Message<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC message")
    }

    not_an_object!(visit_bool: bool, visit_i64: i64, visit_u64: u64, visit_f64: f64, visit_str: &str);

    fn visit_seq<A: SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
        Err(self.0.invalid("a batch must not contain arrays"))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        message_from_map(map, self.0)
    }
}

fn message_from_map<'de, A: MapAccess<'de>>(
    mut map: A,
    context: &mut Context<'de>,
) -> Result<Message<'de>, A::Error> {
    let mut object = context.scratch.open();
    let mut jsonrpc = None;
    let mut id: Option<&'de RawValue> = None;
    let mut method = None;
    let mut params: Option<&'de RawValue> = None;
    let mut result: Option<&'de RawValue> = None;
    let mut error: Option<&'de RawValue> = None;
    while let Some(key) = map.next_key_seed(BorrowedStr)? {
        match &*key {
            "jsonrpc" => jsonrpc = Some(map.next_value_seed(BorrowedStr)?),
            "id" => id = Some(map.next_value()?),
            "method" => method = Some(map.next_value_seed(BorrowedStr)?),
            "params" => params = Some(map.next_value()?),
            "result" => result = Some(map.next_value()?),
            "error" => error = Some(map.next_value()?),
            _ => map.next_value_seed(Strict(&mut context.scratch))?,
        }
        if context.scratch.insert(&mut object, key).is_err() {
            return Err(A::Error::custom("duplicate key"));
        }
    }
    context.scratch.close(object);

    if jsonrpc.as_deref() != Some("2.0") {
        return Err(context.invalid("\"jsonrpc\" must be \"2.0\""));
    }
    let id_kind = id.map(|raw| IdKind::of(raw.get()));
    if id_kind == Some(IdKind::Other) {
        return Err(context.invalid("\"id\" must be a string or a number"));
    }
    if let Some(params) = params {
        if !matches!(params.get().as_bytes().first(), Some(b'{' | b'[')) {
            return Err(context.invalid("\"params\" must be an object or an array"));
        }
    }
    let kind = match (&method, id_kind) {
        (Some(_), _) if result.is_some() || error.is_some() => {
            return Err(context.invalid("a request must not carry \"result\" or \"error\""))
        }
        (Some(_), Some(IdKind::Null)) => {
            return Err(context.invalid("a request id must not be null"))
        }
        (Some(_), Some(_)) => {
            // An id is matched to its answer by value (`crate::RequestId`); integers are
            // the only numbers MCP peers send, and refusing `1.0` or `1e0` here leaves no
            // spelling for an upstream to rewrite.
            let numeric = id.is_some_and(|raw| raw.get().as_bytes()[0] != b'"');
            if numeric && !id.is_some_and(RequestId::is_plain_integer) {
                return Err(context.invalid("a request id must be a string or an integer"));
            }
            Kind::Request
        }
        (Some(_), None) => Kind::Notification,
        (None, None) => return Err(context.invalid("\"method\" or \"id\" is required")),
        (None, Some(_)) => {
            if result.is_some() == error.is_some() {
                return Err(
                    context.invalid("a response needs exactly one of \"result\" and \"error\"")
                );
            }
            if params.is_some() {
                return Err(context.invalid("a response must not carry \"params\""));
            }
            if error.is_some_and(|raw| !raw.get().starts_with('{')) {
                return Err(context.invalid("\"error\" must be an object"));
            }
            Kind::Response
        }
    };
    Ok(Message {
        kind,
        id,
        method,
        params,
        result,
        error,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdKind {
    StringOrNumber,
    Null,
    Other,
}

impl IdKind {
    fn of(raw: &str) -> Self {
        match raw.as_bytes().first() {
            Some(b'"' | b'-' | b'0'..=b'9') => IdKind::StringOrNumber,
            Some(b'n') => IdKind::Null,
            _ => IdKind::Other,
        }
    }
}
