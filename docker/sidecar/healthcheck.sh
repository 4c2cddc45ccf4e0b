#!/bin/bash
# The image's HEALTHCHECK: healthy when GET /health on the daemon's HTTP port answers 200 (every account's upstreams
# reachable and keys unlocked; 503 otherwise). Plain bash over /dev/tcp, so the image needs no HTTP client.
port=${MAILPROXY_HTTP_PORT:-9464}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
printf 'GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' >&3
IFS=' ' read -r -t 4 _ status _ <&3 || exit 1
[ "$status" = 200 ]
