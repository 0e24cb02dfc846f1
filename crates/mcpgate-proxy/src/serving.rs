//! The serving threads: each runs its own single-threaded runtime, with its own Redis
//! connection and upstream pool, and serves the connections an acceptor hands it in
//! turn. A proxied call is three round trips (client, Redis, upstream); on one
//! work-stealing runtime each answer could wake a thread other than the one the call
//! runs on (the Redis driver, a pooled upstream connection's task and the handler each
//! land where the scheduler put them), and on a small machine those wake-ups cost more
//! CPU than the proxy's own work. Here a connection, and everything a call on it waits
//! for, stays on one thread; what all threads share (the cache, the audit queue, the
//! slots, the approvals) is behind `Arc`s and locks that never wait for I/O.
//!
//! Background work (change stream, resyncs, the audit writer) stays on the runtime that
//! built the proxy. A thread's spawned tasks (a reservation's release, a held stream)
//! keep running after its connections close, until [`Serving::release`], so shutdown
//! drains them as it did on one runtime.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::time::Duration;

use axum::serve::Listener;
use axum::{Router, ServiceExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tower::Layer;

use crate::auth::take_url_token;

/// A connection the acceptor took, on its way to a serving thread.
type Handed = (std::net::TcpStream, SocketAddr);

/// The running serving threads.
pub(crate) struct Serving {
    /// One sender per thread, in turn.
    threads: Vec<mpsc::UnboundedSender<Handed>>,
    next: usize,
    /// Each thread's end of serving: its connections closed (or cut at the deadline).
    served: Vec<oneshot::Receiver<io::Result<()>>>,
    /// Lets the threads' runtimes stop, once the process has drained; cancelled when
    /// this is dropped too.
    release: tokio_util::sync::DropGuard,
}

/// What a serving thread is given.
struct Thread<F> {
    index: usize,
    local: SocketAddr,
    connections: mpsc::UnboundedReceiver<Handed>,
    service: F,
    shutting_down: CancellationToken,
    drain_timeout: Duration,
    release: CancellationToken,
    served: oneshot::Sender<io::Result<()>>,
}

impl Serving {
    /// Starts `threads` serving threads. Each calls `service` once, on its own runtime,
    /// for the router it serves (so what the router's state connects lives there). When
    /// `shutting_down` is cancelled each stops taking connections and lets in-flight
    /// requests finish for up to `drain_timeout`, then cuts them.
    pub(crate) fn start<F, S>(
        threads: NonZeroUsize,
        local: SocketAddr,
        service: F,
        shutting_down: &CancellationToken,
        drain_timeout: Duration,
    ) -> io::Result<Self>
    where
        F: Fn() -> S + Clone + Send + 'static,
        S: Future<Output = Router>,
    {
        let release = CancellationToken::new();
        let mut senders = Vec::with_capacity(threads.get());
        let mut served = Vec::with_capacity(threads.get());
        for index in 0..threads.get() {
            let (sender, connections) = mpsc::unbounded_channel();
            let (done, finished) = oneshot::channel();
            let thread = Thread {
                index,
                local,
                connections,
                service: service.clone(),
                shutting_down: shutting_down.clone(),
                drain_timeout,
                release: release.clone(),
                served: done,
            };
            std::thread::Builder::new()
                .name(format!("mcpgate-proxy-{index}"))
                .spawn(move || thread.run())?;
            senders.push(sender);
            served.push(finished);
        }
        Ok(Self {
            threads: senders,
            next: 0,
            served,
            release: release.drop_guard(),
        })
    }

    /// Accepts connections until `shutting_down`, handing each to the next thread that
    /// is still serving. Fails only when no thread is left.
    pub(crate) async fn accept(
        &mut self,
        listener: &mut TcpListener,
        shutting_down: &CancellationToken,
    ) -> io::Result<()> {
        loop {
            let (stream, peer) = tokio::select! {
                () = shutting_down.cancelled() => return Ok(()),
                accepted = Listener::accept(listener) => accepted,
            };
            // Answers go out as soon as they are written (a relayed SSE event too).
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "setting TCP_NODELAY on an accepted connection");
            }
            let mut handed = match stream.into_std() {
                Ok(stream) => (stream, peer),
                Err(error) => {
                    tracing::warn!(%error, "handing over an accepted connection");
                    continue;
                }
            };
            loop {
                if self.threads.is_empty() {
                    return Err(io::Error::other("every proxy serving thread has stopped"));
                }
                let index = self.next % self.threads.len();
                match self.threads[index].send(handed) {
                    Ok(()) => {
                        self.next = index + 1;
                        break;
                    }
                    Err(mpsc::error::SendError(back)) => {
                        tracing::error!(index, "a proxy serving thread has stopped");
                        self.threads.remove(index);
                        handed = back;
                    }
                }
            }
        }
    }

    /// Waits until every thread has stopped serving; the first error, if any.
    pub(crate) async fn served(&mut self) -> io::Result<()> {
        let mut result = Ok(());
        for finished in self.served.drain(..) {
            let outcome = finished.await.unwrap_or_else(|_| {
                Err(io::Error::other(
                    "a proxy serving thread ended without a word",
                ))
            });
            if let (Ok(()), Err(error)) = (&result, outcome) {
                result = Err(error);
            }
        }
        result
    }

    /// Lets the threads' runtimes stop (their leftover tasks are dropped).
    pub(crate) fn release(self) {
        drop(self.release);
    }
}

