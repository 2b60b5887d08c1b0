//! Integration tests of the api against real Postgres, NATS and S3, through `shared`'s
//! typed client.

mod harness;
mod messages;
mod storage;
