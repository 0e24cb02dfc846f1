use bytes::Bytes;

/// A keep-alive comment frame. Clients ignore it; proxies and load balancers see traffic.
pub const KEEP_ALIVE: &[u8] = b": keep-alive\n\n";

/// An SSE event written by the proxy itself (a denial, a synthesised response).
///
/// Line breaks cannot be represented in `event:` or `id:` values, so they are removed;
/// `data` with line breaks becomes several `data:` lines and parses back unchanged.
#[derive(Debug, Clone, Default)]
pub struct SseEventBuilder {
    event_type: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
    data: Option<String>,
}

impl SseEventBuilder {
    /// An empty event.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `event:`.
    pub fn event(mut self, event_type: &str) -> Self {
        self.event_type = Some(single_line(event_type));
        self
    }

    /// Sets `id:` (NUL is removed too: clients ignore an id containing it).
    pub fn id(mut self, id: &str) -> Self {
        self.id = Some(single_line(id).replace('\0', ""));
        self
    }

    /// Sets `retry:` in milliseconds.
    pub fn retry(mut self, milliseconds: u64) -> Self {
        self.retry = Some(milliseconds);
        self
    }

    /// Sets the data.
    pub fn data(mut self, data: &str) -> Self {
        self.data = Some(data.to_owned());
        self
    }

    /// The frame's bytes, ending with a blank line.
    pub fn encode(&self) -> Bytes {
        let mut out = String::with_capacity(32 + self.data.as_ref().map_or(0, String::len));
        if let Some(event_type) = &self.event_type {
            push_field(&mut out, "event", event_type);
        }
        if let Some(id) = &self.id {
            push_field(&mut out, "id", id);
        }
        if let Some(retry) = self.retry {
            push_field(&mut out, "retry", &retry.to_string());
        }
        if let Some(data) = &self.data {
            let normalised = data.replace("\r\n", "\n").replace('\r', "\n");
            for line in normalised.split('\n') {
                push_field(&mut out, "data", line);
            }
        }
        out.push('\n');
        Bytes::from(out)
    }
}

/// `event: message` with the JSON-RPC message as data, and an `id:` if given.
pub fn message_event(json: &str, id: Option<&str>) -> Bytes {
    let mut builder = SseEventBuilder::new().event("message");
    if let Some(id) = id {
        builder = builder.id(id);
    }
    builder.data(json).encode()
}

/// A comment frame (`: text`), e.g. a keep-alive with a reason.
pub fn comment(text: &str) -> Bytes {
    Bytes::from(format!(": {}\n\n", single_line(text)))
}

fn single_line(value: &str) -> String {
    value.replace(['\r', '\n'], "")
}

fn push_field(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str(": ");
    out.push_str(value);
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sse::SseParser;

    #[test]
    fn message_event_shape() {
        let bytes = message_event(r#"{"jsonrpc":"2.0"}"#, Some("5"));
        assert_eq!(
            bytes.as_ref(),
            b"event: message\nid: 5\ndata: {\"jsonrpc\":\"2.0\"}\n\n"
        );
        assert_eq!(comment("keep-alive").as_ref(), KEEP_ALIVE);
    }

    #[test]
    fn encoded_events_parse_back() {
        let bytes = SseEventBuilder::new()
            .event("x\ny")
            .id("a\r\nb")
            .retry(10)
            .data(" lead\r\nmid\rend\n")
            .encode();
        let mut parser = SseParser::new();
        parser.push(&bytes).unwrap();
        let event = parser.next_event().unwrap();
        assert_eq!(event.event_type(), Some("xy"));
        assert_eq!(event.id(), Some("ab"));
        assert_eq!(event.retry(), Some(10));
        assert_eq!(event.data(), Some(" lead\nmid\nend\n"));
        assert_eq!(event.raw(), &bytes);
    }
}
