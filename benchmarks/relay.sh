#!/usr/bin/env bash
# Relay benchmark: what mailproxy's pass-through costs compared with the tool a user would otherwise put between a
# plain-IMAP client and a TLS-only provider (stunnel), measured in one run, plus the heap of many idle sessions.
#
#   sudo benchmarks/relay.sh            (root: the test stack runs Dovecot and Postfix)
#
# Steps: start the test stack (scripts/teststack) on free ports in a fresh run directory; write a mailbox of
# BENCH_MESSAGES messages (log-uniform 2 KB .. 2 MB, fixed seed) straight into alice's Maildir and check that
# Dovecot counts them; start stunnel (client mode, plain on loopback, TLS to Dovecot verified against the test CA)
# and mailproxy (imaps:// upstream, local TLS off, default JVM options); sync the mailbox with mbsync into a fresh
# local Maildir through each, plus directly to Dovecot over TLS as a reference: one warm-up round, then
# BENCH_ROUNDS timed rounds in rotating order; then hold BENCH_SESSIONS IMAP sessions in IDLE through the proxy and
# read its heap after a forced GC and its RSS. Results go to stdout and benchmarks/results/relay-<time>.txt.
#
# Environment (defaults in brackets):
#   BENCH_MESSAGES [2000]   messages in the mailbox          BENCH_SESSIONS [1000]  idle sessions
#   BENCH_ROUNDS [3]        timed rounds after the warm-up   BENCH_SEED [20250901]  mailbox generator seed
#   BENCH_WARMUP_ROUNDS [1] rounds before the timed ones (the JIT needs a few hundred MB on a busy machine)
#   BENCH_JAR [proxy-app/target/mailproxy.jar]  the proxy to measure (built with ./mailproxy if missing)
#   BENCH_M2_MODULES [0]    1 runs the project's module jars from ~/.m2 where newer than the jar's own lib/
#   BENCH_JAVA_OPTS []      extra JVM options for the proxy (none: the JVM's defaults are what users get)
#   BENCH_NEAR_DIR [/dev/shm when writable]  where mbsync writes; memory keeps disk noise out of the timing
#   BENCH_KEEP [0]          1 keeps the run directory (logs, configs) instead of deleting it
set -euo pipefail

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
MESSAGES=${BENCH_MESSAGES:-2000}
SESSIONS=${BENCH_SESSIONS:-1000}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUPS=${BENCH_WARMUP_ROUNDS:-1}
SEED=${BENCH_SEED:-20250901}
JAR=${BENCH_JAR:-$repo/proxy-app/target/mailproxy.jar}
USER_EMAIL=alice@example.test
USER_PASS=alice-secret

