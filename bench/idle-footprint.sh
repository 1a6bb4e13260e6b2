#!/usr/bin/env bash
# Idle footprint of wakeport itself: 1,000 tenants configured, 100 of them running (kept warm by
# `min-running: 1`, started by wakeport at start-up), nothing else happening.
#
#   bench/idle-footprint.sh                # -Xmx256m, then the JVM's default heap
#   HEAPS="256m" bench/idle-footprint.sh   # one run only
#
# For the wakeport JVM only (backends not included) it measures, after all 100 instances are READY
# and a short settle: CPU time used during IDLE_SECONDS of idleness, RSS, heap used after a full GC
# (jcmd GC.run, then GC.heap_info), thread count (and the biggest thread groups), and how many
# backend processes are alive. Then it sends REQUESTS requests spread over the 100 running tenants
# (all must answer 200), stops wakeport with TERM and checks that every backend is gone.
#
# Binds 127.0.0.1 only: the front port (first free one from 18080) and backend ports 21001-22000.
# Bounded: about 1.5 minutes per heap setting (3 minutes for the default two). Environment knobs:
#   HEAPS="256m default"  IDLE_SECONDS=60  SETTLE_SECONDS=5  REQUESTS=1000  BACKEND=auto|python|demo
#   TENANTS=1000  RUNNING=100  KEEP_TMP=1 (keep the generated config, logs and backend logs)
#   NMT=1 (run wakeport with -XX:NativeMemoryTracking=summary and print its total and thread lines)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
cd "$ROOT"

HEAPS=${HEAPS:-"256m default"}
IDLE_SECONDS=${IDLE_SECONDS:-60}
SETTLE_SECONDS=${SETTLE_SECONDS:-5}
REQUESTS=${REQUESTS:-1000}
BACKEND=${BACKEND:-auto}
TENANTS=${TENANTS:-1000}
RUNNING=${RUNNING:-100}
PORT_BASE=21000            # tenant tNNNN gets port 21000+NNNN
READY_TIMEOUT=180          # seconds to wait for all RUNNING instances to be READY
STOP_TIMEOUT=90            # seconds to wait for wakeport to exit after TERM (it waits 60 s for stops)

die() { echo "idle-footprint: $*" >&2; exit 1; }
for tool in java jcmd curl; do command -v "$tool" >/dev/null || die "$tool is required"; done
(( RUNNING <= TENANTS )) || die "RUNNING must not exceed TENANTS"

if [[ ! -f target/wakeport.jar ]]; then
  echo "building target/wakeport.jar ..."
  mvn -q -B package -DskipTests || die "build failed"
fi

# ---- backend command ----------------------------------------------------------------------------
PYTHON=""
if [[ $BACKEND != demo ]] && command -v python3 >/dev/null; then
  # Resolve shims (pyenv and the like) to the real interpreter: every start would pay for them.
  PYTHON=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PYTHON=""
fi
if [[ -n $PYTHON ]]; then
  BACKEND_DESC="python3 -m http.server ($PYTHON, $("$PYTHON" --version 2>&1))"
  COMMAND="[$PYTHON, -m, http.server, --bind, 127.0.0.1, \"\${port}\"]"
else
  [[ $BACKEND == python ]] && die "BACKEND=python but no python3 found"
  if [[ ! -f target/test-classes/DemoBackend.class ]]; then
    echo "compiling the demo backend (mvn -q -B test-compile) ..."
    mvn -q -B test-compile || die "test-compile failed"
  fi
  BACKEND_DESC="demo backend (java -cp target/test-classes DemoBackend, -Xmx32m, SerialGC)"
  COMMAND="[java, -Xmx32m, -XX:+UseSerialGC, -cp, $ROOT/target/test-classes, DemoBackend, --port, \"\${port}\"]"
fi

# ---- ports ----------------------------------------------------------------------------------------
LISTEN_PORT=""
for p in $(seq 18080 18180); do
  if ! port_open "$p"; then LISTEN_PORT=$p; break; fi
done
[[ -n $LISTEN_PORT ]] || die "no free front port in 18080-18180"
for i in $(seq 1 "$RUNNING"); do
  port_open $((PORT_BASE + i)) && die "port $((PORT_BASE + i)) is already in use: wakeport would adopt it instead of starting a backend"
