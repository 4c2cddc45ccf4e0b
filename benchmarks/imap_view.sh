#!/usr/bin/env bash
# Decrypted-view benchmark: what showing PGP/MIME mail decrypted costs an IMAP client, compared with the tool a user
# would otherwise put between a plain-IMAP client and a TLS-only provider (stunnel) plus the time gpg needs to
# decrypt the same messages; and one 50 MB encrypted attachment served by a proxy with a 128 MB heap.
#
#   sudo benchmarks/imap_view.sh            (root: the test stack runs Dovecot and Postfix)
#
# Steps: start the test stack (scripts/teststack) on free ports in a fresh run directory; make alice's key with
# `mailproxy keys generate` (passphrase in an owner-only file) and import it, secret part included, into a temporary
# GnuPG home; write relay.sh's mailbox (BENCH_MESSAGES messages, log-uniform 2 KB .. 2 MB, fixed seed) straight into
# alice's Maildir, every other message PGP/MIME-encrypted to alice by gpg (pgp_mailbox.py seed); start stunnel
# (client mode, TLS to Dovecot verified against the test CA) and mailproxy (imaps:// upstream, local side plain,
# alice's key unlocked at start, so the decrypted view is on). Then rounds of three mbsync runs into a fresh local
# Maildir each: through the proxy with a cold cache (the proxy stopped, data-dir/cache deleted, the proxy started
# again; the restart is not timed), through the proxy again with the cache that run filled (warm), and through
# stunnel; and gpg decrypting every encrypted payload (pgp_mailbox.py gpg-time). Every sync is checked: every message
# once, plain ones as stored, encrypted ones decrypted to the original body through the proxy and still armored
# through stunnel, and the proxy's cold and warm syncs byte-identical. BENCH_WARMUP_ROUNDS untimed rounds first,
# then BENCH_ROUNDS timed rounds (cold+warm and stunnel in alternating order). Printed: each round's seconds and the
# proxy's CPU seconds, the medians, warm/stunnel (target <= 1.2) and cold/(stunnel + gpg) (target <= 1.0).
# Last, the proxy is restarted with BENCH_BIG_JAVA_OPTS (-Xmx128m) and curl fetches one message with a
# BENCH_BIG_MB (50) million octet attachment, encrypted, twice (cold, then from the cache); the attachment's SHA-256
# must match the original each time; printed: the times and the proxy's peak RSS (VmHWM, reset before).
# Results go to stdout and benchmarks/results/imap-view-<time>.txt.
#
# Environment (defaults in brackets):
#   BENCH_MESSAGES [2000]   messages in the mailbox (half encrypted)    BENCH_SEED [20250901]  generator seed
#   BENCH_ROUNDS [3]        timed rounds                                BENCH_WARMUP_ROUNDS [1] untimed rounds first
#   BENCH_JAR [proxy-app/target/mailproxy.jar]  the proxy to measure (built with ./mailproxy if missing)
#   BENCH_JAVA_OPTS []      JVM options for the proxy in the rounds (none: the JVM's defaults are what users get)
#   BENCH_BIG_MB [50]       attachment of the big message, million octets (0: skip)
#   BENCH_BIG_JAVA_OPTS [-Xmx128m]  JVM options for the proxy serving the big message
#   BENCH_NEAR_DIR [/dev/shm when writable]  where mbsync writes; memory keeps disk noise out of the timing
#   BENCH_KEEP [0]          1 keeps the run directory (logs, configs, keys) instead of deleting it
set -euo pipefail

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
MESSAGES=${BENCH_MESSAGES:-2000}
COLD_MODE=${BENCH_COLD:-restart}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUPS=${BENCH_WARMUP_ROUNDS:-1}
SEED=${BENCH_SEED:-20250901}
JAR=${BENCH_JAR:-$repo/proxy-app/target/mailproxy.jar}
JAVA_OPTS=${BENCH_JAVA_OPTS:-}
BIG_MB=${BENCH_BIG_MB:-50}
BIG_JAVA_OPTS=${BENCH_BIG_JAVA_OPTS--Xmx128m}
USER_EMAIL=alice@example.test
USER_PASS=alice-secret

