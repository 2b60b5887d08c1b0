//! Integration tests of `shared` against the real Postgres and NATS that `cargo xtask test`
//! starts: the schema's constraints, search's indexing, the JetStream bus, the transactional outbox, the streaming core and the link-preview fetcher.

mod bus;
mod compose;
mod harness;
mod outbox;
mod schema;
mod search;
mod stream;
mod unfurl;
