#!/usr/bin/env bash
# The cost of the hop between nodes: two nodes, one warm tenant (the demo backend) placed on n1;
# wrk for S seconds against n1 directly (the owner serves it) and against n2 (forwarded, signed, to
# n1), interleaved ROUNDS times. Reports requests/s, p50/p99 and the CPU time per request of both
# nodes' JVMs together (utime + stime from /proc/PID/stat, the JVM processes only; the backend is
# left out, it serves the same requests either way). The backend gets -Xmx256m: with 32m it ran
# out of heap after about a minute of wrk and every figure collapsed.
#
#   bench/cluster-hop.sh                  # S=10, ROUNDS=3, WARM=10 (about 2.5 minutes)
#   S=5 ROUNDS=1 WARM=5 bench/cluster-hop.sh     # quick
#
# Pinned: both nodes (and so the backend they start) on CPU $NODE_CPU (default 1), wrk on CPU
# $WRK_CPU (default 0); wrk -t1 -c$CONNS (default 32). Binds 127.0.0.1 only (first free ports from
# 18400); every process is stopped by its PID at the end. KEEP_TMP=1 keeps the configs and logs.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
cd "$ROOT"

S=${S:-10}
ROUNDS=${ROUNDS:-3}
WARM=${WARM:-10}      # seconds of wrk on each path, twice, before measuring (the JIT)
CONNS=${CONNS:-32}
NODE_CPU=${NODE_CPU:-1}
WRK_CPU=${WRK_CPU:-0}
STOP_TIMEOUT=30
JVM=(-Xmx192m -XX:+UseSerialGC)
export WAKEPORT_CLUSTER_SECRET=${WAKEPORT_CLUSTER_SECRET:-bench-cluster-secret-0123456789}
HZ=$(getconf CLK_TCK)