say() { echo "imap-view-bench: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: the test stack starts Dovecot and Postfix"
for tool in mbsync stunnel4 python3 java gpg curl; do
  command -v "$tool" >/dev/null || die "needs $tool (apt-get install isync stunnel4 python3 openjdk-17-jdk-headless gnupg curl)"
done
case "$COLD_MODE" in restart | primed) ;; *) die "BENCH_COLD must be restart or primed" ;; esac
[ $((MESSAGES % 2)) = 0 ] || die "BENCH_MESSAGES must be even (every other message is encrypted)"

ensure_jar

prepare_run imap-view view near
export GNUPGHOME="$RUN/gnupg"
PROXY_PID="" STUNNEL_PID=""

cleanup() {
  local rc=$?
  set +e
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
  [ -n "$STUNNEL_PID" ] && kill "$STUNNEL_PID" 2>/dev/null && wait "$STUNNEL_PID" 2>/dev/null
  "$repo/scripts/teststack/teststack.sh" stop "$STACK" >/dev/null 2>&1
  gpgconf --homedir "$GNUPGHOME" --kill all >/dev/null 2>&1
  rm -rf "$NEAR_BASE"
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
    say "run directory kept: $RUN (logs in $RUN/logs)"
    rm -rf "$STACK/mail" "$RUN/seed/payloads"
  else
    rm -rf "$RUN"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Free loopback ports, all held at once while chosen so that they differ.
read -r P_IMAPS P_IMAP P_SUB P_SUBS P_PROXY P_PROXY_SMTP P_STUNNEL < <(free_ports 7)
ulimit -n "$(ulimit -Hn)"

out "mailproxy decrypted-view benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
out "commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown); jar $JAR ($(date -u -r "$JAR" '+%Y-%m-%d %H:%M UTC'))"
stale=$(cd "$repo" && find pom.xml config proxy-core proxy-imap proxy-smtp proxy-app -path '*/src/main/*' -newer "$JAR" \
  -type f -print -quit 2>/dev/null || true)
[ -n "$stale" ] && out "NOTE: the jar is older than $stale (rebuild with ./mailproxy version to measure the sources)"
out "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); load at start $(load)"
out "mbsync $(mbsync --version | awk '{print $2}'), $(stunnel4 -version 2>&1 | grep -m1 '^stunnel' | cut -d' ' -f1-2), $(gpg --version | head -1), $(java -version 2>&1 | head -1)"

# ---------------------------------------------------------------------------------------------------------------
say "starting the test stack in $STACK"
start_test_stack
CA="$STACK/ca/ca.crt"
DOVECONF="$STACK/dovecot/etc/dovecot.conf"

# A private copy of the proxy, so that a rebuild in the checkout during the run cannot change what is measured.
mkdir -p "$RUN/app"
cp -rp "$JAR" "$(dirname "$JAR")/lib" "$RUN/app/"
APP="$RUN/app/$(basename "$JAR")"
mkdir -m 700 "$RUN/proxy-data"
umask 077
printf 'bench passphrase %s\n' "$RANDOM$RANDOM$RANDOM" > "$RUN/alice.passphrase"
printf '%s' "$USER_PASS" > "$RUN/pass"
umask 022
cat > "$RUN/proxy.conf" <<EOC
mailproxy {
  data-dir = "$RUN/proxy-data"
  imap.listen = "127.0.0.1:$P_PROXY"
  smtp.listen = "127.0.0.1:$P_PROXY_SMTP"
  http.listen = "off"
  tls.trusted-ca-file = "$CA"
  local-tls.mode = "off"
  accounts = [{
    email = "$USER_EMAIL", login = "$USER_EMAIL"
    imap.upstream = "imaps://localhost:$P_IMAPS", smtp.upstream = "smtps://localhost:$P_SUBS"
    key.passphrase-file = "$RUN/alice.passphrase"
  }]
}
EOC

say "making alice's key"
mp() { java -jar "$APP" "$@" --config "$RUN/proxy.conf"; }
mp keys generate --email "$USER_EMAIL" --passphrase-file "$RUN/alice.passphrase" >>"$RUN/logs/keys.log" 2>&1 \
  || { cat "$RUN/logs/keys.log" >&2; die "mailproxy keys generate failed"; }
mp keys export --secret "$USER_EMAIL" > "$RUN/alice-secret.asc" 2>>"$RUN/logs/keys.log" || die "keys export --secret failed"
mkdir -m 700 "$GNUPGHOME"
# The agent keeps the passphrase, not the unprotected key: every decryption runs the key's S2K again, which gpg-agent
# calibrates to about 100 ms when it protects an imported key. The proxy holds its key unlocked, so gpg's key is
# protected with the smallest S2K count instead: like a key without a passphrase, but the same passphrase file.
echo "s2k-count 65536" > "$GNUPGHOME/gpg-agent.conf"
gpg --batch --quiet --pinentry-mode loopback --passphrase-file "$RUN/alice.passphrase" --import "$RUN/alice-secret.asc" \
  >>"$RUN/logs/gpg.log" 2>&1 || { cat "$RUN/logs/gpg.log" >&2; die "gpg cannot import alice's secret key"; }
gpg --batch --list-secret-keys "$USER_EMAIL" >>"$RUN/logs/gpg.log" 2>&1 || die "gpg has no secret key for $USER_EMAIL"
out "key: $(mp keys list 2>/dev/null | tr -s ' \n' ' ' | cut -c1-160)"

# ---------------------------------------------------------------------------------------------------------------
say "writing $MESSAGES messages, every other one encrypted by gpg"
home="$STACK/mail/$USER_EMAIL"
mkdir -p "$RUN/seed"
t0=$EPOCHREALTIME
seeded=$(python3 "$here/pgp_mailbox.py" seed --maildir "$home/Maildir" --out "$RUN/seed" --gpg-home "$GNUPGHOME" \
  --recipient "$USER_EMAIL" --count "$MESSAGES" --seed "$SEED") || die "seeding failed"
chown -R mail:mail "$home"
chmod -R go-rwx "$home"
counted=$(doveadm -c "$DOVECONF" mailbox status -u "$USER_EMAIL" messages INBOX | grep -o 'messages=[0-9]*' || true)
[ "$counted" = "messages=$MESSAGES" ] || die "Dovecot counts '$counted' in INBOX, expected $MESSAGES"
if [ "$COLD_MODE" = primed ]; then
  doveadm -c "$DOVECONF" mailbox create -u "$USER_EMAIL" Prime && doveadm -c "$DOVECONF" copy -u "$USER_EMAIL" Prime mailbox INBOX all \
    || die "cannot copy INBOX to the folder Prime"
fi
out "mailbox: $seeded (seed $SEED; written in $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}')s); Dovecot: $counted"
sample=$(cd "$RUN/seed/payloads" && set -- *.asc && echo "$1")
out "payload packets (gpg defaults): $(gpg --batch --pinentry-mode loopback --passphrase-file "$RUN/alice.passphrase" \
  --list-packets "$RUN/seed/payloads/$sample" 2>&1 | grep -o -e 'pubkey enc packet: version [0-9]*, algo [0-9]*' \
  -e 'encrypted data packet' -e 'mdc_method: [0-9]*' -e 'compressed packet: algo=[0-9]*' \
  -e 'AES[0-9]*\|CAMELLIA[0-9]*\|TWOFISH' | sort -u | tr '\n' ';')"

# ---------------------------------------------------------------------------------------------------------------
say "starting stunnel"
start_stunnel

wait_port() {
  local i
  for i in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || { tail -n 30 "$RUN/logs/$3.log" >&2; die "$3 exited"; }
    sleep 0.1
  done
  die "$3 does not listen on $1"
}
wait_port "$P_STUNNEL" "$STUNNEL_PID" stunnel

PROXY_STARTS=0
# (Re)starts the proxy with JVM options $1; with "cold", its cache is deleted while it is stopped.
start_proxy() {
  local opts=$1 cache=${2:-}
  stop_proxy
  [ "$cache" = cold ] && rm -rf "$RUN/proxy-data/cache"
  PROXY_STARTS=$((PROXY_STARTS + 1))
  echo "=== start $PROXY_STARTS (${opts:-default JVM options}${cache:+, $cache cache})" >>"$RUN/logs/proxy.log"
  # shellcheck disable=SC2086 # the options are several words on purpose
  java $opts -jar "$APP" run --config "$RUN/proxy.conf" </dev/null >>"$RUN/logs/proxy.log" 2>&1 &
  PROXY_PID=$!
  wait_port "$P_PROXY" "$PROXY_PID" proxy
}
stop_proxy() {
  if [ -n "$PROXY_PID" ]; then
    kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null || true
    PROXY_PID=""
  fi
}
say "starting mailproxy"
start_proxy "$JAVA_OPTS" cold
# shellcheck disable=SC2086
out "proxy JVM options: ${JAVA_OPTS:-(none)}; ergonomics: $(java $JAVA_OPTS -XX:+PrintCommandLineFlags -version 2>&1 | head -1)"
out "proxy log on start: $(grep -m1 -e 'unlocked' "$RUN/logs/proxy.log" | sed 's/^.* - //' || echo '(no key unlocked)')"

# ---------------------------------------------------------------------------------------------------------------
case "$(mbsync --version | awk '{print $2}')" in
  1.[0-4].*) TLSKW=SSLType ;;
  *) TLSKW=TLSType ;;
