#!/usr/bin/env bash
# 10,000 tenants in the map: start-up time, reload time, heap and RSS of wakeport, and the cost of
# the routing decision (JMH, bench/jmh). No backend is started: the tenants are only configured.
#
#   bench/scale-10k.sh
#
# Steps:
#  1. builds target/wakeport.jar if it is missing, and bench/jmh/target/benchmarks.jar if it is
#     missing (mvn install of wakeport, then package of bench/jmh); REBUILD=1 rebuilds both;
#  2. writes a config in a temp dir: TENANTS tenants (t00001 …) spread over FILES include files
#     tenants.d/part-NNN.yaml, each tenant with hosts [tNNNNN.bench.test, www.tNNNNN.bench.test],
#     paths [/tNNNNN] and a command that is never run; ports from 30000-49999 (the range must
#     hold a port per tenant), state-dir in the temp dir, listen on the first free 127.0.0.1 port
#     from 18480;
#  3. starts `java -jar target/wakeport.jar run` and reads "started in N ms" from its log (stderr);
#     also the wall time from exec to that line (JVM start included); then heap used after
#     `jcmd GC.run` (GC.heap_info) and VmRSS;
#  4. reloads RELOADS times by appending one tenant to an include file (the watcher reloads) and
#     RELOADS times with `kill -HUP` and no change, reading each "config reloaded in N ms";
#  5. checks that an unknown host gets 404, that a broken include file logs "config not reloaded"
#     and wakeport keeps serving (404 again), and that removing it reloads again;
#  6. heap and RSS again, then TERM, and checks wakeport exited; starts it once more on the same
#     state dir (every port remembered) for the restart time, and stops it again;
#  7. the same steps 2–6 with BASELINE tenants (100) for comparison (BASELINE=0 skips it);
#  8. runs the JMH benchmark (JMH=0 skips it) and prints its table.
#
# Binds 127.0.0.1 only. Starts no backend. Bounded: every wait has a time limit (JMH: 240 s);
# about 4 minutes in all on 2 cores, of which JMH takes about 2.5 (14 runs of 8 s plus set-up). Leaves nothing running (an EXIT trap stops the
# wakeport it started, by pid) and removes its temp dir (KEEP_TMP=1 keeps it).
# Environment knobs: TENANTS=10000 FILES=100 RELOADS=5 BASELINE=100 JMH=1 REBUILD=0 KEEP_TMP=0
#   WAKEPORT_JAVA_OPTS="" (e.g. -Xmx256m)  JMH_ARGS="" (extra arguments for benchmarks.jar)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
cd "$ROOT"

TENANTS=${TENANTS:-10000}
FILES=${FILES:-100}
RELOADS=${RELOADS:-5}
BASELINE=${BASELINE:-100}
JMH=${JMH:-1}
REBUILD=${REBUILD:-0}
WAKEPORT_JAVA_OPTS=${WAKEPORT_JAVA_OPTS:-}
JMH_ARGS=${JMH_ARGS:-}
PORTS=30000-49999
START_TIMEOUT=120          # seconds for "started in"
RELOAD_TIMEOUT=60          # seconds for each reload line
STOP_TIMEOUT=60            # seconds for wakeport to exit after TERM

die() { echo "scale-10k: $*" >&2; exit 1; }
for tool in java jcmd curl awk timeout; do command -v "$tool" >/dev/null || die "$tool is required"; done
(( TENANTS + 1 <= 20000 )) || die "TENANTS must fit the port range $PORTS"

# ---- 1. build -------------------------------------------------------------------------------------
if [[ $REBUILD == 1 || ! -f target/wakeport.jar ]]; then
  echo "building target/wakeport.jar ..."
  mvn -q -B package -DskipTests || die "build failed"
fi
if [[ $JMH == 1 && ( $REBUILD == 1 || ! -f bench/jmh/target/benchmarks.jar ) ]]; then
  echo "installing wakeport into the local Maven repository and building bench/jmh ..."
  mvn -q -B install -DskipTests || die "mvn install failed"
  mvn -q -B -f bench/jmh/pom.xml package || die "bench/jmh build failed"