say() { echo "relay-bench: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: the test stack starts Dovecot and Postfix"
for tool in mbsync stunnel4 python3 java jcmd ss; do
  command -v "$tool" >/dev/null || die "needs $tool (apt-get install isync stunnel4 python3 openjdk-17-jdk-headless iproute2)"
done

ensure_jar

prepare_run relay bench near
PROXY_PID="" STUNNEL_PID="" IDLE_PID=""

cleanup() {
  local rc=$?
  set +e
  exec 7>&-
  [ -n "$IDLE_PID" ] && kill "$IDLE_PID" 2>/dev/null
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
  [ -n "$STUNNEL_PID" ] && kill "$STUNNEL_PID" 2>/dev/null && wait "$STUNNEL_PID" 2>/dev/null
  "$repo/scripts/teststack/teststack.sh" stop "$STACK" >/dev/null 2>&1
  rm -rf "$NEAR_BASE"
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
    say "run directory kept: $RUN (logs in $RUN/logs)"
    rm -rf "$STACK/mail"
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

out "mailproxy relay benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
out "commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown); jar $JAR ($(date -u -r "$JAR" '+%Y-%m-%d %H:%M UTC'))"
out "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); load at start $(load)"
out "mbsync $(mbsync --version | awk '{print $2}'), $(stunnel4 -version 2>&1 | grep -m1 '^stunnel' | cut -d' ' -f1-2), $(java -version 2>&1 | head -1)"

# ---------------------------------------------------------------------------------------------------------------
say "starting the test stack in $STACK"
start_test_stack
CA="$STACK/ca/ca.crt"
DOVECONF="$STACK/dovecot/etc/dovecot.conf"

say "writing $MESSAGES messages"
home="$STACK/mail/$USER_EMAIL"
seeded=$(python3 "$here/seed_mailbox.py" --maildir "$home/Maildir" --count "$MESSAGES" --seed "$SEED")
chown -R mail:mail "$home"
chmod -R go-rwx "$home"
counted=$(doveadm -c "$DOVECONF" mailbox status -u "$USER_EMAIL" messages INBOX | grep -o 'messages=[0-9]*' || true)
[ "$counted" = "messages=$MESSAGES" ] || die "Dovecot counts '$counted' in INBOX, expected $MESSAGES"
out "mailbox: $seeded (seed $SEED); Dovecot: $counted"

# ---------------------------------------------------------------------------------------------------------------
say "starting stunnel and mailproxy"
start_stunnel

# A private copy of the proxy, so that a rebuild in the checkout during the run cannot change what is measured.
mkdir -p "$RUN/app" "$RUN/proxy-data"
cp -rp "$JAR" "$(dirname "$JAR")/lib" "$RUN/app/"
if [ "${BENCH_M2_MODULES:-0}" = 1 ]; then
  # The project's module jars as last installed (mvn install) when newer than the ones the jar was built with.
  for lib in "$RUN/app/lib"/mailproxy-*.jar; do
    m2=$(find "$HOME/.m2/repository/org/mailproxy" -name "$(basename "$lib")" -newer "$lib" -print -quit 2>/dev/null)
    [ -n "$m2" ] && cp -p "$m2" "$lib"
  done
fi
modules=$(cd "$RUN/app/lib" && for f in mailproxy-*.jar; do printf '%s %s; ' "${f%-[0-9]*}" "$(date -u -r "$f" +%H:%M)"; done)
chmod 700 "$RUN/proxy-data"
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
  }]
}
EOC
# shellcheck disable=SC2086 # BENCH_JAVA_OPTS holds several options on purpose
java ${BENCH_JAVA_OPTS:-} -jar "$RUN/app/$(basename "$JAR")" run --config "$RUN/proxy.conf" \
  </dev/null >>"$RUN/logs/proxy.log" 2>&1 &
PROXY_PID=$!

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
wait_port "$P_PROXY" "$PROXY_PID" proxy
flags=$(java ${BENCH_JAVA_OPTS:-} -XX:+PrintCommandLineFlags -version 2>&1 | head -1)
out "proxy module jars (UTC build time): ${modules%; }"
out "proxy JVM options: ${BENCH_JAVA_OPTS:-(none)}; ergonomics: $flags"

# ---------------------------------------------------------------------------------------------------------------
printf '%s' "$USER_PASS" > "$RUN/pass"
chmod 600 "$RUN/pass"
case "$(mbsync --version | awk '{print $2}')" in
  1.[0-4].*) TLSKW=SSLType ;;
  *) TLSKW=TLSType ;;
esac

# mbsync configuration for one path; the near Maildir is made fresh by sync_once.
write_rc() {
  local name=$1 port=$2 tls=$3 near="$NEAR_BASE/$1"
  {
    echo "FSync no"
    echo
    echo "IMAPAccount $name"
    echo "Host localhost"
    echo "Port $port"
    echo "User $USER_EMAIL"
    echo "PassCmd \"cat $RUN/pass\""
    # isync gives up after 20 s without an answer by default; a busy machine is no reason to fail a run.
    echo "Timeout 120"
    if [ "$tls" = plain ]; then
      # isync sends a password in the clear only when told which mechanism; on loopback that is the point.
      echo "$TLSKW None"
      echo "AuthMechs LOGIN"
    else
      echo "$TLSKW IMAPS"
      echo "CertificateFile $CA"
    fi
    echo
    echo "IMAPStore $name-far"
    echo "Account $name"
    echo
    echo "MaildirStore $name-near"
    echo "Path $near/"
    echo "Inbox $near/INBOX"
    echo
    echo "Channel $name"
    echo "Far :$name-far:"
    echo "Near :$name-near:"
    echo "Patterns INBOX"
    echo "Create Near"
    echo "Sync Pull"
    echo "SyncState *"
  } > "$RUN/mbsyncrc.$name"
}
write_rc proxy "$P_PROXY" plain
write_rc stunnel "$P_STUNNEL" plain
write_rc direct "$P_IMAPS" tls

