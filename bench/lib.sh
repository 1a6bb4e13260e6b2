# Shared by the bench/ scripts, sourced, not run: the nginx backends, the nginx and HAProxy proxies
# and the wakeport tenant that compare.sh, compare-tls.sh and warm-path-ab.sh measure (so they
# measure the same thing); ports; the CPU accounting from /proc; starting and stopping the servers
# under test, their warm-up and the interleaved rounds of compare.sh and compare-tls.sh; the local
# cluster of cluster-failover.sh and cluster-hop.sh.

# nginx_backend_conf DIR P1 P2 [WORKERS]: one nginx, two server blocks answering "first\n" / "second\n".
nginx_backend_conf() {
  nginx_head "$1" "${4:-1}"
  cat <<EOF
  default_type text/plain;
  server { listen 127.0.0.1:$2; location / { return 200 "first\n"; } }
  server { listen 127.0.0.1:$3; location / { return 200 "second\n"; } }
}
EOF
}

# nginx_sticky_proxy_conf DIR PORT P1 P2 [WORKERS [CERT KEY]]: nginx in front of them, sticky on the
# route suffix of the _s cookie, setting the headers wakeport sets (Host kept, X-Forwarded-*,
# Forwarded). With CERT and KEY (PEM) it listens with TLS (1.2 and 1.3) and HTTP/2 instead.
nginx_sticky_proxy_conf() {
  nginx_head "$1" "${5:-1}"
  local listen="listen 127.0.0.1:$2;"
  [[ -n ${6:-} ]] && listen="listen 127.0.0.1:$2 ssl http2;
    ssl_certificate $6;
    ssl_certificate_key $7;
    ssl_protocols TLSv1.2 TLSv1.3;"
  cat <<EOF
  map \$cookie__s \$pool { ~\\.first\$ first; ~\\.second\$ second; default both; }
  upstream first  { server 127.0.0.1:$3; keepalive 64; keepalive_requests 100000000; }
  upstream second { server 127.0.0.1:$4; keepalive 64; keepalive_requests 100000000; }
  upstream both   { server 127.0.0.1:$3; server 127.0.0.1:$4; keepalive 64; keepalive_requests 100000000; }
  server {
    $listen
    location / {
      proxy_pass http://\$pool;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header X-Forwarded-Proto \$scheme;
      proxy_set_header X-Forwarded-Host \$http_host;
      proxy_set_header Forwarded "for=\$remote_addr;host=\$http_host;proto=\$scheme";
    }
  }
}
EOF
}

# haproxy_sticky_conf DIR PORT P1 P2 [THREADS_LINE [PEM]]: HAProxy in front of the backends, sticky
# on the route suffix of the _s cookie, setting the headers wakeport sets. THREADS_LINE: e.g.
# "nbthread 1". With PEM (certificate and key in one file) it listens with TLS (1.2 and up) and h2.
haproxy_sticky_conf() {
  local bind="bind 127.0.0.1:$2" proto=http tls_options=""
  [[ -n ${6:-} ]] && { bind+=" ssl crt $6 alpn h2,http/1.1"; proto=https; tls_options="ssl-default-bind-options ssl-min-ver TLSv1.2"; }
  cat <<EOF
global
  ${5:-}
  maxconn 8000
  pidfile $1/haproxy.pid
  $tls_options
defaults
  mode http
  option http-keep-alive
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 300s
frontend fe
  $bind
  default_backend seaside
backend seaside
  balance roundrobin
  option forwardfor
  http-request set-header X-Forwarded-Proto $proto
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  http-request set-header Forwarded "for=%[src];host=%[req.hdr(host)];proto=$proto"
  use-server first if { req.cook(_s) -m end .first }
  use-server second if { req.cook(_s) -m end .second }
  server first 127.0.0.1:$3
  server second 127.0.0.1:$4
EOF
}

# nginx_head DIR WORKERS: everything up to and including "http {" (temp paths under DIR/tmp).
nginx_head() {
  mkdir -p "$1/tmp"
  cat <<EOF
worker_processes $2;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $1/tmp/body; proxy_temp_path $1/tmp/proxy; fastcgi_temp_path $1/tmp/fastcgi;
  uwsgi_temp_path $1/tmp/uwsgi; scgi_temp_path $1/tmp/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 300s;
EOF
}

