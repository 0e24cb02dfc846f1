//! The relay's connections to plain-HTTP (`http://`) upstreams: hyper's HTTP/1
//! connections, each driven by a task of the runtime that opened it, kept per upstream
//! authority by the pool that opened them.
//!
//! hyper_util's general-purpose pool checked a connection out through a waiter queue,
//! deduplicated connects, wrapped each in a pooled handle returned to the pool by a
//! spawned readiness check, and keyed the pool by scheme and authority cloned and hashed
//! per request; a proxied call needs one idle, ready connection to its upstream or a new
//! one. This pool is a list per authority behind a lock that is never held across an
//! await: a connection goes back in as soon as its response head arrives, and a checkout
//! takes the newest one hyper says is ready for another request (its previous response
//! read to the end). The address policy is the same as everywhere else upstream: a name is
//! resolved by [`resolve_checked`], and every new connection's peer is checked with
//! [`AddressPolicy::check_socket`] before a byte of HTTP is written.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::uri::{Authority, PathAndQuery};
use http::{header, HeaderValue, Request, Response, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::RelayClientSettings;
use crate::resolve::{resolve_checked, Lookup, RefusedAddress};
use crate::AddressPolicy;

/// The most idle connections kept to one upstream; more are closed once their
/// response is read.
const MAX_IDLE_PER_UPSTREAM: usize = 256;

/// Why a plain-HTTP request got no response.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlainError {
    #[error("the upstream URL {0} names no host")]
    NoHost(Uri),
    #[error("{0}")]
    Refused(#[from] RefusedAddress),
    #[error("resolving {host} failed")]
    Resolve {
        host: String,
        #[source]
        source: io::Error,
    },
    #[error("{host} resolves to no address")]
    NoAddress { host: String },
    #[error("connecting to {address} timed out after {after:?}")]
    ConnectTimeout {
        address: SocketAddr,
        after: Duration,
    },
    #[error("connecting to {address} failed")]
    Connect {
        address: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("the HTTP exchange with the upstream failed")]
    Http(#[from] hyper::Error),
}

impl PlainError {
    pub(crate) fn is_timeout(&self) -> bool {
        matches!(self, PlainError::ConnectTimeout { .. })
    }
}

type Sender = http1::SendRequest<Full<Bytes>>;

struct Kept {
    sender: Sender,
    since: Instant,
}

/// Idle connections by upstream authority.
type Idle = Mutex<HashMap<Authority, Vec<Kept>>>;

/// One pool of plain-HTTP connections.
pub(crate) struct PlainPool {
    idle: Arc<Idle>,
    lookup: Lookup,
    policy: AddressPolicy,
    settings: RelayClientSettings,
    /// Whether the task that closes connections idle past the timeout runs (started
    /// with the first connection, on its runtime).
    sweeping: std::sync::atomic::AtomicBool,
}

impl PlainPool {
    pub(crate) fn new(
        lookup: Lookup,
        policy: AddressPolicy,
        settings: RelayClientSettings,
    ) -> Self {
        Self {
            idle: Arc::default(),
            lookup,
            policy,
            settings,
            sweeping: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Sends `request` (an absolute `http://` URI) in origin form, with `Host` set from the
    /// URI unless given. A request that never left (a kept connection the upstream had
    /// closed meanwhile) is sent once more on a new connection.
    pub(crate) async fn send(
        &self,
        mut request: Request<Full<Bytes>>,
    ) -> Result<Response<Incoming>, PlainError> {
        let Some(authority) = request.uri().authority().cloned() else {
            return Err(PlainError::NoHost(request.uri().clone()));
        };
        if !request.headers().contains_key(header::HOST) {
            // The host and port, without any user info the URL carries.
            let spelled = authority.as_str();
            let host = spelled.rsplit_once('@').map_or(spelled, |(_, host)| host);
            if let Ok(host) = HeaderValue::from_str(host) {
                request.headers_mut().insert(header::HOST, host);
            }
        }
        let path = request
            .uri()
            .path_and_query()
            .cloned()
            .unwrap_or_else(|| PathAndQuery::from_static("/"));
        *request.uri_mut() = Uri::from(path);

        let (mut sender, reused) = match self.checkout(&authority) {
            Some(sender) => (sender, true),
            None => (self.connect(&authority).await?, false),
        };
        let response = match sender.try_send_request(request).await {
            Ok(response) => response,
            Err(mut error) => match error.take_message() {
                Some(request) if reused => {
                    let mut fresh = self.connect(&authority).await?;
                    let response = fresh.send_request(request).await?;
                    self.keep(authority, fresh);
                    return Ok(response);
                }
                _ => return Err(PlainError::Http(error.into_error())),
            },
        };
        self.keep(authority, sender);
        Ok(response)
    }

    /// The newest kept connection to `authority` ready for a request; closed ones and
    /// ones idle past the timeout are dropped on the way.
    fn checkout(&self, authority: &Authority) -> Option<Sender> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let kept = idle.get_mut(authority)?;
        let timeout = self.settings.pool_idle_timeout;
        kept.retain(|k| !k.sender.is_closed() && k.since.elapsed() < timeout);
        let ready = kept.iter().rposition(|k| k.sender.is_ready())?;
        Some(kept.swap_remove(ready).sender)
    }

    /// Puts a connection back; it is ready again once its response is read to the end.
    fn keep(&self, authority: Authority, sender: Sender) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let kept = idle.entry(authority).or_default();
        if kept.len() < MAX_IDLE_PER_UPSTREAM {
            kept.push(Kept {
                sender,
                since: Instant::now(),
            });
        }
    }

    async fn connect(&self, authority: &Authority) -> Result<Sender, PlainError> {
        let host = authority.host();
        let port = authority.port_u16().unwrap_or(80);
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let addresses = match literal.parse::<IpAddr>() {
            // A literal is checked with its connection's peer, below.
            Ok(ip) => vec![ip],
            Err(_) => resolve_checked(&self.lookup, &self.policy, host)
                .await
                .map_err(|source| PlainError::Resolve {
                    host: host.to_owned(),
                    source,
                })??,
        };
        let mut last = PlainError::NoAddress {
            host: host.to_owned(),
        };
        for ip in addresses {
            let address = SocketAddr::new(ip, port);
            match self.open(address).await {
                Ok(sender) => return Ok(sender),
                Err(refused @ PlainError::Refused(_)) => return Err(refused),
                Err(error) => last = error,
            }
        }
        Err(last)
    }

    /// One TCP connection to `address`, its peer checked, its HTTP/1 connection driven
    /// by a task of this runtime.
    async fn open(&self, address: SocketAddr) -> Result<Sender, PlainError> {
        let after = self.settings.connect_timeout;
        let stream = match tokio::time::timeout(after, TcpStream::connect(address)).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(source)) => return Err(PlainError::Connect { address, source }),
            Err(_) => return Err(PlainError::ConnectTimeout { address, after }),
        };
        let (peer, local) = (stream.peer_addr(), stream.local_addr());
        let (peer, local) = match (peer, local) {
            (Ok(peer), Ok(local)) => (peer, local),
            (Err(source), _) | (_, Err(source)) => {
                return Err(PlainError::Connect { address, source })
            }
        };
        if let Some(reason) = self.policy.check_socket(peer, Some(local.ip())) {
            return Err(PlainError::Refused(RefusedAddress {
                address: peer.to_string(),
                reason,
            }));
        }
        if let Err(source) = stream.set_nodelay(true) {
            return Err(PlainError::Connect { address, source });
        }
        let (sender, connection) = http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await?;
        // An error that ends the connection reaches the request or body it broke.
        tokio::spawn(async move {
            let _ = connection.await;
        });
        self.start_sweeping();
        Ok(sender)
    }

    /// Closes connections idle past the timeout even when no request comes to find them.
    fn start_sweeping(&self) {
        use std::sync::atomic::Ordering;
        if self.sweeping.swap(true, Ordering::AcqRel) {
            return;
        }
        let idle: Weak<Idle> = Arc::downgrade(&self.idle);
        let timeout = self.settings.pool_idle_timeout;
        tokio::spawn(async move {
            let mut every = tokio::time::interval(timeout.max(Duration::from_secs(1)));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let Some(idle) = idle.upgrade() else { return };
                let mut idle = idle.lock().unwrap_or_else(|e| e.into_inner());
                idle.retain(|_, kept| {
                    kept.retain(|k| !k.sender.is_closed() && k.since.elapsed() < timeout);
                    !kept.is_empty()
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use http::{HeaderMap, Method};
    use http_body_util::BodyExt;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    use super::*;
    use crate::resolve::system_lookup;

    fn pool(idle: Duration) -> PlainPool {
        let settings = RelayClientSettings {
            connect_timeout: Duration::from_secs(2),
            pool_idle_timeout: idle,
        };
        PlainPool::new(system_lookup(), AddressPolicy::new(true), settings)
    }

    fn post(uri: &str) -> Request<Full<Bytes>> {
        let mut request = Request::new(Full::new(Bytes::from_static(b"{}")));
        *request.method_mut() = Method::POST;
        *request.uri_mut() = uri.parse().unwrap();
        request
    }

    async fn text(response: Response<Incoming>) -> String {
        let body = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(body.to_vec()).unwrap()
    }

    /// An axum app on 127.0.0.1 whose accepted connections are counted.
    async fn counted(app: axum::Router) -> (SocketAddr, Arc<AtomicUsize>) {
        struct Counting(TcpListener, Arc<AtomicUsize>);
        impl axum::serve::Listener for Counting {
            type Io = TcpStream;
            type Addr = SocketAddr;
            async fn accept(&mut self) -> (TcpStream, SocketAddr) {
                let accepted = self.0.accept().await.unwrap();
                self.1.fetch_add(1, Ordering::SeqCst);
                accepted
            }
            fn local_addr(&self) -> io::Result<SocketAddr> {
                self.0.local_addr()
            }
        }
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counting = Counting(listener, Arc::clone(&accepted));
        tokio::spawn(async move { axum::serve(counting, app).await.unwrap() });
        (address, accepted)
    }

    #[tokio::test]
    async fn requests_go_in_origin_form_with_the_host_and_reuse_one_kept_connection() {
        let app = axum::Router::new().route(
            "/mcp",
            axum::routing::post(|uri: Uri, headers: HeaderMap| async move {
                let host = headers.get(header::HOST).unwrap().to_str().unwrap();
                format!("{uri} {host}")
            }),
        );
        let (address, accepted) = counted(app).await;
        let pool = pool(Duration::from_secs(30));
        for _ in 0..5 {
            let response = pool.send(post(&format!("http://{address}/mcp?x=1"))).await;
            let answer = text(response.expect("the upstream answers")).await;
            assert_eq!(answer, format!("/mcp?x=1 {address}"));
        }
        assert_eq!(accepted.load(Ordering::SeqCst), 1, "one connection, kept");
        let response = pool
            .send(post(&format!("http://user:secret@{address}/mcp")))
            .await;
        let answer = text(response.expect("the upstream answers")).await;
        assert_eq!(answer, format!("/mcp {address}"), "no user info in Host");
    }

    #[tokio::test]
    async fn concurrent_requests_each_get_a_connection_and_all_are_answered() {
        let app = axum::Router::new().route(
            "/",
            axum::routing::post(|| async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                "ok"
            }),
        );
        let (address, accepted) = counted(app).await;
        let pool = Arc::new(pool(Duration::from_secs(30)));
        let uri = format!("http://{address}/");
        let calls: Vec<_> = (0..8)
            .map(|_| {
                let (pool, uri) = (Arc::clone(&pool), uri.clone());
                tokio::spawn(async move { text(pool.send(post(&uri)).await.unwrap()).await })
            })
            .collect();
        for call in calls {
            assert_eq!(call.await.unwrap(), "ok");
        }
        let opened = accepted.load(Ordering::SeqCst);
        assert!(
            opened > 1,
            "overlapping calls share no connection: {opened}"
        );
        // Read to the end, each is ready again: the next eight open none.
        for _ in 0..8 {
            assert_eq!(text(pool.send(post(&uri)).await.unwrap()).await, "ok");
        }
        assert_eq!(accepted.load(Ordering::SeqCst), opened);
    }

    /// An upstream that closes every connection after its response, without saying so:
    /// the kept connection is dead by the next request, which must still be answered.
    #[tokio::test]
    async fn an_upstream_that_drops_kept_connections_still_answers_every_request() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                let mut request = Vec::new();
                let mut buffer = [0u8; 4096];
                while !request.windows(6).any(|w| w == b"\r\n\r\n{}") {
                    let read = stream.read(&mut buffer).await.unwrap();
                    if read == 0 {
                        break;
                    }
                    request.extend_from_slice(&buffer[..read]);
                }
                let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                let _ = stream.write_all(answer).await;
                drop(stream);
            }
        });
        let pool = pool(Duration::from_secs(30));
        for _ in 0..20 {
            let response = pool.send(post(&format!("http://{address}/")));
            assert_eq!(text(response.await.expect("answered")).await, "ok");
        }
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            20,
            "a new connection each time"
        );
    }

    /// A long response outlives its connection's place in the pool: the connection
    /// leaves the pool past the idle timeout, and the response still streams to its end.
    #[tokio::test]
    async fn a_response_still_streaming_past_the_idle_timeout_reaches_its_end() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let mut buffer = [0u8; 4096];
                    let read = stream.read(&mut buffer).await.unwrap();
                    let slow = buffer[..read].starts_with(b"POST /stream ");
                    if !slow {
                        let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
                        stream.write_all(answer).await.unwrap();
                        return;
                    }
                    let head =
                        b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n6\r\nfirst \r\n";
                    stream.write_all(head).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    stream.write_all(b"6\r\nsecond\r\n0\r\n\r\n").await.unwrap();
                    let _ = stream.read(&mut buffer).await;
                });
            }
        });
        let pool = pool(Duration::from_millis(50));
        let streaming = pool
            .send(post(&format!("http://{address}/stream")))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        // This checkout drops the streaming connection's place (idle past 50 ms).
        let other = pool
            .send(post(&format!("http://{address}/")))
            .await
            .unwrap();
        assert_eq!(text(other).await, "ok");
        let kept: usize = {
            let idle = pool.idle.lock().unwrap();
            idle.values().map(Vec::len).sum()
        };
        assert_eq!(kept, 1, "only the short answer's connection is kept");
        assert_eq!(text(streaming).await, "first second");
    }

    /// A body dropped before its end takes its connection with it (the rest of the
    /// answer would otherwise be read as the next one's): the next request is answered
    /// in full on a new connection, which, read to the end, is used again.
    #[tokio::test]
    async fn a_body_dropped_unread_closes_its_connection_and_the_next_call_gets_a_new_one() {
        // Each connection answers request after request, 256 KiB each, in four parts.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        tokio::spawn(async move {
            loop {
                let (mut stream, _) = listener.accept().await.unwrap();
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buffer = [0u8; 4096];
                    loop {
                        let mut request = Vec::new();
                        while !request.windows(6).any(|w| w == b"\r\n\r\n{}") {
                            match stream.read(&mut buffer).await {
                                Ok(0) | Err(_) => return,
                                Ok(read) => request.extend_from_slice(&buffer[..read]),
                            }
                        }
                        let head = b"HTTP/1.1 200 OK\r\ncontent-length: 262144\r\n\r\n";
                        if stream.write_all(head).await.is_err() {
                            return;
                        }
                        for _ in 0..4 {
                            tokio::time::sleep(Duration::from_millis(10)).await;
                            if stream.write_all(&[b'x'; 64 * 1024]).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        let pool = pool(Duration::from_secs(30));
        let uri = format!("http://{address}/");
        let mut response = pool.send(post(&uri)).await.unwrap();
        let first = response.body_mut().frame().await.unwrap().unwrap();
        assert!(!first.into_data().unwrap().is_empty());
        drop(response);
        assert_eq!(
            text(pool.send(post(&uri)).await.unwrap()).await.len(),
            256 * 1024
        );
        assert_eq!(
            accepted.load(Ordering::SeqCst),
            2,
            "a new connection after the drop"
        );
        assert_eq!(
            text(pool.send(post(&uri)).await.unwrap()).await.len(),
            256 * 1024
        );
        assert_eq!(accepted.load(Ordering::SeqCst), 2, "and reused");
    }

    #[tokio::test]
    async fn a_refused_peer_and_an_unanswered_connect_say_what_failed() {
        let strict = PlainPool::new(
            system_lookup(),
            AddressPolicy::new(false),
            RelayClientSettings {
                connect_timeout: Duration::from_secs(2),
                pool_idle_timeout: Duration::from_secs(30),
            },
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let error = strict
            .send(post(&format!("http://{address}/")))
            .await
            .expect_err("a loopback peer is refused");
        assert!(matches!(error, PlainError::Refused(_)), "{error:?}");
        assert!(error.to_string().contains("127.0.0.1"), "{error}");
        drop(listener);
        let error = pool(Duration::from_secs(30))
            .send(post(&format!("http://{address}/")))
            .await
            .expect_err("nothing listens there any more");
        assert!(matches!(error, PlainError::Connect { .. }), "{error:?}");
        assert!(!error.is_timeout());
    }
}
