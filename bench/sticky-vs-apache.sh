#!/usr/bin/env bash
# Sticky-request throughput and latency: wakeport beside Apache mod_proxy_balancer configured as in
# the Seaside book (two members, routes `first` and `second`, `stickysession=_s|_s nofailover=On`,
# `ProxyPreserveHost On`), both in front of the SAME two demo backends, plus the backends directly.
#
#   bench/sticky-vs-apache.sh
#
# What it does, all on 127.0.0.1 and on free ports it picks itself:
#   1. starts two demo backends (java -cp target/test-classes DemoBackend --route first / second);
#   2. starts wakeport (tenant `seaside`, hosts [seaside.bench], routes first/second on those ports,
#      sticky {cookie: _s, param: _s}, failover: false, idle-timeout: never, min-running: 2,
#      command [/bin/false]: the ports are already open, so wakeport uses them and never spawns);
#   3. starts Apache in the foreground with its own config in a temp dir (mpm_event, mod_proxy,
#      mod_proxy_http, mod_proxy_balancer, mod_lbmethod_byrequests, mod_slotmem_shm);
#   4. checks stickiness on both proxies (Cookie _s=x.second -> route second, ?_s=x.first -> route
#      first, and the reverse, and ?_s=x.first beating Cookie _s=x.second);
#   5. takes one real session from each backend (_s=<hex>.first, _s=<hex>.second), warms up (wakeport
#      in 10 s slices until its req/s rises by less than 10 %, 2 to 6 slices: its JIT needs 30-60 s of
#      load on 2 CPUs; Apache and direct WARMUP_OTHERS s; none of it recorded), then ROUNDS rounds of
#      {direct, wakeport, apache} x DURATION s with wrk (THREADS threads, CONNECTIONS connections,
#      --latency), the order rotated each round. Every request is sticky: odd wrk threads send the
#      `first` session cookie, even ones the `second` one; for `direct` the odd threads connect to the
#      first backend and the even ones to the second, so all three targets see the same split;
#   6. per run: requests/s, p50, p99 (wrk), CPU time per request (utime+stime from /proc/PID/stat) of
#      the proxy (Apache: parent + children + reaped children) and of the two backends, CPU used by
#      wrk, whole-machine CPU busy and the part of it that is not ours (others_during_pct), GC pauses
#      of the three JVMs (-Xlog:gc), connections open to the backends by owner; and a tally that every
#      request reached its session's backend (the demo backend counts requests per session id; a
#      misrouted request would open a new session instead);
#   7. prints the median over rounds per target, the warnings/errors of wakeport's and Apache's logs,
#      stops everything it started by pid and checks nothing is left.
#
# Installs apache2 and wrk from Debian packages when missing (needs root or sudo). Takes 2.5 to 6
# minutes with the defaults (more when it waits for a busy machine). Knobs (environment):
#   ROUNDS=3 DURATION=10 WARMUP_MIN=2 WARMUP_MAX=6 (10 s slices) WARMUP_OTHERS=5 THREADS=2 CONNECTIONS=32
#   QUIET_PCT=25 QUIET_MAX=5 (before each run, wait up to QUIET_MAX s while other users of the machine
#                             take more than QUIET_PCT % of its CPU; the run is done anyway after that)
#   APACHE_MAX_KEEPALIVE=0   (MaxKeepAliveRequests; 0 = unlimited, like wakeport; Apache's default is 100)
#   KEEP_TMP=1               (keep configs and logs in the temp dir)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
cd "$ROOT"

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10}
WARMUP_MIN=${WARMUP_MIN:-2}       # slices of 10 s through wakeport
WARMUP_MAX=${WARMUP_MAX:-6}
WARMUP_OTHERS=${WARMUP_OTHERS:-5}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
APACHE_MAX_KEEPALIVE=${APACHE_MAX_KEEPALIVE:-0}
HOST_HEADER=seaside.bench

die() { echo "sticky-vs-apache: $*" >&2; exit 1; }
say() { echo "sticky-vs-apache: $*"; }
(( THREADS % 2 == 0 )) || die "THREADS must be even (half the threads use each route)"
(( CONNECTIONS % THREADS == 0 )) || die "CONNECTIONS must be a multiple of THREADS"

