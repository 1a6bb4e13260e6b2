#!/usr/bin/env bash
# Failover time of a three-node cluster: kill -9 the node that owns a warm tenant (and, as its
# machine would be gone, the backends it started), then GET through a surviving node with a short
# timeout until a 200 arrives; the time from the kill to that 200 (the cold start of the demo
# backend on its new owner included). RUNS times (default 10); the killed node is restarted and the
# cluster is back to three live nodes before the next run. Prints each time and the median.
#
#   bench/cluster-failover.sh            # 10 runs
#   RUNS=3 bench/cluster-failover.sh     # quick
#
# Three wakeport processes from target/wakeport.jar, a cluster: section each (TCP/IP join on
# 127.0.0.1, the secret in WAKEPORT_CLUSTER_SECRET), one tenant (the demo backend from
# test-fixtures). Binds 127.0.0.1 only (ports: the first free ones from 18300). Every process is
# stopped by its PID at the end. KEEP_TMP=1 keeps the configs and logs.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
cd "$ROOT"

RUNS=${RUNS:-10}
POLL_TIMEOUT=${POLL_TIMEOUT:-1}     # seconds per polling request
STOP_TIMEOUT=30
JVM=(-Xmx192m -XX:+UseSerialGC)
export WAKEPORT_CLUSTER_SECRET=${WAKEPORT_CLUSTER_SECRET:-bench-cluster-secret-0123456789}

die() { echo "cluster-failover: $*" >&2; exit 1; }
for c in java curl jq; do command -v $c >/dev/null || die "$c is required"; done
[[ -f target/wakeport.jar ]] || { mvn -q -B package -DskipTests || die "build failed"; }
[[ -f target/test-classes/DemoBackend.class ]] || { mvn -q -B test-compile || die "test-compile failed"; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
NEXT_PORT=18300
PORT=0
next_port() { # sets PORT to the next free port (no subshell, so NEXT_PORT advances)
  while port_open "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
  PORT=$NEXT_PORT; NEXT_PORT=$((NEXT_PORT + 1))
}

TMP=$(mktemp -d /tmp/wakeport-cluster-failover.XXXXXX)
NAMES=(n1 n2 n3)
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
    command: [java, -Xmx32m, -XX:+UseSerialGC, -cp, $ROOT/target/test-classes, DemoBackend, --port, "\${port}", --tenant, acme]
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
  java "${JVM[@]}" -jar target/wakeport.jar run --config "$TMP/$n/wakeport.yaml" 2> "$log" &
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

for n in "${NAMES[@]}"; do start_node "$n"; done
for n in "${NAMES[@]}"; do await_alive "$n" 3; done
echo "cluster-failover: $RUNS runs, 3 nodes on 127.0.0.1 (fronts ${FRONT[n1]} ${FRONT[n2]} ${FRONT[n3]})," \
  "wakeport $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"

TIMES=()
for run in $(seq 1 "$RUNS"); do
  # Warm: served through n1 (wherever it is placed).
  for _ in $(seq 1 600); do [[ $(status "${FRONT[n1]}" 10) == 200 ]] && break; sleep 0.1; done
  [[ $(status "${FRONT[n1]}" 10) == 200 ]] || die "run $run: acme not served through n1"
  owner=$(cluster_json n1 | jq -r '.placements.acme // empty')
  [[ -n $owner && -n ${PID[$owner]:-} ]] || die "run $run: no owner for acme ($owner)"
  via=n1; [[ $owner == n1 ]] && via=n2
  # The owner's machine goes: the node and its backends.
  kill -KILL "${PID[$owner]}"; t0=$(now_ns)
  for p in $(backend_pids "$owner"); do kill -KILL "$p" 2>/dev/null; done
  wait "${PID[$owner]}" 2>/dev/null; PID[$owner]=""
  code=000
  while [[ $code != 200 ]]; do
    (( $(now_ns) - t0 > 60000000000 )) && die "run $run: no 200 through $via within 60 s"
    code=$(status "${FRONT[$via]}" "$POLL_TIMEOUT")
  done
  ms=$(( ($(now_ns) - t0) / 1000000 ))
  TIMES+=("$ms")
  echo "run $run: killed owner $owner, 200 through $via after $ms ms"
  # Back to three live nodes for the next run.
  start_node "$owner"
  for n in "${NAMES[@]}"; do await_alive "$n" 3; done
done

median=$(printf '%s\n' "${TIMES[@]}" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
echo "kill -9 of the owner to first 200: ${TIMES[*]} ms; median $median ms (min $(printf '%s\n' "${TIMES[@]}" | sort -n | head -1), max $(printf '%s\n' "${TIMES[@]}" | sort -n | tail -1))"
