#!/usr/bin/env bash
# wakeport against nginx, HAProxy and Apache httpd (mod_proxy_balancer), all sticky on the route
# suffix of the `_s` session cookie, in front of the same two fast backends, measured in one run.
#
#   bench/compare.sh                       # 7-9 minutes
#   ROUNDS=1 SECONDS_PER_RUN=4 COLD_RUNS=0 FOOTPRINT=0 JFR=0 bench/compare.sh   # quick look
#   MODE=tls bench/compare.sh              # or --tls: the same proxies terminating TLS (bench/compare-tls.sh)
#
# What it does (everything on 127.0.0.1, every server stopped by its pid at the end):
#  1. installs what is missing from Debian's packages (wrk nginx haproxy apache2 gnuplot-nox; root
#     only), builds target/wakeport.jar and target/test-classes/DemoBackend.class if missing;
#  2. starts the backends: ONE nginx with two `server` blocks answering "first\n" and "second\n";
#  3. starts the proxies, each on its own port, each sticky on the `_s` cookie's route suffix:
#     wakeport (tenant seaside, routes first/second on the backends' ports, command /bin/false:
#     the ports are open, so wakeport uses them as they are), nginx (map $cookie__s), HAProxy
#     (use-server ... req.cook(_s) -m end), Apache httpd 2.4 with mod_proxy_balancer configured as
#     in the Seaside book (stickysession=_s|_s, nofailover=On, mpm_event), and vertx-floor
#     (bench/VertxFloor.java: a bare Vert.x server + client pass-through on wakeport's own
#     classpath, without vertx-http-proxy or wakeport: the floor of the runtime wakeport is built on);
#  4. checks stickiness through every proxy (Cookie _s=abc.first -> "first", _s=abc.second ->
#     "second"); a proxy that fails is reported and not measured;
#  5. warms the JVMs (wakeport, vertx-floor: WARMUP s of unrecorded load, then 5 s of each mode at a time
#     until their JIT compiler threads use under 2 % of a core, at most WARMUP_MAX s), then measures in ROUNDS interleaved
#     rounds: each round runs every target (the backend directly, wakeport, nginx, HAProxy, Apache;
#     the order rotates from round to round) for SECONDS_PER_RUN s with `wrk -t1 -cCONNS --latency`,
#     with a session cookie (_s=bench.first: every request to route first) and without one
#     (balanced over both). Per run: requests/s, p50/p99, the CPU time (utime+stime from
#     /proc/PID/stat, all processes of the server: nginx/Apache workers included) per request, and
#     the part of it spent in user space ("user"), the CPU used by everything else on the machine
#     during the run ("other", the hypervisor's steal time included); a run with other >
#     OTHER_MAX % of a core is re-run once (at most MAX_RERUNS times in all), and the less disturbed
#     of the two is used (both are listed in the report); "JIT ms" is wakeport's compiler threads' CPU;
#  6. profiles wakeport with JFR (settings=profile) during a JFR_SECONDS wrk run (cookie), after
#     JFR_REWARM s of load under the recording (starting JFR de-optimises the JVM for a while), and
#     prints hot methods and allocation sites of that window (bench/JfrTop.java);
#  7. stampede: STAMPEDE_N simultaneous requests (one connection each, bench/Stampede.java) to a
#     cold wakeport tenant running the demo backend, once with the default max-queue (100) and once
#     on a second tenant with max-queue: STAMPEDE_N; reports spawns ("spawned pid" lines), errors
#     and p99;
#  8. stops everything, then runs bench/cold-start.sh --runs COLD_RUNS (COLD_RUNS=0: skipped) and
#     bench/idle-footprint.sh with TENANTS=FOOTPRINT_TENANTS RUNNING=FOOTPRINT_RUNNING (FOOTPRINT=0:
#     skipped);
#  9. writes OUT_DIR/bench-compare.md (tables, machine, command) and OUT_DIR/bench-compare.png
#     (gnuplot: requests/s and CPU us/request per target).
#
# Pinning (PIN=1, the default; PIN=0 turns it off): the server under test runs on CPU 1; wrk and the
# backend nginx run on CPU 0. For the direct-backend runs the backend is moved to CPU 1 for the run.
# Each proxy gets one worker: nginx worker_processes 1, HAProxy nbthread 1, Apache 1 child process
# (64 threads), wakeport its default, which follows the CPUs the JVM sees (1 under taskset).
#
# Knobs: ROUNDS=3 SECONDS_PER_RUN=8 CONNS=32 WARMUP=20 WARMUP_MAX=120 QUIET_WAIT=30 OTHER_MAX=30 MAX_RERUNS=12 PIN=1
#        JFR=1 JFR_SECONDS=20 JFR_REWARM=30
#        STAMPEDE_N=1000 COLD_RUNS=8 FOOTPRINT=1 FOOTPRINT_TENANTS=10000 FOOTPRINT_RUNNING=200
#        FOOTPRINT_IDLE=15 OUT_DIR=docs KEEP_TMP=1 TARGETS="direct wakeport vertx-floor nginx haproxy apache"
#        NICE=0 (e.g. -10 as root: servers and wrk get priority over other work on a shared machine)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
# TLS mode (MODE=tls, or --tls): wakeport, nginx and HAProxy terminating TLS, in bench/compare-tls.sh.
if [[ ${MODE:-plain} == tls || ${1:-} == --tls ]]; then
  export COMPARE_COMMAND_LINE="$0${*:+ $*}"
  [[ ${1:-} == --tls ]] && shift
  exec bash bench/compare-tls.sh "$@"
