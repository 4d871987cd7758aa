//! Accepting connections with limits, so that slow or idle clients cannot hold the server:
//! a request head must arrive within the header timeout, a connection with no bytes moving
//! either way is closed after the idle timeout, and at most `max_connections` are open at
//! once (beyond that, new ones wait in the kernel's queue).
//!
//! `axum::serve` has no such settings (no header timeout at all: 1,000 half-open
//! connections stayed open for over 40 s), so connections are served here with hyper's
//! HTTP/1 server directly; TLS and HTTP/2 belong to the reverse proxy in front.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::clock::Stopwatch;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};
use tower::ServiceExt as _;

/// How the server treats connections.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// A request head must arrive whole within this (also while a kept-alive connection
    /// waits for its next request).
    pub header_timeout: Duration,
    /// A connection with no bytes moving either way is closed after this, once no request
    /// is in flight.
    pub idle_timeout: Duration,
    /// Connections open at once, at most.
    pub max_connections: usize,
    /// How long shutting down waits for the requests in flight.
    pub shutdown_grace: Duration,
}

/// Listens on `address` with a queue long enough for a burst of connections (the default of
/// 128 drops handshakes under a burst, leaving clients with connections that never serve).
pub fn bind(address: SocketAddr) -> io::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(4096)
}

/// Serves `app` on `listener` until `shutdown` completes, then lets the requests in flight
/// finish (for at most the grace period).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let (stop, stopping) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let (permit, (stream, peer)) = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => {
                let Ok(permit) = permit else { break };
                tokio::select! {
                    biased;
                    _ = &mut shutdown => break,
                    accepted = listener.accept() => match accepted {
                        Ok(connection) => (permit, connection),
                        Err(e) => {
                            // Out of file descriptors, say: wait a little rather than spin.
                            tracing::warn!(error = %e, "cannot accept a connection");
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            continue;
                        }
                    },
                }
            }
        };
        let _ = stream.set_nodelay(true);
        // What `into_make_service_with_connect_info` gives handlers: the peer's address.
        let service = app
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let (io, last_io) = Watched::new(stream);
        let connection = http
            .serve_connection(TokioIo::new(io), TowerToHyperService::new(service))
            .with_upgrades();
        let (mut stopping, idle) = (stopping.clone(), limits.idle_timeout);
        tokio::spawn(async move {
            let _permit = permit;
            // Idle from now: time the server spent elsewhere before running this is not
            // the client's.
            last_io.touch();
            let mut connection = pin!(connection);
            let mut tick = tokio::time::interval(idle / 4);
            let mut closing = false;
            loop {
                tokio::select! {
                    // The connection first: after a stall, it reads the bytes waiting for it
                    // before the idle check looks, or a request that arrived meanwhile would
                    // be closed unanswered.
                    biased;
                    // A header timeout or a broken connection ends it as well: nothing to do.
                    _ = connection.as_mut() => break,
                    _ = stopping.changed(), if !closing => {
                        closing = true;
                        connection.as_mut().graceful_shutdown();
                    }
                    _ = tick.tick(), if !closing => {
                        if last_io.idle() >= idle {
                            // Idle: closes now; busy: ends its response first.
                            closing = true;
                            connection.as_mut().graceful_shutdown();
                        }
                    }
                }
            }
        });
    }
    drop(listener);
    let _ = stop.send(());
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(limits.shutdown_grace, permits.acquire_many(all)).await;
}

/// A connection's socket, noting when bytes last moved either way.
struct Watched {
    io: TcpStream,
    last: LastIo,
}

/// When a connection last moved bytes, in milliseconds since it opened.
#[derive(Clone)]
struct LastIo {
    opened: Stopwatch,
    at_ms: Arc<AtomicU64>,
}

impl LastIo {
    fn touch(&self) {
        let ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.at_ms.store(ms, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let at = Duration::from_millis(self.at_ms.load(Ordering::Relaxed));
        self.opened.elapsed().saturating_sub(at)
    }
}

impl Watched {
    fn new(io: TcpStream) -> (Watched, LastIo) {
        let last = LastIo {
            opened: Stopwatch::start(),
            at_ms: Arc::default(),
        };
        (
            Watched {
                io,
                last: last.clone(),
            },
            last,
        )
    }
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.io).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.last.touch();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, bytes);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.last.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.last.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