die() { echo "cluster-hop: $*" >&2; exit 1; }
for c in java curl jq wrk taskset; do command -v $c >/dev/null || die "$c is required"; done
[[ -f target/wakeport.jar ]] || { mvn -q -B package -DskipTests || die "build failed"; }
[[ -f target/test-classes/DemoBackend.class ]] || { mvn -q -B test-compile || die "test-compile failed"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
NEXT_PORT=18400
PORT=0
next_port() { # sets PORT to the next free port (no subshell, so NEXT_PORT advances)
  while port_open "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
  PORT=$NEXT_PORT; NEXT_PORT=$((NEXT_PORT + 1))
}

TMP=$(mktemp -d /tmp/wakeport-cluster-hop.XXXXXX)
NAMES=(n1 n2)
declare -A FRONT ADMIN MEMBER FORWARD PID
for n in "${NAMES[@]}"; do
  next_port; FRONT[$n]=$PORT; next_port; ADMIN[$n]=$PORT; next_port; MEMBER[$n]=$PORT; next_port; FORWARD[$n]=$PORT
done
next_port; BACKEND_PORT=$PORT
MEMBERS=$(for n in "${NAMES[@]}"; do printf '127.0.0.1:%s, ' "${MEMBER[$n]}"; done); MEMBERS=${MEMBERS%, }

for n in "${NAMES[@]}"; do
  mkdir -p "$TMP/$n"
  cat > "$TMP/$n/wakeport.yaml" <<EOF
listen: 127.0.0.1:${FRONT[$n]}
state-dir: $TMP/$n/var
admin:
  listen: 127.0.0.1:${ADMIN[$n]}
cluster:
  node: $n
  bind: 127.0.0.1:${MEMBER[$n]}
  members: [$MEMBERS]
  forward-listen: 127.0.0.1:${FORWARD[$n]}
  secret: \${env:WAKEPORT_CLUSTER_SECRET}
tenants:
  acme:
    hosts: [acme.bench]
    port: $BACKEND_PORT
    idle-timeout: never
    command: [java, -Xmx256m, -XX:+UseSerialGC, -cp, $ROOT/target/test-classes, DemoBackend, --port, "\${port}", --tenant, acme]
EOF
done

# Backends a node started (their pids from its tenant log), for killing with the node.
# Only those still running the demo backend (a pid from an earlier run may have been reused).
backend_pids() {
  local p
  for p in $(sed -n 's/^demo backend [^ ]* pid \([0-9]*\) booting$/\1/p' "$TMP/$1/var/logs/"*.log 2>/dev/null); do
    { tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null | grep -q DemoBackend && echo "$p"
  done
}

cleanup() {
  for n in "${NAMES[@]}"; do stop_wakeport "${PID[$n]:-}" "$STOP_TIMEOUT"; done
  for n in "${NAMES[@]}"; do for p in $(backend_pids "$n"); do kill -KILL "$p" 2>/dev/null; done; done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_node() { # NAME: start it, wait for "started in"
  local n=$1 log="$TMP/$1/wakeport.$(date +%s%N).log"
  taskset -c "$NODE_CPU" java "${JVM[@]}" -jar target/wakeport.jar run --config "$TMP/$n/wakeport.yaml" 2> "$log" &
  PID[$n]=$!
  for _ in $(seq 1 900); do
    grep -q "Main - started in " "$log" && return 0
    kill -0 "${PID[$n]}" 2>/dev/null || die "$n exited: $(tail -5 "$log")"
    sleep 0.1
  done
  die "$n not started after 90 s"
}
cluster_json() { # NAME
  curl -s --max-time 5 -H "Authorization: Bearer $(cat "$TMP/$1/var/admin.token")" \
    "http://127.0.0.1:${ADMIN[$1]}/api/cluster"
}
alive_count() { cluster_json "$1" | jq '[.nodes[] | select(.alive)] | length' 2>/dev/null || echo 0; }
await_alive() { # NAME COUNT
  for _ in $(seq 1 600); do [[ $(alive_count "$1") == "$2" ]] && return 0; sleep 0.1; done
  die "$1 does not see $2 live nodes"
}
status() { curl -s -o /dev/null -w '%{http_code}' --max-time "$2" -H 'Host: acme.bench' "http://127.0.0.1:$1/" || true; }
now_ns() { date +%s%N; }

jvm_ticks() { local s f; s=$(< "/proc/$1/stat"); s=${s##*) }; f=($s); echo $(( f[11] + f[12] )); }

for n in "${NAMES[@]}"; do start_node "$n"; done
for n in "${NAMES[@]}"; do await_alive "$n" 2; done
# Placed on n1: its first request through n1 (n1 chooses itself on a tie).
for _ in $(seq 1 600); do [[ $(status "${FRONT[n1]}" 10) == 200 ]] && break; sleep 0.1; done
owner=$(cluster_json n1 | jq -r '.placements.acme // empty')
[[ $owner == n1 ]] || die "acme placed on '$owner', not n1"
[[ $(status "${FRONT[n2]}" 10) == 200 ]] || die "acme not served through n2"
echo "cluster-hop: wrk -t1 -c$CONNS, ${S}s x $ROUNDS rounds each; nodes on CPU $NODE_CPU, wrk on CPU $WRK_CPU;" \
  "wakeport $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"

# One wrk run through PORT: prints "req/s p50 p99 cpu_us_per_req".
measure() {
  local out c0 c1 reqs rps p50 p99
  c0=$(( $(jvm_ticks "${PID[n1]}") + $(jvm_ticks "${PID[n2]}") ))
  out=$(taskset -c "$WRK_CPU" wrk -t1 -c"$CONNS" -d"${1}s" --latency -H 'Host: acme.bench' "http://127.0.0.1:$2/")
  c1=$(( $(jvm_ticks "${PID[n1]}") + $(jvm_ticks "${PID[n2]}") ))
  reqs=$(awk '/requests in/ { print $1 }' <<< "$out")
  rps=$(awk '/^Requests\/sec/ { print $2 }' <<< "$out")
  p50=$(awk '$1 == "50%" { print $2 }' <<< "$out")
  p99=$(awk '$1 == "99%" { print $2 }' <<< "$out")
  grep -q "Non-2xx" <<< "$out" && echo "warning: $(grep Non-2xx <<< "$out")" >&2
  echo "$rps $p50 $p99 $(awk -v t=$((c1 - c0)) -v hz="$HZ" -v n="$reqs" 'BEGIN { printf "%.1f", t * 1e6 / hz / n }')"
}
# Warm both paths (JIT) before measuring.
for _ in 1 2; do measure "$WARM" "${FRONT[n1]}" >/dev/null; measure "$WARM" "${FRONT[n2]}" >/dev/null; done
DIRECT=(); HOP=()
for r in $(seq 1 "$ROUNDS"); do
  d=$(measure "$S" "${FRONT[n1]}"); h=$(measure "$S" "${FRONT[n2]}")
  DIRECT+=("$d"); HOP+=("$h")
  echo "round $r: direct (n1) req/s p50 p99 cpu-us/req: $d | forwarded (n2 -> n1): $h"
done
med() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { local i=$1; shift; printf '%s\n' "$@" | awk -v i="$i" '{ print $i }'; }
for what in DIRECT HOP; do
  declare -n rows=$what
  echo "$what medians: $(col 1 "${rows[@]}" | med) req/s, p50 $(col 2 "${rows[@]}" | paste -sd/)," \
    "p99 $(col 3 "${rows[@]}" | paste -sd/), $(col 4 "${rows[@]}" | med) us CPU/req (both JVMs)"
done