# wakeport_seaside_yaml LISTEN_PORT STATE_DIR P1 P2: the config head and the tenant under test
# (two routes on the backends' ports; the command never runs because the ports are open).
wakeport_seaside_yaml() {
  cat <<EOF
listen: 127.0.0.1:$1
state-dir: $2
tenants:
  seaside:
    hosts: [seaside.bench]
    routes: {first: {port: $3}, second: {port: $4}}
    sticky: {cookie: _s, param: _s}
    failover: false
    idle-timeout: never
    command: [/bin/false]          # never run: the backends' ports are already open
EOF
}

# seaside_balancer_conf P1 P2: the Seaside book's mod_proxy_balancer cluster (Dynamic Web
# Development with Seaside, 23.3.7 Load Balancing Multiple Images) with this run's ports.
seaside_balancer_conf() {
  cat <<EOF
ProxyRequests Off
ProxyPreserveHost On
<Proxy balancer://mycluster>
   BalancerMember http://127.0.0.1:$1 route=first
   BalancerMember http://127.0.0.1:$2 route=second
</Proxy>
ProxyPass / balancer://mycluster/ stickysession=_s|_s nofailover=On
ProxyPassReverse / http://127.0.0.1:$1/
ProxyPassReverse / http://127.0.0.1:$2/
EOF
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }   # PORT: something listens on 127.0.0.1:PORT
pick_ports() { # FROM TO NAME...: sets each NAME (a variable or an array element) to a free port in FROM-TO, all different
  local from=$1 to=$2 p=$1 name; shift 2
  for name in "$@"; do
    while (( p <= to )) && port_open "$p"; do p=$(( p + 1 )); done
    (( p <= to )) || die "no free port in $from-$to"
    printf -v "$name" '%s' "$p"; p=$(( p + 1 ))
  done
}

# stop_wakeport PID TIMEOUT_S: TERM, wait up to TIMEOUT_S for it to exit, then KILL.
stop_wakeport() {
  [[ -n $1 ]] && kill -0 "$1" 2>/dev/null || return 0
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 1 "$2"); do kill -0 "$1" 2>/dev/null || return 0; sleep 1; done
  kill -KILL "$1" 2>/dev/null
}

