//! A TCP proxy the test can cut: PostgreSQL "going away" without touching the server the
//! other tests share. Cut, it drops every connection through it and stops listening, so new
//! connections are refused, as with a stopped server; restored, it listens and forwards
//! again on the same port.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

pub struct CuttableProxy {
    pub port: u16,
    upstream: SocketAddr,
    /// The accept loop, then every link it made.
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl CuttableProxy {
    /// Forwards a port of the loopback to `upstream`.
    pub async fn start(upstream: SocketAddr) -> CuttableProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let proxy = CuttableProxy {
            port,
            upstream,
            tasks: Arc::default(),
        };
        proxy.forward(listener);
        proxy
    }

    fn forward(&self, listener: TcpListener) {
        let (tasks, upstream) = (self.tasks.clone(), self.upstream);
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let link = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(link.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    /// Drops every connection and stops listening: new connections are refused.
    pub fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    /// Listens and forwards again, on the same port.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("bind the proxy's port again");
        self.forward(listener);
    }
}

impl Drop for CuttableProxy {
    fn drop(&mut self) {
        self.cut();
    }
}