esac
write_rc() {
  local name=$1 port=$2 folder=${3:-INBOX} near="$NEAR_BASE/$1"
  cat > "$RUN/mbsyncrc.$name" <<EOC
FSync no

IMAPAccount $name
Host localhost
Port $port
User $USER_EMAIL
PassCmd "cat $RUN/pass"
Timeout 300
$TLSKW None
AuthMechs LOGIN

IMAPStore $name-far
Account $name

MaildirStore $name-near
Path $near/
Inbox $near/INBOX

Channel $name
Far :$name-far:
Near :$name-near:
Patterns $folder
Create Near
Sync Pull
SyncState *
EOC
}
write_rc proxy "$P_PROXY"
write_rc stunnel "$P_STUNNEL"
write_rc prime "$P_PROXY" Prime

TICK=$(getconf CLK_TCK)
# One sync through $1 (proxy | stunnel), checked against the manifest; sets LAST (seconds), LAST_CPU (the relay
# process's CPU seconds meanwhile), LAST_DIGEST (of the messages written), LAST_CHECK.
sync_once() {
  local name=$1 near="$NEAR_BASE/$1" t0 t1 pid c0 c1 check
  rm -rf "$near"
  mkdir -p "$near"
  sync
  if [ "$name" = proxy ]; then pid=$PROXY_PID; else pid=$STUNNEL_PID; fi
  c0=$(cpu_ticks "$pid")
  t0=$EPOCHREALTIME
  mbsync -q -c "$RUN/mbsyncrc.$name" "$name" >>"$RUN/logs/mbsync-$name.log" 2>&1 \
    || { tail -n 20 "$RUN/logs/mbsync-$name.log" >&2; tail -n 20 "$RUN/logs/proxy.log" >&2; die "mbsync through $name failed"; }
  t1=$EPOCHREALTIME
  c1=$(cpu_ticks "$pid")
  check=$(python3 "$here/pgp_mailbox.py" check --near "$near/INBOX" --manifest "$RUN/seed/manifest.tsv" --path "$name") \
    || { echo "$check" >&2; tail -n 20 "$RUN/logs/proxy.log" >&2; die "the sync through $name is wrong"; }
  rm -rf "$near"
  LAST=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
  LAST_CPU=$(awk -v a="$c0" -v b="$c1" -v t="$TICK" 'BEGIN {printf "%.2f", (b - a) / t}')
  LAST_DIGEST=$(sed -n 's/.* digest=\([0-9a-f]*\).*/\1/p' <<<"$check")
  LAST_CHECK=${check% digest=*}
}

