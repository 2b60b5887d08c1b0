//! Integration tests of `shared` against the real Postgres and NATS that `cargo xtask test`
//! starts: the schema's constraints, the JetStream bus and the transactional outbox.

mod bus;
mod compose;
mod harness;
mod outbox;
mod schema;
