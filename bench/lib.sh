# Shared by bench/compare.sh, bench/compare-tls.sh and bench/warm-path-ab.sh: the nginx backends, the
# nginx proxy and the wakeport tenant they measure, so the scripts measure the same thing, and the
# CPU accounting from /proc. Sourced, not run.

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
