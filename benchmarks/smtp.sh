#!/usr/bin/env bash
# SMTP benchmark: what in-stream PGP/MIME encryption costs when sending, compared with submitting straight to the
# provider, in one run; and one 100 MB attachment encrypted and delivered by a proxy with a 128 MB heap.
#
#   sudo benchmarks/smtp.sh            (root: the test stack runs Dovecot and Postfix)
#
# Steps: start the test stack (scripts/teststack) on free ports in a fresh run directory; make bob's key with gpg
# (a temporary GNUPGHOME), alice's with `mailproxy keys generate`, import bob's certificate into the proxy's data
# directory and alice's into gpg; start mailproxy (JVM options BENCH_JAVA_OPTS, default -Xmx128m) with alice's key
# unlocked from an owner-only passphrase file, policy encrypt = required (a message that cannot be encrypted is
# refused, never relayed as plaintext), local side plain on loopback, upstream Postfix's submission port with
# STARTTLS. Then smtp_load.py sends BENCH_MESSAGES messages of BENCH_SIZE octets from alice to bob over
# BENCH_SESSIONS parallel authenticated sessions, through the proxy and straight to Postfix's submission port
# (STARTTLS, the same port the proxy uses): BENCH_WARMUP_ROUNDS untimed rounds, then BENCH_ROUNDS timed rounds, the
# two paths in alternating order. Each run starts with bob's mailbox empty and ends when Dovecot has stored every
# message; the submission time (last 250) and the delivery time (last file in bob's Maildir) are reported, and the
# ratios proxy/direct of their medians. After every run all stored messages are checked: through the proxy each must be
# multipart/encrypted with an OpenPGP message and no plaintext (one is decrypted with gpg and compared with what was
# sent), directly each must be the plain text sent. Last, one message with a BENCH_BIG_MB million octet attachment
# goes through the proxy; printed: its times, the size Dovecot stored, the proxy's peak RSS (VmHWM, reset before)
# and, when gpg decrypts it, whether the attachment's SHA-256 matches.
# Results go to stdout and benchmarks/results/smtp-<time>.txt.
#
# Environment (defaults in brackets):
#   BENCH_MESSAGES [1000]   messages per run                BENCH_SESSIONS [10]   parallel SMTP sessions
#   BENCH_SIZE [20480]      octets per message              BENCH_ROUNDS [3]      timed rounds after the warm-up
#   BENCH_WARMUP_ROUNDS [3] untimed rounds: on 2 busy cores the JIT needs about 3,000 messages before the proxy's CPU
#                           per message settles (the warm-up lines show the cold cost)
#   BENCH_BIG_MB [100]      attachment, million octets (0: skip)
#   BENCH_BIG_VERIFY [1]    decrypt the big message with gpg and compare the attachment's SHA-256
#   BENCH_JAVA_OPTS [-Xmx128m]  JVM options for the proxy
#   BENCH_LOCAL_TLS [off]   the proxy's local side: off (plain on loopback) or starttls
#   BENCH_JAR [proxy-app/target/mailproxy.jar]  the proxy to measure. When unset and that jar is older than the
#                           sources of its modules, the committed HEAD is built in the run directory instead
#                           (git archive, mvn -o package of config, proxy-core, proxy-imap, proxy-smtp, proxy-app).
#   BENCH_NICE []           a niceness for the script and all it starts (e.g. -10), both paths alike
#   BENCH_KEEP [0]          1 keeps the run directory (logs, configs, keys) instead of deleting it
set -euo pipefail

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
repo="$(cd "$here/.." && pwd)"
# shellcheck source=lib.sh
. "$here/lib.sh"
MESSAGES=${BENCH_MESSAGES:-1000}
SESSIONS=${BENCH_SESSIONS:-10}
SIZE=${BENCH_SIZE:-20480}
ROUNDS=${BENCH_ROUNDS:-3}
WARMUPS=${BENCH_WARMUP_ROUNDS:-3}
BIG_MB=${BENCH_BIG_MB:-100}
BIG_VERIFY=${BENCH_BIG_VERIFY:-1}
JAVA_OPTS=${BENCH_JAVA_OPTS--Xmx128m}
LOCAL_TLS=${BENCH_LOCAL_TLS:-off}
SENDER=alice@example.test
SENDER_PASS=alice-secret
RCPT=bob@example.test
MODULES=(config proxy-core proxy-imap proxy-smtp proxy-app)

