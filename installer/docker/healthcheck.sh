#!/bin/bash
# HEALTHCHECK of the 429chain image: GET /health on the container's own listener. The slim image has no curl,
# so this speaks HTTP over bash's /dev/tcp. Port and address follow PORT and HOST as 429chain does.
port="${PORT:-3429}"
host="${HOST:-127.0.0.1}"
case "$host" in
    "" | 0.0.0.0 | "::" | "[::]") host=127.0.0.1 ;;
esac
exec 3<>"/dev/tcp/${host}/${port}" || exit 1
printf 'GET /health HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$host" >&3
IFS= read -r -t 3 status <&3 || exit 1
case "$status" in
    "HTTP/1.1 200"*) exit 0 ;;
esac
echo "unhealthy: ${status%$'\r'}" >&2
exit 1
