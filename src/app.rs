//! The composition root: open the store, seed event types and the default workspace, then run the
//! API and the delivery workers until shutdown. Tests call [`serve`] with a listener on port 0.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, redact_url};
use crate::dashboard::{self, PageState};
use crate::delivery::{Deliverer, Sender, Worker};
use crate::domain::clock::{Clock, SystemClock};
use crate::domain::event_type::{self, EventType, Registry};
use crate::domain::ids;
use crate::domain::ids::hash_key;
use crate::http::rate_limit::evict_idle_buckets;
use crate::http::{self, ApiRateLimiter, AppState};
use crate::service::{LoginThrottle, PortalLinks, Service};
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, StoreError, Workspace};

/// Opens the database named by the URL (`sqlite:` or `postgres://`), applying migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = &config.database_url;
    let context = || format!("cannot open the database {}", redact_url(url));
    if url.starts_with("sqlite:") {
        let store = SqliteStore::open(url).await.with_context(context)?;
        Ok(Arc::new(store.with_sealer(config.sealer.clone())))
    } else {
        let connection = crate::store::postgres::Connection {
            max_connections: config.database_max_connections,
            pooled: config.database_pooled,
            direct_url: config.database_listen_url.clone(),
            retention: Some(config.retention),
        };
        let store = PgStore::open_with(url, &connection)
            .await
            .with_context(context)?;
        Ok(Arc::new(store.with_sealer(config.sealer.clone())))
    }
}

/// Registers the shipped event types and loads every registered type.
async fn load_event_types(store: &dyn Store, clock: &dyn Clock) -> anyhow::Result<Registry> {
    for def in event_type::shipped() {
        store.upsert_event_type(&def, clock.now()).await?;
    }
    let registry = Registry::default();
    for def in store.event_types().await? {
        let name = def.name.clone();
        match EventType::compile(def) {
            Ok(compiled) => registry.insert(compiled),
            Err(e) => {
                tracing::error!(event_type = %name, error = %e, "skipping an event type that no longer compiles")
            }
        }
    }
    Ok(registry)
}

/// Makes sure the default workspace exists and `SPEAKNODE_API_KEY` is one of its keys. Returns
/// the key it generated, if it had to.
async fn ensure_default_workspace(
    store: &dyn Store,
    config: &Config,
    clock: &dyn Clock,
) -> anyhow::Result<Option<String>> {
    let now = clock.now();
    let (workspace, created) = match store.default_workspace().await? {
        Some(ws) => (ws, false),
        None => {
            let ws = Workspace {
                id: ids::new_id(ids::WORKSPACE),
                name: "Default".into(),
                created_at: now,
            };
            match store.create_workspace(&ws, true).await {
                Ok(()) => (ws, true),
                // Another process sharing the database created it first.
                Err(StoreError::Conflict { .. }) => match store.default_workspace().await? {
                    Some(ws) => (ws, false),
                    None => anyhow::bail!("the default workspace could not be created"),
                },
                Err(e) => return Err(e.into()),
            }
        }
    };
    let (key, generated) = match (&config.api_key, created) {
        (Some(key), _) => (key.clone(), false),
        (None, true) => (ids::new_api_key(), true),
        (None, false) => return Ok(None),
    };
    let hash = hash_key(&key);
    store
        .add_api_key(&ids::new_id(ids::API_KEY), &workspace.id, &hash, now)
        .await
        .context("could not store SPEAKNODE_API_KEY as a key of the default workspace")?;
    // Adding a hash that is another workspace's key changes nothing (the store keeps it where
    // it is), so the owner is checked rather than assumed.
    match store.workspace_for_key(&hash).await? {
        Some(owner) if owner == workspace.id => Ok(generated.then_some(key)),
        Some(_) => anyhow::bail!(
            "SPEAKNODE_API_KEY is already a key of another workspace: choose another key"
        ),
        None => anyhow::bail!("SPEAKNODE_API_KEY was stored but does not sign in (revoked?)"),
    }
}

/// Runs the service on `listener` until `shutdown` is cancelled.
pub async fn serve(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    serve_with_clock(config, listener, shutdown, Arc::new(SystemClock)).await
}

