//! A TCP proxy a test can cut and restore, to take the database away from a running service.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;

pub struct Proxy {
    pub addr: SocketAddr,
    cut: Arc<AtomicBool>,
    kill: broadcast::Sender<()>,
}

impl Proxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(AtomicBool::new(false));
        let (kill, _) = broadcast::channel(4);
        let (is_cut, killer) = (cut.clone(), kill.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                if is_cut.load(Ordering::SeqCst) {
                    drop(client); // refused: closed at once
                    continue;
                }
                let mut killed = killer.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = killed.recv() => {}
                    }
                });
            }
        });
        Self { addr, cut, kill }
    }

    /// Drops every open connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        let _ = self.kill.send(());
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}
