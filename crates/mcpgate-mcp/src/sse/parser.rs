use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

/// Default cap on one event's size, so a stream without blank lines cannot grow the buffer forever.
const DEFAULT_MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One frame of an event stream: the lines up to and including a blank line.
///
/// Every byte of the stream belongs to exactly one frame, so relaying [`SseEvent::raw`]
/// of each frame in order reproduces the stream. Frames without `data` (comments such
/// as keep-alives, `retry:` alone, stray blank lines) are frames too; per the
/// specification they dispatch no event to the client ([`SseEvent::is_dispatched`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    raw: Bytes,
    event_type: Option<String>,
    data: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
}

impl SseEvent {
    /// The frame's bytes exactly as received, ending with its blank line.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The `event:` field, if the frame has one (absent means `message`).
    pub fn event_type(&self) -> Option<&str> {
        self.event_type.as_deref()
    }

    /// The `data:` lines joined with `\n`; `None` if the frame has no `data` line.
    pub fn data(&self) -> Option<&str> {
        self.data.as_deref()
    }

    /// The `id:` field set by this frame (an id containing NUL is ignored, as specified).
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The `retry:` field in milliseconds, if this frame has a valid one.
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// Whether a browser-conformant client dispatches this frame as an event (it has data).
    pub fn is_dispatched(&self) -> bool {
        self.data.is_some()
    }

    /// Whether this is a JSON-RPC carrying event: `event: message` or no event type.
    pub fn is_message(&self) -> bool {
        self.is_dispatched() && matches!(self.event_type(), None | Some("" | "message"))
    }
}

/// The stream broke a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SseError {
    /// One frame grew past the configured maximum without a blank line.
    #[error("an SSE event is larger than {max} bytes")]
    EventTooLarge {
        /// The configured maximum.
        max: usize,
    },
}

/// Incremental `text/event-stream` parser: [`push`](SseParser::push) chunks as they
/// arrive, then take frames with [`next_event`](SseParser::next_event).
///
/// A frame whose final line ends with a lone CR at the very end of the data pushed
/// so far is held until the next byte arrives (or [`finish`](SseParser::finish)),
/// because that CR may be the first half of a CRLF that belongs to the frame.
#[derive(Debug)]
pub struct SseParser {
    buffer: BytesMut,
    /// Bytes at the start of `buffer` already split into lines of the current frame.
    scanned: usize,
    pending: Pending,
    ready: VecDeque<SseEvent>,
    at_stream_start: bool,
    last_event_id: Option<String>,
    max_event_bytes: usize,
}

#[derive(Debug, Default)]
struct Pending {
    event_type: Option<String>,
    data: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::new()
    }
}

impl SseParser {
    /// A parser with a 16 MiB cap per frame.
    pub fn new() -> Self {
        Self::with_max_event_bytes(DEFAULT_MAX_EVENT_BYTES)
    }

    /// A parser refusing frames larger than `max_event_bytes`.
    pub fn with_max_event_bytes(max_event_bytes: usize) -> Self {
        Self {
            buffer: BytesMut::new(),
            scanned: 0,
            pending: Pending::default(),
            ready: VecDeque::new(),
            at_stream_start: true,
            last_event_id: None,
            max_event_bytes,
        }
    }

    /// Feeds the next chunk of the stream.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), SseError> {
        self.buffer.extend_from_slice(chunk);
        self.split_lines(false);
        if self.buffer.len() > self.max_event_bytes {
            return Err(SseError::EventTooLarge {
                max: self.max_event_bytes,
            });
        }
        Ok(())
    }

    /// The next complete frame, in stream order.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        self.ready.pop_front()
    }

    /// Ends the stream: completes a frame held on a trailing CR, and returns the bytes of
    /// an unfinished frame (which the specification discards), if any.
    pub fn finish(&mut self) -> Option<Bytes> {
        self.split_lines(true);
        self.scanned = 0;
        self.pending = Pending::default();
        (!self.buffer.is_empty()).then(|| self.buffer.split().freeze())
    }

    /// The last `id:` seen on the stream, as a client would send in `Last-Event-ID`.
    pub fn last_event_id(&self) -> Option<&str> {
        self.last_event_id.as_deref()
    }

    fn split_lines(&mut self, at_end: bool) {
        loop {
            let rest = &self.buffer[self.scanned..];
            let Some(position) = rest.iter().position(|&b| b == b'\n' || b == b'\r') else {
                return;
            };
            let terminator = match (rest[position], rest.get(position + 1)) {
                (b'\r', Some(b'\n')) => 2,
                (b'\r', None) if !at_end => return,
                _ => 1,
            };
            let line_start = self.scanned;
            self.scanned += position + terminator;
            if position == 0 {
                self.dispatch();
            } else {
                let mut line = &self.buffer[line_start..line_start + position];
                if self.at_stream_start && line_start == 0 {
                    line = line.strip_prefix(BOM).unwrap_or(line);
                }
                self.pending.apply(line);
            }
            self.at_stream_start = false;
        }
    }

    fn dispatch(&mut self) {
        let raw = self.buffer.split_to(self.scanned).freeze();
        self.scanned = 0;
        let Pending {
            event_type,
            mut data,
            id,
            retry,
        } = std::mem::take(&mut self.pending);
        if let Some(data) = &mut data {
            data.pop(); // every data line appended a '\n'
        }
        if id.is_some() {
            self.last_event_id.clone_from(&id);
        }
        self.ready.push_back(SseEvent {
            raw,
            event_type,
            data,
            id,
            retry,
        });
    }
}

