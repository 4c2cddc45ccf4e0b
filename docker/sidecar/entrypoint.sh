#!/bin/bash
# The image's entrypoint. `run` (the default command) prepares what the daemon needs and then execs it, so the JVM
# replaces this script and receives the engine's signals itself; any other command is passed to mailproxy
# (e.g. `docker compose exec mailproxy mailproxy accounts show-password EMAIL` does not come through here at all).
#
# Secrets are read from files only, never from the environment or the command line. By default they are Docker
# secrets under /run/secrets; each *_FILE variable names another file:
#   MAILPROXY_KEY_PASSPHRASE_FILE    (default /run/secrets/mailproxy-key-passphrase)    the account key's passphrase
#   MAILPROXY_PROVIDER_PASSWORD_FILE (default /run/secrets/mailproxy-provider-password) the provider password
#   MAILPROXY_LOCAL_PASSWORD_FILE    (default /run/secrets/mailproxy-local-password)    the password clients use
#   MAILPROXY_TLS_CERT_FILE, MAILPROXY_TLS_KEY_FILE (default /run/secrets/mailproxy-tls-cert, -tls-key)
#       the certificate (PEM) and its PKCS#8 key that clients see; without them the daemon generates one
# 1. As root (the default): copies each secret that exists into /run/mailproxy, owned by the mailproxy user and
#    readable by it alone (mailproxy refuses secret files others can read, and a secret mounted from the host keeps
#    the host's owner), gives the data volume to that user, and re-runs itself as that user with no capabilities.
#    Started as another user (docker run --user), it uses the files where they are.
# 2. As the mailproxy user: generates the account key on first start (none in the volume yet), stores the provider
#    password encrypted to it and sets the local password from their secrets, then execs the daemon.
set -euo pipefail

say() { echo "entrypoint: $*" >&2; }
# The one-shot commands before the daemon: the C1 compiler alone starts a short-lived JVM faster.
setup() { MAILPROXY_JAVA_OPTS="${MAILPROXY_JAVA_OPTS:-} -XX:TieredStopAtLevel=1" /usr/local/bin/mailproxy "$@" >&2; }

DATA_DIR=/var/lib/mailproxy
COPIES=/run/mailproxy
: "${MAILPROXY_KEY_PASSPHRASE_FILE:=/run/secrets/mailproxy-key-passphrase}"
: "${MAILPROXY_PROVIDER_PASSWORD_FILE:=/run/secrets/mailproxy-provider-password}"
: "${MAILPROXY_LOCAL_PASSWORD_FILE:=/run/secrets/mailproxy-local-password}"
: "${MAILPROXY_TLS_CERT_FILE:=/run/secrets/mailproxy-tls-cert}"
: "${MAILPROXY_TLS_KEY_FILE:=/run/secrets/mailproxy-tls-key}"
SECRETS=(MAILPROXY_KEY_PASSPHRASE_FILE MAILPROXY_PROVIDER_PASSWORD_FILE MAILPROXY_LOCAL_PASSWORD_FILE
  MAILPROXY_TLS_CERT_FILE MAILPROXY_TLS_KEY_FILE)

if [ "${1:-run}" != run ]; then
  exec /usr/local/bin/mailproxy "$@"
fi
shift || true

if [ "$(id -u)" = 0 ]; then
  # Fresh copies on every start: a secret may have changed since the last one.
  install -d -o mailproxy -g mailproxy -m 0700 "$COPIES"
  for var in "${SECRETS[@]}"; do
    src=${!var}
    name=$(basename "$src")
    rm -f "${COPIES:?}/$name"
    if [ -f "$src" ]; then
      install -o mailproxy -g mailproxy -m 0400 "$src" "$COPIES/$name"
      export "$var=$COPIES/$name"
    fi
  done
  # A bind-mounted or older volume may belong to someone else; the daemon must own it and nobody else read it.
  if [ "$(stat -c %U "$DATA_DIR")" != mailproxy ]; then
    chown -R mailproxy:mailproxy "$DATA_DIR"
  fi
  chmod 0700 "$DATA_DIR"
  exec setpriv --reuid=mailproxy --regid=mailproxy --init-groups --inh-caps=-all --bounding-set=-all \
    --no-new-privs "$0" run "$@"
fi

for var in MAILPROXY_EMAIL MAILPROXY_IMAP_UPSTREAM MAILPROXY_SMTP_UPSTREAM; do
  if [ -z "${!var:-}" ]; then
    say "$var is not set (see the README's Docker sidecar section)"
    exit 2
  fi
done

if [ -f "$MAILPROXY_KEY_PASSPHRASE_FILE" ]; then
  if ! compgen -G "$DATA_DIR/keys/secret/*.pgp" >/dev/null; then
    say "no secret key in $DATA_DIR yet: generating one for $MAILPROXY_EMAIL"
    setup keys generate --email "$MAILPROXY_EMAIL" --passphrase-file "$MAILPROXY_KEY_PASSPHRASE_FILE"
  fi
  # The configuration takes the passphrase file from this variable (key.passphrase-file).
  export MAILPROXY_KEY_PASSPHRASE_FILE
else
  say "no key passphrase secret ($MAILPROXY_KEY_PASSPHRASE_FILE): the key stays locked until \`mailproxy keys unlock\`"
  unset MAILPROXY_KEY_PASSPHRASE_FILE
fi

if [ -f "$MAILPROXY_PROVIDER_PASSWORD_FILE" ]; then
  setup accounts set-provider-password "$MAILPROXY_EMAIL" --password-file "$MAILPROXY_PROVIDER_PASSWORD_FILE"
fi
if [ -f "$MAILPROXY_LOCAL_PASSWORD_FILE" ]; then
  setup accounts set-local-password "$MAILPROXY_EMAIL" --password-file "$MAILPROXY_LOCAL_PASSWORD_FILE"
fi

# The configuration takes the certificate and key from these variables (local-tls.cert-file, key-file).
if [ ! -f "$MAILPROXY_TLS_CERT_FILE" ] || [ ! -f "$MAILPROXY_TLS_KEY_FILE" ]; then
  unset MAILPROXY_TLS_CERT_FILE MAILPROXY_TLS_KEY_FILE
fi

exec /usr/local/bin/mailproxy run "$@"
