//! `ajet-api`: parse config, init tracing, serve.

use std::time::Duration;

use ajet_shared::config::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load()?;
    ajet_shared::server::init_tracing(&config);
    let listener = tokio::net::TcpListener::bind(config.api_listen).await?;
    let shutdown = ajet_shared::server::shutdown_on_signal();
    let bounded = shutdown.clone();
    tokio::select! {
        result = ajet_api::serve(config, listener, shutdown) => result,
        () = async move { bounded.cancelled().await; tokio::time::sleep(Duration::from_secs(10)).await } => {
            anyhow::bail!("shutdown took longer than 10 s; exiting anyway")
        }
    }
}