say() { echo "smtp-bench: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root: the test stack starts Dovecot and Postfix"
for tool in python3 java gpg git; do
  command -v "$tool" >/dev/null || die "needs $tool (apt-get install python3 openjdk-17-jdk-headless gnupg git)"
done
case "$LOCAL_TLS" in off | starttls) ;; *) die "BENCH_LOCAL_TLS must be off or starttls" ;; esac
if [ -n "${BENCH_NICE:-}" ]; then
  renice -n "$BENCH_NICE" -p $$ >/dev/null || die "cannot set niceness $BENCH_NICE"
fi

prepare_run smtp smtp
PROXY_PID=""

cleanup() {
  local rc=$?
  set +e
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
  "$repo/scripts/teststack/teststack.sh" stop "$STACK" >/dev/null 2>&1
  gpgconf --homedir "$RUN/gnupg" --kill all >/dev/null 2>&1
  if [ "${BENCH_KEEP:-0}" = 1 ] || [ "$rc" != 0 ]; then
    say "run directory kept: $RUN (logs in $RUN/logs)"
    rm -rf "$STACK/mail" "$RUN/src"
  else
    rm -rf "$RUN"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM


# ---------------------------------------------------------------------------------------------------------------
# The proxy to measure: a private copy, so that a rebuild in the checkout during the run cannot change it.
mkdir -p "$RUN/app"
JAR_NOTE=""
if [ -z "${BENCH_JAR:-}" ]; then
  JAR=$repo/proxy-app/target/mailproxy.jar
  stale=""
  if [ -f "$JAR" ] && [ -d "$repo/proxy-app/target/lib" ]; then
    stale=$(cd "$repo" && find pom.xml "${MODULES[@]/%//pom.xml}" "${MODULES[@]/%//src/main}" -newer "$JAR" -print -quit)
  else
    stale="(no jar)"
  fi
  if [ -n "$stale" ]; then
    say "$JAR is older than $stale; building HEAD in $RUN/src"
    mkdir -p "$RUN/src"
    git -C "$repo" archive HEAD | tar -x -C "$RUN/src"
    (cd "$RUN/src" && mvn -o -q -B -DskipTests -pl "$(IFS=,; echo "${MODULES[*]}")" package) \
      >"$RUN/logs/build.log" 2>&1 || { tail -n 30 "$RUN/logs/build.log" >&2; die "building HEAD failed"; }
    JAR=$RUN/src/proxy-app/target/mailproxy.jar
    JAR_NOTE="built from HEAD for this run"
  fi
else
  JAR=$BENCH_JAR
fi
[ -f "$JAR" ] || die "no $JAR"
cp -rp "$JAR" "$(dirname "$JAR")/lib" "$RUN/app/"
[ -z "$JAR_NOTE" ] && JAR_NOTE="$JAR, $(date -u -r "$JAR" '+%Y-%m-%d %H:%M UTC')"
APP="$RUN/app/$(basename "$JAR")"
rm -rf "$RUN/src"

# Free loopback ports, all held at once while chosen so that they differ.
read -r P_IMAPS P_IMAP P_SUB P_SUBS P_PROXY_IMAP P_PROXY_SMTP < <(free_ports 6)
ulimit -n "$(ulimit -Hn)"

out "mailproxy SMTP benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
out "commit $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown); proxy: $JAR_NOTE"
out "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); load at start $(load); niceness $(nice)"
out "$(python3 --version), $(gpg --version | head -1), $(java -version 2>&1 | head -1)"

# ---------------------------------------------------------------------------------------------------------------
say "starting the test stack in $STACK"
start_test_stack
CA="$STACK/ca/ca.crt"
BOX="$STACK/mail/$RCPT/Maildir"

# ---------------------------------------------------------------------------------------------------------------
say "making keys"
export GNUPGHOME="$RUN/gnupg"
mkdir -m 700 "$GNUPGHOME"
gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
  --quick-generate-key "$RCPT" future-default default never >>"$RUN/logs/gpg.log" 2>&1 || die "gpg key generation failed"
gpg --batch --armor --export "$RCPT" > "$RUN/bob.asc"

mkdir -m 700 "$RUN/proxy-data"
umask 077
printf 'bench passphrase %s\n' "$RANDOM$RANDOM" > "$RUN/alice.passphrase"
printf '%s\n' "$SENDER_PASS" > "$RUN/alice.password"
umask 022
cat > "$RUN/proxy.conf" <<EOC
mailproxy {
  data-dir = "$RUN/proxy-data"
  imap.listen = "127.0.0.1:$P_PROXY_IMAP"
  smtp.listen = "127.0.0.1:$P_PROXY_SMTP"
  http.listen = "off"
  tls.trusted-ca-file = "$CA"
  local-tls.mode = "$LOCAL_TLS"
  accounts = [{
    email = "$SENDER", login = "$SENDER"
    imap.upstream = "imaps://localhost:$P_IMAPS", smtp.upstream = "smtp+starttls://localhost:$P_SUB"
    key.passphrase-file = "$RUN/alice.passphrase"
    policy.encrypt = required
  }]
}
EOC
mp() { java -jar "$APP" "$@" --config "$RUN/proxy.conf"; }
mp keys generate --email "$SENDER" --passphrase-file "$RUN/alice.passphrase" >>"$RUN/logs/keys.log" 2>&1 \
  || { cat "$RUN/logs/keys.log" >&2; die "mailproxy keys generate failed"; }
mp keys import "$RUN/bob.asc" >>"$RUN/logs/keys.log" 2>&1 || { cat "$RUN/logs/keys.log" >&2; die "keys import failed"; }
mp keys export "$SENDER" > "$RUN/alice.asc" 2>>"$RUN/logs/keys.log" || die "keys export failed"
gpg --batch --quiet --import "$RUN/alice.asc" >>"$RUN/logs/gpg.log" 2>&1 || die "gpg cannot import alice's certificate"
# Alice's certificate is trusted so that gpg reports her signature as good rather than as from an unknown key.
gpg --batch --quiet --quick-lsign-key "$(gpg --with-colons --fingerprint "$SENDER" 2>/dev/null | awk -F: '/^fpr/ {print $10; exit}')" \
  "$SENDER" >>"$RUN/logs/gpg.log" 2>&1 || true
out "keys: $(mp keys list 2>/dev/null | tr -s ' \n' ' ' | cut -c1-200)"

# ---------------------------------------------------------------------------------------------------------------
say "starting mailproxy ($JAVA_OPTS)"
# shellcheck disable=SC2086 # JAVA_OPTS holds several options on purpose
java $JAVA_OPTS -jar "$APP" run --config "$RUN/proxy.conf" </dev/null >>"$RUN/logs/proxy.log" 2>&1 &
PROXY_PID=$!
for i in $(seq 1 600); do
  (exec 3<>"/dev/tcp/127.0.0.1/$P_PROXY_SMTP") 2>/dev/null && break
  kill -0 "$PROXY_PID" 2>/dev/null || { tail -n 30 "$RUN/logs/proxy.log" >&2; die "the proxy exited"; }
  sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$P_PROXY_SMTP") 2>/dev/null || die "the proxy does not listen on $P_PROXY_SMTP"
# shellcheck disable=SC2086
out "proxy JVM options: ${JAVA_OPTS:-(none)}; ergonomics: $(java $JAVA_OPTS -XX:+PrintCommandLineFlags -version 2>&1 | head -1)"
out "proxy log on start: $(grep -i -m1 'account' "$RUN/logs/proxy.log" | cut -c1-200 || echo '(no account line)')"

# ---------------------------------------------------------------------------------------------------------------
PROXY_CA=""
[ "$LOCAL_TLS" = starttls ] && PROXY_CA="$RUN/proxy-data/tls/local-cert.pem"
TICK=$(getconf CLK_TCK)
# Collections and their seconds so far, from jstat (JDK): young, full, concurrent.
gc_note() {
  command -v jstat >/dev/null || return 0
  jstat -gc "$PROXY_PID" 2>/dev/null | awk 'NR == 1 {for (i = 1; i <= NF; i++) h[$i] = i}
    NR == 2 {printf "; GC so far: %d young (%.2fs), %d full (%.2fs), %d concurrent (%.2fs)", $h["YGC"], $h["YGCT"], $h["FGC"], $h["FGCT"], $h["CGC"], $h["CGCT"]}'
}
rss_mib() { awk -v k="$2" '$1 == k ":" {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

clear_box() {
  "$repo/scripts/teststack/teststack.sh" clear "$STACK" "$RCPT" >>"$RUN/logs/teststack.log" 2>&1 \
    || die "cannot clear bob's mailbox"
  local n
  n=$( (find "$BOX/new" "$BOX/cur" -type f 2>/dev/null || true) | wc -l)
  [ "$n" = 0 ] || die "bob's mailbox still holds $n messages after clearing"
}

# Runs one load through PATH (proxy | direct) and checks what arrived; sets SUBMIT, DELIVERED, CPU (proxy seconds).
run_once() {
  local path=$1 id=$2 line c0=0 c1=0
  local args=(--user "$SENDER" --password-file "$RUN/alice.password" --sender "$SENDER" --to "$RCPT"
    --maildir "$BOX" --messages "$MESSAGES" --sessions "$SESSIONS" --size "$SIZE" --run-id "$id")
  if [ "$path" = proxy ]; then
    if [ "$LOCAL_TLS" = off ]; then args+=(--port "$P_PROXY_SMTP" --security plain)
    else args+=(--port "$P_PROXY_SMTP" --security starttls --cafile "$PROXY_CA"); fi
  else
    args+=(--port "$P_SUB" --security starttls --cafile "$CA")
  fi
  clear_box
  sync
  c0=$(cpu_ticks "$PROXY_PID")
  line=$(python3 "$here/smtp_load.py" load "${args[@]}" 2>>"$RUN/logs/load-$path.log") \
    || { echo "$line" >&2; tail -n 10 "$RUN/logs/load-$path.log" >&2; tail -n 10 "$RUN/logs/proxy.log" >&2
         die "the load through $path failed"; }
  c1=$(cpu_ticks "$PROXY_PID")
  echo "$path $id: $line" >>"$RUN/logs/runs.log"
  SUBMIT=$(sed -n 's/.* submit=\([0-9.]*\).*/\1/p' <<<"$line")
  DELIVERED=$(sed -n 's/.* delivered=\([0-9.]*\).*/\1/p' <<<"$line")
  CPU=$(awk -v a="$c0" -v b="$c1" -v t="$TICK" 'BEGIN {printf "%.2f", (b - a) / t}')
  local check
  if [ "$path" = proxy ]; then
    check=$(python3 "$here/smtp_load.py" check --maildir "$BOX" --count "$MESSAGES" --run-id "$id" \
      --expect encrypted --gpg-home "$GNUPGHOME" --size "$SIZE") || die "through the proxy: $check"
  else
    check=$(python3 "$here/smtp_load.py" check --maildir "$BOX" --count "$MESSAGES" --run-id "$id" --expect plain) \
      || die "direct: $check"
  fi
  LAST_CHECK=$check
}

out ""
out "$MESSAGES messages of $SIZE octets, alice -> bob, $SESSIONS parallel authenticated sessions; proxy local side" \
  "$LOCAL_TLS, upstream STARTTLS to Postfix's submission port; direct: STARTTLS to the same port"
out "seconds from the first connection to the last 250 (submit) and to the last message stored by Dovecot (deliver)"
for w in $(seq 1 "$WARMUPS"); do
  say "warm-up round $w"
  run_once proxy "warm$w-proxy"; wp="proxy submit ${SUBMIT}s deliver ${DELIVERED}s (proxy CPU ${CPU}s)"
  run_once direct "warm$w-direct"; wd="direct submit ${SUBMIT}s deliver ${DELIVERED}s"
  out "warm-up $w (not counted): $wp; $wd; load $(load)"
done

declare -A SUB DEL CPUS
out "$(printf '%-6s %13s %13s %13s %13s %11s   %s' round proxy-submit direct-submit proxy-deliver direct-deliver proxy-CPU \
  'order; load average before the round')"
for r in $(seq 1 "$ROUNDS"); do
  if [ $((r % 2)) = 1 ]; then order=(proxy direct); else order=(direct proxy); fi
  before=$(load)
  say "round $r: ${order[*]}"
  for path in "${order[@]}"; do
    run_once "$path" "r$r-$path"
    SUB[$path,$r]=$SUBMIT
    DEL[$path,$r]=$DELIVERED
    [ "$path" = proxy ] && CPUS[$r]=$CPU && PROXY_CHECK=$LAST_CHECK
  done
  out "$(printf '%-6s %13s %13s %13s %13s %11s   %s; %s' "$r" "${SUB[proxy,$r]}" "${SUB[direct,$r]}" \
    "${DEL[proxy,$r]}" "${DEL[direct,$r]}" "${CPUS[$r]}" "${order[*]}" "$before")"
done
median() {
  local -n arr=$1
  local r
  for r in $(seq 1 "$ROUNDS"); do echo "${arr[$2,$r]}"; done | median_stdin 3
}
ms_p=$(median SUB proxy); ms_d=$(median SUB direct); md_p=$(median DEL proxy); md_d=$(median DEL direct)
out "$(printf '%-6s %13s %13s %13s %13s' median "$ms_p" "$ms_d" "$md_p" "$md_d")"
ratio_s=$(awk -v p="$ms_p" -v d="$ms_d" 'BEGIN {printf "%.3f", p / d}')
ratio_d=$(awk -v p="$md_p" -v d="$md_d" 'BEGIN {printf "%.3f", p / d}')
verdict() { awk -v r="$1" 'BEGIN {print (r <= 1.5) ? "meets" : "misses"}'; }
out "ratio proxy/direct (medians): submit $ratio_s ($(verdict "$ratio_s") the target <= 1.5), deliver $ratio_d ($(verdict "$ratio_d"))"
out "per round, submit: $(for r in $(seq 1 "$ROUNDS"); do awk -v p="${SUB[proxy,$r]}" -v d="${SUB[direct,$r]}" 'BEGIN {printf "%.3f ", p / d}'; done)" \
  "| deliver: $(for r in $(seq 1 "$ROUNDS"); do awk -v p="${DEL[proxy,$r]}" -v d="${DEL[direct,$r]}" 'BEGIN {printf "%.3f ", p / d}'; done)"
cpu_med=$(for r in $(seq 1 "$ROUNDS"); do echo "${CPUS[$r]}"; done | sort -g \
  | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}')
out "proxy CPU (user + system) per message, median round: $(awk -v c="$cpu_med" -v n="$MESSAGES" 'BEGIN {printf "%.2f", c * 1000 / n}') ms"
out "check of the last proxy round: $PROXY_CHECK"
out "proxy after the load: RSS $(rss_mib "$PROXY_PID" VmRSS) MiB, peak RSS $(rss_mib "$PROXY_PID" VmHWM) MiB$(gc_note)"

# ---------------------------------------------------------------------------------------------------------------
if [ "$BIG_MB" -gt 0 ]; then
  out ""
  out "one message with a $BIG_MB MB attachment (base64) through the proxy (JVM options: ${JAVA_OPTS:-none})"
  clear_box
  # Writing 5 to clear_refs resets the peak RSS (VmHWM) to the current RSS (proc(5)).
  echo 5 > "/proc/$PROXY_PID/clear_refs" 2>/dev/null || say "cannot reset the peak RSS; VmHWM covers the whole run"
  rss0=$(rss_mib "$PROXY_PID" VmRSS)
  c0=$(cpu_ticks "$PROXY_PID")
  line=$(python3 "$here/smtp_load.py" big --port "$P_PROXY_SMTP" \
    $([ "$LOCAL_TLS" = off ] && echo "--security plain" || echo "--security starttls --cafile $PROXY_CA") \
    --user "$SENDER" --password-file "$RUN/alice.password" --sender "$SENDER" --to "$RCPT" --maildir "$BOX" \
    --mb "$BIG_MB" 2>>"$RUN/logs/load-big.log") \
    || { echo "$line" >&2; tail -n 10 "$RUN/logs/load-big.log" >&2; tail -n 20 "$RUN/logs/proxy.log" >&2
         die "the big message did not go through"; }
  c1=$(cpu_ticks "$PROXY_PID")
  kill -0 "$PROXY_PID" 2>/dev/null || die "the proxy died"
  ! grep -q OutOfMemoryError "$RUN/logs/proxy.log" || die "the proxy ran out of memory"
  out "client: $line"
  out "proxy: RSS before $rss0 MiB, peak RSS during $(rss_mib "$PROXY_PID" VmHWM) MiB, CPU $(awk -v a="$c0" -v b="$c1" -v t="$TICK" 'BEGIN {printf "%.2f", (b - a) / t}')s"
  if command -v jcmd >/dev/null; then
    out "proxy heap: $(jcmd "$PROXY_PID" GC.heap_info 2>/dev/null | awk '/ heap / && /total/ {$1 = $1; print; exit}')"
  fi
  stored=$(find "$BOX/new" "$BOX/cur" -type f)
  out "stored by Dovecot: $(stat -c %s "$stored") octets; $(python3 "$here/smtp_load.py" check --maildir "$BOX" --count 1 \
    --run-id big --expect encrypted)"
  if [ "$BIG_VERIFY" = 1 ]; then
    sha=$(sed -n 's/.* sha256=\([0-9a-f]*\).*/\1/p' <<<"$line")
    t0=$EPOCHREALTIME
    verify=$(gpg --batch --status-fd 3 --decrypt "$stored" 2>>"$RUN/logs/gpg.log" 3>"$RUN/logs/gpg-big.status" \
      | python3 "$here/smtp_load.py" verify-big --sha256 "$sha") || die "gpg: $verify"
    sig=$(grep -q '^\[GNUPG:\] GOODSIG' "$RUN/logs/gpg-big.status" && echo "good signature" || echo "no good signature")
    out "gpg with bob's key: $verify; $sig ($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}')s)"
  fi
fi
out "load at end $(load)"
say "results in $RESULTS"