/// [`serve`] without the start-up lines on stdout (for the benchmark, whose output is a report).
pub async fn serve_quietly(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    run(config, listener, shutdown, Arc::new(SystemClock), false).await
}

pub async fn serve_with_clock(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<()> {
    run(config, listener, shutdown, clock, true).await
}

async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
    clock: Arc<dyn Clock>,
    announce: bool,
) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let _only_process = match config.database_url.starts_with("sqlite:") {
        true => Some(crate::store::sqlite::lock_for_serving(
            &config.database_url,
        )?),
        false => None,
    };
    let registry = Arc::new(load_event_types(store.as_ref(), clock.as_ref()).await?);
    let generated_key = ensure_default_workspace(store.as_ref(), &config, clock.as_ref()).await?;
    // SQLite serves one process: leases left by an earlier run of it belong to nobody now. With
    // a shared database (PostgreSQL) they may be another live process's: they are left to run
    // out (releasing them made a restart send duplicates of deliveries still in flight).
    let released = if store.single_process() {
        store.release_leases(None, clock.now()).await?
    } else {
        0
    };
    if released > 0 {
        tracing::info!(
            released,
            "resumed deliveries that were in flight when the service last stopped"
        );
    }

    if announce {
        println!("database: {}", redact_url(&config.database_url));
        if let Some(proxy) = &config.proxy_url {
            println!("deliveries go through the proxy {}", redact_url(proxy));
        }
        if let Some(key) = &generated_key {
            println!("generated the default workspace's API key (shown once): {key}");
        }
        // Printed last: once this line is out, the service accepts requests.
        println!(
            "SpeakNode Webhooks listening on http://{}",
            listener.local_addr()?
        );
    }

    let deliverer = Arc::new(Deliverer {
        store: store.clone(),
        sender: Sender::new(
            config.delivery_timeout,
            config.allow_private_targets,
            config.proxy_url.as_deref(),
        )?,
        schedule: config.retry_schedule.clone(),
        clock: clock.clone(),
        disable_after: config.disable_after,
        metrics: Arc::default(),
    });
    let wake = Arc::new(Notify::new());
    if config.run_worker {
        let (store, wake, shutdown) = (store.clone(), wake.clone(), shutdown.clone());
        tokio::spawn(async move { store.watch_wakeups(wake, shutdown).await });
    }
    if config.run_worker {
        let (store, clock, shutdown) = (store.clone(), clock.clone(), shutdown.clone());
        tokio::spawn(crate::delivery::pruner::run(
            store,
            clock,
            config.retention,
            shutdown,
        ));
    }
    let worker = config.run_worker.then(|| {
        let worker = Worker::new(deliverer.clone(), wake.clone(), &config);
        tokio::spawn(worker.run(shutdown.clone()))
    });

    let rate_limiter = config
        .rate_limit
        .map(|rate| Arc::new(ApiRateLimiter::per_second(rate)));
    if let Some(limiter) = &rate_limiter {
        tokio::spawn(evict_idle_buckets(limiter.clone(), shutdown.clone()));
    }
    let service = Service {
        store,
        registry,
        clock,
        deliverer,
        wake,
        allow_private_targets: config.allow_private_targets,
        login_throttle: Arc::new(LoginThrottle::new(config.login_attempts)),
        portal_links: PortalLinks {
            public_url: config.portal.public_url(listener.local_addr()?),
            ttl: config.portal.link_ttl,
        },
    };
    let config = Arc::new(config.clone());
    let api = AppState {
        service: service.clone(),
        config: config.clone(),
        rate_limiter,
    };
    let router = if config.run_api {
        // The dashboard is served with the API, by the same process, at `/`.
        let pages = PageState { service, config };
        http::api_router(api)
            .merge(dashboard::router(pages))
            .layer(axum::middleware::from_fn(http::refuse_nul_in_paths))
    } else {
        http::worker_router(api)
    };
    let stop = shutdown.clone();
    // With the peer's address, which sign-in throttling counts failures by.
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await?;
    if let Some(worker) = worker {
        worker.await?;
    }
    Ok(())
}