impl<F, S> Thread<F>
where
    F: Fn() -> S,
    S: Future<Output = Router>,
{
    fn run(self) {
        let Thread {
            index,
            local,
            connections,
            service,
            shutting_down,
            drain_timeout,
            release,
            served,
        } = self;
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                let _ = served.send(Err(error));
                return;
            }
        };
        let result = runtime.block_on(async {
            tokio::spawn(pacemaker());
            let router = service().await;
            // The URL-form token leaves the path before routing and the request span.
            let service = tower::util::MapRequestLayer::new(take_url_token).layer(router);
            let serve = axum::serve(Handoff { connections, local }, service.into_make_service())
                .with_graceful_shutdown(shutting_down.clone().cancelled_owned());
            let deadline = async {
                shutting_down.cancelled().await;
                tokio::time::sleep(drain_timeout).await;
            };
            tokio::select! {
                served = std::future::IntoFuture::into_future(serve) => served,
                () = deadline => {
                    tracing::warn!(index, ?drain_timeout, "requests still in flight at the drain deadline; cutting them");
                    Ok(())
                }
                () = release.cancelled() => Ok(()),
            }
        });
        let _ = served.send(result);
        // Tasks the thread's calls spawned finish while the process drains.
        runtime.block_on(release.cancelled());
    }
}

/// How often a serving thread's timer driver wakes up at the latest: shorter than the
/// per-call timeouts (the limiter's Redis timeout, 250 ms by default; the upstream's).
const PACE: Duration = Duration::from_millis(100);

/// Keeps a timer due within [`PACE`] on the thread's runtime, at 10 wake-ups a second.
///
/// tokio's timer driver remembers, when it parks, the earliest deadline it will wake
/// for; a new timer due before that one unparks the driver, which is a `write(2)` to
/// the runtime's eventfd and one more pass through `epoll_wait`, even when the thread
/// is awake and running the very task that set the timer. Every proxied call sets one
/// (the limiter's timeout on its Redis round trip), and with no earlier timer pending
/// each of them did that: 1.8 `write`s a call. With the pacemaker's tick pending, no
/// per-call timeout is ever the earliest.
async fn pacemaker() {
    let mut pace = tokio::time::interval(PACE);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        pace.tick().await;
    }
}

/// A serving thread's listener: the connections the acceptor hands it.
struct Handoff {
    connections: mpsc::UnboundedReceiver<Handed>,
    local: SocketAddr,
}

impl Listener for Handoff {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (TcpStream, SocketAddr) {
        loop {
            let Some((stream, peer)) = self.connections.recv().await else {
                // The acceptor is gone: nothing more comes; shutdown ends the serve.
                return std::future::pending().await;
            };
            match TcpStream::from_std(stream) {
                Ok(stream) => return (stream, peer),
                Err(error) => tracing::warn!(%error, "registering a handed connection"),
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.local)
    }
}