impl Pending {
    fn apply(&mut self, line: &[u8]) {
        if line.first() == Some(&b':') {
            return; // comment
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"event" => self.event_type = Some(String::from_utf8_lossy(value).into_owned()),
            b"data" => {
                let data = self.data.get_or_insert_with(String::new);
                data.push_str(&String::from_utf8_lossy(value));
                data.push('\n');
            }
            b"id" if !value.contains(&0) => {
                self.id = Some(String::from_utf8_lossy(value).into_owned());
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                self.retry = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(input: &[u8]) -> Vec<SseEvent> {
        let mut parser = SseParser::new();
        parser.push(input).unwrap();
        assert_eq!(parser.finish(), None);
        std::iter::from_fn(|| parser.next_event()).collect()
    }

    #[test]
    fn parses_fields_and_keeps_raw_bytes() {
        let input = b"event: message\r\nid: 7\r\nretry: 3000\r\ndata: {\"a\":1}\r\n\r\n";
        let events = frames(input);
        assert_eq!(events.len(), 1);
        let event = &events[0];
        assert_eq!(event.raw().as_ref(), input);
        assert_eq!(event.event_type(), Some("message"));
        assert_eq!(event.id(), Some("7"));
        assert_eq!(event.retry(), Some(3000));
        assert_eq!(event.data(), Some("{\"a\":1}"));
        assert!(event.is_message());
    }

    #[test]
    fn multi_line_data_comments_and_cr_endings() {
        let events = frames(b": keep-alive\n\ndata:a\rdata: b\rdata\r\r");
        assert_eq!(events.len(), 2);
        assert!(!events[0].is_dispatched());
        assert_eq!(events[0].raw().as_ref(), b": keep-alive\n\n");
        assert_eq!(events[1].data(), Some("a\nb\n"));
    }

    #[test]
    fn field_rules_follow_the_specification() {
        let events =
            frames(b"\xEF\xBB\xBFdata:  two spaces\nid: a\0b\nretry: 1x\nfoo: bar\nevent\n\n");
        let event = &events[0];
        assert_eq!(event.data(), Some(" two spaces"));
        assert_eq!(event.id(), None);
        assert_eq!(event.retry(), None);
        assert_eq!(event.event_type(), Some(""));
        assert!(event.is_message());
    }

    #[test]
    fn holds_a_trailing_cr_until_it_knows_whether_lf_follows() {
        let mut parser = SseParser::new();
        parser.push(b"data: x\r\n\r").unwrap();
        assert_eq!(parser.next_event(), None);
        parser.push(b"\ndata: y\n\n").unwrap();
        assert_eq!(
            parser.next_event().unwrap().raw().as_ref(),
            b"data: x\r\n\r\n"
        );
        assert_eq!(parser.next_event().unwrap().data(), Some("y"));
        assert_eq!(parser.last_event_id(), None);
    }

    #[test]
    fn finish_completes_a_cr_frame_and_returns_leftovers() {
        let mut parser = SseParser::new();
        parser.push(b"id: 1\rdata: x\r\r").unwrap();
        assert_eq!(parser.next_event(), None);
        assert_eq!(parser.finish(), None);
        assert_eq!(parser.next_event().unwrap().data(), Some("x"));
        assert_eq!(parser.last_event_id(), Some("1"));

        let mut parser = SseParser::new();
        parser.push(b"data: unfinished\n").unwrap();
        assert_eq!(parser.finish().unwrap().as_ref(), b"data: unfinished\n");
        assert_eq!(parser.next_event(), None);
    }

    #[test]
    fn refuses_an_endless_frame() {
        let mut parser = SseParser::with_max_event_bytes(16);
        assert!(parser.push(b"data: 0123456789").is_ok());
        assert_eq!(
            parser.push(b"abcdef\n"),
            Err(SseError::EventTooLarge { max: 16 })
        );
    }
}