fi
[[ ${MODE:-plain} == plain ]] || { echo "compare: MODE is plain (the default) or tls" >&2; exit 1; }
. bench/lib.sh
COMMAND_LINE="$0${*:+ $*}"
ENV_KNOBS=$(env | grep -E '^(NICE|MAX_RERUNS|JFR_REWARM|ROUNDS|SECONDS_PER_RUN|CONNS|WARMUP|WARMUP_MAX|QUIET_WAIT|OTHER_MAX|PIN|JFR|JFR_SECONDS|STAMPEDE_N|COLD_RUNS|FOOTPRINT|FOOTPRINT_TENANTS|FOOTPRINT_RUNNING|FOOTPRINT_IDLE|OUT_DIR|TARGETS)=' | sort | tr '\n' ' ')

ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-8}
CONNS=${CONNS:-32}
WARMUP=${WARMUP:-20}
WARMUP_MAX=${WARMUP_MAX:-120}
QUIET_WAIT=${QUIET_WAIT:-30}
OTHER_MAX=${OTHER_MAX:-30}
PIN=${PIN:-1}
JFR=${JFR:-1}
JFR_SECONDS=${JFR_SECONDS:-20}
JFR_REWARM=${JFR_REWARM:-30}
STAMPEDE_N=${STAMPEDE_N:-1000}
COLD_RUNS=${COLD_RUNS:-8}
FOOTPRINT=${FOOTPRINT:-1}
FOOTPRINT_TENANTS=${FOOTPRINT_TENANTS:-10000}
FOOTPRINT_RUNNING=${FOOTPRINT_RUNNING:-200}
FOOTPRINT_IDLE=${FOOTPRINT_IDLE:-15}
OUT_DIR=${OUT_DIR:-docs}
TARGETS=${TARGETS:-"direct wakeport vertx-floor nginx haproxy apache"}
HOST_HEADER=seaside.bench

die() { echo "compare: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*"; }
START_EPOCH=$(date +%s)