PROXY_DIGEST=""
# Cold then warm through the proxy: sets COLD, COLD_CPU, WARM, WARM_CPU; both must write the same messages.
proxy_pair() {
  start_proxy "$JAVA_OPTS" cold
  PRIME=""
  if [ "$COLD_MODE" = primed ]; then
    # The JIT warmed by the same work on another folder: its views go into the cache too, INBOX's stay cold.
    local t0=$EPOCHREALTIME c0
    c0=$(cpu_ticks "$PROXY_PID")
    rm -rf "$NEAR_BASE/prime"
    mkdir -p "$NEAR_BASE/prime"
    mbsync -q -c "$RUN/mbsyncrc.prime" prime >>"$RUN/logs/mbsync-prime.log" 2>&1 \
      || { tail -n 20 "$RUN/logs/mbsync-prime.log" >&2; die "mbsync of the folder Prime failed"; }
    [ "$(find "$NEAR_BASE/prime/Prime" -type f -path '*/cur/*' -o -type f -path '*/new/*' | wc -l)" = "$MESSAGES" ] \
      || die "the sync of the folder Prime is incomplete"
    rm -rf "$NEAR_BASE/prime"
    PRIME="$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}')s, CPU $(awk -v a="$c0" -v b="$(cpu_ticks "$PROXY_PID")" -v t="$TICK" 'BEGIN {printf "%.1f", (b - a) / t}')s"
  fi
  sync_once proxy
  COLD=$LAST COLD_CPU=$LAST_CPU
  local cold_digest=$LAST_DIGEST
  [ -d "$RUN/proxy-data/cache" ] || die "the proxy made no cache under $RUN/proxy-data/cache"
  CACHE_SIZE=$(du -sm "$RUN/proxy-data/cache" | cut -f1)
  sync_once proxy
  WARM=$LAST WARM_CPU=$LAST_CPU
  [ "$LAST_DIGEST" = "$cold_digest" ] || die "the proxy's warm sync differs from its cold sync"
  [ -z "$PROXY_DIGEST" ] && PROXY_DIGEST=$cold_digest
  [ "$cold_digest" = "$PROXY_DIGEST" ] || die "the proxy's messages differ from an earlier round's"
  PROXY_CHECK=$LAST_CHECK
}
# gpg decrypting every payload: sets GPG_BATCH (one process) and GPG_SINGLE (one process per message), seconds.
gpg_time() {
  local line
  line=$(python3 "$here/pgp_mailbox.py" gpg-time --payloads "$RUN/seed/payloads" --scratch "$NEAR_BASE/gpg" \
    --gpg-home "$GNUPGHOME" --passphrase-file "$RUN/alice.passphrase" 2>>"$RUN/logs/gpg.log") \
    || { tail -n 10 "$RUN/logs/gpg.log" >&2; die "gpg could not decrypt the payloads"; }
  GPG_BATCH=$(sed -n 's/.* batch=\([0-9.]*\).*/\1/p' <<<"$line")
  GPG_SINGLE=$(sed -n 's/.* single=\([0-9.]*\).*/\1/p' <<<"$line")
  GPG_LINE=$line
}