done

# ---- config ---------------------------------------------------------------------------------------
TMP=$(mktemp -d /tmp/wakeport-idle.XXXXXX)
WWW=$TMP/www               # backends' working directory: also how leftovers are recognised
mkdir -p "$WWW"
echo "wakeport idle-footprint benchmark: nothing to see here" > "$WWW/index.html"
CONFIG=$TMP/wakeport.yaml
{
  echo "listen: 127.0.0.1:$LISTEN_PORT"
  echo "state-dir: var"
  echo "max-starting: 8"
  echo "defaults:"
  echo "  workdir: $WWW"
  echo "  start-timeout: 60s"
  echo "  command: $COMMAND"
  echo "tenants:"
  for i in $(seq 1 "$TENANTS"); do
    t=$(printf 't%04d' "$i")
    echo "  $t:"
    echo "    hosts: [$t.bench]"
    echo "    port: $((PORT_BASE + i))"
    if (( i <= RUNNING )); then
      echo "    min-running: 1"
      echo "    idle-timeout: never"
    fi
  done
} > "$CONFIG"
java -jar target/wakeport.jar check --config "$CONFIG" >/dev/null || die "generated config rejected: $CONFIG"

CLK_TCK=$(getconf CLK_TCK)
WP_PID=""
FAILURES=()

