#!/usr/bin/env bash
# A flood of random labels against a template with max-tenants, beside a steady stream of
# requests to one warm tenant of that template: how many backends it spawns, what it does to
# wakeport's RSS, and to the warm tenant's latency (bench/TemplateFlood.java).
#
#   bench/template-flood.sh                  # 10,000 labels, max-tenants 50; about 1-2 minutes
#   LABELS=2000 MAX_TENANTS=10 bench/template-flood.sh
#
# What it does (loopback only, everything bounded, every process it started stopped at the end):
#  1. builds target/wakeport.jar and target/test-classes/DemoBackend.class if missing;
#  2. writes a config: one template `apps` (hosts *.apps.bench, max-tenants MAX_TENANTS, a port
#     range of RANGE ports, idle-timeout never) running the demo backend (-Xmx32m, SerialGC);
#  3. starts wakeport and warms tenant `warm` (Host warm.apps.bench, one of the MAX_TENANTS);
#  4. runs bench/TemplateFlood.java: sequential GETs to warm.apps.bench alone for ALONE s (the
#     baseline), then LABELS distinct random labels, one GET each, CONNS at once,
#     while one thread sends GET warm.apps.bench one after the other until the flood is over;
#     samples wakeport's VmRSS every 50 ms; SETTLE s after the flood, reads it again;
#  5. prints: flood status counts, spawns (the demo backend's "booting" lines in the tenants'
#     logs), ports it remembers, warm p50/p99 alone and during the flood, RSS before / peak /
#     after / settled and VmHWM.
#
# Knobs: LABELS=10000 MAX_TENANTS=50 RANGE=200 CONNS=64 ALONE=5 SETTLE=10 TIMEOUT_MS=30000
#        HEAP=256m (wakeport's -Xmx) KEEP_TMP=1 (keep config and logs)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. bench/lib.sh

LABELS=${LABELS:-10000}
MAX_TENANTS=${MAX_TENANTS:-50}
RANGE=${RANGE:-200}
CONNS=${CONNS:-64}
SETTLE=${SETTLE:-10}
ALONE=${ALONE:-5}
TIMEOUT_MS=${TIMEOUT_MS:-30000}
HEAP=${HEAP:-256m}
STOP_TIMEOUT=60

die() { echo "template-flood: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*"; }
for tool in java git; do command -v "$tool" >/dev/null || die "$tool is required"; done
ulimit -n 8192 2>/dev/null || true

# ---- 1. build -----------------------------------------------------------------------------------
if [[ ! -f target/wakeport.jar ]]; then
  log "building target/wakeport.jar"; mvn -q -B package -DskipTests || die "build failed"
fi
if [[ ! -f target/test-classes/DemoBackend.class ]]; then
  log "compiling the demo backend"; mvn -q -B test-compile || die "test-compile failed"
fi

# ---- ports, temp dir, cleanup -------------------------------------------------------------------
PW=""
for p in $(seq 18800 18899); do port_open "$p" || { PW=$p; break; }; done
[[ -n $PW ]] || die "no free port in 18800-18899"
FIRST=""
for base in $(seq 24000 1000 29000); do
  busy=0
  for p in $(seq "$base" 7 $(( base + RANGE - 1 ))); do port_open "$p" && { busy=1; break; }; done
  (( busy == 0 )) && { FIRST=$base; break; }
done
[[ -n $FIRST ]] || die "no free range of $RANGE ports in 24000-29999"
LAST=$(( FIRST + RANGE - 1 ))

