# Shared by the benchmark scripts (sourced, not run). The caller defines say and die and sets repo, here and JAR;
# prepare_run sets RUN, STACK and RESULTS; start_test_stack uses the ports P_IMAPS, P_IMAP, P_SUB, P_SUBS.

# A result line: to the terminal and to the results file.
out() { echo "$*" | tee -a "$RESULTS"; }

load() { cut -d' ' -f1-3 /proc/loadavg; }

# User + system CPU of a process, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# The median of the numbers on stdin, with $1 decimals.
median_stdin() {
  sort -g | awk -v d="$1" '{v[NR] = $1}
    END {m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.*f", d, m}'
}

# Dovecot and Postfix from the test stack on the benchmark's ports, into $STACK.
# free_ports N: N free loopback ports, all held at once while chosen so that they differ, on one line.
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# start_stunnel: the baseline, stunnel in client mode (plain on 127.0.0.1:$P_STUNNEL, TLS to Dovecot's
# 127.0.0.1:$P_IMAPS verified against $CA); sets STUNNEL_PID. Logs to $RUN/logs/stunnel.log.
start_stunnel() {
  cat > "$RUN/stunnel.conf" <<EOC
foreground = yes
pid =
debug = warning
output = $RUN/logs/stunnel.log
[imap]
client = yes
accept = 127.0.0.1:$P_STUNNEL
connect = 127.0.0.1:$P_IMAPS
sni = localhost
verifyChain = yes
checkHost = localhost
CAfile = $CA
sslVersionMin = TLSv1.2
EOC
  stunnel4 "$RUN/stunnel.conf" </dev/null >>"$RUN/logs/stunnel.log" 2>&1 &
  STUNNEL_PID=$!
}

start_test_stack() {
  start_once() {
    TESTSTACK_IMAPS_PORT=$P_IMAPS TESTSTACK_IMAP_PORT=$P_IMAP TESTSTACK_SUBMISSION_PORT=$P_SUB \
      TESTSTACK_SUBMISSIONS_PORT=$P_SUBS "$repo/scripts/teststack/teststack.sh" start "$STACK" \
      >>"$RUN/logs/teststack.log" 2>&1
  }
  # One retry: on a busy machine a start can trip over processes that end while it looks for leftovers.
  start_once || { tail -n 5 "$RUN/logs/teststack.log" >&2; say "retrying the stack start"; start_once; } \
    || { tail -n 20 "$RUN/logs/teststack.log" >&2; die "the test stack did not start"; }
}

# Builds the proxy jar with ./mailproxy when $JAR is missing.
ensure_jar() {
  if [ ! -f "$JAR" ]; then
    say "no $JAR; building it with ./mailproxy"
    "$repo/mailproxy" version >/dev/null
  fi
}

# Makes the run directory and names the results file: sets RUN, RESULTS and STACK, and with "near" as third
# argument NEAR_BASE (where mbsync writes). $1 names the results (results/$1-<time>.txt), $2 the run directory
# (/tmp/mp$2.XXXXXX): it holds Dovecot's sockets, whose paths must stay short (teststack.sh checks 70 characters).
prepare_run() {
  RUN=$(mktemp -d "/tmp/mp$2.XXXXXX")
  chmod 755 "$RUN"
  if [ "${3:-}" = near ]; then
    if [ -z "${BENCH_NEAR_DIR:-}" ]; then
      if [ -d /dev/shm ] && [ -w /dev/shm ]; then BENCH_NEAR_DIR=/dev/shm; else BENCH_NEAR_DIR=$RUN; fi
    fi
    NEAR_BASE=$(mktemp -d "$BENCH_NEAR_DIR/mp$2-near.XXXXXX")
  fi
  mkdir -p "$here/results" "$RUN/logs"
  RESULTS="$here/results/$1-$(date -u +%Y%m%dT%H%M%SZ).txt"
  STACK="$RUN/stack"
}