out ""
out "mbsync of INBOX ($MESSAGES messages, $((MESSAGES / 2)) PGP/MIME) into an empty Maildir under $BENCH_NEAR_DIR, wall-clock seconds;"
if [ "$COLD_MODE" = primed ]; then
  out "cold: proxy restarted with data-dir/cache deleted, then (untimed) the same mailbox synced from the folder Prime"
  out "      (a copy: other UIDVALIDITY, other cache entries) so that the JIT is warm; warm: the next sync of INBOX;"
else
  out "cold: proxy restarted with data-dir/cache deleted (restart not timed; a fresh JVM); warm: the next sync, cache filled;"
fi
out "gpg: every payload decrypted by ONE gpg process (--decrypt-files, agent warm) / by one gpg process per message"
for w in $(seq 1 "$WARMUPS"); do
  say "warm-up round $w"
  sync_once stunnel; s=$LAST
  proxy_pair
  gpg_time
  out "warm-up $w (not counted): cold ${COLD}s (proxy CPU ${COLD_CPU}s), warm ${WARM}s (CPU ${WARM_CPU}s), stunnel ${s}s, gpg ${GPG_BATCH}s / ${GPG_SINGLE}s; load $(load)${PRIME:+; JIT priming $PRIME}"
done

declare -A T
out "$(printf '%-7s %8s %8s %8s %9s %10s %9s %9s %9s   %s' round cold warm stunnel gpg-batch gpg-single cold-CPU warm-CPU stunn-CPU 'order; load before')"
for r in $(seq 1 "$ROUNDS"); do
  before=$(load)
  if [ $((r % 2)) = 1 ]; then order="proxy stunnel"; else order="stunnel proxy"; fi
  say "round $r: $order"
  for path in $order; do
    if [ "$path" = proxy ]; then
      proxy_pair
      T[cold,$r]=$COLD T[warm,$r]=$WARM T[coldcpu,$r]=$COLD_CPU T[warmcpu,$r]=$WARM_CPU T[cache,$r]=$CACHE_SIZE
      T[prime,$r]=$PRIME
    else
      sync_once stunnel
      T[stunnel,$r]=$LAST T[stcpu,$r]=$LAST_CPU
    fi
  done
  gpg_time
  T[gpg,$r]=$GPG_BATCH T[gpg1,$r]=$GPG_SINGLE
  out "$(printf '%-7s %8s %8s %8s %9s %10s %9s %9s %9s   %s; %s%s' "$r" "${T[cold,$r]}" "${T[warm,$r]}" "${T[stunnel,$r]}" \
    "${T[gpg,$r]}" "${T[gpg1,$r]}" "${T[coldcpu,$r]}" "${T[warmcpu,$r]}" "${T[stcpu,$r]}" \
    "cold+warm $( [ "$order" = 'proxy stunnel' ] && echo first || echo second)" "$before" "${PRIME:+; JIT priming $PRIME}")"
