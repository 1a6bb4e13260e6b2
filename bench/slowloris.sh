#!/usr/bin/env bash
# Slowloris beside normal traffic: keep-alive clients measured alone, then again while an attacker
# holds 1,000 connections open with request heads that never end (bench/Slowloris.java).
#
#   bench/slowloris.sh                     # about 1 minute
#
# What it does (loopback only, everything bounded, every process it started stopped at the end):
#  1. raises the open-file limit to 8192 (the attacker and wakeport each hold 1,000+ sockets), builds
#     target/wakeport.jar and target/test-classes/DemoBackend.class if missing;
#  2. writes a config: one tenant `demo` (host demo.bench) running the demo backend, kept warm by
#     `min-running: 1`; under `proxy:` it sets `max-connections: MAX_CONNECTIONS` and
#     `max-connections-per-client: MAX_PER_CLIENT` so the attack itself is let in, but only when
#     `wakeport check` accepts those keys (a wakeport that does not know them runs without them, and
#     the script says so);
#  3. starts wakeport and waits for the instance to be READY;
#  4. runs bench/Slowloris.java: normal traffic in rounds of 3 s, not recorded, at least 4, then
#     until a round is no more than 5 % faster than the best before it (at most WARMUP s); then
#     REQUESTS keep-alive `GET /` from CONNS connections from 127.0.0.1, at most MAX_SECONDS
#     (phase "alone"); then ATTACK connections from 127.0.0.2 … 127.0.0.5, each sending
#     `GET / HTTP/1.1`, a Host line and one more header byte per second, reconnecting at once when
#     the server closes one; once they are all connected (at most RAMP s) and SETTLE s later, the
#     same normal traffic again (phase "attack"); a request fails when it gets no whole answer
#     within TIMEOUT_MS;
#  5. prints one table: per phase requests, errors (non-2xx, socket errors, timeouts), p50, p99; and
#     the attacker's figures: connections held when phase "attack" ended (and the fewest during
#     it), closed by the server (answered with a status first, or closed without a word), reconnects.
#
# Knobs: CONNS=16 REQUESTS=150000 MAX_SECONDS=20 WARMUP=30 TIMEOUT_MS=5000 ATTACK=1000 RAMP=10
#        SETTLE=15 (past the 10 s client-header-timeout: the attack churns) MAX_CONNECTIONS=4000 MAX_PER_CLIENT=2000 KEEP_TMP=1 (keep config and logs)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. bench/lib.sh

CONNS=${CONNS:-16}
REQUESTS=${REQUESTS:-150000}
MAX_SECONDS=${MAX_SECONDS:-20}
WARMUP=${WARMUP:-30}
TIMEOUT_MS=${TIMEOUT_MS:-5000}
ATTACK=${ATTACK:-1000}
RAMP=${RAMP:-10}
SETTLE=${SETTLE:-15}
MAX_CONNECTIONS=${MAX_CONNECTIONS:-4000}
MAX_PER_CLIENT=${MAX_PER_CLIENT:-2000}
HOST_HEADER=demo.bench
READY_TIMEOUT=60           # seconds for the instance to be READY
STOP_TIMEOUT=30            # seconds for wakeport to exit after TERM

die() { echo "slowloris: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*"; }
for tool in java git; do command -v "$tool" >/dev/null || die "$tool is required"; done

# ---- 1. limits and build ------------------------------------------------------------------------
need=$(( ATTACK * 2 + 1000 ))
ulimit -n 8192 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null
(( $(ulimit -n) >= need )) || die "open-file limit $(ulimit -n) is below $need (run as root, or raise the hard limit)"
if [[ ! -f target/wakeport.jar ]]; then
  log "building target/wakeport.jar"; mvn -q -B package -DskipTests || die "build failed"
fi
if [[ ! -f target/test-classes/DemoBackend.class ]]; then
  log "compiling the demo backend"; mvn -q -B test-compile || die "test-compile failed"
fi

# ---- ports, temp dir, cleanup -------------------------------------------------------------------
PW=""; PB=""
for p in $(seq 18700 18799); do
  port_open "$p" && continue
  if [[ -z $PW ]]; then PW=$p; else PB=$p; break; fi
done
[[ -n $PB ]] || die "no two free ports in 18700-18799"

