# 429chain server image: the headless build (no Qt Widgets) on debian:bookworm-slim.
#   docker build -t 429chain .
#   docker run --rm -p 127.0.0.1:3429:3429 429chain --demo   # simulated providers, public key sk-429chain-demo
#   docker compose up -d                                     # with ./config/config.yaml (see README)
# Proven without a Docker engine by scripts/check-docker (buildah on a debootstrap base).

FROM debian:bookworm AS build
# qt6-websockets-dev: Qt6HttpServer's CMake config needs it, and Debian 12's qt6-httpserver-dev does not depend on it.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        build-essential cmake ninja-build qt6-base-dev qt6-httpserver-dev qt6-websockets-dev libyaml-cpp-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=Release -DWITH_GUI=OFF -DBUILD_TESTING=OFF -DCHAIN_BENCH=OFF \
    && cmake --build /build --target 429chain \
    && strip /build/app/429chain

FROM debian:bookworm-slim
# Only what the binary loads: Qt Core/Network/HttpServer (HttpServer pulls WebSockets), the SQLite and PostgreSQL
# driver plugins for the request log (PostgreSQL when settings.storage / DATABASE_URL is a postgresql:// URL), yaml-cpp, CA certificates for HTTPS upstreams (libssl3 comes with libqt6network6), tini as PID 1.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libqt6core6 libqt6network6 libqt6httpserver6 libqt6sql6-sqlite libqt6sql6-psql libyaml-cpp0.7 ca-certificates tini \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
    && groupadd --gid 1000 chain \
    && useradd --uid 1000 --gid chain --home-dir /app --no-create-home --shell /usr/sbin/nologin chain \
    && mkdir -p /app/config /app/data \
    && chown chain:chain /app /app/config /app/data
COPY --from=build /build/app/429chain /usr/bin/429chain
COPY installer/docker/entrypoint.sh /usr/local/bin/429chain-entrypoint
COPY installer/docker/healthcheck.sh /usr/local/bin/429chain-healthcheck

ENV HOST=0.0.0.0 \
    PORT=3429 \
    CONFIG_PATH=/app/config/config.yaml \
    LOG_FORMAT=json
WORKDIR /app
USER chain
VOLUME ["/app/data", "/app/config"]
EXPOSE 3429
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 CMD ["/usr/local/bin/429chain-healthcheck"]
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/429chain-entrypoint"]
CMD []