cleanup() {
  stop_wakeport "$WP_PID" "$STOP_TIMEOUT"
  for p in $(backend_pids); do kill -KILL "$p" 2>/dev/null; done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Backends of this benchmark: processes whose working directory is $WWW (the http.server or
# DemoBackend itself; wakeport's launcher execs, so there is no wrapper process in between).
backend_pids() {
  local d
  for d in /proc/[0-9]*; do
    [[ $(readlink "$d/cwd" 2>/dev/null) == "$WWW" ]] && echo "${d#/proc/}"
  done
}
cpu_ticks() { # utime + stime of $1, in clock ticks
  local stat; stat=$(< "/proc/$1/stat") || return 1
  stat=${stat##*) }                     # fields from 3 (state) on
  local f=($stat)
  echo $(( f[11] + f[12] ))
}
status_field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
ready_count() { grep -c -- '-> READY' "$1" 2>/dev/null || true; }

# One run: $1 = heap setting ("256m" or "default"). Appends a row to RESULTS.
RESULTS=()
run_once() {
  local heap=$1 log=$TMP/wakeport-$1.log jvm_opts=()
  [[ $heap != default ]] && jvm_opts=("-Xmx$heap")
  [[ ${NMT:-0} == 1 ]] && jvm_opts+=("-XX:NativeMemoryTracking=summary")
  rm -rf "$TMP/var"
  echo
  echo "== heap: $heap =="
  local t0; t0=$(date +%s.%N)
  java "${jvm_opts[@]}" -jar target/wakeport.jar run --config "$CONFIG" 2> "$log" > /dev/null &
  WP_PID=$!
  local n=0 deadline=$(( $(date +%s) + READY_TIMEOUT ))
  while (( $(date +%s) < deadline )); do
    kill -0 "$WP_PID" 2>/dev/null || { FAILURES+=("[$heap] wakeport exited during start-up (see log)"); tail -20 "$log"; WP_PID=""; return 1; }
    n=$(ready_count "$log")
    (( n >= RUNNING )) && break
    sleep 0.2
  done
  local startup; startup=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  if (( n < RUNNING )); then
    FAILURES+=("[$heap] only $n of $RUNNING instances READY after ${READY_TIMEOUT}s")
  fi
  echo "$n instances READY ${startup}s after launch (JVM start included); settling ${SETTLE_SECONDS}s, then ${IDLE_SECONDS}s idle"
  sleep "$SETTLE_SECONDS"

  local c0 c1; c0=$(cpu_ticks "$WP_PID")
  local w0; w0=$(date +%s%N)
  sleep "$IDLE_SECONDS"
  c1=$(cpu_ticks "$WP_PID")
  local w1; w1=$(date +%s%N)
  local cpu_ms=$(( (c1 - c0) * 1000 / CLK_TCK ))
  local wall_ms=$(( (w1 - w0) / 1000000 ))
  local cpu_pct; cpu_pct=$(awk -v c="$cpu_ms" -v w="$wall_ms" 'BEGIN { printf "%.2f", 100 * c / w }')
  local rss_kb threads alive
  rss_kb=$(status_field "$WP_PID" VmRSS)
  threads=$(status_field "$WP_PID" Threads)
  alive=$(backend_pids | wc -l)
  local children; children=$(ps -o pid= --ppid "$WP_PID" | wc -l)

  # Thread groups: names with digits stripped, biggest first.
  local groups; groups=$(jcmd "$WP_PID" Thread.print 2>/dev/null | sed -n 's/^"\(.*\)" #[0-9].*/\1/p' \
    | sed -e 's/[0-9][0-9]*/N/g' -e 's/\[pid=.*/[pid=N]/' | sort | uniq -c | sort -rn | head -6 | awk '{ c=$1; $1=""; printf "%s%s x%d", (NR>1?",":""), $0, c }')

  jcmd "$WP_PID" GC.run > /dev/null 2>&1
  sleep 1
  local heapinfo; heapinfo=$(jcmd "$WP_PID" GC.heap_info 2>/dev/null)
  local heap_used_kb heap_committed_kb
  heap_used_kb=$(echo "$heapinfo" | sed -n 's/.*total \([0-9]*\)K, used \([0-9]*\)K.*/\2/p' | head -1)
  heap_committed_kb=$(echo "$heapinfo" | sed -n 's/.*total \([0-9]*\)K, used \([0-9]*\)K.*/\1/p' | head -1)
  local meta_kb; meta_kb=$(echo "$heapinfo" | sed -n 's/.*Metaspace *used \([0-9]*\)K.*/\1/p' | head -1)
  local maxheap; maxheap=$(jcmd "$WP_PID" VM.flags 2>/dev/null | tr ' ' '\n' | sed -n 's/-XX:MaxHeapSize=//p')
  local gc; gc=$(jcmd "$WP_PID" VM.flags 2>/dev/null | tr ' ' '\n' | sed -n 's/-XX:+Use\(.*GC\)$/\1/p' | head -1)
  local rss_gc_kb; rss_gc_kb=$(status_field "$WP_PID" VmRSS)

  echo "idle: cpu ${cpu_ms} ms in ${wall_ms} ms (${cpu_pct}% of one core), RSS $((rss_kb / 1024)) MiB, threads $threads"
  echo "      heap used after GC $((heap_used_kb / 1024)) MiB (committed $((heap_committed_kb / 1024)) MiB, max $(( ${maxheap:-0} / 1048576 )) MiB, $gc), metaspace $((${meta_kb:-0} / 1024)) MiB, RSS after GC $((rss_gc_kb / 1024)) MiB"
  echo "      backends alive $alive (direct children of wakeport: $children)"
  echo "      thread groups:$groups"
  if [[ ${NMT:-0} == 1 ]]; then
    jcmd "$WP_PID" VM.native_memory summary scale=KB 2>/dev/null \
      | grep -E '^Total|^-  *(Java Heap|Class|Thread|Code|GC|Internal|Other|Arena|Symbol|Metaspace)' -A1 \
      | grep -vE '^--$|mmap:|malloc:' | sed 's/^/      nmt: /'
  fi
  (( alive == RUNNING )) || FAILURES+=("[$heap] $alive backends alive, expected $RUNNING")

  # ---- requests: REQUESTS spread over the running tenants, curl reusing its connection --------
  local ok=0 total=0 rq_s="-"
  if (( REQUESTS > 0 && RUNNING > 0 )); then
    local per=$(( (REQUESTS + RUNNING - 1) / RUNNING ))
    local codes=$TMP/codes-$heap
    local r0; r0=$(date +%s%N)
    seq 1 "$RUNNING" | xargs -P 4 -I{} sh -c '
      t=$(printf "t%04d" "$1"); urls=""
      for j in $(seq 1 "$2"); do urls="$urls -o /dev/null http://127.0.0.1:$3/?r=$j"; done
      curl -s -m 10 -w "%{http_code}\n" -H "Host: $t.bench" $urls' _ {} "$per" "$LISTEN_PORT" > "$codes"
    local r1; r1=$(date +%s%N)
    total=$(wc -l < "$codes"); ok=$(grep -c '^200$' "$codes" || true)
    rq_s=$(awk -v n="$total" -v ns="$((r1 - r0))" 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
    echo "requests: $ok of $total answered 200 ($rq_s req/s with 4 curl workers); RSS now $(( $(status_field "$WP_PID" VmRSS) / 1024 )) MiB, threads $(status_field "$WP_PID" Threads)"
    (( ok == total && total == per * RUNNING )) || FAILURES+=("[$heap] only $ok of $((per * RUNNING)) requests answered 200")
  fi

  # ---- stop -----------------------------------------------------------------------------------
  local s0; s0=$(date +%s%N)
  kill -TERM "$WP_PID"
  local exited=0
  for _ in $(seq 1 $((STOP_TIMEOUT * 5))); do kill -0 "$WP_PID" 2>/dev/null || { exited=1; break; }; sleep 0.2; done
  local stop_s; stop_s=$(awk -v ns="$(( $(date +%s%N) - s0 ))" 'BEGIN { printf "%.1f", ns / 1e9 }')
  if (( ! exited )); then
    FAILURES+=("[$heap] wakeport still running ${STOP_TIMEOUT}s after TERM: killed")
    kill -KILL "$WP_PID" 2>/dev/null
  fi
  wait "$WP_PID" 2>/dev/null
  WP_PID=""
  sleep 0.5
  local left; left=$(backend_pids)
  local nleft; nleft=$(echo -n "$left" | grep -c . || true)
  if (( nleft > 0 )); then
    FAILURES+=("[$heap] $nleft backends still alive after wakeport exited: killed pids $(echo $left)")
    for p in $left; do kill -KILL "$p" 2>/dev/null; done
  fi
  echo "stop: wakeport exited ${stop_s}s after TERM; backends left behind: $nleft"

  local warns; warns=$(grep -cE ' (WARN|ERROR) ' "$log" || true)
  echo "log: $(wc -l < "$log") lines, $warns WARN/ERROR"
  grep -E ' (WARN|ERROR) ' "$log" | head -5 | sed 's/^/  | /'
  cp "$log" "$TMP/last-wakeport.log" 2>/dev/null

  RESULTS+=("$(printf '| %-8s | %5s | %7s | %6s | %6s | %6s | %7s | %8s | %7s | %6s | %6s |' \
    "$heap" "$startup" "$cpu_ms" "$cpu_pct" "$((rss_kb / 1024))" "$((heap_used_kb / 1024))" \
    "$((heap_committed_kb / 1024))" "$threads" "$alive" "$ok/$total" "$nleft")")
}

echo "wakeport idle footprint: $TENANTS tenants configured, $RUNNING running (min-running: 1), max-starting: 8"
echo "backend: $BACKEND_DESC"
echo "machine: $(nproc) cpus, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM"
echo "java: $(java -version 2>&1 | head -1); config: $CONFIG; front port 127.0.0.1:$LISTEN_PORT"

for heap in $HEAPS; do
  run_once "$heap"
done

echo
echo "Results (wakeport JVM only; CPU over ${IDLE_SECONDS}s idle after ${SETTLE_SECONDS}s settle; heap after jcmd GC.run)"
printf '| %-8s | %5s | %7s | %6s | %6s | %6s | %7s | %8s | %7s | %6s | %6s |\n' \
  heap "up s" "cpu ms" "%core" "RSS" "heap" "heap" threads backends "200s" left
printf '| %-8s | %5s | %7s | %6s | %6s | %6s | %7s | %8s | %7s | %6s | %6s |\n' \
  "" "" "idle" "idle" MiB "used" "commit" "" alive "" "after"
echo "|----------|-------|---------|--------|--------|--------|---------|----------|---------|--------|--------|"
printf '%s\n' "${RESULTS[@]}"
if (( ${#FAILURES[@]} )); then
  echo
  echo "FAILURES:"
  printf '  - %s\n' "${FAILURES[@]}"
  exit 1
fi
echo "all checks passed"
