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

die() { echo "cluster-failover: $*" >&2; exit 1; }
now_ns() { date +%s%N; }

cluster_start cluster-failover 18300 32m n1 n2 n3
echo "cluster-failover: $RUNS runs, 3 nodes on 127.0.0.1 (fronts ${FRONT[n1]} ${FRONT[n2]} ${FRONT[n3]})," \
  "wakeport $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"

TIMES=()
for run in $(seq 1 "$RUNS"); do
  # Warm: served through n1 (wherever it is placed).
  for _ in $(seq 1 600); do [[ $(acme_status "${FRONT[n1]}" 10) == 200 ]] && break; sleep 0.1; done
  [[ $(acme_status "${FRONT[n1]}" 10) == 200 ]] || die "run $run: acme not served through n1"
  owner=$(cluster_json n1 | jq -r '.placements.acme // empty')
  [[ -n $owner && -n ${PID[$owner]:-} ]] || die "run $run: no owner for acme ($owner)"
  via=n1; [[ $owner == n1 ]] && via=n2
  # The owner's machine goes: the node and its backends.
  kill -KILL "${PID[$owner]}"; t0=$(now_ns)
  for p in $(cluster_backend_pids "$owner"); do kill -KILL "$p" 2>/dev/null; done
  wait "${PID[$owner]}" 2>/dev/null; PID[$owner]=""
  code=000
  while [[ $code != 200 ]]; do
    (( $(now_ns) - t0 > 60000000000 )) && die "run $run: no 200 through $via within 60 s"
    code=$(acme_status "${FRONT[$via]}" "$POLL_TIMEOUT")
  done
  ms=$(( ($(now_ns) - t0) / 1000000 ))
  TIMES+=("$ms")
  echo "run $run: killed owner $owner, 200 through $via after $ms ms"
  # Back to three live nodes for the next run.
  cluster_start_node "$owner"
  for n in "${NAMES[@]}"; do cluster_await_alive "$n" 3; done
done

echo "kill -9 of the owner to first 200: ${TIMES[*]} ms; median $(printf '%s\n' "${TIMES[@]}" | median) ms (min $(printf '%s\n' "${TIMES[@]}" | sort -n | head -1), max $(printf '%s\n' "${TIMES[@]}" | sort -n | tail -1))"
