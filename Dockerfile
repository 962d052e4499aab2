# syntax=docker/dockerfile:1

# SpeakNode Webhooks in a container: docs/operating.md#docker.
#
#   docker build -t speaknode-webhooks .
#   docker run -d --name speaknode -p 8080:8080 -v speaknode-data:/data \
#     -e SPEAKNODE_API_KEY=... -e SPEAKNODE_ENCRYPTION_KEY=... speaknode-webhooks

# Build stage. SQLite is compiled into the binary (bundled, with the image's gcc) and TLS is
# rustls, so no OpenSSL or other -dev package is needed. The cache mounts keep the crates and
# the build directory between builds; the binary is copied out of the cached target/. The `dist`
# profile (Cargo.toml) is the release build stripped of debug info and symbols: the image ships
# that, not the 140 MiB `--release` binary kept for profiling.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --profile dist --locked --bin speaknode-webhooks \
    && cp target/dist/speaknode-webhooks /usr/local/bin/speaknode-webhooks

# Runtime stage: the binary, CA certificates for https receivers and PostgreSQL over TLS, and
# curl for the health check (the binary has no health-check command).
FROM debian:bookworm-slim

LABEL org.opencontainers.image.title="speaknode-webhooks" \
      org.opencontainers.image.description="Signed, durable webhook delivery for SpeakNode" \
      org.opencontainers.image.licenses="Apache-2.0"

# Versions are not pinned: Debian point releases replace them, so a pin would break the build
# within months. The packages come from bookworm, and bookworm only changes them for fixes.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 speaknode \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin speaknode \
    && mkdir /data \
    && chown speaknode:speaknode /data

COPY --from=build /usr/local/bin/speaknode-webhooks /usr/local/bin/speaknode-webhooks

# Three slashes: an absolute path. The database is three files (.db, -wal, -shm), all in /data.
ENV SPEAKNODE_DATABASE_URL=sqlite:///data/speaknode-webhooks.db \
    SPEAKNODE_LISTEN=0.0.0.0:8080

VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8080

# /healthz answers 200 while the database answers, else 503. Change the port here if you
# change SPEAKNODE_LISTEN. `|| exit 1`: Docker reads 1 as unhealthy (curl -f itself exits 22).
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["sh", "-c", "curl -fsS http://127.0.0.1:8080/healthz || exit 1"]

# SIGTERM stops claiming deliveries and lets attempts in flight finish (at most the delivery
# timeout + 1 s, 6 s by default): Docker's default 10 s stop timeout is enough.
STOPSIGNAL SIGTERM
ENTRYPOINT ["speaknode-webhooks"]
CMD ["serve"]