# ---- tools ----------------------------------------------------------------------------------------
APACHE_BIN=/usr/sbin/apache2
APACHE_MODS=/usr/lib/apache2/modules
if [[ ! -x $APACHE_BIN ]] || ! command -v wrk >/dev/null; then
  say "installing apache2 and wrk (Debian packages) ..."
  SUDO=""; (( EUID == 0 )) || SUDO=sudo
  $SUDO apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q apache2 wrk >/dev/null \
    || die "apt-get install apache2 wrk failed"
fi
for tool in java curl wrk; do command -v "$tool" >/dev/null || die "$tool is required"; done
for m in mpm_event authn_core authz_core proxy proxy_http proxy_balancer lbmethod_byrequests slotmem_shm; do
  [[ -f $APACHE_MODS/mod_$m.so ]] || die "$APACHE_MODS/mod_$m.so is missing"
done
if [[ ! -f target/wakeport.jar ]] || [[ ! -f target/test-classes/DemoBackend.class ]]; then
  say "building wakeport and the demo backend ..."
  mvn -q -B package -DskipTests && mvn -q -B test-compile || die "build failed"
fi

# ---- ports, temp dir, cleanup ---------------------------------------------------------------------
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
CHOSEN=" "
free_port() { # first port from $1 that nobody listens on and we have not chosen yet
  local p
  for (( p = $1; p < $1 + 500; p++ )); do
    [[ $CHOSEN == *" $p "* ]] && continue
    port_open "$p" && continue
    CHOSEN+="$p "; echo "$p"; return 0
  done
  return 1
}
P=$(free_port 18881) && Q=$(free_port $((P + 1))) && W=$(free_port 18980) && A=$(free_port 19080) \
  || die "no free ports"

TMP=$(mktemp -d /tmp/wakeport-sticky.XXXXXX)
chmod 755 "$TMP"
CLK_TCK=$(getconf CLK_TCK)
B1_PID="" B2_PID="" WP_PID="" AP_PID=""
ALL_PIDS=()      # everything we started (apache children are added when seen)

