#!/usr/bin/env bash
# A real mail provider on loopback for mailproxy's tests: Dovecot (IMAP with implicit TLS and STARTTLS, LMTP,
# SASL for Postfix) and Postfix (submission with STARTTLS and with implicit TLS, delivering to Dovecot over LMTP),
# both from Debian's packages, with a test CA made here. Everything an instance needs (CA, configs, queue, mail,
# logs, pid files) lives under one run directory, so several instances can run side by side.
#
# Usage: teststack.sh <command> <run-dir> [args]
#   start          make the CA and configs, start Dovecot and Postfix (idempotent; kills leftovers by pid file)
#   stop           stop both servers (idempotent)
#   status         exit 0 when both servers run, print the ports
#   stop-postfix   stop only Postfix (for upstream failure tests)
#   start-postfix  start only Postfix again
#   deliver <run-dir> <email> <file> [folder]   store an RFC 822 message through Dovecot (doveadm save)
#   clear <run-dir> <email>                     expunge every message of a user in every folder
#   install        install the server packages (and the test clients) when missing; needs root
#   foreground     start, then stay in the foreground until signalled (container entry point)
#
# Ports (loopback only), from the environment on start, remembered in <run-dir>/ports.env afterwards:
#   TESTSTACK_IMAPS_PORT (default 10993)        IMAP with implicit TLS
#   TESTSTACK_IMAP_PORT (default 10143)         IMAP with mandatory STARTTLS
#   TESTSTACK_SUBMISSION_PORT (default 10587)   SMTP submission with mandatory STARTTLS
#   TESTSTACK_SUBMISSIONS_PORT (default 10465)  SMTP submission with implicit TLS
#   TESTSTACK_LISTEN (default 127.0.0.1)        listen address (0.0.0.0 inside a container)
#   TESTSTACK_CERT_NAMES (default none)          more subjectAltName entries for the server certificate, e.g.
#                                               IP:10.88.0.1 when clients reach a container through that address
# Users (login = address): alice@example.test, bob@example.test, carol@example.test; see USERS below.
#
# Exit status: 0 ok, 1 failure, 3 the stack cannot run here (the message says what to install or why).
set -euo pipefail

DOMAIN=example.test
# email:password, one per line; the Java side (org.mailproxy.testing.MailStack) lists the same users.
USERS="alice@example.test:alice-secret
bob@example.test:bob-secret
carol@example.test:carol-secret"
SERVER_PACKAGES=(dovecot-core dovecot-imapd dovecot-lmtpd postfix openssl)
CLIENT_PACKAGES=(isync swaks msmtp stunnel4 curl gnupg sq)

say() { echo "teststack: $*" >&2; }
die() { say "$*"; exit 1; }
unavailable() { say "unavailable: $*"; exit 3; }

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------------------------
# Packages

# The server packages' key files: checking them is much faster than asking dpkg on every start.
servers_present() {
  [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] && [ -x /usr/lib/dovecot/lmtp ] \
    && [ -x /usr/sbin/postfix ] && command -v openssl >/dev/null && command -v doveadm >/dev/null
}

missing_packages() {
  local pkg missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  echo "${missing[@]:-}"
}

# Installs the given packages when missing, as root, without letting the package scripts start the system's own
# Postfix and Dovecot (policy-rc.d 101), and stops them should they run anyway: only our instances serve here.
ensure_packages() {
  local missing
  missing=$(missing_packages "$@")
  [ -z "$missing" ] && return 0
  command -v apt-get >/dev/null || unavailable "packages missing ($missing) and no apt-get to install them"
  [ "$(id -u)" = 0 ] || unavailable "run as root, or install: apt-get install $missing"
  say "installing $missing"
  local own_policy=no
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=yes
  fi
  # Debian's postfix asks which kind of site to configure; "No configuration": each instance brings its own.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
  local rc=0
  {
    apt-get update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
  } </dev/null >/tmp/teststack-apt.$$.log 2>&1 || rc=$?
  [ "$own_policy" = yes ] && rm -f /usr/sbin/policy-rc.d
  if [ "$rc" != 0 ]; then
    tail -n 20 /tmp/teststack-apt.$$.log >&2
    rm -f /tmp/teststack-apt.$$.log
    die "apt-get install $missing failed"
  fi
  rm -f /tmp/teststack-apt.$$.log
  stop_system_services
}

