#!/usr/bin/env bash
# The cost of the hop between nodes: two nodes, one warm tenant (the demo backend) placed on n1;
# wrk against n1 directly (the owner serves it) and against n2 (forwarded, signed, to n1), in one
# run. Both paths are warmed until their CPU per request has settled, then measured in ROUNDS
# interleaved rounds (direct, forwarded, direct, forwarded, ...: drift hits both alike). Reports,
# per path, the median and the spread (min–max) of requests/s, p50/p99 and the CPU time per
# request of BOTH node JVMs together (utime + stime from /proc/PID/stat; the forwarded path spends
# CPU on two nodes: n2's hop and n1's proxy), split by node. The backend is left out (it serves the
# same requests either way); it gets -Xmx256m (with 32m it ran out of heap after a minute of wrk).
#
#   bench/cluster-hop.sh                                     # about 6-10 minutes
#   S=5 ROUNDS=1 LAT_S=2 WARM_MIN=5 WARM_MAX=10 bench/cluster-hop.sh    # quick
#
# Each round: wrk -t1 -c$CONNS for S s on each path (throughput, CPU per request; its latency is
# mostly queueing, as the core is saturated), then wrk -t1 -c1 for LAT_S s on each path (latency of
# one request at a time: what the hop adds to a request; LAT_S=0 leaves it out).
# Warm-up: WARM_STEP s of -c$CONNS (and LAT_S s of -c1) on each path in turn, at least WARM_MIN s each, then until two
# consecutive warm-up steps agree within SETTLE_PCT % in CPU per request on both paths, or until
# the JIT compiler threads of both nodes use under 2 % of a core in two steps in a row, at most
# WARM_MAX s each.
#
# Pinning: both nodes (and so the backend they start) on CPU $NODE_CPU (default 1), wrk on CPU
# $WRK_CPU (default 0). Fair to both paths: the load generator never competes with the servers,
# and all the server-side work of either path (n2's hop, n1's proxy, the backend) shares one core,
# so CPU per request compares directly; the forwarded path's requests/s and loaded latency are
# lower partly because its two proxies take turns on that core (on separate machines the hop's
# CPU lands on the node that took the request). Other users of the machine are not kept off
# either core: "other" is the CPU (% of one core) used during a run by anything but the nodes,
# the backend and wrk; the load average is printed at the start and the end.
# Knobs: S=10 ROUNDS=5 CONNS=32 LAT_S=5 WARM_STEP=10 WARM_MIN=30 WARM_MAX=120 SETTLE_PCT=5
#        NODE_CPU=1 WRK_CPU=0 KEEP_TMP=1 (keeps configs and logs).
# Binds 127.0.0.1 only (first free ports from 18400); every process is stopped by its PID at the end.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
cd "$ROOT"

S=${S:-10}
ROUNDS=${ROUNDS:-5}
CONNS=${CONNS:-32}
LAT_S=${LAT_S:-5}
WARM_STEP=${WARM_STEP:-10}
WARM_MIN=${WARM_MIN:-30}
WARM_MAX=${WARM_MAX:-120}
SETTLE_PCT=${SETTLE_PCT:-5}
NODE_CPU=${NODE_CPU:-1}
WRK_CPU=${WRK_CPU:-0}
HZ=$(getconf CLK_TCK)

die() { echo "cluster-hop: $*" >&2; exit 1; }
for c in wrk taskset; do command -v $c >/dev/null || die "$c is required"; done
LOAD_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)
NODE_LAUNCH=(taskset -c "$NODE_CPU")
cluster_start cluster-hop 18400 256m n1 n2
# Placed on n1: its first request through n1 (n1 chooses itself on a tie).
for _ in $(seq 1 600); do [[ $(acme_status "${FRONT[n1]}" 10) == 200 ]] && break; sleep 0.1; done
owner=$(cluster_json n1 | jq -r '.placements.acme // empty')
[[ $owner == n1 ]] || die "acme placed on '$owner', not n1"
[[ $(acme_status "${FRONT[n2]}" 10) == 200 ]] || die "acme not served through n2"
BACKEND_PID=$(cluster_backend_pids n1 | head -1)
[[ -n $BACKEND_PID ]] || die "no backend pid in n1's tenant log"
echo "cluster-hop: wrk -t1 -c$CONNS ${S}s (and -c1 ${LAT_S}s) x $ROUNDS interleaved rounds on each path; nodes and backend" \
  "on CPU $NODE_CPU, wrk on CPU $WRK_CPU; wakeport $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores;" \
  "load average at the start $LOAD_AT_START"