done
med() { local k=$1 r; for r in $(seq 1 "$ROUNDS"); do echo "${T[$k,$r]}"; done | median_stdin 2; }
m_cold=$(med cold); m_warm=$(med warm); m_st=$(med stunnel); m_gpg=$(med gpg); m_gpg1=$(med gpg1)
out "$(printf '%-7s %8s %8s %8s %9s %10s %9s %9s %9s' median "$m_cold" "$m_warm" "$m_st" "$m_gpg" "$m_gpg1" "$(med coldcpu)" "$(med warmcpu)" "$(med stcpu)")"
verdict() { awk -v r="$1" -v t="$2" 'BEGIN {print (r <= t) ? "meets" : "misses"}'; }
r_warm=$(awk -v a="$m_warm" -v b="$m_st" 'BEGIN {printf "%.3f", a / b}')
r_cold=$(awk -v a="$m_cold" -v b="$m_st" -v g="$m_gpg" 'BEGIN {printf "%.3f", a / (b + g)}')
r_cold1=$(awk -v a="$m_cold" -v b="$m_st" -v g="$m_gpg1" 'BEGIN {printf "%.3f", a / (b + g)}')
out "warm / stunnel (medians): $r_warm ($(verdict "$r_warm" 1.2) the target <= 1.2)"
out "cold / (stunnel + gpg, one process): $r_cold ($(verdict "$r_cold" 1.0) the target <= 1.0); with one gpg process per message: $r_cold1"
out "per round: warm/stunnel $(for r in $(seq 1 "$ROUNDS"); do awk -v a="${T[warm,$r]}" -v b="${T[stunnel,$r]}" 'BEGIN {printf "%.3f ", a / b}'; done)" \
  "| cold/(stunnel+gpg) $(for r in $(seq 1 "$ROUNDS"); do awk -v a="${T[cold,$r]}" -v b="${T[stunnel,$r]}" -v g="${T[gpg,$r]}" 'BEGIN {printf "%.3f ", a / (b + g)}'; done)"
