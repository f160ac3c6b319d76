#!/bin/sh
# Entrypoint of the 429chain image (started by tini). Options go to 429chain; any other command runs as given
# (`docker run --rm -it 429chain sh`). Without a config file it says what to do instead of failing obscurely.
set -eu

case "${1:-}" in
    "" | -*) ;;
    *) exec "$@" ;;
esac

config="${CONFIG_PATH:-/app/config/config.yaml}"
needs_config=yes
for arg in "$@"; do
    case "$arg" in
        --demo | --init | -c | --config | --config=* | -h | --help | --help-all | -v | --version) needs_config=no ;;
    esac
done

if [ "$needs_config" = yes ] && [ ! -e "$config" ]; then
    cat >&2 <<MSG
429chain: no config file at $config

Try it now with simulated providers (API key: sk-429chain-demo):
  docker run --rm -p 127.0.0.1:3429:3429 429chain --demo

Or write a commented example config into ./config on this host, edit it, and start again:
  mkdir -p config data
  docker run --rm -v "\$PWD/config:/app/config" 429chain --init
  \$EDITOR config/config.yaml     # settings.apiKeys (or PROXY_API_KEY), provider keys (GROQ_API_KEY, ...)
  docker compose up -d

The container listens on ${HOST:-0.0.0.0}: clients must send one of settings.apiKeys.
The container runs as uid $(id -u): the host folders mounted on /app/config and /app/data must be writable by it.
MSG
    exit 2
fi

for dir in "$(dirname "$config")" /app/data; do
    if [ -d "$dir" ] && [ ! -w "$dir" ]; then
        echo "429chain: warning: $dir is not writable by uid $(id -u) (chown $(id -u):$(id -g) the host folder" \
            "mounted there); $([ "$dir" = /app/data ] && echo "the request log" || echo "admin edits") will fail" >&2
    fi
done

exec /usr/bin/429chain --headless "$@"