jvm_ticks() { local s f; s=$(< "/proc/$1/stat"); s=${s##*) }; f=($s); echo $(( f[11] + f[12] )); }

# wrk_path PATH SECONDS CONNS: one wrk run through n1 (PATH direct) or n2 (forwarded); prints
# "req/s p50_ms p99_ms cpu_us/req n1_us/req n2_us/req other_% jit_ms" (jit: both nodes' compiler threads).
wrk_path() {
  local port=${FRONT[n1]} out=$TMP/wrk.out a1 a2 b0 m0 w0 z1 z2 b1 m1 w1 j0 j1
  [[ $1 == forwarded ]] && port=${FRONT[n2]}
  j0=$(( $(jit_ticks "${PID[n1]}") + $(jit_ticks "${PID[n2]}") ))
  a1=$(jvm_ticks "${PID[n1]}"); a2=$(jvm_ticks "${PID[n2]}"); b0=$(jvm_ticks "$BACKEND_PID"); m0=$(machine_busy_ticks); w0=$(date +%s%N)
  local TIMEFORMAT='%U %S'
  { time taskset -c "$WRK_CPU" wrk -t1 -c"$3" -d"${2}s" --latency -H 'Host: acme.bench' "http://127.0.0.1:$port/" > "$out" ; } 2> "$TMP/wrk.time"
  z1=$(jvm_ticks "${PID[n1]}"); z2=$(jvm_ticks "${PID[n2]}"); b1=$(jvm_ticks "$BACKEND_PID"); m1=$(machine_busy_ticks); w1=$(date +%s%N)
  j1=$(( $(jit_ticks "${PID[n1]}") + $(jit_ticks "${PID[n2]}") ))
  grep -q "Non-2xx" "$out" && echo "warning ($1): $(grep Non-2xx "$out")" >&2
  awk -v hz="$HZ" -v t1=$((z1 - a1)) -v t2=$((z2 - a2)) -v tb=$((b1 - b0)) -v tm=$((m1 - m0)) -v ns=$((w1 - w0)) -v jit=$((j1 - j0)) -v tf="$TMP/wrk.time" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    $1 == "50%" { p50 = ms($2) } $1 == "99%" { p99 = ms($2) } /requests in/ { n = $1 } /^Requests\/sec/ { rps = $2 }
    END { getline tl < tf; split(tl, w, " "); other = 100 * (tm - t1 - t2 - tb - (w[1] + w[2]) * hz) / (ns / 1e9 * hz)
      printf "%.0f %.3f %.3f %.1f %.1f %.1f %.0f %.0f\n", rps, p50, p99, (t1 + t2) * 1e6 / hz / n, t1 * 1e6 / hz / n, t2 * 1e6 / hz / n, (other < 0 ? 0 : other), jit * 1000 / hz }' "$out"
}
show() { awk '{ printf "%7s req/s  p50 %6.3f ms  p99 %7.3f ms  %6.1f us CPU/req (n1 %.1f + n2 %.1f)  other %s%%  jit %s ms", $1, $2, $3, $4, $5, $6, $7, $8 }' <<< "$1"; }

# Warm-up until both paths have settled: their CPU per request agrees within SETTLE_PCT % with the
# step before, or the JIT compiler threads of both nodes used under 2 % of a core in the last two
# steps (C2 still recompiles now and then after a first quiet step).
warm=0 prev_d="" prev_f="" quiet=0 SETTLED="not settled within ${WARM_MAX}s"
while (( warm < WARM_MAX )); do
  d=$(wrk_path direct "$WARM_STEP" "$CONNS"); f=$(wrk_path forwarded "$WARM_STEP" "$CONNS"); warm=$(( warm + WARM_STEP ))
  read -r _ _ _ cpu_d _ _ _ jit_d <<< "$d"; read -r _ _ _ cpu_f _ _ _ jit_f <<< "$f"
  jit_c1=0
  if (( LAT_S > 0 )); then   # the -c1 runs too, so that no code they reach is compiled while measuring
    for path in direct forwarded; do jit_c1=$(( jit_c1 + $(wrk_path "$path" "$LAT_S" 1 | cut -d' ' -f8) )); done
  fi
  echo "warm-up ${warm}s each (-c$CONNS): direct $cpu_d, forwarded $cpu_f us CPU/req; JIT $jit_d + $jit_f ms (and $jit_c1 ms in the -c1 runs)"
  if (( (jit_d + jit_f + jit_c1) * 100 < 2 * 2 * (WARM_STEP + LAT_S) * 1000 )); then quiet=$(( quiet + 1 )); else quiet=0; fi
  if (( warm >= WARM_MIN )); then
    if [[ -n $prev_d ]] && awk -v a="$cpu_d" -v b="$prev_d" -v c="$cpu_f" -v e="$prev_f" -v p="$SETTLE_PCT" \
        'BEGIN { exit !(a <= b * (1 + p / 100) && a >= b * (1 - p / 100) && c <= e * (1 + p / 100) && c >= e * (1 - p / 100)) }'; then
      SETTLED="settled after ${warm}s each (CPU per request of the last two steps within ${SETTLE_PCT} %)"; break
    fi
    if (( quiet >= 2 )); then
      SETTLED="settled after ${warm}s each (JIT under 2 % of a core in the last two steps)"; break
    fi
  fi
  prev_d=$cpu_d prev_f=$cpu_f
done
echo "warm-up: $SETTLED"

declare -A RUNS=()   # "path conns" -> the lines of its runs
for r in $(seq 1 "$ROUNDS"); do
  for conns in "$CONNS" 1; do
    secs=$S; (( conns == 1 )) && secs=$LAT_S
    (( secs > 0 )) || continue
    for path in direct forwarded; do
      line=$(wrk_path "$path" "$secs" "$conns")
      RUNS["$path $conns"]+="$line"$'\n'
      printf 'round %s  -c%-3s %-9s %s\n' "$r" "$conns" "$path" "$(show "$line")"
    done
  done
done

# spread COLUMN FORMAT LINES: "median (min–max)"; med_of COLUMN FORMAT LINES: the median
spread() { local v; v=$(awk -v c="$1" 'NF { print $c }' <<< "$3"); printf "$2 ($2–$2)" "$(median <<< "$v")" "$(sort -g <<< "$v" | head -1)" "$(sort -g <<< "$v" | tail -1)"; }
med_of() { printf "$2" "$(awk -v c="$1" 'NF { print $c }' <<< "$3" | median)"; }
echo
echo "medians of $ROUNDS rounds (min–max); CPU/req = both node JVMs (the forwarded path runs on both)," \
  "load average at the end $(cut -d' ' -f1-3 /proc/loadavg):"
for conns in "$CONNS" 1; do
  for path in direct forwarded; do
    rows=${RUNS["$path $conns"]:-}; [[ -n $rows ]] || continue
    echo "  -c$conns $path: $(spread 1 %.0f "$rows") req/s, p50 $(spread 2 %.3f "$rows") ms, p99 $(spread 3 %.3f "$rows") ms," \
      "$(spread 4 %.1f "$rows") us CPU/req (n1 $(med_of 5 %.1f "$rows") + n2 $(med_of 6 %.1f "$rows")), other $(med_of 7 %.0f "$rows") %, JIT $(med_of 8 %.0f "$rows") ms a run"
  done
done
d=${RUNS["direct $CONNS"]} f=${RUNS["forwarded $CONNS"]}
hops=$(paste -d' ' <(awk 'NF { print $4 }' <<< "$d") <(awk 'NF { print $4 }' <<< "$f") | awk '{ printf "%.1f\n", $2 - $1 }')
echo "the hop (-c$CONNS): $(awk -v a="$(med_of 4 %s "$d")" -v b="$(med_of 4 %s "$f")" 'BEGIN { printf "%+.1f us CPU/req (%.2fx the direct path)", b - a, b / a }')" \
  "between the medians; per round $(paste -sd' ' <<< "$hops") us, median $(median <<< "$hops") us"
if [[ -n ${RUNS["direct 1"]:-} ]]; then
  echo "the hop (-c1, one request at a time): p50 $(awk -v a="$(med_of 2 %s "${RUNS["direct 1"]}")" -v b="$(med_of 2 %s "${RUNS["forwarded 1"]}")" 'BEGIN { printf "%+.3f", b - a }') ms," \
    "p99 $(awk -v a="$(med_of 3 %s "${RUNS["direct 1"]}")" -v b="$(med_of 3 %s "${RUNS["forwarded 1"]}")" 'BEGIN { printf "%+.3f", b - a }') ms (medians)"
fi