TMP=$(mktemp -d /tmp/wakeport-template-flood.XXXXXX)
WP_PID=""
WAKEPORT_LOG=$TMP/wakeport.log
cleanup() {
  stop_wakeport "$WP_PID" "$STOP_TIMEOUT"   # on-exit: stop (the default) stops the backends too
  local f p
  for f in "$TMP"/var/run/*.pid; do
    [[ -f $f ]] || continue
    p=$(head -1 "$f" | tr -dc 0-9)
    [[ -n $p ]] && kill -0 "$p" 2>/dev/null && { echo "backend pid $p left running: KILL"; kill -KILL "$p"; }
  done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 2. config ----------------------------------------------------------------------------------
CONFIG=$TMP/wakeport.yaml
cat > "$CONFIG" <<EOF
listen: 127.0.0.1:$PW
state-dir: $TMP/var
tenants:
  apps:
    hosts: ["*.apps.bench"]
    max-tenants: $MAX_TENANTS
    ports: $FIRST-$LAST
    idle-timeout: never
    command: [java, -Xmx32m, -XX:+UseSerialGC, -XX:TieredStopAtLevel=1, -cp, $ROOT/target/test-classes, DemoBackend, --port, "\${port}", --tenant, "\${tenant}"]
EOF
java -jar target/wakeport.jar check --config "$CONFIG" >/dev/null || die "config rejected: $CONFIG"

# ---- 3. wakeport, the warm tenant ---------------------------------------------------------------
COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo "?")$(git diff --quiet HEAD -- src 2>/dev/null || echo "+uncommitted src changes")
log "wakeport $COMMIT on 127.0.0.1:$PW (-Xmx$HEAP), template apps: max-tenants $MAX_TENANTS, ports $FIRST-$LAST; temp $TMP"
java "-Xmx$HEAP" -jar target/wakeport.jar run --config "$CONFIG" > "$WAKEPORT_LOG" 2>&1 &
WP_PID=$!
for _ in $(seq 1 300); do
  port_open "$PW" && break
  kill -0 "$WP_PID" 2>/dev/null || { tail -20 "$WAKEPORT_LOG" >&2; die "wakeport exited during start-up"; }
  sleep 0.1
done
port_open "$PW" || die "wakeport not listening on $PW after 30 s"
for _ in $(seq 1 120); do
  code=$( (exec 3<>"/dev/tcp/127.0.0.1/$PW"; printf 'GET / HTTP/1.1\r\nHost: warm.apps.bench\r\nConnection: close\r\n\r\n' >&3; head -1 <&3) 2>/dev/null | cut -d' ' -f2)
  [[ $code == 200 ]] && break
  sleep 0.5
done
[[ $code == 200 ]] || die "warm.apps.bench did not answer 200 (last: ${code:-none})"

# ---- 4. the flood -------------------------------------------------------------------------------
log "flood: $LABELS random labels, $CONNS at once, beside sequential GETs to warm.apps.bench"
OUT=$TMP/flood.out
java bench/TemplateFlood.java --port "$PW" --suffix apps.bench --warm-host warm.apps.bench --labels "$LABELS" \
  --conns "$CONNS" --timeout-ms "$TIMEOUT_MS" --server-pid "$WP_PID" --settle-seconds "$SETTLE" --alone-seconds "$ALONE" 2>&1 \
  | tee "$OUT" | sed 's/^/    /'
grep -q '^RSS ' "$OUT" || die "bench/TemplateFlood.java did not finish (see above)"
kill -0 "$WP_PID" 2>/dev/null || die "wakeport is no longer running"

# ---- 5. report ----------------------------------------------------------------------------------
kv() { sed -n "/^$1 /s/.* $2=\([^ ]*\).*/\1/p" "$OUT" | head -1; }
spawns=$(cat "$TMP"/var/logs/apps+*.log 2>/dev/null | grep -c '^demo backend .* booting$')
tenants=$(ls "$TMP"/var/logs/apps+*.log 2>/dev/null | wc -l)
remembered=$(grep -c '^apps+' "$TMP/var/ports.properties" 2>/dev/null)
mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
echo
echo "template flood: wakeport $COMMIT, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), wakeport -Xmx$HEAP"
echo "flood: $(kv FLOOD labels) labels in $(kv FLOOD seconds) s, $CONNS at once: statuses $(kv FLOOD statuses), errors $(kv FLOOD errors), timeouts $(kv FLOOD timeouts)"
echo "spawns: $spawns (tenants with a log: $tenants, the warm one included; max-tenants $MAX_TENANTS); ports remembered: $remembered"
echo "warm tenant alone (${ALONE} s before): $(kv WARM_ALONE requests) requests, $(kv WARM_ALONE errors) errors, p50 $(kv WARM_ALONE p50_ms) ms, p99 $(kv WARM_ALONE p99_ms) ms"
echo "warm tenant during the flood: $(kv WARM requests) requests, $(kv WARM errors) errors, p50 $(kv WARM p50_ms) ms, p99 $(kv WARM p99_ms) ms, max $(kv WARM max_ms) ms"
echo "wakeport RSS: before $(mib "$(kv RSS before_kib)") MiB, peak $(mib "$(kv RSS peak_kib)") MiB, after $(mib "$(kv RSS after_kib)") MiB, ${SETTLE} s later $(mib "$(kv RSS settled_kib)") MiB; VmHWM $(mib "$(kv RSS hwm_kib)") MiB"
echo "wakeport log: $(grep -c 'max-tenants' "$WAKEPORT_LOG") max-tenants lines (at most one a second), $(grep -cE ' (WARN|ERROR) ' "$WAKEPORT_LOG") WARN/ERROR lines"