# All processes of a server: the pid we started and its descendants.
tree_pids() {
  ps -e -o pid=,ppid= | awk -v root="$1" '{ par[$1] = $2 }
    END { for (p in par) { q = p; n = 0; while (q != root && (q in par) && q > 1 && n++ < 64) q = par[q]; if (q == root) print p } }'
}
cpu_ticks_tree() { # utime+stime (clock ticks) summed over the server's processes
  local total=0 p stat f
  for p in $(tree_pids "$1"); do
    { stat=$(< "/proc/$p/stat"); } 2>/dev/null || continue
    stat=${stat##*) }; f=($stat)
    total=$(( total + f[11] + f[12] ))
  done
  echo "$total"
}
user_ticks_tree() { # utime only
  local total=0 p stat f
  for p in $(tree_pids "$1"); do
    { stat=$(< "/proc/$p/stat"); } 2>/dev/null || continue
    stat=${stat##*) }; f=($stat)
    total=$(( total + f[11] ))
  done
  echo "$total"
}
# user+nice+system+steal of all CPUs; irq and softirq are left out on both sides (per-process
# utime/stime do not include them either, and loopback traffic makes a lot of softirq).
machine_busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $9; exit }' /proc/stat; }
jit_ticks() { # CPU ticks of the JVM's JIT compiler threads
  local total=0 t stat f
  for t in /proc/"$1"/task/*; do
    [[ $(< "$t/comm") == C[12]\ CompilerThre* ]] 2>/dev/null || continue
    { stat=$(< "$t/stat"); } 2>/dev/null || continue
    stat=${stat##*) }; f=($stat)
    total=$(( total + f[11] + f[12] ))
  done
  echo "$total"
}

# ---- A wakeport cluster on 127.0.0.1 (bench/cluster-failover.sh, bench/cluster-hop.sh) ----------
# The caller sets ROOT, defines die, and may set NODE_LAUNCH (a command prefix for the node JVMs,
# e.g. (taskset -c 1)) and KEEP_TMP=1 (keep configs and logs).
#
# cluster_start NAME FIRST_PORT BACKEND_XMX NODE...: builds what is missing, makes TMP, takes the
# first free ports from FIRST_PORT (of 300), writes each node's config (TCP/IP join, the secret in
# WAKEPORT_CLUSTER_SECRET, one tenant acme.bench: the demo backend with BACKEND_XMX of heap), sets
# the cleanup trap (every node and backend stopped by its pid), starts every node and waits until
# each sees all of them live. Sets NAMES, TMP, FRONT ADMIN MEMBER FORWARD PID (by node), BACKEND_PORT.
cluster_start() {
  local what=$1 first_port=$2 n
  CLUSTER_BACKEND_XMX=$3; shift 3
  NAMES=("$@")
  CLUSTER_STOP_TIMEOUT=30
  CLUSTER_JVM=(-Xmx192m -XX:+UseSerialGC)
  export WAKEPORT_CLUSTER_SECRET=${WAKEPORT_CLUSTER_SECRET:-bench-cluster-secret-0123456789}
  for c in java curl jq; do command -v $c >/dev/null || die "$c is required"; done
  [[ -f target/wakeport.jar ]] || { mvn -q -B package -DskipTests || die "build failed"; }
  [[ -f target/test-classes/DemoBackend.class ]] || { mvn -q -B test-compile || die "test-compile failed"; }
  TMP=$(mktemp -d "/tmp/wakeport-$what.XXXXXX")
  declare -gA FRONT=() ADMIN=() MEMBER=() FORWARD=() PID=()
  local ports=()
  for n in "${NAMES[@]}"; do ports+=("FRONT[$n]" "ADMIN[$n]" "MEMBER[$n]" "FORWARD[$n]"); done
  pick_ports "$first_port" $(( first_port + 299 )) "${ports[@]}" BACKEND_PORT
  local members
  members=$(for n in "${NAMES[@]}"; do printf '127.0.0.1:%s, ' "${MEMBER[$n]}"; done); members=${members%, }
  for n in "${NAMES[@]}"; do
    mkdir -p "$TMP/$n"
    cat > "$TMP/$n/wakeport.yaml" <<YAML
listen: 127.0.0.1:${FRONT[$n]}
state-dir: $TMP/$n/var
admin:
  listen: 127.0.0.1:${ADMIN[$n]}
cluster:
  node: $n
  bind: 127.0.0.1:${MEMBER[$n]}
  members: [$members]
  forward-listen: 127.0.0.1:${FORWARD[$n]}
  secret: \${env:WAKEPORT_CLUSTER_SECRET}
tenants:
  acme:
    hosts: [acme.bench]
    port: $BACKEND_PORT
    idle-timeout: never
    command: [java, -Xmx$CLUSTER_BACKEND_XMX, -XX:+UseSerialGC, -cp, $ROOT/target/test-classes, DemoBackend, --port, "\${port}", --tenant, acme]
YAML
  done
  trap cluster_cleanup EXIT
  trap 'exit 130' INT TERM
  for n in "${NAMES[@]}"; do cluster_start_node "$n"; done
  for n in "${NAMES[@]}"; do cluster_await_alive "$n" "${#NAMES[@]}"; done
}
# Backends a node started (their pids from its tenant log), for killing with the node.
# Only those still running the demo backend (a pid from an earlier run may have been reused).
cluster_backend_pids() { # NODE
  local p
  for p in $(sed -n 's/^demo backend [^ ]* pid \([0-9]*\) booting$/\1/p' "$TMP/$1/var/logs/"*.log 2>/dev/null); do
    { tr '\0' ' ' < "/proc/$p/cmdline"; } 2>/dev/null | grep -q DemoBackend && echo "$p"
  done
}
cluster_cleanup() {
  local n p
  for n in "${NAMES[@]}"; do stop_wakeport "${PID[$n]:-}" "$CLUSTER_STOP_TIMEOUT"; done
  for n in "${NAMES[@]}"; do for p in $(cluster_backend_pids "$n"); do kill -KILL "$p" 2>/dev/null; done; done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
cluster_start_node() { # NODE: start it (again), wait for "started in"
  local n=$1 log="$TMP/$1/wakeport.$(date +%s%N).log"
  "${NODE_LAUNCH[@]}" java "${CLUSTER_JVM[@]}" -jar target/wakeport.jar run --config "$TMP/$n/wakeport.yaml" 2> "$log" &
  PID[$n]=$!
  for _ in $(seq 1 900); do
    grep -qs "Main - started in " "$log" && return 0
    kill -0 "${PID[$n]}" 2>/dev/null || die "$n exited: $(tail -5 "$log")"
    sleep 0.1
  done
  die "$n not started after 90 s"
}
cluster_json() { # NODE: its GET /api/cluster
  curl -s --max-time 5 -H "Authorization: Bearer $(cat "$TMP/$1/var/admin.token")" \
    "http://127.0.0.1:${ADMIN[$1]}/api/cluster"
}
cluster_alive_count() { cluster_json "$1" | jq '[.nodes[] | select(.alive)] | length' 2>/dev/null || echo 0; }
cluster_await_alive() { # NODE COUNT
  for _ in $(seq 1 600); do [[ $(cluster_alive_count "$1") == "$2" ]] && return 0; sleep 0.1; done
  die "$1 does not see $2 live nodes"
}
acme_status() { # FRONT_PORT TIMEOUT_S: the status of GET / for acme.bench
  curl -s -o /dev/null -w '%{http_code}' --max-time "$2" -H 'Host: acme.bench' "http://127.0.0.1:$1/" || true
}
median() { sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }   # of the numbers on stdin

# ---- Servers under test and interleaved rounds (bench/compare.sh, bench/compare-tls.sh) --------
# The caller sets TMP, CLK_TCK, declare -A PID=(), STARTED_ORDER=() and defines die and
# log; for the rounds also ROUNDS, RAW, OTHER_MAX, MAX_RERUNS, QUIET_WAIT, WARMUP, WARMUP_MAX,
# `measure ROUND KIND TARGET [NOTE]` and `load_run KIND TARGET SECONDS`.

stop_server() { # NAME
  local name=$1 pid=${PID[$1]:-}
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "  $name (pid $pid) still running 30 s after TERM: KILL"; kill -KILL "$pid" 2>/dev/null
    fi
  fi
  wait "$pid" 2>/dev/null
  PID[$name]=""
}
servers_cleanup() { # every server stopped, in reverse order of starting; TMP removed unless KEEP_TMP=1
  local name
  for name in "${STARTED_ORDER[@]}"; do stop_server "$name"; done
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
wait_port() { # PORT NAME PID
  for _ in $(seq 1 150); do
    port_open "$1" && return 0
    kill -0 "$3" 2>/dev/null || die "$2 exited during start-up (see $TMP)"
    sleep 0.2
  done
  die "$2 did not open port $1 within 30 s"
}
start_server() { # NAME PORT LOGFILE CMD...
  local name=$1 port=$2 logf=$3; shift 3
  "$@" > "$logf" 2>&1 &
  PID[$name]=$!
  STARTED_ORDER=("$name" "${STARTED_ORDER[@]}")   # stopped in reverse order
  wait_port "$port" "$name" "${PID[$name]}"
}

# Before a run: wait (at most QUIET_WAIT s) until the machine is quiet for a second: under 10 % of
# a core busy, the hypervisor's steal time included. On this VM steal comes in bursts that inflate
# every process's CPU time per request.
quiet_wait() {
  local i a b
  for i in $(seq 1 "$QUIET_WAIT"); do
    a=$(machine_busy_ticks); sleep 1; b=$(machine_busy_ticks)
    (( (b - a) * 100 / CLK_TCK < 10 )) && return 0
  done
  return 0
}

# A JVM is measured once its JIT has settled: C2 keeps compiling for 30-40 s under this load, and a
# run that overlaps it shows the compiler's CPU and the not yet optimised code.
# warm_jvm TARGET PID "KINDS": load_run of each kind 5 s at a time for WARMUP s, then on until a
# pass over the kinds keeps the JIT compiler threads under 2 % of a core, at most WARMUP_MAX s;
# the seconds spent go to WARMED[TARGET].
declare -A WARMED=()
warm_jvm() {
  local t=$1 pid=$2 kinds=$3 spent=0 j0 j1 k
  while (( spent < WARMUP )); do
    for k in $kinds; do load_run "$k" "$t" 5 > /dev/null; spent=$(( spent + 5 )); done
  done
  while (( spent < WARMUP_MAX )); do
    j0=$(jit_ticks "$pid")
    for k in $kinds; do load_run "$k" "$t" 5 > /dev/null; spent=$(( spent + 5 )); done
    j1=$(jit_ticks "$pid")
    (( (j1 - j0) * 100 / CLK_TCK < 2 * 5 * $(wc -w <<< "$kinds") )) && break
  done
  WARMED[$t]=$spent
}

# interleaved_rounds "KINDS" DESCRIPTION TARGET...: ROUNDS rounds; each runs every target (the order
# rotated by one from round to round) for each kind (a mode or a part) with `measure`, which appends
# a line to RAW (column 11: the other load, 13: a note) and fails when the other load was above
# OTHER_MAX % of a core. A disturbed run is run again once (at most MAX_RERUNS re-runs in all,
# counted in RERUNS); the first is noted "disturbed" and of the two, the one that saw more other
# load is commented out (#) in RAW.
interleaved_rounds() {
  local kinds=$1 what=$2; shift 2
  local targets=("$@") r i t k n1 o1 o2 order
  RERUNS=0
  for r in $(seq 1 "$ROUNDS"); do
    order=()
    for i in $(seq 0 $(( ${#targets[@]} - 1 ))); do order+=("${targets[$(( (i + r - 1) % ${#targets[@]} ))]}"); done
    log "round $r of $ROUNDS: ${order[*]} ($what)"
    for t in "${order[@]}"; do
      for k in $kinds; do
        measure "$r" "$k" "$t" && continue
        (( RERUNS < MAX_RERUNS )) || continue
        RERUNS=$(( RERUNS + 1 ))
        n1=$(wc -l < "$RAW")
        awk -F'\t' -v OFS='\t' -v n="$n1" 'NR == n { $13 = "disturbed" } 1' "$RAW" > "$RAW.new" && mv "$RAW.new" "$RAW"
        echo "    ^ other load above ${OTHER_MAX}% of a core: re-running (re-run $RERUNS of at most $MAX_RERUNS)"
        measure "$r" "$k" "$t" "re-run" || true
        o1=$(sed -n "${n1}p" "$RAW" | cut -f11); o2=$(sed -n "$(( n1 + 1 ))p" "$RAW" | cut -f11)
        if (( o2 <= o1 )); then sed -i "${n1} s/^/#/" "$RAW"; else sed -i "$(( n1 + 1 )) s/^/#/" "$RAW"; fi
      done
    done
  done
}

# raw_summary RAW: per kind (column 2) and target (3) of the lines not commented out, tab-separated:
# kind target rate_med rate_min rate_max p50 p99 cpu core errors cpu_min cpu_max other user tool
# (medians unless named; RAW's columns: 4 rate, 5 p50, 6 p99, 8 errors, 9 cpu, 10 core, 11 other,
# 14 user, 15 the load tool's CPU where there is one).
raw_summary() {
  grep -v '^#' "$1" | awk -F'\t' 'NR > 1 {
    k = $2 SUBSEP $3; n[k]++; rt[k, n[k]] = $4; p50[k, n[k]] = $5; p99[k, n[k]] = $6; cpu[k, n[k]] = $9; core[k, n[k]] = $10; oth[k, n[k]] = $11; usr[k, n[k]] = $14; tool[k, n[k]] = $15; err[k] += $8 }
  function med(a, k, m,   i, j, v, x) { for (i = 1; i <= m; i++) v[i] = a[k, i]
    for (i = 2; i <= m; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
    return (m % 2) ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
  function mn(a, k, m,   i, x) { x = a[k, 1]; for (i = 2; i <= m; i++) if (a[k, i] < x) x = a[k, i]; return x }
  function mx(a, k, m,   i, x) { x = a[k, 1]; for (i = 2; i <= m; i++) if (a[k, i] > x) x = a[k, i]; return x }
  END { for (k in n) { split(k, kk, SUBSEP); m = n[k]
      printf "%s\t%s\t%.0f\t%.0f\t%.0f\t%.3f\t%.3f\t%.1f\t%.0f\t%d\t%.1f\t%.1f\t%.0f\t%.1f\t%.0f\n", kk[1], kk[2], med(rt, k, m), mn(rt, k, m), mx(rt, k, m),
        med(p50, k, m), med(p99, k, m), med(cpu, k, m), med(core, k, m), err[k], mn(cpu, k, m), mx(cpu, k, m), med(oth, k, m), med(usr, k, m), med(tool, k, m) } }'
}