fi

# ---- machine --------------------------------------------------------------------------------------
echo "== machine"
echo "date:    $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "commit:  $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src has uncommitted changes)')"
echo "nproc:   $(nproc)"
echo "cpu:     $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"
echo "memory:  $(awk '/^MemTotal/ { printf "%.1f GiB (MemTotal %d kB)", $2 / 1048576, $2 }' /proc/meminfo)"
echo "kernel:  $(uname -sr)"
echo "java:    $(java -version 2>&1 | tr '\n' ' ')"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"

# ---- helpers ----------------------------------------------------------------------------------------
status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
max() { sort -n | tail -1; }

TMP=$(mktemp -d /tmp/wakeport-scale.XXXXXX)
WP_PID=""
FAILURES=()

cleanup() {
  stop_wakeport "$WP_PID" "$STOP_TIMEOUT"
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits until the log holds more than $2 lines matching $1 (fixed string); prints the newest one.
wait_for_line() {
  local pattern=$1 before=$2 limit=$3 log=$4 deadline=$(( $(now_ms) + $3 * 1000 ))
  while (( $(now_ms) < deadline )); do
    if (( $(grep -cF -- "$pattern" "$log") > before )); then
      grep -F -- "$pattern" "$log" | tail -1
      return 0
    fi
    kill -0 "$WP_PID" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}

http_status() { # host
  curl -s -o /dev/null -m 10 -w '%{http_code}' -H "Host: $1" "http://127.0.0.1:$LISTEN_PORT/" 2>/dev/null
}

heap_and_rss() { # label
  local rss_before; rss_before=$(status_field "$WP_PID" VmRSS)
  jcmd "$WP_PID" GC.run > /dev/null 2>&1
  sleep 1
  local info; info=$(jcmd "$WP_PID" GC.heap_info 2>/dev/null)
  local used committed meta
  used=$(echo "$info" | sed -n 's/.*total \([0-9]*\)K, used \([0-9]*\)K.*/\2/p' | head -1)
  committed=$(echo "$info" | sed -n 's/.*total \([0-9]*\)K, used \([0-9]*\)K.*/\1/p' | head -1)
  meta=$(echo "$info" | sed -n 's/.*Metaspace *used \([0-9]*\)K.*/\1/p' | head -1)
  local rss_after; rss_after=$(status_field "$WP_PID" VmRSS)
  printf '%-14s heap used after GC.run %.1f MiB (committed %d MiB), metaspace %.1f MiB, RSS %d MiB (after GC.run %d MiB), threads %s\n' \
    "$1:" "$(awk -v k="${used:-0}" 'BEGIN { print k / 1024 }')" $(( ${committed:-0} / 1024 )) \
    "$(awk -v k="${meta:-0}" 'BEGIN { print k / 1024 }')" $(( ${rss_before:-0} / 1024 )) $(( ${rss_after:-0} / 1024 )) \
    "$(status_field "$WP_PID" Threads)"
  HEAP_KB=${used:-0}
}

tenant_block() { # first last: YAML for tenants first..last
  awk -v a="$1" -v b="$2" 'BEGIN {
    for (i = a; i <= b; i++) {
      t = sprintf("t%05d", i)
      printf "  %s:\n    hosts: [%s.bench.test, www.%s.bench.test]\n    paths: [/%s]\n", t, t, t, t
      printf "    command: [/bin/true, \"${tenant}\", \"${port}\"]\n"
    }
  }'
}

