//! Integration tests of the api against real Postgres, NATS and S3, through `shared`'s
//! typed client.

mod events;
mod features;
mod harness;
mod matrix;
mod messages;
mod openapi;
mod readiness;
mod storage;
mod tokens;