out "checks: proxy $PROXY_CHECK (cold and warm byte-identical in every round); stunnel: every encrypted message still armored"
out "gpg (last round): $GPG_LINE"
out "proxy cache after a cold sync: $(for r in $(seq 1 "$ROUNDS"); do printf '%s ' "${T[cache,$r]}"; done)MB on disk"
out "proxy: RSS $(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$PROXY_PID/status") MiB, peak $(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$PROXY_PID/status") MiB (since its last start)"
out "proxy log: $(grep -c ' WARN ' "$RUN/logs/proxy.log" || true) WARN, $(grep -c ' ERROR ' "$RUN/logs/proxy.log" || true) ERROR lines"

# ---------------------------------------------------------------------------------------------------------------
if [ "$BIG_MB" -gt 0 ]; then
  out ""
  out "one message with a $BIG_MB MB attachment (base64), PGP/MIME, fetched with curl (UID FETCH BODY[]) through the proxy (JVM options: ${BIG_JAVA_OPTS:-none})"
  say "writing the big message into the folder Big"
  big=$(python3 "$here/pgp_mailbox.py" big --maildir "$home/Maildir/.Big" --gpg-home "$GNUPGHOME" \
    --recipient "$USER_EMAIL" --mb "$BIG_MB" --seed "$SEED") || die "cannot write the big message"
  chown -R mail:mail "$home"
  chmod -R go-rwx "$home"
  out "stored: $big"
  big_sha=$(sed -n 's/.* sha256=\([0-9a-f]*\).*/\1/p' <<<"$big")
  start_proxy "$BIG_JAVA_OPTS" cold
  umask 077
  printf 'machine 127.0.0.1 login %s password %s\n' "$USER_EMAIL" "$USER_PASS" > "$RUN/netrc"
  umask 022
  for attempt in cold warm; do
    echo 5 > "/proc/$PROXY_PID/clear_refs" 2>/dev/null || say "cannot reset the peak RSS"
    rss0=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$PROXY_PID/status")
    c0=$(cpu_ticks "$PROXY_PID")
    t0=$EPOCHREALTIME
    curl --silent --show-error --netrc-file "$RUN/netrc" --max-time 600 \
      "imap://127.0.0.1:$P_PROXY/Big;UID=1" -o "$NEAR_BASE/big.eml" 2>>"$RUN/logs/curl.log" \
      || { tail -n 5 "$RUN/logs/curl.log" >&2; tail -n 30 "$RUN/logs/proxy.log" >&2; die "curl could not fetch the big message ($attempt)"; }
    t1=$EPOCHREALTIME
    c1=$(cpu_ticks "$PROXY_PID")
    kill -0 "$PROXY_PID" 2>/dev/null || die "the proxy died"
    ! grep -q OutOfMemoryError "$RUN/logs/proxy.log" || die "the proxy ran out of memory"
    size=$(stat -c %s "$NEAR_BASE/big.eml")
    armored=$(grep -c -e '-----BEGIN PGP MESSAGE-----' "$NEAR_BASE/big.eml" || true)
    verify=$(python3 "$here/smtp_load.py" verify-big --sha256 "$big_sha" <"$NEAR_BASE/big.eml") \
      || { out "$attempt: $size octets fetched, armored blocks $armored; $verify"; die "the big message did not decrypt to the original attachment"; }
    rm -f "$NEAR_BASE/big.eml"
    out "$attempt: $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')s, $size octets, no armor: $([ "$armored" = 0 ] && echo yes || echo NO); $verify"
    out "  proxy: RSS before $rss0 MiB, peak RSS during $(awk '/VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$PROXY_PID/status") MiB, CPU $(awk -v a="$c0" -v b="$c1" -v t="$TICK" 'BEGIN {printf "%.2f", (b - a) / t}')s"
  done
  t0=$EPOCHREALTIME
  gpg --batch --quiet --pinentry-mode loopback --passphrase-file "$RUN/alice.passphrase" --decrypt \
    "$(find "$home/Maildir/.Big/cur" -type f)" >/dev/null 2>>"$RUN/logs/gpg.log" \
    || die "gpg cannot decrypt the stored big message"
  out "gpg --decrypt of the whole stored message (armor found in the MIME part, output discarded): $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.2f", b - a}')s"
  if command -v jcmd >/dev/null; then
    out "proxy heap: $(jcmd "$PROXY_PID" GC.heap_info 2>/dev/null | awk '/ heap / && /total/ {$1 = $1; print; exit}')"
  fi
fi
out "load at end $(load)"
say "results in $RESULTS"
