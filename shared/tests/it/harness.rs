//! The test harness itself: a per-test nats-server is up with JetStream when `start` or
//! `resume` returns, and gone after `stop`.

use std::net::{SocketAddr, TcpStream};

use ajet_shared::events::bus::{EventBus as _, NatsBus};
use ajet_shared::testing::NatsServer;

fn port_of(nats: &NatsServer) -> u16 {
    nats.url().rsplit_once(':').and_then(|(_, port)| port.parse().ok()).expect("nats://host:port")
}

#[tokio::test]
async fn a_started_nats_server_serves_jetstream_at_once_and_again_after_a_restart() {
    let mut nats = NatsServer::start();
    // No retry here: `start` has already waited for the server.
    let bus = NatsBus::connect(&nats.url(), "HARNESS").await.expect("connects right after start");
    bus.ensure_stream().await.expect("JetStream is enabled");
    drop(bus);

    nats.stop();
    assert!(
        TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port_of(&nats)))).is_err(),
        "nothing listens after stop"
    );
    nats.resume();
    let bus = NatsBus::connect(&nats.url(), "HARNESS").await.expect("connects right after resume");
    bus.ensure_stream().await.expect("the stream is there again");
}