declare -A TIMES CPUS
SYNC_OCTETS=""
TICK=$(getconf CLK_TCK)
# CPU ticks (user + system, all threads) a process has used so far.
relay_pid() {
  case "$1" in proxy) echo "$PROXY_PID" ;; stunnel) echo "$STUNNEL_PID" ;; *) echo "" ;; esac
}
# Runs one sync, checks it brought every message and the same octets as every other sync; sets LAST (seconds)
# and LAST_CPU (CPU seconds the relay process spent meanwhile, "-" for the direct path).
sync_once() {
  local name=$1 near="$NEAR_BASE/$1" t0 t1 n octets pid c0=0 c1=0
  rm -rf "$near"
  mkdir -p "$near"
  sync
  pid=$(relay_pid "$name")
  [ -n "$pid" ] && c0=$(cpu_ticks "$pid")
  t0=$EPOCHREALTIME
  mbsync -q -c "$RUN/mbsyncrc.$name" "$name" >>"$RUN/logs/mbsync-$name.log" 2>&1 \
    || { tail -n 20 "$RUN/logs/mbsync-$name.log" >&2; die "mbsync through $name failed"; }
  t1=$EPOCHREALTIME
  [ -n "$pid" ] && c1=$(cpu_ticks "$pid")
  n=$(find "$near/INBOX/cur" "$near/INBOX/new" -type f | wc -l)
  octets=$(find "$near/INBOX/cur" "$near/INBOX/new" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
  [ "$n" = "$MESSAGES" ] || die "mbsync through $name got $n messages, expected $MESSAGES"
  [ -z "$SYNC_OCTETS" ] && SYNC_OCTETS=$octets
  [ "$octets" = "$SYNC_OCTETS" ] || die "mbsync through $name wrote $octets octets, an earlier sync $SYNC_OCTETS"
  rm -rf "$near"
  LAST=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
  LAST_CPU=-
  [ -n "$pid" ] && LAST_CPU=$(awk -v a="$c0" -v b="$c1" -v t="$TICK" 'BEGIN {printf "%.2f", (b - a) / t}')
  return 0
}

PATHS=(proxy stunnel direct)
out ""
out "mbsync of INBOX ($MESSAGES messages) into an empty Maildir under $BENCH_NEAR_DIR, wall-clock seconds"
for w in $(seq 1 "$WARMUPS"); do
  say "warm-up round $w"
  warm=""
  for name in "${PATHS[@]}"; do
    sync_once "$name"
    warm="$warm $name=${LAST}s"
    [ "$LAST_CPU" != - ] && warm="$warm (relay CPU ${LAST_CPU}s)"
  done
  out "warm-up $w (not counted):$warm; load $(load)"
done
out "$(printf '%-8s %10s %10s %10s   %s' round proxy stunnel direct 'order; load average before the round')"
for r in $(seq 1 "$ROUNDS"); do
  # Rotating order: each path goes first, second and third equally often over three rounds.
  order=()
  for k in 0 1 2; do order+=("${PATHS[$(( (k + r - 1) % 3 ))]}"); done
  before=$(load)
  say "round $r: ${order[*]}"
  for name in "${order[@]}"; do
    sync_once "$name"
    TIMES[$name,$r]=$LAST
    CPUS[$name,$r]=$LAST_CPU
  done
  out "$(printf '%-8s %10s %10s %10s   %s; %s' "$r" "${TIMES[proxy,$r]}" "${TIMES[stunnel,$r]}" "${TIMES[direct,$r]}" \
    "${order[*]}" "$before")"
done
median() {
  local name=$1 r
  for r in $(seq 1 "$ROUNDS"); do echo "${TIMES[$name,$r]}"; done | median_stdin 2
}
m_proxy=$(median proxy); m_stunnel=$(median stunnel); m_direct=$(median direct)
out "$(printf '%-8s %10s %10s %10s' median "$m_proxy" "$m_stunnel" "$m_direct")"
ratio=$(awk -v p="$m_proxy" -v s="$m_stunnel" 'BEGIN {printf "%.3f", p / s}')
verdict=$(awk -v r="$ratio" 'BEGIN {print (r <= 1.15) ? "meets" : "misses"}')
out "ratio proxy/stunnel (medians): $ratio ($verdict the target <= 1.15); proxy/direct: $(awk -v p="$m_proxy" -v d="$m_direct" 'BEGIN {printf "%.3f", p / d}')"
out "relay process CPU seconds (user + system) per sync, rounds 1..$ROUNDS: proxy $(for r in $(seq 1 "$ROUNDS"); do printf '%s ' "${CPUS[proxy,$r]}"; done)| stunnel $(for r in $(seq 1 "$ROUNDS"); do printf '%s ' "${CPUS[stunnel,$r]}"; done)"
out "each sync: $MESSAGES messages, $SYNC_OCTETS octets written by mbsync"

# ---------------------------------------------------------------------------------------------------------------
heap_used() {  # used heap in MiB from GC.heap_info's first line, e.g. "garbage-first heap   total 262144K, used 9876K"
  jcmd "$PROXY_PID" GC.heap_info | awk '/ heap / && /used/ {for (i = 1; i <= NF; i++) if ($i == "used") {v = $(i + 1); sub(/K,?$/, "", v); printf "%.1f", v / 1024; exit}}'
}
heap_committed() {
  jcmd "$PROXY_PID" GC.heap_info | awk '/ heap / && /total/ {for (i = 1; i <= NF; i++) if ($i == "total") {v = $(i + 1); sub(/K,?$/, "", v); printf "%.0f", v / 1024; exit}}'
}
rss() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$PROXY_PID/status"; }
threads() { awk '/Threads/ {print $2}' "/proc/$PROXY_PID/status"; }
measure() {
  jcmd "$PROXY_PID" GC.run >/dev/null
  echo "heap used after GC $(heap_used) MiB (committed $(heap_committed) MiB), RSS $(rss) MiB, $(threads) threads"
}
upstream_sessions() { ss -Htn state established "( dport = :$P_IMAPS )" | wc -l; }

out ""
out "idle sessions through the proxy ($SESSIONS x LOGIN, SELECT INBOX, IDLE)"
out "before: $(measure)"
say "opening $SESSIONS idle sessions"
mkfifo "$RUN/idle.in"
python3 "$here/idle_sessions.py" idle --port "$P_PROXY" --user "$USER_EMAIL" --password-file "$RUN/pass" \
  --sessions "$SESSIONS" <"$RUN/idle.in" >"$RUN/logs/idle.out" 2>&1 &
IDLE_PID=$!
exec 7>"$RUN/idle.in"
for i in $(seq 1 3000); do
  grep -q '^READY' "$RUN/logs/idle.out" && break
  kill -0 "$IDLE_PID" 2>/dev/null || { cat "$RUN/logs/idle.out" >&2; die "the idle client exited"; }
  sleep 0.2
done
ready=$(grep '^READY' "$RUN/logs/idle.out") || die "the idle sessions did not open within 10 minutes"
out "client: $ready; upstream connections: $(upstream_sessions); load $(load)"
grep -q "idling=$SESSIONS failed=0" <<<"$ready" || { cat "$RUN/logs/idle.out" >&2; die "not every session is idling"; }
sleep 2
out "holding: $(measure)"
echo >&7
exec 7>&-
wait "$IDLE_PID" || { cat "$RUN/logs/idle.out" >&2; IDLE_PID=""; die "the idle sessions did not end cleanly"; }
IDLE_PID=""
out "client: $(grep '^CLOSED' "$RUN/logs/idle.out")"
for i in $(seq 1 300); do [ "$(upstream_sessions)" = 0 ] && break; sleep 0.1; done
probe=$(python3 "$here/idle_sessions.py" probe --port "$P_PROXY" --user "$USER_EMAIL" --password-file "$RUN/pass")
kill -0 "$PROXY_PID" 2>/dev/null || die "the proxy died"
[[ "$probe" == "PROBE exists=$MESSAGES "* ]] || die "the proxy answers wrongly after the idle test: $probe"
out "after closing: upstream connections $(upstream_sessions); new session: $probe"
out "after closing: $(measure)"
out "load at end $(load)"
say "results in $RESULTS"
