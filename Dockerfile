# syntax=docker/dockerfile:1.7
#
# One Dockerfile for the four ajet-chat servers. Pick the service with --target:
#
#   docker build --target auth-gw -t ajet-chat-auth-gw .
#   docker build --target api     -t ajet-chat-api .
#   docker build --target web-sm  -t ajet-chat-web-sm .
#   docker build --target tui-sm  -t ajet-chat-tui-sm .
#   docker build --target cli     -t ajet-chat-cli .     # the `ajet-chat` CLI, for admin/scripts
#
# All targets share one `build` stage that compiles every binary in a single
# `cargo build`, so building all four images compiles the workspace once.
# docker-compose.yml and docker-compose.test.yml use these targets.
#
# Configuration is never baked in: every service reads defaults -> optional
# TOML file at $AJET_CONFIG -> AJET_* environment variables (see docker-compose.yml).

ARG RUST_IMAGE=rust:1.95-slim-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---------------------------------------------------------------------------
# build: compile all server binaries + the CLI (release profile)
# ---------------------------------------------------------------------------
FROM ${RUST_IMAGE} AS build
WORKDIR /src

# sqlx macros check queries against the committed .sqlx/ metadata instead of a
# live database; migrations/ is embedded by sqlx::migrate! at compile time.
ENV SQLX_OFFLINE=true \
    CARGO_INCREMENTAL=0 \
    CARGO_TERM_COLOR=never \
    CARGO_NET_RETRY=5

COPY . .

# Cache mounts keep the crates.io registry, git deps and the target dir between
# builds (they are not part of the image), so the binaries are copied out to
# /out inside the same RUN. `sharing=locked` serialises concurrent builds of the
# different targets on the same cache. xtask is a dev tool and is not built.
RUN --mount=type=cache,id=ajet-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=ajet-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=ajet-target,target=/src/target,sharing=locked \
    cargo build --release --locked \
        -p ajet-auth-gw -p ajet-api -p ajet-web-sm -p ajet-tui-sm -p ajet-cli \
 && mkdir -p /out \
 && cp target/release/ajet-auth-gw target/release/ajet-api \
       target/release/ajet-web-sm target/release/ajet-tui-sm \
       target/release/ajet-chat /out/

# ---------------------------------------------------------------------------
# runtime: shared base for every service image
# ---------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE} AS runtime

# ca-certificates: TLS to OAuth providers / external S3 (rustls + webpki roots
#                  cover most, the system store covers custom CAs).
# curl:            container healthchecks against /healthz and /readyz.
# tini:            PID 1 that forwards SIGTERM/SIGINT so graceful shutdown
#                  (drain SSE streams, flush the outbox) actually runs.
# tzdata:          /usr/share/zoneinfo, where search reads the client's time
#                  zone (`tz=Europe/Paris`) for before:/after:/on: dates.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl tini tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 ajet \
 && useradd --system --uid 10001 --gid ajet --home-dir /nonexistent \
        --no-create-home --shell /usr/sbin/nologin ajet

# Container defaults: listen on all interfaces (the built-in defaults are
# 127.0.0.1, which is unreachable from other containers), production mode,
# JSON logs. Everything can be overridden with AJET_* at run time.
ENV AJET_ENV=prod \
    AJET_LOG=info \
    AJET_LOG_FORMAT=json \
    AJET_GATEWAY_LISTEN=0.0.0.0:8080 \
    AJET_API_LISTEN=0.0.0.0:8081 \
    AJET_WEB_LISTEN=0.0.0.0:8082 \
    AJET_TUI_LISTEN=0.0.0.0:8083

WORKDIR /app
USER 10001:10001
ENTRYPOINT ["/usr/bin/tini", "--"]

# ---------------------------------------------------------------------------
# one final stage per service (docker build --target <name>)
# Image HEALTHCHECKs use /healthz (alive); compose files use /readyz to gate
# start-up order on dependencies being reachable.
# ---------------------------------------------------------------------------
FROM runtime AS cli
COPY --from=build /out/ajet-chat /usr/local/bin/ajet-chat
CMD ["ajet-chat", "--help"]

FROM runtime AS tui-sm
COPY --from=build /out/ajet-tui-sm /usr/local/bin/ajet-tui-sm
EXPOSE 8083
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8083/healthz"]
CMD ["ajet-tui-sm"]

FROM runtime AS web-sm
COPY --from=build /out/ajet-web-sm /usr/local/bin/ajet-web-sm
EXPOSE 8082
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8082/healthz"]
CMD ["ajet-web-sm"]

FROM runtime AS auth-gw
COPY --from=build /out/ajet-auth-gw /usr/local/bin/ajet-auth-gw
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8080/healthz"]
CMD ["ajet-auth-gw"]

# Last stage = what a plain `docker build .` produces.
FROM runtime AS api
COPY --from=build /out/ajet-api /usr/local/bin/ajet-api
EXPOSE 8081
# start-period covers migrations applied at start (AJET_MIGRATE_ON_START=true).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1:8081/healthz"]
CMD ["ajet-api"]