TMP=$(mktemp -d /tmp/wakeport-slowloris.XXXXXX)
WP_PID=""
WAKEPORT_LOG=$TMP/wakeport.log
cleanup() {
  stop_wakeport "$WP_PID" "$STOP_TIMEOUT"
  local p
  for p in $(sed -n 's/.*spawned pid \([0-9]*\).*/\1/p' "$WAKEPORT_LOG" 2>/dev/null); do
    kill -0 "$p" 2>/dev/null && { echo "backend pid $p left running: KILL"; kill -KILL "$p"; }
  done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 2. config ----------------------------------------------------------------------------------
write_config() { # LIMITS(0|1)
  echo "listen: 127.0.0.1:$PW"
  echo "state-dir: $TMP/var"
  if [[ $1 == 1 ]]; then
    echo "proxy:"
    echo "  max-connections: $MAX_CONNECTIONS"
    echo "  max-connections-per-client: $MAX_PER_CLIENT"
  fi
  cat <<EOF
tenants:
  demo:
    hosts: [$HOST_HEADER]
    port: $PB
    min-running: 1
    idle-timeout: never
    command: [java, -cp, $ROOT/target/test-classes, DemoBackend, --port, "\${port}", --tenant, "\${tenant}"]
EOF
}
CONFIG=$TMP/wakeport.yaml
write_config 1 > "$CONFIG"
if java -jar target/wakeport.jar check --config "$CONFIG" > "$TMP/check.out" 2>&1; then
  LIMITS="proxy: max-connections $MAX_CONNECTIONS, max-connections-per-client $MAX_PER_CLIENT"
elif grep -q 'proxy.max-connections.*unknown key' "$TMP/check.out"; then
  write_config 0 > "$CONFIG"
  java -jar target/wakeport.jar check --config "$CONFIG" >/dev/null || die "config rejected: $CONFIG"
  LIMITS="no connection limits: this wakeport does not know proxy.max-connections(-per-client)"
else
  cat "$TMP/check.out" >&2; die "config rejected: $CONFIG"
fi

# ---- 3. wakeport --------------------------------------------------------------------------------
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo "?")$(git diff --quiet HEAD -- src 2>/dev/null || echo "+uncommitted src changes")
SRC_COMMIT=$(git log -1 --format=%h -- src pom.xml 2>/dev/null)
[[ -n $SRC_COMMIT && $COMMIT != "$SRC_COMMIT"* ]] && COMMIT+=" (src and pom.xml as of $SRC_COMMIT)"
log "wakeport $COMMIT on 127.0.0.1:$PW, demo backend on $PB; $LIMITS; open-file limit $(ulimit -n); temp $TMP"
java -jar target/wakeport.jar run --config "$CONFIG" > "$WAKEPORT_LOG" 2>&1 &
WP_PID=$!
for _ in $(seq 1 $(( READY_TIMEOUT * 5 ))); do
  grep -q -- '-> READY' "$WAKEPORT_LOG" && break
  kill -0 "$WP_PID" 2>/dev/null || { tail -20 "$WAKEPORT_LOG" >&2; die "wakeport exited during start-up"; }
  sleep 0.2
done
grep -q -- '-> READY' "$WAKEPORT_LOG" || { tail -20 "$WAKEPORT_LOG" >&2; die "the demo instance was not READY within ${READY_TIMEOUT}s"; }

# ---- 4. normal traffic, the attack, normal traffic again ----------------------------------------
log "normal traffic: $REQUESTS keep-alive GETs from $CONNS connections (at most ${MAX_SECONDS}s, after 12-${WARMUP}s of warm-up); then the same beside $ATTACK slowloris connections from 127.0.0.2-5"
OUT=$TMP/slowloris.out
java bench/Slowloris.java --port "$PW" --host-header "$HOST_HEADER" --conns "$CONNS" --requests "$REQUESTS" \
  --max-seconds "$MAX_SECONDS" --warmup-seconds "$WARMUP" --timeout-ms "$TIMEOUT_MS" --attack "$ATTACK" \
  --sources 127.0.0.2,127.0.0.3,127.0.0.4,127.0.0.5 --ramp-seconds "$RAMP" --settle-seconds "$SETTLE" \
  --server-pid "$WP_PID" 2>&1 | tee "$OUT" | sed 's/^/    /'
grep -q '^ATTACK ' "$OUT" || die "bench/Slowloris.java did not finish (see above)"
kill -0 "$WP_PID" 2>/dev/null || die "wakeport is no longer running"

# ---- 5. report ----------------------------------------------------------------------------------
kv() { sed -n "s/^$1 .* $2=\([^ ]*\).*/\1/p" "$OUT" | head -1; }
phase_kv() { grep "^PHASE phase=$1 " "$OUT" | sed -n "s/.* $2=\([^ ]*\).*/\1/p"; }
echo
echo "slowloris beside normal traffic: wakeport $COMMIT, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), $LIMITS"
echo "normal traffic: $CONNS keep-alive connections from 127.0.0.1, GET / (demo backend), timeout ${TIMEOUT_MS} ms; attack: $ATTACK connections from 127.0.0.2-5, one header byte per second"
echo
printf '| %-12s | %8s | %6s | %8s | %8s |\n' phase requests errors "p50 ms" "p99 ms"
printf '|%s|%s|%s|%s|%s|\n' -------------- ---------- -------- ---------- ----------
for phase in alone attack; do
  label=$phase; [[ $phase == attack ]] && label="under attack"
  errs=$(( $(phase_kv "$phase" non2xx) + $(phase_kv "$phase" errors) + $(phase_kv "$phase" timeouts) ))
  printf '| %-12s | %8s | %6s | %8s | %8s |\n' "$label" "$(phase_kv "$phase" requests)" "$errs" "$(phase_kv "$phase" p50_ms)" "$(phase_kv "$phase" p99_ms)"
done
echo
echo "attacker: $(kv ATTACK held_end) of $ATTACK connections held at the end (fewest during phase \"attack\": $(kv ATTACK held_min)); closed by the server: $(kv ATTACK closed_by_server) (answered first: $(kv ATTACK answered) $(kv ATTACK statuses), closed without a word: $(kv ATTACK silent), reset: $(kv ATTACK reset)); reconnects: $(kv ATTACK reconnects); connect errors: $(kv ATTACK connect_errors)"
echo "wakeport: open files $(kv ATTACK fds_before) before the attack, $(kv ATTACK fds_end) at the end; log: $(grep -cE ' (WARN|ERROR) ' "$WAKEPORT_LOG") WARN/ERROR lines"