# ---- 2.–6. one wakeport run -------------------------------------------------------------------------
run_wakeport() { # tenants files reloads
  local n=$1 files=$2 reloads=$3
  local dir=$TMP/run-$n
  mkdir -p "$dir/tenants.d"
  LISTEN_PORT=""
  for p in $(seq 18480 18580); do
    if ! port_open "$p"; then LISTEN_PORT=$p; break; fi
  done
  [[ -n $LISTEN_PORT ]] || die "no free front port in 18480-18580"
  {
    echo "listen: 127.0.0.1:$LISTEN_PORT"
    echo "state-dir: var"
    echo "defaults:"
    echo "  ports: $PORTS"
    echo "  idle-timeout: 5m"
    echo "include: [tenants.d/*.yaml]"
  } > "$dir/wakeport.yaml"
  local per=$(( (n + files - 1) / files )) f first last
  for (( f = 0; f < files; f++ )); do
    first=$(( f * per + 1 )); last=$(( (f + 1) * per )); (( last > n )) && last=$n
    (( first > last )) && break
    { echo "tenants:"; tenant_block "$first" "$last"; } > "$dir/tenants.d/part-$(printf '%03d' "$f").yaml"
  done
  local yaml_kb; yaml_kb=$(du -sk "$dir/tenants.d" | cut -f1)
  echo
  echo "== wakeport with $n tenants ($(ls "$dir/tenants.d" | wc -l) include files, ${yaml_kb} KiB of YAML), listening on 127.0.0.1:$LISTEN_PORT; load $(cut -d' ' -f1-3 /proc/loadavg)"

  # wakeport's output goes outside the watched config directory, so log writes do not wake the watcher.
  local log=$TMP/wakeport-$n.log
  local t0; t0=$(now_ms)
  # shellcheck disable=SC2086
  java $WAKEPORT_JAVA_OPTS -jar "$ROOT/target/wakeport.jar" run --config "$dir/wakeport.yaml" > "$TMP/wakeport-$n.stdout" 2> "$log" &
  WP_PID=$!
  local line
  line=$(wait_for_line "started in" 0 "$START_TIMEOUT" "$log") || { tail -20 "$log"; die "wakeport did not start"; }
  local wall=$(( $(now_ms) - t0 ))
  local started; started=$(sed -n 's/.*started in \([0-9]*\) ms.*/\1/p' <<< "$line")
  echo "start-up:      'started in $started ms' (config load + Vert.x + bind, logged by wakeport); exec -> that line: $wall ms (JVM start included; polled every 50 ms)"
  grep -F "listening on" "$log" | sed 's/^/               log: /'
  local ports_lines; ports_lines=$(grep -vc '^#' "$dir/var/ports.properties" 2>/dev/null)
  echo "               state-dir/ports.properties: ${ports_lines:-0} ports assigned"
  heap_and_rss "after start"
  local heap_start=$HEAP_KB

  local s; s=$(http_status nobody.bench.test)
  echo "unknown host:  HTTP $s"
  [[ $s == 404 ]] || FAILURES+=("[$n] unknown host answered $s, expected 404")

  # 4. reloads
  local count ms edit_ms=() hup_ms=() i next=$(( n + 1 )) last_file
  last_file=$(ls "$dir/tenants.d"/*.yaml | tail -1)
  for (( i = 1; i <= reloads; i++ )); do
    count=$(grep -cF "config reloaded in" "$log")
    tenant_block "$next" "$next" >> "$last_file"
    line=$(wait_for_line "config reloaded in" "$count" "$RELOAD_TIMEOUT" "$log") \
      || { FAILURES+=("[$n] no reload after appending tenant $next"); break; }
    ms=$(sed -n 's/.*config reloaded in \([0-9]*\) ms.*/\1/p' <<< "$line")
    edit_ms+=("$ms")
    echo "reload (edit): ${line#* - }"
    grep -q "(1 added, 0 removed, 0 changed)" <<< "$line" || FAILURES+=("[$n] reload after an edit: $line")
    next=$(( next + 1 ))
    sleep 0.5
  done
  for (( i = 1; i <= reloads; i++ )); do
    count=$(grep -cF "config reloaded in" "$log")
    kill -HUP "$WP_PID"
    line=$(wait_for_line "config reloaded in" "$count" "$RELOAD_TIMEOUT" "$log") \
      || { FAILURES+=("[$n] no reload after HUP"); break; }
    ms=$(sed -n 's/.*config reloaded in \([0-9]*\) ms.*/\1/p' <<< "$line")
    hup_ms+=("$ms")
    echo "reload (HUP):  ${line#* - }"
    sleep 0.5
  done
  local all=("${edit_ms[@]}" "${hup_ms[@]}")
  RELOAD_SUMMARY="edit: median $(printf '%s\n' "${edit_ms[@]}" | median) ms, max $(printf '%s\n' "${edit_ms[@]}" | max) ms; HUP: median $(printf '%s\n' "${hup_ms[@]}" | median) ms, max $(printf '%s\n' "${hup_ms[@]}" | max) ms; all ${#all[@]}: median $(printf '%s\n' "${all[@]}" | median) ms, max $(printf '%s\n' "${all[@]}" | max) ms"
  echo "reloads:       $RELOAD_SUMMARY"

  # 5. a broken include file: refused as a whole, the running map stays
  local bad=$dir/tenants.d/zz-broken.yaml
  local notcount; notcount=$(grep -cF "config not reloaded" "$log")
  count=$(grep -cF "config reloaded in" "$log")
  printf 'tenants:\n  broken:\n    hosts: [broken.bench.test\n    command: [/bin/true]\n' > "$bad"
  if line=$(wait_for_line "config not reloaded" "$notcount" "$RELOAD_TIMEOUT" "$log"); then
    echo "broken file:   ${line#* - }"
    grep -A3 -F "config not reloaded" "$log" | tail -n +2 | grep -F "zz-broken" | head -2 | sed 's/^.* - /               /'
  else
    FAILURES+=("[$n] a broken include file did not log 'config not reloaded'")
  fi
  (( $(grep -cF "config reloaded in" "$log") == count )) || FAILURES+=("[$n] the broken config was applied")
  s=$(http_status nobody.bench.test)
  echo "               still serving: unknown host -> HTTP $s"
  [[ $s == 404 ]] || FAILURES+=("[$n] after the broken reload, unknown host answered $s")
  rm -f "$bad"
  if line=$(wait_for_line "config reloaded in" "$count" "$RELOAD_TIMEOUT" "$log"); then
    echo "file removed:  ${line#* - }"
  else
    FAILURES+=("[$n] no reload after removing the broken file")
  fi

  # 6. memory again, then stop
  heap_and_rss "after reloads"
  local heap_end=$HEAP_KB
  local spawned; spawned=$(grep -c "spawned pid" "$log")
  (( spawned == 0 )) || FAILURES+=("[$n] $spawned backends were spawned")
  local warns; warns=$(grep -cE ' (WARN|ERROR) ' "$log")
  local t1; t1=$(now_ms)
  kill -TERM "$WP_PID"
  local rc=""
  for _ in $(seq 1 $(( STOP_TIMEOUT * 10 ))); do
    kill -0 "$WP_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$WP_PID" 2>/dev/null; then
    FAILURES+=("[$n] wakeport still running ${STOP_TIMEOUT}s after TERM: killed")
    kill -KILL "$WP_PID" 2>/dev/null
  fi
  wait "$WP_PID" 2>/dev/null; rc=$?
  echo "stop:          TERM -> exited in $(( $(now_ms) - t1 )) ms (status $rc); backends spawned: $spawned; log: $(wc -l < "$log") lines, $warns WARN/ERROR (the broken file's)"
  WP_PID=""

  # A restart on the same state dir: every port is remembered, none is assigned or written.
  local log2=$TMP/wakeport-$n-restart.log
  t0=$(now_ms)
  # shellcheck disable=SC2086
  java $WAKEPORT_JAVA_OPTS -jar "$ROOT/target/wakeport.jar" run --config "$dir/wakeport.yaml" > /dev/null 2> "$log2" &
  WP_PID=$!
  local restarted=""
  if line=$(wait_for_line "started in" 0 "$START_TIMEOUT" "$log2"); then
    restarted=$(sed -n 's/.*started in \([0-9]*\) ms.*/\1/p' <<< "$line")
    echo "restart:       'started in $restarted ms' with the ports remembered; exec -> that line: $(( $(now_ms) - t0 )) ms"
  else
    FAILURES+=("[$n] wakeport did not restart")
  fi
  kill -TERM "$WP_PID" 2>/dev/null
  for _ in $(seq 1 $(( STOP_TIMEOUT * 10 ))); do kill -0 "$WP_PID" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$WP_PID" 2>/dev/null && { FAILURES+=("[$n] restarted wakeport ignored TERM: killed"); kill -KILL "$WP_PID"; }
  wait "$WP_PID" 2>/dev/null
  WP_PID=""
  RESULT_STARTED=$started RESULT_WALL=$wall RESULT_HEAP_START=$heap_start RESULT_HEAP_END=$heap_end
  RESULT_RESTARTED=$restarted
}

run_wakeport "$TENANTS" "$FILES" "$RELOADS"
BIG="$TENANTS tenants: started in $RESULT_STARTED ms (exec -> line $RESULT_WALL ms), restart $RESULT_RESTARTED ms; reloads $RELOAD_SUMMARY; heap after GC $((RESULT_HEAP_START / 1024)) MiB at start, $((RESULT_HEAP_END / 1024)) MiB after the reloads"
BIG_HEAP=$RESULT_HEAP_START
SMALL=""
if (( BASELINE > 0 )); then
  run_wakeport "$BASELINE" 1 "$RELOADS"
  SMALL="$BASELINE tenants: started in $RESULT_STARTED ms (exec -> line $RESULT_WALL ms), restart $RESULT_RESTARTED ms; reloads $RELOAD_SUMMARY; heap after GC $((RESULT_HEAP_START / 1024)) MiB at start, $((RESULT_HEAP_END / 1024)) MiB after the reloads"
  SMALL_HEAP=$RESULT_HEAP_START
fi

echo
echo "== summary (wakeport)"
echo "$BIG"
if [[ -n $SMALL ]]; then
  echo "$SMALL"
  echo "heap per extra tenant: $(awk -v a="$BIG_HEAP" -v b="$SMALL_HEAP" -v n=$(( TENANTS - BASELINE )) 'BEGIN { printf "%.2f KiB", (a - b) / n }') (difference of heap used after GC at start)"
fi

# ---- 8. JMH -------------------------------------------------------------------------------------------
if [[ $JMH == 1 ]]; then
  echo
  echo "== JMH: bench/jmh RoutingBench (RoutingTable.route; load before: $(cut -d' ' -f1-3 /proc/loadavg))"
  # shellcheck disable=SC2086
  timeout 240 java -jar bench/jmh/target/benchmarks.jar RoutingBench -rf text -rff "$TMP/jmh.txt" $JMH_ARGS \
    > "$TMP/jmh.log" 2>&1 || { tail -30 "$TMP/jmh.log"; FAILURES+=("JMH failed or timed out"); }
  [[ -f $TMP/jmh.txt ]] && cat "$TMP/jmh.txt"
  # On a shared machine the fastest iteration is the least disturbed one: show the spread too.
  echo
  awk '
    /^# Benchmark: / { b = $3; sub(/.*\./, "", b) }
    /^# Parameters: / { p = $0; sub(/.*= /, "", p); sub(/\)/, "", p) }
    /^Iteration +[0-9]+: / {
      v = $3 + 0; k = sprintf("%-20s %6s", b, p)
      if (!(k in lo) || v < lo[k]) lo[k] = v
      if (!(k in hi) || v > hi[k]) hi[k] = v
      unit[k] = $4; if (!(k in seen)) { order[++n] = k; seen[k] = 1 }
    }
    END {
      printf "%-27s %14s %14s  %s\n", "measurement iterations", "fastest", "slowest", "unit"
      for (i = 1; i <= n; i++) { k = order[i]; printf "%-27s %14.3f %14.3f  %s\n", k, lo[k], hi[k], unit[k] }
    }' "$TMP/jmh.log"
  echo "(load after: $(cut -d' ' -f1-3 /proc/loadavg))"
fi

echo
if (( ${#FAILURES[@]} > 0 )); then
  printf 'FAILED: %s\n' "${FAILURES[@]}"
  exit 1
fi
echo "all checks passed; nothing left running"
