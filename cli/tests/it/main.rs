//! End-to-end tests of the `ajet-chat` binary: every service of the stack in-process (the
//! gateway's harness, shared by `#[path]`), the real binary run as a user and a script would
//! run it, its output checked for content, its exit codes for meaning.

mod account;
mod avatars;
mod cli;
mod errors;
mod logs;
mod messages;
mod preferences;
mod proxy;
#[path = "../../../auth-gw/tests/it/stack.rs"]
#[allow(dead_code, reason = "the gateway's harness: its tests use all of it, these only part")]
mod stack;
mod tail;
mod tui;