stop_pid() { # $1 pid, $2 seconds to wait after TERM before KILL
  local pid=$1 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null
  for (( i = 0; i < $2 * 10; i++ )); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  say "pid $pid still alive after TERM + $2 s: KILL"
  kill -KILL "$pid" 2>/dev/null
  sleep 0.2
}
cleanup() {
  trap - EXIT
  stop_pid "$WP_PID" 30
  stop_pid "$AP_PID" 15
  local p
  for p in $(apache_children); do stop_pid "$p" 5; done
  stop_pid "$B1_PID" 10
  stop_pid "$B2_PID" 10
  if [[ ${KEEP_TMP:-0} == 1 ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- /proc helpers --------------------------------------------------------------------------------
stat_fields() { # fields 3.. of /proc/$1/stat (after the command name), as an array in F
  local s; s=$(< "/proc/$1/stat") 2>/dev/null || return 1
  s=${s##*) }
  read -r -a F <<< "$s"
  (( ${#F[@]} > 20 ))     # a process that is exiting may give an empty read
}
ticks() { # utime + stime of $1 (all its threads), in clock ticks; 0 if gone
  stat_fields "$1" || { echo 0; return; }
  echo $(( F[11] + F[12] ))
}
apache_children() { # live processes whose parent is the Apache parent
  [[ -n $AP_PID ]] || return 0
  local d
  for d in /proc/[0-9]*; do
    [[ -r $d/stat ]] || continue
    stat_fields "${d#/proc/}" 2>/dev/null || continue
    [[ ${F[1]} == "$AP_PID" ]] && echo "${d#/proc/}"
  done
}
apache_ticks() { # parent's own + its reaped children's (cutime+cstime) + live children's utime+stime
  stat_fields "$AP_PID" || { echo 0; return; }
  local t=$(( F[11] + F[12] + F[13] + F[14] )) c
  for c in $(apache_children); do t=$(( t + $(ticks "$c") )); ALL_PIDS+=("$c"); done
  echo "$t"
}
machine_ticks() { # "busy total" over all CPUs from /proc/stat
  local cpu u n s i io irq sirq st rest
  read -r cpu u n s i io irq sirq st rest < /proc/stat
  echo "$(( u + n + s + irq + sirq + st )) $(( u + n + s + i + io + irq + sirq + st ))"
}
wait_port() { # $1 port, $2 pid that must stay alive, $3 what, $4 log
  local i
  for (( i = 0; i < 300; i++ )); do
    port_open "$1" && return 0
    kill -0 "$2" 2>/dev/null || { tail -20 "$4" >&2; die "$3 exited before listening on $1"; }
    sleep 0.1
  done
  tail -20 "$4" >&2; die "$3 did not listen on $1 within 30 s"
}

# ---- machine --------------------------------------------------------------------------------------
say "machine: $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, $(uname -sr)"
say "java: $(java -version 2>&1 | head -2 | tail -1)"
say "apache: $($APACHE_BIN -v | head -1 | sed 's/^Server version: //'), wrk: $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)"
say "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (src modified)')"
say "ports: backend first $P, backend second $Q, wakeport $W, apache $A; temp dir $TMP"

# ---- backends -------------------------------------------------------------------------------------
java -Xlog:gc:file="$TMP/gc-backend-first.log":timemillis -cp target/test-classes DemoBackend --port "$P" --tenant seaside --route first > "$TMP/backend-first.log" 2>&1 &
B1_PID=$!; ALL_PIDS+=("$B1_PID")
java -Xlog:gc:file="$TMP/gc-backend-second.log":timemillis -cp target/test-classes DemoBackend --port "$Q" --tenant seaside --route second > "$TMP/backend-second.log" 2>&1 &
B2_PID=$!; ALL_PIDS+=("$B2_PID")
wait_port "$P" "$B1_PID" "backend first" "$TMP/backend-first.log"
wait_port "$Q" "$B2_PID" "backend second" "$TMP/backend-second.log"
say "backends: first pid $B1_PID on $P, second pid $B2_PID on $Q"

# ---- wakeport -------------------------------------------------------------------------------------
cat > "$TMP/wakeport.yaml" <<EOF
listen: 127.0.0.1:$W
state-dir: $TMP/var
tenants:
  seaside:
    hosts: [$HOST_HEADER]
    command: [/bin/false]          # never run: both route ports are already open
    routes: {first: {port: $P}, second: {port: $Q}}
    sticky: {cookie: _s, param: _s}
    failover: false
    min-running: 2
    idle-timeout: never
EOF
java -Xlog:gc:file="$TMP/gc-wakeport.log":timemillis -jar target/wakeport.jar run --config "$TMP/wakeport.yaml" > "$TMP/wakeport.log" 2>&1 &
WP_PID=$!; ALL_PIDS+=("$WP_PID")
wait_port "$W" "$WP_PID" "wakeport" "$TMP/wakeport.log"
say "wakeport: pid $WP_PID on $W"

# ---- apache ---------------------------------------------------------------------------------------
ADIR=$TMP/apache
mkdir -p "$ADIR/run"
APACHE_USER=""
if (( EUID == 0 )); then
  if getent passwd www-data >/dev/null; then APACHE_USER="User www-data
Group www-data"; else APACHE_USER="User nobody
Group nogroup"; fi
fi
cat > "$ADIR/apache2.conf" <<EOF
# Own config for the benchmark; the proxy part is the Seaside book's (Dynamic Web Development with
# Seaside, 23.3.7 Load Balancing Multiple Images) with the ports of this run.
ServerRoot "$ADIR"
ServerName 127.0.0.1
Listen 127.0.0.1:$A
PidFile "$ADIR/run/apache2.pid"
DefaultRuntimeDir "$ADIR/run"
ErrorLog "$ADIR/error.log"
LogLevel warn
$APACHE_USER
LoadModule mpm_event_module $APACHE_MODS/mod_mpm_event.so
LoadModule authn_core_module $APACHE_MODS/mod_authn_core.so
LoadModule authz_core_module $APACHE_MODS/mod_authz_core.so
LoadModule proxy_module $APACHE_MODS/mod_proxy.so
LoadModule proxy_http_module $APACHE_MODS/mod_proxy_http.so
LoadModule proxy_balancer_module $APACHE_MODS/mod_proxy_balancer.so
LoadModule lbmethod_byrequests_module $APACHE_MODS/mod_lbmethod_byrequests.so
LoadModule slotmem_shm_module $APACHE_MODS/mod_slotmem_shm.so
# Debian's mpm_event.conf values.
StartServers 2
MinSpareThreads 25
MaxSpareThreads 75
ThreadLimit 64
ThreadsPerChild 25
MaxRequestWorkers 150
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests $APACHE_MAX_KEEPALIVE
KeepAliveTimeout 5
# No access log (wakeport writes none either).

$(seaside_balancer_conf "$P" "$Q")
EOF
$APACHE_BIN -d "$ADIR" -f "$ADIR/apache2.conf" -t > "$ADIR/configtest.log" 2>&1 \
  || { cat "$ADIR/configtest.log" >&2; die "apache config rejected"; }
$APACHE_BIN -d "$ADIR" -f "$ADIR/apache2.conf" -DFOREGROUND > "$ADIR/stdout.log" 2>&1 &
AP_PID=$!; ALL_PIDS+=("$AP_PID")
wait_port "$A" "$AP_PID" "apache" "$ADIR/error.log"
sleep 0.5
say "apache: parent pid $AP_PID on $A, children $(apache_children | tr '\n' ' ')"

# ---- stickiness checks ----------------------------------------------------------------------------
FAILURES=()
NOTES=()
CHECKS=0
route_of() { # $1 port, $2 path+query, $3 cookie header or "" -> the route= line of the body
  local args=(-s --max-time 10 -H "Host: $HOST_HEADER")
  [[ -n $3 ]] && args+=(-H "Cookie: $3")
  curl "${args[@]}" "http://127.0.0.1:$1$2" | sed -n 's/^route=//p'
}
check() { # $1 name, $2 port, $3 path, $4 cookie, $5 expected route
  local got; got=$(route_of "$2" "$3" "$4")
  CHECKS=$((CHECKS + 1))
  if [[ $got == "$5" ]]; then
    echo "  ok   $1: GET $3${4:+ with Cookie: $4} -> route=$got"
  else
    echo "  FAIL $1: GET $3${4:+ with Cookie: $4} -> route=${got:-<none>} (expected $5)"
    FAILURES+=("stickiness $1: $3 ${4:-} -> ${got:-none}, expected $5")
  fi
}
say "stickiness checks (Host: $HOST_HEADER):"
for target in "wakeport $W" "apache $A"; do
  set -- $target
  for i in 1 2 3; do   # a few times each: a balancer that ignores the session would alternate
    check "$1" "$2" / "_s=x.second" second
    check "$1" "$2" "/?_s=x.first" "" first
    check "$1" "$2" / "_s=x.first" first
    check "$1" "$2" "/?_s=x.second" "" second
  done
  check "$1" "$2" "/?_s=x.first" "_s=x.second" first
  check "$1" "$2" "/;_s=x.second" "" second
done
(( ${#FAILURES[@]} == 0 )) && say "stickiness: all $CHECKS checks passed" || say "stickiness: ${#FAILURES[@]} of $CHECKS checks FAILED"

# ---- sessions and the wrk script ------------------------------------------------------------------
new_session() { # $1 port -> value of the _s cookie the backend sets
  curl -s --max-time 10 -D - -o /dev/null "http://127.0.0.1:$1/" | tr -d '\r' | sed -n 's/^[Ss]et-[Cc]ookie: _s=\([^;]*\).*/\1/p'
}
S1=$(new_session "$P"); S2=$(new_session "$Q")
[[ $S1 == *.first && $S2 == *.second ]] || die "could not get sessions from the backends ($S1, $S2)"
say "sessions: _s=$S1 (backend first), _s=$S2 (backend second)"
session_count() { # $1 port, $2 session -> the backend's request count for it (this request included)
  curl -s --max-time 10 -H "Cookie: _s=$2" "http://127.0.0.1:$1/" | sed -n 's/^count=//p'
}

cat > "$TMP/sticky.lua" <<'EOF'
-- args (after --): mode (direct|proxy), host header, session 1, session 2, port 1, port 2
-- Odd threads carry session 1 (route first), even ones session 2 (route second). In direct mode
-- odd threads connect to port 1 and even ones to port 2, so every target sees the same split.
local n = 0
local mode, host, s1, s2, p1, p2
function setup(thread)
  n = n + 1
  thread:set("odd", n % 2 == 1)
end
function init(args)
  mode, host, s1, s2 = args[1], args[2], args[3], args[4]
  wrk.headers["Host"] = host
  wrk.headers["Cookie"] = "_s=" .. (odd and s1 or s2)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%.0f max_us=%d\n",
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max))
end
EOF
# Direct mode needs per-thread addresses: setup() runs before init(), and wrk.lookup is there.
cat > "$TMP/direct.lua" <<EOF
local n = 0
local a1 = wrk.lookup("127.0.0.1", "$P")[1]
local a2 = wrk.lookup("127.0.0.1", "$Q")[1]
function setup(thread)
  n = n + 1
  thread:set("odd", n % 2 == 1)
  thread.addr = (n % 2 == 1) and a1 or a2
end
EOF
sed -n '/^function init/,$p' "$TMP/sticky.lua" >> "$TMP/direct.lua"

target_url() { case $1 in direct) echo "http://127.0.0.1:$P/";; wakeport) echo "http://127.0.0.1:$W/";; apache) echo "http://127.0.0.1:$A/";; esac; }
target_script() { [[ $1 == direct ]] && echo "$TMP/direct.lua" || echo "$TMP/sticky.lua"; }

ours_ticks() { # everything of ours that runs between wrk runs: wakeport, apache, backends
  echo $(( $(ticks "$WP_PID") + $(apache_ticks) + $(ticks "$B1_PID") + $(ticks "$B2_PID") ))
}
# Before a run: sample the machine for 1 s while wrk is not running. "others" = CPU busy that is not
# ours (other users of the machine, plus interrupts); waits up to QUIET_MAX s for it to drop below
# QUIET_PCT. Sets OTHERS_BEFORE (percent of all CPUs) and WP_IDLE_MS (wakeport's own CPU in that
# second, which shows a JIT still compiling). Never fails: the run is flagged instead.
QUIET_PCT=${QUIET_PCT:-25}
QUIET_MAX=${QUIET_MAX:-5}
quiet_sample() {
  local waited=0 m0 m1 o0 o1 w0 w1 b0 t0 b1 t1
  while :; do
    m0=$(machine_ticks); o0=$(ours_ticks); w0=$(ticks "$WP_PID")
    sleep 1
    m1=$(machine_ticks); o1=$(ours_ticks); w1=$(ticks "$WP_PID")
    read -r b0 t0 <<< "$m0"; read -r b1 t1 <<< "$m1"
    OTHERS_BEFORE=$(( t1 > t0 ? 100 * ((b1 - b0) - (o1 - o0)) / (t1 - t0) : 0 ))
    (( OTHERS_BEFORE < 0 )) && OTHERS_BEFORE=0
    WP_IDLE_MS=$(( (w1 - w0) * 1000 / CLK_TCK ))
    (( OTHERS_BEFORE <= QUIET_PCT || waited >= QUIET_MAX )) && break
    waited=$((waited + 1))
  done
  QUIET_WAITED=$waited
}

# Connections established to the backends, by owner: wakeport, apache (any of its processes), other
# (wrk in the direct runs).
backend_conns() {
  local ap=" $AP_PID $(apache_children | tr '\n' ' ') "
  ss -Htnp state established "( dport = :$P or dport = :$Q )" 2>/dev/null \
    | awk -v wp="$WP_PID" -v ap="$ap" '{ pid = ""; if (match($0, /pid=[0-9]+/)) pid = substr($0, RSTART + 4, RLENGTH - 4)
        if (pid == wp) w++; else if (pid != "" && index(ap, " " pid " ")) a++; else o++ }
        END { printf "wakeport:%d,apache:%d,other:%d", w, a, o }'
}
time_wait() { # TIME-WAIT sockets on either side of a backend connection (closed within the last 60 s)
  ss -Htan state time-wait "( dport = :$P or dport = :$Q or sport = :$P or sport = :$Q )" 2>/dev/null | wc -l
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
gc_window() { # $1 gc log (timemillis decoration), $2 $3 window in epoch ms -> "pauses/total_ms/max_ms"
  awk -v a="$2" -v b="$3" '/Pause/ { t = substr($1, 2) + 0; if (t < a || t > b) next
      d = $NF; sub(/ms$/, "", d); n++; s += d; if (d + 0 > m) m = d + 0 }
      END { printf "%d/%.0f/%.1f", n, s, m }' "$1" 2>/dev/null
}

# One wrk run: $1 target, $2 seconds, $3 label ("" = warm-up, not recorded). Appends a line to
# $TMP/results (recorded runs) and prints it.
RUN_NO=0
run_wrk() {
  local target=$1 secs=$2 label=$3 out=$TMP/wrk-$RUN_NO.txt
  RUN_NO=$((RUN_NO + 1))
  quiet_sample
  local c1a c2a c1b c2b
  c1a=$(session_count "$P" "$S1"); c2a=$(session_count "$Q" "$S2")
  local wp0 ap0 b0 m0
  local tw0; tw0=$(time_wait)
  local t_start; t_start=$(now_ms)
  wp0=$(ticks "$WP_PID"); ap0=$(apache_ticks); b0=$(( $(ticks "$B1_PID") + $(ticks "$B2_PID") )); m0=$(machine_ticks)
  ( wrk -t "$THREADS" -c "$CONNECTIONS" -d "${secs}s" --timeout 5s --latency -s "$(target_script "$target")" \
      "$(target_url "$target")" -- "$target" "$HOST_HEADER" "$S1" "$S2" > "$out" 2>&1; times > "$out.times" ) &
  local wrk_sub=$!
  # Mid-run: connections established to the backends' ports (the proxy's pool, or wrk's own for direct).
  sleep "$(awk -v s="$secs" 'BEGIN { print s / 2 }')"
  local conns; conns=$(backend_conns)
  wait "$wrk_sub"
  local ended; ended=$(date +%H:%M:%S.%3N)
  local t_end; t_end=$(now_ms)
  local gcw gcb1 gcb2
  gcw=$(gc_window "$TMP/gc-wakeport.log" "$t_start" "$t_end")
  gcb1=$(gc_window "$TMP/gc-backend-first.log" "$t_start" "$t_end")
  gcb2=$(gc_window "$TMP/gc-backend-second.log" "$t_start" "$t_end")
  local tw1; tw1=$(time_wait)
  local wp1 ap1 b1 m1
  wp1=$(ticks "$WP_PID"); ap1=$(apache_ticks); b1=$(( $(ticks "$B1_PID") + $(ticks "$B2_PID") )); m1=$(machine_ticks)
  c1b=$(session_count "$P" "$S1"); c2b=$(session_count "$Q" "$S2")
  local res; res=$(grep '^RESULT' "$out") || { cat "$out" >&2; FAILURES+=("wrk failed on $target"); return 1; }
  local -A r=()
  local kv
  for kv in ${res#RESULT }; do r[${kv%%=*}]=${kv#*=}; done
  local served1=$(( c1b - c1a - 1 )) served2=$(( c2b - c2a - 1 ))
  local served=$(( served1 + served2 )) errs=$(( r[connect] + r[read] + r[write] + r[status] + r[timeout] ))
  local wrk_cpu; wrk_cpu=$(awk 'NR == 2 { n = split($0, t, " "); s = 0; for (i = 1; i <= n; i++) { split(t[i], p, "m"); s += p[1] * 60 + p[2] } printf "%.2f", s }' "$out.times")
  local proxy_ticks=0
  case $target in wakeport) proxy_ticks=$(( wp1 - wp0 ));; apache) proxy_ticks=$(( ap1 - ap0 ));; esac
  local mb0 mt0 mb1 mt1; read -r mb0 mt0 <<< "$m0"; read -r mb1 mt1 <<< "$m1"
  local ours=$(( (wp1 - wp0) + (ap1 - ap0) + (b1 - b0) ))
  local line
  line=$(awk -v t="$target" -v l="$label" -v req="${r[requests]}" -v dur="${r[duration_us]}" -v p50="${r[p50_us]}" \
    -v p90="${r[p90_us]}" -v p99="${r[p99_us]}" -v mean="${r[mean_us]}" -v errs="$errs" -v pt="$proxy_ticks" \
    -v bt="$(( b1 - b0 ))" -v hz="$CLK_TCK" -v wcpu="$wrk_cpu" -v mb="$(( mb1 - mb0 ))" -v mt="$(( mt1 - mt0 ))" \
    -v ours="$ours" -v s1="$served1" -v s2="$served2" -v wpt="$(( wp1 - wp0 ))" -v apt="$(( ap1 - ap0 ))" \
    -v ob="$OTHERS_BEFORE" -v qw="$QUIET_WAITED" -v wpi="$WP_IDLE_MS" -v conns="$conns" -v twd="$(( tw1 - tw0 ))" \
    -v ended="$ended" -v gc="wakeport:$gcw,first:$gcb1,second:$gcb2" -v eb="c${r[connect]}/r${r[read]}/w${r[write]}/s${r[status]}/t${r[timeout]}" 'BEGIN {
      rps = req / (dur / 1e6)
      others = mt > 0 ? 100 * (mb - ours - wcpu * hz) / mt : 0
      if (others < 0) others = 0
      printf "%s %s rps=%.0f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f mean_ms=%.3f errors=%d errors_crwst=%s proxy_cpu_us_per_req=%.1f backend_cpu_us_per_req=%.1f wrk_cpu_s=%.2f machine_busy_pct=%.0f others_during_pct=%.0f others_before_pct=%d quiet_wait_s=%d wakeport_cpu_1s_before_ms=%d backend_conns=%s time_wait_delta=%d requests=%d served_first=%d served_second=%d wakeport_cpu_ms=%d apache_cpu_ms=%d gc_pauses_n/ms/max=%s ended=%s\n",
        l, t, rps, p50 / 1000, p90 / 1000, p99 / 1000, mean / 1000, errs, eb, (t == "direct" ? 0 : pt * 1e6 / hz / req),
        bt * 1e6 / hz / req, wcpu, (mt > 0 ? 100 * mb / mt : 0), others, ob, qw, wpi, conns, twd, req, s1, s2,
        wpt * 1000 / hz, apt * 1000 / hz, gc, ended }')
  LAST_LINE=$line
  [[ -n $label ]] && echo "$line" >> "$TMP/results"
  printf '  %-7s %-8s %s\n' "${label:-warmup}" "$target" "$(cut -d' ' -f3- <<< "$line")"
  # Every request wrk counted must have reached its session's backend; up to CONNECTIONS more may have
  # been in flight when wrk stopped (served, but not counted by wrk).
  if (( errs > 0 )); then
    local what="$target ${label:-warmup}: $errs wrk errors of ${r[requests]} requests (connect/read/write/status/timeout ${r[connect]}/${r[read]}/${r[write]}/${r[status]}/${r[timeout]})"
    # A few socket errors (a server closing a keep-alive connection) are noted; any non-2xx answer,
    # or more than 0.1 % errors, fails the run.
    if (( r[status] > 0 || errs * 1000 > r[requests] )); then FAILURES+=("$what"); else NOTES+=("$what"); fi
  fi
  if (( served < r[requests] || served > r[requests] + CONNECTIONS )); then
    FAILURES+=("$target ${label:-warmup}: backends served $served requests of the two sessions, wrk counted ${r[requests]}")
  fi
}

# ---- warm-up and measurement -----------------------------------------------------------------------
say "warm-up (not recorded): wakeport in 10 s slices until its req/s rises by less than 10 % (${WARMUP_MIN}..${WARMUP_MAX} slices), apache ${WARMUP_OTHERS}s, direct ${WARMUP_OTHERS}s"
say "(each run is preceded by a 1 s sample of the machine: others_before_pct; it waits up to ${QUIET_MAX}s for other users' CPU <= ${QUIET_PCT}%)"
# Wakeport: 10 s slices until its throughput stops rising (less than 10 % over the slice before),
# at least WARMUP_MIN and at most WARMUP_MAX slices.
prev_rps=0
for (( i = 1; i <= WARMUP_MAX; i++ )); do
  run_wrk wakeport 10 ""
  rps=$(sed -n 's/.* rps=\([0-9]*\) .*/\1/p' <<< "$LAST_LINE")
  (( i >= WARMUP_MIN && rps * 10 < prev_rps * 11 )) && break
  prev_rps=$rps
done
WARMUP_SLICES=$(( i > WARMUP_MAX ? WARMUP_MAX : i ))
run_wrk apache "$WARMUP_OTHERS" ""
run_wrk direct "$WARMUP_OTHERS" ""
: > "$TMP/results"
TARGETS=(direct wakeport apache)
say "measuring: $ROUNDS rounds x {${TARGETS[*]}} x ${DURATION}s, wrk -t $THREADS -c $CONNECTIONS --latency"
for (( round = 1; round <= ROUNDS; round++ )); do
  for (( k = 0; k < 3; k++ )); do
    t=${TARGETS[$(( (k + round - 1) % 3 ))]}
    run_wrk "$t" "$DURATION" "round$round"
  done
done

# ---- summary ---------------------------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { awk -v t="$1" -v k="$2" '$2 == t { for (i = 3; i <= NF; i++) { split($i, p, "="); if (p[1] == k) print p[2] } }' "$TMP/results"; }
echo
say "median over $ROUNDS rounds (each ${DURATION}s, wrk -t $THREADS -c $CONNECTIONS, all requests sticky):"
printf '| %-8s | %9s | %8s | %8s | %17s | %19s | %12s | %12s |\n' target "req/s" "p50 ms" "p99 ms" "proxy CPU µs/req" "backend CPU µs/req" "machine busy" "others' CPU"
printf '|%s|%s|%s|%s|%s|%s|%s|%s|\n' ---------- ----------- ---------- ---------- ------------------- --------------------- -------------- --------------
for t in "${TARGETS[@]}"; do
  proxy=$(field "$t" proxy_cpu_us_per_req | median)
  [[ $t == direct ]] && proxy="–"
  printf '| %-8s | %9.0f | %8.3f | %8.3f | %17s | %19.1f | %11.0f%% | %11.0f%% |\n' "$t" "$(field "$t" rps | median)" \
    "$(field "$t" p50_ms | median)" "$(field "$t" p99_ms | median)" "$proxy" \
    "$(field "$t" backend_cpu_us_per_req | median)" "$(field "$t" machine_busy_pct | median)" \
    "$(field "$t" others_during_pct | median)"
done
echo
say "per run:"
sed 's/^/  /' "$TMP/results"
echo
say "wakeport log: $(wc -l < "$TMP/wakeport.log") lines, $(grep -cE 'WARN|ERROR|SEVERE|Exception' "$TMP/wakeport.log") WARN/ERROR (compare their times with the runs' ended=):"
grep -E 'WARN|ERROR|SEVERE|Exception' "$TMP/wakeport.log" | head -20 | sed 's/^/  /' || true
grep -qE 'WARN|ERROR|SEVERE|Exception' "$TMP/wakeport.log" || echo "  (none)"
say "wakeport log, first lines:"
head -8 "$TMP/wakeport.log" | sed 's/^/  /'
say "apache error log (LogLevel warn): $(wc -l < "$ADIR/error.log") lines"
head -10 "$ADIR/error.log" | sed 's/^/  /'
gc_summary() { # $1 gc log -> "N pauses, total T ms, max M ms, K over 20 ms" (whole script, warm-up included)
  sed -n 's/.*Pause.* \([0-9.]*\)ms$/\1/p' "$1" 2>/dev/null \
    | awk '{ n++; t += $1; if ($1 > m) m = $1; if ($1 > 20) k++ } END { printf "%d pauses, total %.0f ms, max %.1f ms, %d over 20 ms", n, t, m, k }'
}
say "GC (G1, whole script incl. warm-up): wakeport $(gc_summary "$TMP/gc-wakeport.log"); backend first $(gc_summary "$TMP/gc-backend-first.log"); backend second $(gc_summary "$TMP/gc-backend-second.log")"
say "backend logs: $(grep -ciE 'exception|error' "$TMP/backend-first.log" "$TMP/backend-second.log" | tr '\n' ' ')(exception/error lines)"

# ---- stop and verify -------------------------------------------------------------------------------
apache_ticks > /dev/null     # remember the current children in ALL_PIDS
say "stopping wakeport, apache, backends ..."
t0=$(date +%s%N); stop_pid "$WP_PID" 30; wait "$WP_PID" 2>/dev/null; wp_rc=$?
say "wakeport exited with $wp_rc after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
kill -0 "$B1_PID" 2>/dev/null && kill -0 "$B2_PID" 2>/dev/null \
  && say "backends still alive after wakeport stopped (as they should be: wakeport did not start them)" \
  || FAILURES+=("a backend died with wakeport: wakeport signalled a process it did not start")
stop_pid "$AP_PID" 15; wait "$AP_PID" 2>/dev/null
for p in $(apache_children); do stop_pid "$p" 5; done
stop_pid "$B1_PID" 10; stop_pid "$B2_PID" 10
wait 2>/dev/null
sleep 0.5
left=()
for p in "${ALL_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && left+=("$p"); done
for d in /proc/[0-9]*; do
  [[ $(tr '\0' ' ' 2>/dev/null < "$d/cmdline") == *"$TMP"* ]] && left+=("${d#/proc/}")
done
for port in "$P" "$Q" "$W" "$A"; do port_open "$port" && FAILURES+=("port $port still open after the stop"); done
if (( ${#left[@]} )); then
  FAILURES+=("processes left: ${left[*]}")
else
  say "nothing left: all $(printf '%s\n' "${ALL_PIDS[@]}" | sort -u | wc -l) processes started (backends, wakeport, apache parent and children) are gone, ports closed"
fi
WP_PID="" AP_PID="" B1_PID="" B2_PID=""

if (( ${#NOTES[@]} )); then
  say "notes:"; printf '  %s\n' "${NOTES[@]}"
fi
if (( ${#FAILURES[@]} )); then
  say "FAILURES:"; printf '  %s\n' "${FAILURES[@]}"; exit 1
fi
say "all checks passed"
