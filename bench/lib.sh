# Shared by the bench/ scripts: the nginx backends, the nginx proxy and the wakeport tenant that
# compare.sh, compare-tls.sh and warm-path-ab.sh measure (so they measure the same thing), the CPU
# accounting from /proc, the interleaved rounds of compare.sh and compare-tls.sh, and the local
# cluster of cluster-failover.sh and cluster-hop.sh. Sourced, not run.

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
# first free ports from FIRST_PORT, writes each node's config (TCP/IP join, the secret in
# WAKEPORT_CLUSTER_SECRET, one tenant acme.bench: the demo backend with BACKEND_XMX of heap), sets
# the cleanup trap (every node and backend stopped by its pid), starts every node and waits until
# each sees all of them live. Sets NAMES, TMP, FRONT ADMIN MEMBER FORWARD PID (by node), BACKEND_PORT.
cluster_start() {
  local what=$1 n
  NEXT_PORT=$2; CLUSTER_BACKEND_XMX=$3; shift 3
  NAMES=("$@")
  CLUSTER_STOP_TIMEOUT=30
  CLUSTER_JVM=(-Xmx192m -XX:+UseSerialGC)
  export WAKEPORT_CLUSTER_SECRET=${WAKEPORT_CLUSTER_SECRET:-bench-cluster-secret-0123456789}
  for c in java curl jq; do command -v $c >/dev/null || die "$c is required"; done
  [[ -f target/wakeport.jar ]] || { mvn -q -B package -DskipTests || die "build failed"; }
  [[ -f target/test-classes/DemoBackend.class ]] || { mvn -q -B test-compile || die "test-compile failed"; }
  TMP=$(mktemp -d "/tmp/wakeport-$what.XXXXXX")
  declare -gA FRONT=() ADMIN=() MEMBER=() FORWARD=() PID=()
  for n in "${NAMES[@]}"; do
    cluster_next_port; FRONT[$n]=$PORT; cluster_next_port; ADMIN[$n]=$PORT
    cluster_next_port; MEMBER[$n]=$PORT; cluster_next_port; FORWARD[$n]=$PORT
  done
  cluster_next_port; BACKEND_PORT=$PORT
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
cluster_next_port() { # sets PORT to the next free port from NEXT_PORT (no subshell, so NEXT_PORT advances)
  while port_open "$NEXT_PORT"; do NEXT_PORT=$((NEXT_PORT + 1)); done
  PORT=$NEXT_PORT; NEXT_PORT=$((NEXT_PORT + 1))
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
    grep -q "Main - started in " "$log" && return 0
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
