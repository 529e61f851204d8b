//! The real router on a free port of 127.0.0.1, started as the benches start it
//! (`#[path]`-included): no rate limit, and a sender that may reach receivers on 127.0.0.1.

use gatehouse::delivery::sender::{SenderSettings, TargetPolicy};
use gatehouse::http::{AppState, router};
use gatehouse::service::Services;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A listener on a free port of 127.0.0.1, and its address as `http://host:port`.
pub async fn bind() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    (listener, url)
}

/// Sender settings whose receivers may be on 127.0.0.1, where the benches run theirs.
pub fn local_sender() -> SenderSettings {
    SenderSettings {
        targets: TargetPolicy {
            allow_private: true,
            allowed_networks: Vec::new(),
        },
        ..SenderSettings::default()
    }
}

/// Serves the router over `services` on `listener` (bound by [`bind`] to `base_url`), with
/// no rate limit, until the task is dropped or the process ends.
pub fn serve(
    listener: TcpListener,
    services: &Services,
    base_url: &str,
) -> JoinHandle<std::io::Result<()>> {
    let state = AppState::new(services.clone(), base_url, 0);
    tokio::spawn(async move { axum::serve(listener, router(state)).await })
}

/// The runtime the SCIM and webhook benches measure on: multi-threaded, with two workers, so
/// their figures compare from machine to machine.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}