stop_system_services() {
  local svc
  for svc in postfix dovecot; do
    if [ -x "/etc/init.d/$svc" ] && "/etc/init.d/$svc" status >/dev/null 2>&1; then
      say "stopping the system's $svc (this stack runs its own instances)"
      "/etc/init.d/$svc" stop </dev/null >/dev/null 2>&1 || true
    fi
  done
}

# ---------------------------------------------------------------------------------------------------------------
# Layout

setup_paths() {
  [ -n "${1:-}" ] || usage
  mkdir -p "$1"
  RUN=$(cd "$1" && pwd -P)
  CA="$RUN/ca"
  DOVECOT_ETC="$RUN/dovecot/etc"
  DOVECOT_RUN="$RUN/dovecot/run"
  DOVECOT_STATE="$RUN/dovecot/state"
  DOVECOT_CONF="$DOVECOT_ETC/dovecot.conf"
  POSTFIX_ETC="$RUN/postfix/etc"
  POSTFIX_QUEUE="$RUN/postfix/queue"
  POSTFIX_DATA="$RUN/postfix/data"
  MAIL="$RUN/mail"
  LOGS="$RUN/logs"
  PORTS_FILE="$RUN/ports.env"
  # Dovecot's sockets live under base_dir; a unix socket path must fit in 108 bytes.
  [ ${#DOVECOT_RUN} -le 70 ] || die "run directory path too long for unix sockets: $RUN"
}

load_ports() {
  if [ -f "$PORTS_FILE" ]; then
    # shellcheck disable=SC1090
    . "$PORTS_FILE"
  fi
}

wanted_ports() {
  IMAPS_PORT=${TESTSTACK_IMAPS_PORT:-10993}
  IMAP_PORT=${TESTSTACK_IMAP_PORT:-10143}
  SUBMISSION_PORT=${TESTSTACK_SUBMISSION_PORT:-10587}
  SUBMISSIONS_PORT=${TESTSTACK_SUBMISSIONS_PORT:-10465}
  LISTEN=${TESTSTACK_LISTEN:-127.0.0.1}
  local port
  for port in "$IMAPS_PORT" "$IMAP_PORT" "$SUBMISSION_PORT" "$SUBMISSIONS_PORT"; do
    [[ $port =~ ^[0-9]{1,5}$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || die "bad port: $port"
  done
  [[ $LISTEN =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || die "TESTSTACK_LISTEN must be an IPv4 address: $LISTEN"
}

write_ports() {
  cat > "$PORTS_FILE" <<EOF
IMAPS_PORT=$IMAPS_PORT
IMAP_PORT=$IMAP_PORT
SUBMISSION_PORT=$SUBMISSION_PORT
SUBMISSIONS_PORT=$SUBMISSIONS_PORT
LISTEN=$LISTEN
EOF
}

# ---------------------------------------------------------------------------------------------------------------
# Test CA and server certificate (EC P-256, generated in milliseconds; keys in PKCS#8 PEM)

make_ca() {
  case "${TESTSTACK_CERT_NAMES:-}" in
    *[!A-Za-z0-9.:,_-]*) die "TESTSTACK_CERT_NAMES must look like IP:10.0.0.1,DNS:host" ;;
  esac
  mkdir -p "$CA"
  if [ -s "$CA/ca.crt" ] && [ -s "$CA/server.crt" ] && [ -s "$CA/server.key" ]; then
    return 0
  fi
  local tmp; tmp=$(mktemp -d "$CA/.tmp.XXXXXX")
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/ca.key" 2>/dev/null
  openssl req -new -x509 -key "$tmp/ca.key" -out "$tmp/ca.crt" -days 3650 -sha256 \
    -subj "/O=mailproxy tests/CN=mailproxy test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tmp/server.key" 2>/dev/null
  openssl req -new -key "$tmp/server.key" -out "$tmp/server.csr" -subj "/O=mailproxy tests/CN=localhost" 2>/dev/null
  cat > "$tmp/server.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1${TESTSTACK_CERT_NAMES:+,$TESTSTACK_CERT_NAMES}
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
  openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.crt" -CAkey "$tmp/ca.key" -CAcreateserial \
    -out "$tmp/server.crt" -days 3650 -sha256 -extfile "$tmp/server.ext" 2>/dev/null
  cat "$tmp/server.crt" "$tmp/ca.crt" > "$tmp/server-chain.crt"
  chmod 600 "$tmp/ca.key" "$tmp/server.key"
  mv "$tmp/ca.key" "$tmp/ca.crt" "$tmp/server.key" "$tmp/server.crt" "$tmp/server-chain.crt" "$CA/"
  rm -rf "$tmp"
}

# ---------------------------------------------------------------------------------------------------------------
# Dovecot

write_dovecot_config() {
  mkdir -p "$DOVECOT_ETC" "$DOVECOT_RUN" "$DOVECOT_STATE" "$MAIL" "$LOGS"
  chmod 755 "$RUN" "$RUN/dovecot" "$DOVECOT_RUN"
  chown mail:mail "$MAIL"
  local line user pass
  : > "$DOVECOT_ETC/users"
  while IFS= read -r line; do
    user=${line%%:*}; pass=${line#*:}
    echo "$user:{PLAIN}$pass::::::" >> "$DOVECOT_ETC/users"
  done <<< "$USERS"
  chmod 640 "$DOVECOT_ETC/users"
  chgrp dovecot "$DOVECOT_ETC/users"
  local dovecot_listen=$LISTEN
  [ "$LISTEN" = 0.0.0.0 ] && dovecot_listen='*'
  local dh=""
  [ -f /usr/share/dovecot/dh.pem ] && dh="ssl_dh = </usr/share/dovecot/dh.pem"
  # Dovecot wants one setting per line, also inside sections.
  cat > "$DOVECOT_CONF" <<EOF
# Generated by teststack.sh: the test provider's IMAP server. Do not edit; rewritten on every start.
instance_name = mailproxy-teststack-$IMAPS_PORT
base_dir = $DOVECOT_RUN
state_dir = $DOVECOT_STATE
log_path = $LOGS/dovecot.log
info_log_path = $LOGS/dovecot.log
protocols = imap lmtp
listen = $dovecot_listen
shutdown_clients = yes

ssl = required
ssl_cert = <$CA/server-chain.crt
ssl_key = <$CA/server.key
ssl_min_protocol = TLSv1.2
$dh

auth_mechanisms = plain login
# No delay after a failed login: tests of wrong passwords stay fast.
auth_failure_delay = 0
auth_cache_size = 0
disable_plaintext_auth = yes

default_internal_user = dovecot
default_login_user = dovenull
mail_uid = mail
mail_gid = mail
first_valid_uid = 8
last_valid_uid = 0
mail_location = maildir:~/Maildir
# Store CRLF line ends, as received: the files under Maildir are then the exact bytes IMAP serves.
mail_save_crlf = yes
mail_fsync = never

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $DOVECOT_ETC/users
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$MAIL/%Lu
}

namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
    auto = create
  }
  mailbox Sent {
    special_use = \\Sent
    auto = create
  }
  mailbox Trash {
    special_use = \\Trash
    auto = create
  }
}

# Many sessions from one user and address: benchmarks open 1000 and more.
default_process_limit = 100
default_client_limit = 8000
default_vsz_limit = 1G

protocol imap {
  mail_max_userip_connections = 2000
}
protocol lmtp {
  postmaster_address = postmaster@$DOMAIN
}

service imap-login {
  inet_listener imap {
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = $IMAPS_PORT
    ssl = yes
  }
  # One login process serves many connections and keeps proxying TLS for them after login. None starts before
  # the first client, so the auth process starts only after start_dovecot has removed the penalty socket.
  service_count = 0
  process_min_avail = 0
  process_limit = 8
  client_limit = 1000
}
service imap {
  process_limit = 3000
  client_limit = 1
}
service lmtp {
  unix_listener lmtp {
    mode = 0666
  }
}
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
  client_limit = 8000
}
service anvil {
  client_limit = 8000
}
service stats {
  client_limit = 8000
}
service imap-hibernate {
  client_limit = 8000
}
service indexer-worker {
  process_limit = 2
}
EOF
}

# Prints the pid of this run directory's Dovecot master, if it runs. Builtins only: the container's wait loop
# calls it every second, and forks may fail for a moment on a busy machine.
dovecot_pid() {
  local pid
  { read -r pid < "$DOVECOT_RUN/master.pid"; } 2>/dev/null || return 1
  [ -n "$pid" ] && proc_stat "$pid" && [ "$STAT_STATE" != Z ] && [ "$STAT_COMM" = dovecot ] && echo "$pid"
}

start_dovecot() {
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  /usr/sbin/dovecot -c "$DOVECOT_CONF" </dev/null >>"$LOGS/dovecot.start.log" 2>&1 \
    || { tail -n 20 "$LOGS/dovecot.start.log" "$LOGS/dovecot.log" 2>/dev/null >&2; die "dovecot did not start"; }
  # After a failed login, Dovecot's auth process delays every later login from the same IP by 2 to 15 seconds
  # (auth-penalty.c, kept in the anvil process); auth_failure_delay = 0 does not cover that. Every test client
  # comes from 127.0.0.1, so one wrong-password test would slow all later tests. The auth process runs without
  # the penalty when it cannot find anvil's penalty socket at startup, so that socket goes.
  rm -f "$DOVECOT_RUN/anvil-auth-penalty"
}

stop_dovecot() {
  local pid
  pid=$(dovecot_pid) || { rm -f "$DOVECOT_RUN/master.pid"; return 0; }
  terminate "$pid"
  # Dovecot refuses to start while the pid in this file answers kill(pid, 0), which a zombie does.
  rm -f "$DOVECOT_RUN/master.pid"
}

# ---------------------------------------------------------------------------------------------------------------
# Postfix

write_postfix_config() {
  mkdir -p "$POSTFIX_ETC" "$POSTFIX_QUEUE" "$POSTFIX_DATA" "$LOGS"
  chown root:root "$POSTFIX_ETC" "$POSTFIX_QUEUE"
  chown postfix:postfix "$POSTFIX_DATA"
  local mailboxes="" line user postfix_interfaces=$LISTEN
  [ "$LISTEN" = 0.0.0.0 ] && postfix_interfaces=all
  while IFS= read -r line; do
    user=${line%%:*}
    mailboxes="${mailboxes:+$mailboxes, }$user=$user/"
  done <<< "$USERS"
  cat > "$POSTFIX_ETC/main.cf" <<EOF
# Generated by teststack.sh: the test provider's submission server. Do not edit; rewritten on every start.
compatibility_level = 3.6
queue_directory = $POSTFIX_QUEUE
data_directory = $POSTFIX_DATA
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
syslog_name = teststack-postfix
maillog_file = $LOGS/postfix.log
maillog_file_prefixes = $LOGS
myhostname = mail.$DOMAIN
mydomain = $DOMAIN
myorigin = \$mydomain
mydestination =
inet_interfaces = $postfix_interfaces
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_banner = \$myhostname ESMTP test provider
biff = no
append_dot_mydomain = no
readme_directory = no
alias_maps =
alias_database =
local_recipient_maps =
local_transport = error:5.1.1 no local delivery here
relay_domains =
relayhost =
default_transport = error:5.7.1 this test provider delivers only to $DOMAIN
virtual_mailbox_domains = $DOMAIN
virtual_mailbox_maps = inline:{ $mailboxes }
virtual_transport = lmtp:unix:$DOVECOT_RUN/lmtp
# Room for 50 MB messages after OpenPGP armour and MIME encoding.
message_size_limit = 209715200
mailbox_size_limit = 0
default_process_limit = 1000
smtpd_client_connection_count_limit = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 200
disable_vrfy_command = yes
delay_warning_time = 0
smtpd_tls_cert_file = $CA/server-chain.crt
smtpd_tls_key_file = $CA/server.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_protocols = >=TLSv1.2
smtpd_sasl_type = dovecot
smtpd_sasl_path = $DOVECOT_RUN/auth-postfix
smtpd_sasl_auth_enable = no
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = reject_unauth_destination, reject_unlisted_recipient
EOF
  local l="$LISTEN"
  [ "$l" = 0.0.0.0 ] && l=""
  cat > "$POSTFIX_ETC/master.cf" <<EOF
# Generated by teststack.sh. No port 25; submission (RFC 6409, STARTTLS RFC 3207) and submissions (RFC 8314).
# service type  private unpriv  chroot  wakeup  maxproc command + args
${l:+$l:}$SUBMISSION_PORT inet n - n - - smtpd
  -o syslog_name=teststack-postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_tls_auth_only=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
${l:+$l:}$SUBMISSIONS_PORT inet n - n - - smtpd
  -o syslog_name=teststack-postfix/submissions
  -o smtpd_tls_wrappermode=yes
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  # Postfix re-reads, after a one-second sleep, any table or config file changed within the last second
  # (load_file.c), and every postconf and postfix command of a start reads main.cf: date the files back.
  touch -d "@$(( $(date +%s) - 10 ))" "$POSTFIX_ETC/main.cf" "$POSTFIX_ETC/master.cf"
}

# Postfix starts from a non-default configuration directory only when the default main.cf lists that directory in
# alternate_config_directories (postfix(1), "-c"). Entries of run directories that no longer exist are dropped.
authorize_postfix_config_dir() {
  local lock=/etc/postfix/.teststack.lock
  mkdir -p /etc/postfix
  [ -f /etc/postfix/main.cf ] || : > /etc/postfix/main.cf
  (
    flock 9
    local current kept="" dir
    current=$(postconf -c /etc/postfix -h alternate_config_directories 2>/dev/null | tr ',' ' ')
    for dir in $current; do
      [ "$dir" = "$POSTFIX_ETC" ] && continue
      [ -d "$dir" ] || continue
      kept="$kept $dir"
    done
    kept="${kept# }${kept:+ }$POSTFIX_ETC"
    if [ "$kept" != "$(echo $current)" ]; then
      postconf -c /etc/postfix -e "alternate_config_directories = $kept"
    fi
  ) 9>"$lock"
}

postfix_pid() {
  local pid
  { read -r pid < "$POSTFIX_QUEUE/pid/master.pid"; } 2>/dev/null || return 1
  pid=${pid// /}
  [ -n "$pid" ] && proc_stat "$pid" && [ "$STAT_STATE" != Z ] && [ "$STAT_COMM" = master ] && echo "$pid"
}

start_postfix() {
  postfix_pid >/dev/null && return 0
  authorize_postfix_config_dir
  rm -f "$POSTFIX_QUEUE/pid/master.pid"
  # The first start of a queue runs postfix-script's integrity checks, which create the queue directories; later
  # starts skip them (its quick-start file), saving seconds of find and postsuper runs.
  [ -f "$POSTFIX_QUEUE/.teststack-checked" ] && : > "$POSTFIX_QUEUE/quick-start"
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  /usr/sbin/postfix -c "$POSTFIX_ETC" start </dev/null >>"$LOGS/postfix.start.log" 2>&1 \
    || { tail -n 20 "$LOGS/postfix.start.log" "$LOGS/postfix.log" 2>/dev/null >&2; die "postfix did not start"; }
  : > "$POSTFIX_QUEUE/.teststack-checked"
}

stop_postfix() {
  local pid
  pid=$(postfix_pid) || return 0
  terminate "$pid"
}

# ---------------------------------------------------------------------------------------------------------------

# Stops a server's master process and everything it started. Both masters lead their own process group; a graceful
# stop takes them a second or more, so after a short grace period the whole group is killed: this is test data.
terminate() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  wait_gone "$pid" 10 && group_gone "$pid" 10 && return 0
  kill -KILL "$pid" 2>/dev/null || true
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait_gone "$pid" 100 && group_gone "$pid" 100 || die "process $pid did not stop"
}

# Process facts from /proc/<pid>/stat ("pid (comm) state ppid pgrp ..."), read with shell builtins only: forks are
# slow on small virtual machines. (Not /proc/<pid>/exe: Postfix's master is not dumpable, and in a container
# without CAP_SYS_PTRACE even root may not read its exe link.) Sets STAT_COMM and STAT_STATE.
proc_stat() {
  local line rest
  { read -r line < "/proc/$1/stat"; } 2>/dev/null || return 1
  STAT_COMM=${line#*(}
  STAT_COMM=${STAT_COMM%)*}
  rest=${line##*) }
  STAT_STATE=${rest%% *}
}

comm() {
  proc_stat "$1" && echo "$STAT_COMM"
}

# A dead master is reparented to pid 1, which may reap it late: a zombie counts as gone.
alive() {
  proc_stat "$1" && [ "$STAT_STATE" != Z ]
}

wait_gone() {
  local i
  for i in $(seq 1 "$2"); do
    alive "$1" || return 0
    sleep 0.05
  done
  return 1
}

group_alive() {
  # /proc/<pid>/stat: pid (comm) state ppid pgrp ...; a live member of group $1 has a state other than Z.
  cat /proc/[0-9]*/stat 2>/dev/null | sed -n 's/^.*) \([A-Z]\) [0-9]* \([0-9]*\) .*/\1 \2/p' | grep -q "^[^Z] $1\$"
}

group_gone() {
  local i
  for i in $(seq 1 "$2"); do
    group_alive "$1" || return 0
    sleep 0.05
  done
  return 1
}

# Waits (up to 30 s: a loaded machine can be slow) until each port accepts connections.
wait_listening() {
  local port i
  for port in "$@"; do
    for i in $(seq 1 600); do
      (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
      if [ "$i" = 600 ]; then
        tail -n 20 "$LOGS/dovecot.log" "$LOGS/postfix.log" "$LOGS/postfix.start.log" "$LOGS/dovecot.start.log" \
          2>/dev/null >&2
        die "nothing listens on port $port; see $LOGS"
      fi
      sleep 0.05
    done
  done
}

check_can_run() {
  [ "$(uname -s)" = Linux ] || unavailable "needs Linux with Debian's dovecot and postfix packages"
  if [ "$(id -u)" != 0 ]; then
    local missing; missing=$(missing_packages "${SERVER_PACKAGES[@]}")
    [ -n "$missing" ] && unavailable "run as root, or install: apt-get install $missing"
    unavailable "Postfix and Dovecot run as root here; run the tests as root"
  fi
  servers_present || ensure_packages "${SERVER_PACKAGES[@]}"
}

running() {
  dovecot_pid >/dev/null && postfix_pid >/dev/null
}

# Servers of run directories that were deleted while they ran (say by "mvn clean" after a killed test JVM) are
# recognised by this script's layout in their command line or environment and stopped. Only processes in this
# shell's mount namespace count: a container's servers (same layout, other filesystem) are visible in the host's
# /proc too, and their paths do not exist here.
sweep_orphans() {
  local file pid conf own_ns
  own_ns=$(readlink /proc/self/ns/mnt 2>/dev/null) || return 0
  for file in $(grep -a -l -e '/dovecot/etc/dovecot\.conf' /proc/[0-9]*/cmdline 2>/dev/null); do
    pid=${file#/proc/}; pid=${pid%/cmdline}
    proc_stat "$pid" && [ "$STAT_COMM" = dovecot ] || continue
    [ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$own_ns" ] || continue
    conf=$(tr '\0' '\n' < "$file" 2>/dev/null | sed -n '/^-c$/{n;p;}')
    case "$conf" in
      */dovecot/etc/dovecot.conf) [ -e "$conf" ] || { say "stopping orphaned dovecot $pid ($conf)"; terminate "$pid"; } ;;
    esac
  done
  for file in $(grep -a -l -e 'MAIL_CONFIG=.*/postfix/etc' /proc/[0-9]*/environ 2>/dev/null); do
    pid=${file#/proc/}; pid=${pid%/environ}
    proc_stat "$pid" && [ "$STAT_COMM" = master ] || continue
    [ "$(readlink "/proc/$pid/ns/mnt" 2>/dev/null)" = "$own_ns" ] || continue
    conf=$(tr '\0' '\n' < "$file" 2>/dev/null | sed -n 's/^MAIL_CONFIG=//p')
    case "$conf" in
      */postfix/etc) [ -d "$conf" ] || { say "stopping orphaned postfix $pid ($conf)"; terminate "$pid"; } ;;
    esac
  done
}

cmd_start() {
  check_can_run
  wanted_ports
  local want_imaps=$IMAPS_PORT want_imap=$IMAP_PORT want_sub=$SUBMISSION_PORT want_subs=$SUBMISSIONS_PORT \
    want_listen=$LISTEN
  if [ -f "$PORTS_FILE" ] && running; then
    load_ports
    if [ "$IMAPS_PORT:$IMAP_PORT:$SUBMISSION_PORT:$SUBMISSIONS_PORT:$LISTEN" = \
         "$want_imaps:$want_imap:$want_sub:$want_subs:$want_listen" ]; then
      say "already running in $RUN"
      print_ports
      return 0
    fi
  fi
  stop_all
  sweep_orphans
  # A half-started stack is stopped again, so that the next start finds nothing behind.
  trap 'stop_all >/dev/null 2>&1 || true' EXIT
  IMAPS_PORT=$want_imaps; IMAP_PORT=$want_imap; SUBMISSION_PORT=$want_sub; SUBMISSIONS_PORT=$want_subs
  LISTEN=$want_listen
  make_ca
  write_dovecot_config
  write_postfix_config
  write_ports
  # Postfix takes most of the start time and needs Dovecot only once mail flows: both start at once.
  local postfix_starter
  start_postfix &
  postfix_starter=$!
  start_dovecot
  wait "$postfix_starter" || die "postfix did not start"
  wait_listening "$IMAPS_PORT" "$IMAP_PORT" "$SUBMISSION_PORT" "$SUBMISSIONS_PORT"
  trap - EXIT
  print_ports
}

stop_all() {
  stop_postfix
  stop_dovecot
}

print_ports() {
  echo "IMAPS_PORT=$IMAPS_PORT IMAP_PORT=$IMAP_PORT SUBMISSION_PORT=$SUBMISSION_PORT SUBMISSIONS_PORT=$SUBMISSIONS_PORT"
}

cmd_status() {
  load_ports
  local d=stopped p=stopped
  dovecot_pid >/dev/null && d=running
  postfix_pid >/dev/null && p=running
  echo "dovecot=$d postfix=$p run-dir=$RUN"
  [ -f "$PORTS_FILE" ] && print_ports
  [ "$d" = running ] && [ "$p" = running ]
}

known_user() {
  local line
  while IFS= read -r line; do
    [ "${line%%:*}" = "$1" ] && return 0
  done <<< "$USERS"
  die "unknown user $1"
}

cmd_deliver() {
  local user=${1:?user} file=${2:?file} folder=${3:-INBOX}
  known_user "$user"
  [ -f "$file" ] || die "no such file: $file"
  dovecot_pid >/dev/null || die "dovecot is not running in $RUN"
  doveadm -c "$DOVECOT_CONF" save -u "$user" -m "$folder" < "$file"
}

cmd_clear() {
  local user=${1:?user}
  known_user "$user"
  dovecot_pid >/dev/null || die "dovecot is not running in $RUN"
  doveadm -c "$DOVECOT_CONF" expunge -u "$user" mailbox '*' all
}

cmd_install() {
  [ "$(id -u)" = 0 ] || {
    local missing; missing=$(missing_packages "${SERVER_PACKAGES[@]}" "${CLIENT_PACKAGES[@]}")
    [ -z "$missing" ] && return 0
    unavailable "run as root, or install: apt-get install $missing"
  }
  ensure_packages "${SERVER_PACKAGES[@]}" "${CLIENT_PACKAGES[@]}"
}

main() {
  local cmd=${1:-}
  shift || true
  case "$cmd" in
    install) cmd_install ;;
    start) setup_paths "${1:-}"; cmd_start ;;
    stop) setup_paths "${1:-}"; stop_all ;;
    status) setup_paths "${1:-}"; cmd_status ;;
    stop-postfix) setup_paths "${1:-}"; stop_postfix ;;
    start-postfix)
      setup_paths "${1:-}"; check_can_run; load_ports
      start_postfix; wait_listening "$SUBMISSION_PORT" "$SUBMISSIONS_PORT" ;;
    deliver) setup_paths "${1:-}"; shift; cmd_deliver "$@" ;;
    clear) setup_paths "${1:-}"; shift; cmd_clear "$@" ;;
    foreground)
      # Container entry point: stays up while Dovecot runs (Postfix may be stopped on purpose by stop-postfix).
      setup_paths "${1:-}"; cmd_start
      trap 'stop_all; exit 0' TERM INT
      say "ready"
      local misses=0
      while [ "$misses" -lt 5 ]; do
        if dovecot_pid >/dev/null; then misses=0; else misses=$((misses + 1)); fi
        sleep 1 & wait $! || true
      done
      die "dovecot stopped; see $LOGS" ;;
    *) usage ;;
  esac
}

main "$@"
