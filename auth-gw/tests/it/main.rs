//! End-to-end tests through the real gateway: every service in-process on ephemeral
//! ports, against real Postgres and NATS (and S3 for the api).

mod access;
mod access_checks;
mod access_pushed;
mod api_tokens;
mod attachments;
mod browser;
mod caps;
mod characters;
mod cli;
mod commands;
mod dm_events;
mod ephemeral;
mod following;
mod fuzz;
mod gateway;
mod limits;
mod link_previews;
mod metrics;
mod moderation;
mod notifications;
mod oauth;
mod protection;
mod provider;
mod redirects;
mod replay;
mod routes;
mod search;
mod secrets;
mod sessions;
mod shutdown;
mod skeleton;
mod stack;
mod sync;
mod web;
mod webhooks;