# ---- 1. tools and build -----------------------------------------------------------------------
missing=()
for tool in wrk nginx haproxy apache2 gnuplot; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || missing+=("$tool")
done
if (( ${#missing[@]} )); then
  (( EUID == 0 )) || die "missing ${missing[*]}; run as root or: apt-get install -y wrk nginx haproxy apache2 gnuplot-nox"
  log "installing from Debian's packages (missing: ${missing[*]})"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk nginx haproxy apache2 gnuplot-nox >/dev/null \
    || die "apt-get install failed"
fi
export PATH="$PATH:/usr/sbin:/sbin"
for tool in java jcmd jfr curl taskset wrk nginx haproxy apache2 gnuplot; do
  command -v "$tool" >/dev/null || die "$tool is required"
done
if [[ ! -f target/wakeport.jar ]]; then
  log "building target/wakeport.jar"; mvn -q -B package -DskipTests || die "build failed"
fi
if [[ ! -f target/test-classes/DemoBackend.class ]]; then
  log "compiling the demo backend"; mvn -q -B test-compile || die "test-compile failed"
fi
(( $(nproc) >= 2 )) || PIN=0
if [[ $PIN == 1 ]]; then
  SUT_CPU=1; LOAD_CPU=0; ON_SUT=(taskset -c 1); ON_LOAD=(taskset -c 0)
else
  ON_SUT=(); ON_LOAD=()
fi
NICE=${NICE:-0}            # e.g. NICE=-10 (root): run servers and wrk ahead of other work on a shared machine
if [[ $NICE != 0 ]]; then ON_SUT=(nice -n "$NICE" "${ON_SUT[@]}"); ON_LOAD=(nice -n "$NICE" "${ON_LOAD[@]}"); fi

# ---- ports, temp dir, cleanup -----------------------------------------------------------------
pick_ports 18400 18699 P1 P2 PW PN PH PA PC1 PC2 PF

TMP=$(mktemp -d /tmp/wakeport-compare.XXXXXX)
chmod 755 "$TMP"
declare -A PID=()          # server name -> pid we started
STARTED_ORDER=()

trap servers_cleanup EXIT
trap 'exit 130' INT TERM

CLK_TCK=$(getconf CLK_TCK)

# ---- 2. configs ---------------------------------------------------------------------------------
NGINX_WORKERS=1; HAPROXY_THREADS="nbthread 1"
[[ $PIN == 1 ]] || { NGINX_WORKERS=auto; HAPROXY_THREADS=""; }
mkdir -p "$TMP"/backend "$TMP"/nginx "$TMP"/haproxy "$TMP"/apache/run "$TMP"/wakeport
chown -R www-data:www-data "$TMP/apache/run" 2>/dev/null || true
nginx_backend_conf "$TMP/backend" "$P1" "$P2" "$NGINX_WORKERS" > "$TMP/backend/nginx.conf"
# Every proxy sets the same headers wakeport sets: Host kept, X-Forwarded-For/-Proto/-Host, Forwarded.
nginx_sticky_proxy_conf "$TMP/nginx" "$PN" "$P1" "$P2" "$NGINX_WORKERS" > "$TMP/nginx/nginx.conf"

haproxy_sticky_conf "$TMP/haproxy" "$PH" "$P1" "$P2" "$HAPROXY_THREADS" > "$TMP/haproxy/haproxy.cfg"

MODS=/usr/lib/apache2/modules
APACHE_USER=www-data; id www-data >/dev/null 2>&1 || APACHE_USER=nobody
APACHE_GROUP=$(id -gn "$APACHE_USER")
cat > "$TMP/apache/httpd.conf" <<EOF
ServerRoot "$TMP/apache"
ServerName seaside.bench
Listen 127.0.0.1:$PA
PidFile $TMP/apache/httpd.pid
DefaultRuntimeDir $TMP/apache/run
Mutex file:$TMP/apache/run default
ErrorLog $TMP/apache/error.log
LogLevel warn
User $APACHE_USER
Group $APACHE_GROUP
LoadModule mpm_event_module $MODS/mod_mpm_event.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule slotmem_shm_module $MODS/mod_slotmem_shm.so
LoadModule proxy_module $MODS/mod_proxy.so
LoadModule proxy_http_module $MODS/mod_proxy_http.so
LoadModule proxy_balancer_module $MODS/mod_proxy_balancer.so
LoadModule lbmethod_byrequests_module $MODS/mod_lbmethod_byrequests.so
StartServers 1
ServerLimit 1
ThreadLimit 64
ThreadsPerChild 64
MaxRequestWorkers 64
MinSpareThreads 1
MaxSpareThreads 128
MaxConnectionsPerChild 0
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 300

# The Seaside book's cluster (23.3.7), without the optional balancer-manager and server-status.
$(seaside_balancer_conf "$P1" "$P2")
<Location />
   Require all granted
</Location>
EOF

DEMO="[java, -cp, $ROOT/target/test-classes, DemoBackend, --port, \"\${port}\", --tenant, \"\${tenant}\"]"
{
wakeport_seaside_yaml "$PW" "$TMP/wakeport/var" "$P1" "$P2"
cat <<EOF
  cold:                            # stampede with the default max-queue (100)
    hosts: [cold.bench]
    port: $PC1
    idle-timeout: never
    command: $DEMO
  cold-q:                          # stampede with room for every request in the start queue
    hosts: [cold-q.bench]
    port: $PC2
    idle-timeout: never
    max-queue: $STAMPEDE_N
    command: $DEMO
EOF
} > "$TMP/wakeport/wakeport.yaml"
java -jar target/wakeport.jar check --config "$TMP/wakeport/wakeport.yaml" >/dev/null || die "wakeport config rejected"

# ---- 3. start ---------------------------------------------------------------------------------
log "starting backends (nginx on $P1/$P2), wakeport :$PW, vertx-floor :$PF, nginx :$PN, haproxy :$PH, apache :$PA (temp $TMP)"
start_server backend "$P1" "$TMP/backend/stderr" "${ON_LOAD[@]}" nginx -p "$TMP/backend/" -c "$TMP/backend/nginx.conf" -e "$TMP/backend/error.log"
wait_port "$P2" backend "${PID[backend]}"
WAKEPORT_LOG=$TMP/wakeport/wakeport.log
# A deep JFR stack depth, so inclusive figures are not cut off (the default of 64 frames is less than a proxied request's).
start_server wakeport "$PW" "$WAKEPORT_LOG" "${ON_SUT[@]}" java -XX:FlightRecorderOptions=stackdepth=256 -jar target/wakeport.jar run --config "$TMP/wakeport/wakeport.yaml"
if [[ " $TARGETS " == *" vertx-floor "* ]]; then
  start_server vertx-floor "$PF" "$TMP/vertx-floor.log" "${ON_SUT[@]}" java -cp target/wakeport.jar bench/VertxFloor.java "$PF" "$P1" "$P2"
fi
start_server nginx "$PN" "$TMP/nginx/stderr" "${ON_SUT[@]}" nginx -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log"
start_server haproxy "$PH" "$TMP/haproxy/stderr" "${ON_SUT[@]}" haproxy -db -f "$TMP/haproxy/haproxy.cfg"
start_server apache "$PA" "$TMP/apache/stderr" "${ON_SUT[@]}" apache2 -f "$TMP/apache/httpd.conf" -DFOREGROUND
declare -A PORT=([direct]=$P1 [wakeport]=$PW [vertx-floor]=$PF [nginx]=$PN [haproxy]=$PH [apache]=$PA)
declare -A SERVER=([direct]=backend [wakeport]=wakeport [vertx-floor]=vertx-floor [nginx]=nginx [haproxy]=haproxy [apache]=apache)
WP_PID=${PID[wakeport]}
WP_JVM=$(jcmd "$WP_PID" VM.flags 2>/dev/null | tr ' ' '\n' | awk -F= '/^-XX:\+Use.*GC$/ { sub("-XX:\\+Use", ""); printf "%s, ", $0 } /^-XX:MaxHeapSize=/ { printf "max heap %d MiB ", $2 / 1048576 }')
WP_CPUS=$(jcmd "$WP_PID" VM.info 2>/dev/null | sed -n 's/^active_processor_count: *//p; s/.*CPU: total \([0-9]*\).*/\1 total/p' | head -1)

# ---- 4. stickiness ----------------------------------------------------------------------------
body() { curl -s -m 5 -H "Host: $HOST_HEADER" ${2:+-H "Cookie: $2"} "http://127.0.0.1:$1/" | tr -d '\n'; }
declare -A STICKY=()
STICKY_ROWS=()
MEASURED=()
for t in wakeport vertx-floor nginx haproxy apache; do
  [[ -n ${PID[${SERVER[$t]}]:-} ]] || continue
  ok=1 f="" s="" n=""
  for _ in 1 2 3; do
    f=$(body "${PORT[$t]}" "_s=abc.first"); [[ $f == first ]] || ok=0
    s=$(body "${PORT[$t]}" "_s=abc.second"); [[ $s == second ]] || ok=0
  done
  for _ in 1 2 3 4; do n+="$(body "${PORT[$t]}" "") "; done
  if (( ok )); then STICKY[$t]=pass; else STICKY[$t]=FAIL; fi
  STICKY_ROWS+=("| $t | $f | $s | ${n% } | ${STICKY[$t]} |")
  log "stickiness $t: _s=abc.first -> '$f', _s=abc.second -> '$s', no cookie -> $n: ${STICKY[$t]}"
done
for t in $TARGETS; do
  [[ $t == direct || ${STICKY[$t]:-} == pass ]] && MEASURED+=("$t")
done
direct_body=$(body "$P1" ""); [[ $direct_body == first ]] || die "backend answered '$direct_body'"

# ---- 5. load ----------------------------------------------------------------------------------
# load_run mode target seconds -> prints "rps p50_ms p99_ms requests errors wrk_cpu_ticks"
load_run() {
  local mode=$1 t=$2 secs=$3 out=$TMP/wrk.out hdr=()
  [[ $mode == cookie ]] && hdr=(-H "Cookie: _s=bench.first")
  local TIMEFORMAT='%U %S'
  { time "${ON_LOAD[@]}" wrk -t1 -c"$CONNS" -d"${secs}s" --latency -H "Host: $HOST_HEADER" "${hdr[@]}" \
      "http://127.0.0.1:${PORT[$t]}/" > "$out" 2> "$TMP/wrk.err" ; } 2> "$TMP/wrk.time"
  awk -v tck="$CLK_TCK" -v tf="$TMP/wrk.time" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /requests in/ { n = $1 } /^Requests\/sec/ { rps = $2 }
    /Non-2xx/ { err += $NF } /Socket errors/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
    END { getline tl < tf; split(tl, a, " "); printf "%s %.3f %.3f %s %d %d\n", rps, p50, p99, n, err, (a[1] + a[2]) * tck }' "$out"
}

RAW=$TMP/raw.tsv
printf 'round\tmode\ttarget\trps\tp50_ms\tp99_ms\trequests\terrors\tcpu_us_per_req\tcore_pct\tother_pct\tjit_ms\tnote\tuser_us_per_req\n' > "$RAW"
measure() { # round mode target -> appends to RAW; returns 1 when disturbed
  local r=$1 mode=$2 t=$3 note=${4:-} srv=${SERVER[$3]}
  local spid=${PID[$srv]} bpid=${PID[backend]}
  if [[ $t == direct && $PIN == 1 ]]; then
    for p in $(tree_pids "$bpid"); do taskset -a -p -c "$SUT_CPU" "$p" >/dev/null; done
  fi
  quiet_wait
  local c0 b0 m0 w0 c1 b1 m1 w1 u0 u1 res j0=0 j1=0 jvm=0
  [[ $t == wakeport || $t == vertx-floor ]] && jvm=1
  (( jvm )) && j0=$(jit_ticks "$spid")
  c0=$(cpu_ticks_tree "$spid"); u0=$(user_ticks_tree "$spid"); b0=$(cpu_ticks_tree "$bpid"); m0=$(machine_busy_ticks); w0=$(date +%s%N)
  res=$(load_run "$mode" "$t" "$SECONDS_PER_RUN")
  c1=$(cpu_ticks_tree "$spid"); u1=$(user_ticks_tree "$spid"); b1=$(cpu_ticks_tree "$bpid"); m1=$(machine_busy_ticks); w1=$(date +%s%N)
  (( jvm )) && j1=$(jit_ticks "$spid")
  if [[ $t == direct && $PIN == 1 ]]; then
    for p in $(tree_pids "$bpid"); do taskset -a -p -c "$LOAD_CPU" "$p" >/dev/null; done
  fi
  local rps p50 p99 n err wt
  read -r rps p50 p99 n err wt <<< "$res"
  local line
  line=$(awk -v r="$r" -v mode="$mode" -v t="$t" -v rps="$rps" -v p50="$p50" -v p99="$p99" -v n="$n" -v err="$err" \
    -v cs=$((c1 - c0)) -v bs=$((b1 - b0)) -v ms=$((m1 - m0)) -v wt="$wt" -v ns=$((w1 - w0)) -v tck="$CLK_TCK" -v note="$note" -v jit=$(( (j1 - j0) * 1000 / CLK_TCK )) -v jvm=$jvm -v us=$((u1 - u0)) '
    BEGIN {
      wall = ns / 1e9 * tck; ours = (t == "direct") ? cs + wt : cs + bs + wt
      other = 100 * (ms - ours) / wall; if (other < 0) other = 0
      printf "%s\t%s\t%s\t%.0f\t%.3f\t%.3f\t%d\t%d\t%.1f\t%.0f\t%.0f\t%s\t%s\t%.1f\n", r, mode, t, rps, p50, p99, n, err,
        (n > 0 ? cs / tck * 1e6 / n : 0), 100 * cs / wall, other, (jvm ? jit : "–"), note, (n > 0 ? us / tck * 1e6 / n : 0) }')
  echo "$line" >> "$RAW"
  awk -F'\t' '{ printf "    %-8s %-11s %8s req/s  p50 %6.3f ms  p99 %7.3f ms  %6s us CPU/req (user %s)  core %3s%%  other %3s%%  errors %s%s %s\n", $2, $3, $4, $5, $6, $9, $14, $10, $11, $8, ($12 == "–" ? "" : "  jit " $12 " ms"), $13 }' <<< "$line"
  local other; other=$(cut -f11 <<< "$line")
  (( other <= OTHER_MAX ))
}

log "warm-up: the JVMs ${WARMUP}s and more until their JIT is quiet (at most ${WARMUP_MAX}s), the others 2 s each; not recorded"
for t in "${MEASURED[@]}"; do
  if [[ $t == wakeport || $t == vertx-floor ]]; then
    warm_jvm "$t" "${PID[${SERVER[$t]}]}" "cookie none"; log "warm-up: $t ${WARMED[$t]}s"
  else
    load_run cookie "$t" 2 > /dev/null
  fi
done
MAX_RERUNS=${MAX_RERUNS:-12}
interleaved_rounds "cookie none" "each with and without the cookie, ${SECONDS_PER_RUN}s, wrk -t1 -c$CONNS" "${MEASURED[@]}"

# ---- 6. JFR -----------------------------------------------------------------------------------
JFR_OUT=""
if [[ $JFR == 1 ]]; then
  # The first JFR.start of a JVM retransforms JDK I/O classes for its events, which throws away
  # the JIT's compiled code: wakeport runs several times slower for a while. So the recording
  # starts first, wrk re-warms wakeport for JFR_REWARM s, and only the JFR_SECONDS that follow
  # are analysed (JfrTop's time window).
  log "JFR: recording (settings=profile) started; re-warming ${JFR_REWARM}s, then a ${JFR_SECONDS}s wrk run with the cookie is profiled"
  rm -f "$TMP/wp.jfr"
  jcmd "$WP_PID" JFR.start name=compare settings=profile > /dev/null || echo "JFR.start failed"
  load_run cookie wakeport "$JFR_REWARM" > /dev/null
  since_ms=$(date +%s%3N)
  c0=$(cpu_ticks_tree "$WP_PID")
  JFR_LOAD=$(load_run cookie wakeport "$JFR_SECONDS")
  c1=$(cpu_ticks_tree "$WP_PID")
  until_ms=$(date +%s%3N)
  jcmd "$WP_PID" JFR.stop name=compare filename="$TMP/wp.jfr" > /dev/null || echo "JFR.stop failed"
  if [[ -s $TMP/wp.jfr ]]; then
    JFR_OUT=$(java bench/JfrTop.java "$TMP/wp.jfr" 15 "$since_ms" "$until_ms" 2>&1)
    JFR_OUT="profiled window: wrk ${JFR_SECONDS}s with the cookie after ${JFR_REWARM}s of re-warming under the recording: $(awk -v c=$(( c1 - c0 )) -v tck="$CLK_TCK" '{ printf "%s req/s, p50 %s ms, p99 %s ms, wakeport CPU %.1f us/request", $1, $2, $3, ($4 > 0 ? c / tck * 1e6 / $4 : 0) }' <<< "$JFR_LOAD")"$'\n'"$JFR_OUT"
    echo "$JFR_OUT"
  else
    JFR_OUT="(no recording was written)"
  fi
fi

# ---- 7. stampede ------------------------------------------------------------------------------
STAMPEDE_ROWS=()
if (( STAMPEDE_N > 0 )); then
  [[ $PIN == 1 ]] && for p in $(tree_pids "$WP_PID"); do taskset -a -p -c 0-$(( $(nproc) - 1 )) "$p" >/dev/null; done
  for tenant in cold cold-q; do
    log "stampede: $STAMPEDE_N simultaneous requests to the cold tenant $tenant (wakeport unpinned)"
    before=$(grep -c "tenant $tenant spawned pid" "$WAKEPORT_LOG" || true)
    out=$(java bench/Stampede.java --port "$PW" --host-header "$tenant.bench" --n "$STAMPEDE_N" 2>&1)
    echo "$out" | sed 's/^/    /'
    sleep 0.5
    spawned=$(( $(grep -c "tenant $tenant spawned pid" "$WAKEPORT_LOG" || true) - before ))
    line=$(grep '^STAMPEDE' <<< "$out")
    hist=$(sed -n 's/^status histogram[^:]*: //p' <<< "$out")
    kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<< "$line"; }
    mq=100; [[ $tenant == cold-q ]] && mq=$STAMPEDE_N
    STAMPEDE_ROWS+=("| $tenant (max-queue $mq) | $STAMPEDE_N | $spawned | $(kv ok) | $(kv non2xx) | $(kv errors) | $hist | $(kv p50_ms) | $(kv p99_ms) | $(kv max_ms) |")
  done
fi

# ---- stop everything --------------------------------------------------------------------------
log "stopping every server we started"
WP_SPAWNED=$(sed -n 's/.*spawned pid \([0-9]*\).*/\1/p' "$WAKEPORT_LOG")
ALL_PIDS=""
for name in "${STARTED_ORDER[@]}"; do ALL_PIDS+=" $(tree_pids "${PID[$name]}" | tr '\n' ' ')"; done
for name in "${STARTED_ORDER[@]}"; do stop_server "$name"; done
sleep 0.5
LEFT=""
for p in $ALL_PIDS $WP_SPAWNED; do kill -0 "$p" 2>/dev/null && LEFT+=" $p"; done
for p in $P1 $P2 $PW $PF $PN $PH $PA $PC1 $PC2; do port_open "$p" && LEFT+=" port:$p"; done
if [[ -n $LEFT ]]; then STOP_NOTE="LEFT RUNNING:$LEFT"; else STOP_NOTE="all stopped: no process of ours and none of the ports $P1 $P2 $PW $PF $PN $PH $PA $PC1 $PC2 left open"; fi
log "$STOP_NOTE"
WP_WARN=$(grep -cE ' (WARN|ERROR) ' "$WAKEPORT_LOG" || true)
WP_RESETS=$(grep -E ' (WARN|ERROR) ' "$WAKEPORT_LOG" | grep -c 'StreamResetException' || true)

# ---- 8. cold start and footprint (reusing the existing scripts) ---------------------------------
COLD_LINE="skipped (COLD_RUNS=0); see the cold-start section of docs/benchmarks.md"
if (( COLD_RUNS > 0 )); then
  log "cold start: bench/cold-start.sh --runs $COLD_RUNS --max-seconds 90 --quiet-wait 3"
  bench/cold-start.sh --runs "$COLD_RUNS" --max-seconds 90 --quiet-wait 3 > "$TMP/cold-start.out" 2>&1
  sed -n '/interleaved pairs/,$p' "$TMP/cold-start.out" | head -12 | sed 's/^/    /'
  ov=$(sed -n 's/^OVERHEAD (median wakeport - median direct): \([-0-9.]* ms\).*/\1/p' "$TMP/cold-start.out" | head -1)
  pd=$(sed -n 's/^median of per-pair differences: \([-0-9.]* ms\).*/\1/p' "$TMP/cold-start.out" | head -1)
  meds=$(awk '/interleaved pairs/ { on = 1; next } on && /^  (direct|wakeport):/ { printf "%s %s ms; ", $1, $(NF-3) } on && /^$/ { exit }' "$TMP/cold-start.out")
  COLD_LINE="bench/cold-start.sh --runs $COLD_RUNS: overhead ${ov:-?} (median of per-pair differences ${pd:-?}); medians: ${meds:-?}"
fi
FOOT_ROW=""
if [[ $FOOTPRINT == 1 ]]; then
  log "footprint: HEAPS=256m TENANTS=$FOOTPRINT_TENANTS RUNNING=$FOOTPRINT_RUNNING IDLE_SECONDS=$FOOTPRINT_IDLE bench/idle-footprint.sh"
  HEAPS=256m TENANTS=$FOOTPRINT_TENANTS RUNNING=$FOOTPRINT_RUNNING IDLE_SECONDS=$FOOTPRINT_IDLE SETTLE_SECONDS=5 \
    REQUESTS=$(( FOOTPRINT_RUNNING * 2 )) bench/idle-footprint.sh > "$TMP/footprint.out" 2>&1
  FOOT_RC=$?
  grep -E '^(idle:|  *heap used|  *backends alive|requests:|stop:|log:|[0-9]+ instances READY|backend:)' "$TMP/footprint.out" | sed 's/^/    /'
  FOOT_ROW=$(grep -E '^\| 256m' "$TMP/footprint.out" | tail -1)
  FOOT_DETAIL=$(grep -E '^(idle:|  *heap used|[0-9]+ instances READY|backend:|requests:|stop:)' "$TMP/footprint.out" | sed 's/^ *//')
  (( FOOT_RC == 0 )) || FOOT_DETAIL+=$'\n'"idle-footprint.sh exited $FOOT_RC: $(sed -n '/FAILURES/,$p' "$TMP/footprint.out" | tr '\n' ' ')"
fi

# ---- 9. report --------------------------------------------------------------------------------
SUMMARY=$TMP/summary.tsv     # mode target rps_med rps_min rps_max p50 p99 cpu core errors cpu_min cpu_max other user
raw_summary "$RAW" > "$SUMMARY"
get() { awk -F'\t' -v m="$1" -v t="$2" -v c="$3" '$1 == m && $2 == t { print $c }' "$SUMMARY"; }

mkdir -p "$OUT_DIR"
MACHINE="$(nproc) vCPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)"
VERSIONS="wrk $(wrk --version 2>&1 | head -1 | awk '{ print $2 }'), $(nginx -v 2>&1 | sed 's/.*: //'), HAProxy $(haproxy -v | head -1 | awk '{ print $3 }'), $(apache2 -v | sed -n 's/^Server version: //p') mpm_event, $(java -version 2>&1 | head -1 | sed 's/"//g')"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo "+uncommitted src changes")
END_EPOCH=$(date +%s)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
pin_text="pinned: the server under test on CPU 1, wrk and the backend nginx on CPU 0 (for the direct runs the backend moved to CPU 1)"
[[ $PIN == 1 ]] || pin_text="not pinned"
[[ $NICE != 0 ]] && pin_text+="; servers and wrk run at nice $NICE"

REPORT=$OUT_DIR/bench-compare.md
{
  echo "# wakeport against nginx, HAProxy and Apache (bench/compare.sh)"
  echo
  echo "- command: \`${ENV_KNOBS}${COMMAND_LINE}\` in $ROOT (wakeport $COMMIT)"
  echo "- date: $(date -u -d "@$START_EPOCH" '+%Y-%m-%d %H:%M') – $(date -u -d "@$END_EPOCH" '+%H:%M') UTC, $(( (END_EPOCH - START_EPOCH) / 60 )) min $(( (END_EPOCH - START_EPOCH) % 60 )) s; load average at the end: $LOADAVG"
  echo "- machine: $MACHINE"
  echo "- software: $VERSIONS"
  echo "- load: \`wrk -t1 -c$CONNS -d${SECONDS_PER_RUN}s --latency -H 'Host: $HOST_HEADER'\`, with \`-H 'Cookie: _s=bench.first'\` (cookie) or without (none); $ROUNDS interleaved rounds, order rotated each round; JVMs warmed until their JIT was quiet (wakeport ${WARMED[wakeport]:-?} s, vertx-floor ${WARMED[vertx-floor]:-?} s)"
  echo "- $pin_text; one worker each: nginx \`worker_processes $NGINX_WORKERS\`, HAProxy \`${HAPROXY_THREADS:-default threads}\`, Apache 1 child × 64 threads, wakeport JVM: ${WP_JVM}(CPUs seen: ${WP_CPUS:-?}), default \`event-loops\`, vertx-floor 1 event loop"
  echo "- backends: one nginx, two \`server\` blocks returning \`first\\n\` / \`second\\n\`; every proxy keeps backend connections alive and sets Host, X-Forwarded-For/-Proto/-Host (and Forwarded, except Apache)"
  echo "- CPU/req = utime+stime of all the server's processes over the run ÷ requests (for *direct*: the backend nginx itself); core = that CPU time ÷ wall time; other = CPU (user+system, % of one core) used on the machine by anything but the server, the backend and wrk; a run above ${OTHER_MAX} % is re-run once and the less disturbed of the two kept ($RERUNS re-runs, at most $MAX_RERUNS). All figures are medians of the rounds. utime+stime leaves out softirq time, the kernel's loopback TCP work, for every server alike"
  echo
  echo "## Stickiness check (before measuring)"
  echo
  echo "| proxy | \`Cookie: _s=abc.first\` | \`Cookie: _s=abc.second\` | no cookie, 4 requests | result |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${STICKY_ROWS[@]}"
  for mode in cookie none; do
    echo
    if [[ $mode == cookie ]]; then echo "## With a session cookie (\`_s=bench.first\`: every request to route first)"; else echo "## Without a cookie (new sessions, balanced over both routes)"; fi
    echo
    echo "Medians over $ROUNDS rounds (requests/s: min–max in brackets)."
    echo
    echo "| target | requests/s | p50 ms | p99 ms | CPU µs/req (min–max) | of it user | core % | other % | req/s vs direct | p50 vs direct | p99 vs direct | errors |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for t in "${MEASURED[@]}"; do
      awk -F'\t' -v m="$mode" -v t="$t" -v d_rps="$(get "$mode" direct 3)" -v d50="$(get "$mode" direct 6)" -v d99="$(get "$mode" direct 7)" '
        $1 == m && $2 == t { printf "| %s | %d (%d–%d) | %.3f | %.3f | %.1f (%.1f–%.1f) | %.1f | %d | %d | %s | %s | %s | %d |\n", t, $3, $4, $5, $6, $7, $8, $11, $12, $14, $9, $13,
          (d_rps > 0 ? sprintf("%.2f×", $3 / d_rps) : "–"),
          (t == "direct" ? "–" : sprintf("%.2f× (%+.3f ms)", $6 / d50, $6 - d50)),
          (t == "direct" ? "–" : sprintf("%.2f× (%+.3f ms)", $7 / d99, $7 - d99)), $10 }' "$SUMMARY"
    done
  done
  echo
  echo "## Target: wakeport's CPU/request ≤ nginx's, requests/s ≥ nginx's, p99 ≤ nginx's + 1 ms"
  echo
  echo "| mode | CPU µs/req wakeport / nginx | requests/s wakeport / nginx | p99 ms wakeport / nginx | verdict |"
  echo "|---|---|---|---|---|"
  for mode in cookie none; do
    awk -v m="$mode" -v wc="$(get "$mode" wakeport 8)" -v nc="$(get "$mode" nginx 8)" -v wr="$(get "$mode" wakeport 3)" -v nr="$(get "$mode" nginx 3)" \
        -v wp="$(get "$mode" wakeport 7)" -v np="$(get "$mode" nginx 7)" 'BEGIN {
      if (wc == "" || nc == "") { printf "| %s | – | – | – | not measured |\n", m; exit }
      c = (wc <= nc) ? "met" : "missed"; r = (wr >= nr) ? "met" : "missed"; p = (wp <= np + 1) ? "met" : "missed"
      printf "| %s | %.1f / %.1f (%.2f×): %s | %d / %d (%.2f×): %s | %.3f / %.3f (%+.3f ms): %s | %s |\n", m, wc, nc, wc / nc, c, wr, nr, wr / nr, r, wp, np, wp - np, p,
        (c == "met" && r == "met" && p == "met") ? "**met**" : "**not met**" }'
  done
  echo
  echo "## Stampede: $STAMPEDE_N simultaneous requests to a cold tenant (demo backend)"
  echo
  echo "One connection per request, all connected first and released together (bench/Stampede.java); latency from the release to the end of the response. wakeport unpinned for this part. cold ran first, cold-q second in the same wakeport."
  echo
  echo "| tenant | requests | spawns | 2xx | non-2xx | socket errors | statuses | p50 ms (all) | p99 ms (all) | max ms |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  printf '%s\n' "${STAMPEDE_ROWS[@]}"
  echo
  echo "## Cold start and footprint"
  echo
  echo "- cold-start overhead: $COLD_LINE"
  if [[ -n $FOOT_ROW ]]; then
    echo "- footprint, \`HEAPS=256m TENANTS=$FOOTPRINT_TENANTS RUNNING=$FOOTPRINT_RUNNING IDLE_SECONDS=$FOOTPRINT_IDLE bench/idle-footprint.sh\` (columns: heap, up s, idle CPU ms, % core, RSS MiB, heap used MiB, heap committed MiB, threads, backends alive, 200s, left after TERM):"
    echo
    echo "  \`$FOOT_ROW\`"
    echo
    echo '```'
    echo "$FOOT_DETAIL"
    echo '```'
  else
    echo "- footprint: skipped (FOOTPRINT=0)"
  fi
  echo
  echo "wakeport log: $(wc -l < "$WAKEPORT_LOG") lines, $WP_WARN WARN/ERROR, of which $WP_RESETS are \"forwarding ... failed: StreamResetException\" (wrk closing its connections with requests in flight at the end of each run). Shutdown: $STOP_NOTE."
  if [[ -n $JFR_OUT ]]; then
    echo
    echo "## JFR: wakeport under load (${JFR_SECONDS} s window, settings=profile, cookie)"
    echo
    echo '```'
    echo "$JFR_OUT"
    echo '```'
  fi
  echo
  echo "## Every run"
  echo
  echo "| round | mode | target | req/s | p50 ms | p99 ms | requests | errors | CPU µs/req | user µs/req | core % | other % | JIT ms | note |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  tail -n +2 "$RAW" | sed 's/^#/~/' | awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $14, $10, $11, $12, $13 }'
  echo
  echo "~ = not used: of a disturbed run and its re-run, the one with more other load. JIT ms = CPU of the JVM's C1/C2 compiler threads during the run."
} > "$REPORT"

# chart
DAT=$TMP/chart.dat
{
  echo "# target rps_cookie rps_none cpu_cookie cpu_none"
  for t in "${MEASURED[@]}"; do
    echo "$t $(get cookie "$t" 3) $(get none "$t" 3) $(get cookie "$t" 8) $(get none "$t" 8)"
  done
} > "$DAT"
gnuplot <<EOF
set terminal pngcairo size 1100,520 font "DejaVu Sans,10" noenhanced
set output "$OUT_DIR/bench-compare.png"
set multiplot layout 1,2 title "wakeport vs nginx, HAProxy, Apache: wrk -t1 -c$CONNS, medians of $ROUNDS rounds x ${SECONDS_PER_RUN}s\n$(echo "$MACHINE" | sed 's/"//g'), $(date -u +%Y-%m-%d)" font ",11"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top right
set yrange [0:*]
set title "requests/s (higher is better)"
set offsets 0, 0, graph 0.08, 0
plot "$DAT" using 2:xtic(1) title "cookie _s=bench.first" lc rgb "#3465a4", "" using 3 title "no cookie" lc rgb "#73d216", \
     "" using (\$0 - 0.17):2:(sprintf("%.1fk", \$2 / 1000)) with labels offset 0,0.6 font ",8" notitle, \
     "" using (\$0 + 0.17):3:(sprintf("%.1fk", \$3 / 1000)) with labels offset 0,0.6 font ",8" notitle
set title "CPU µs per request of the server (lower is better)"
set key top left
plot "$DAT" using 4:xtic(1) title "cookie _s=bench.first" lc rgb "#cc0000", "" using 5 title "no cookie" lc rgb "#f57900", \
     "" using (\$0 - 0.17):4:(sprintf("%.1f", \$4)) with labels offset 0,0.6 font ",8" notitle, \
     "" using (\$0 + 0.17):5:(sprintf("%.1f", \$5)) with labels offset 0,0.6 font ",8" notitle
unset multiplot
EOF

echo
cat "$REPORT"
echo
log "wrote $REPORT and $OUT_DIR/bench-compare.png in $(( (END_EPOCH - START_EPOCH) ))s"
[[ -z $LEFT ]]
