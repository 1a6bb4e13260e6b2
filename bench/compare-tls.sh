#!/usr/bin/env bash
# The TLS mode of bench/compare.sh: wakeport, nginx and HAProxy each terminating TLS with the same
# certificate and key, in front of the same two nginx backends as the plain mode, measured in one run.
#
#   MODE=tls bench/compare.sh              # or bench/compare.sh --tls, or this script; 6-8 minutes
#   ROUNDS=1 SECONDS_PER_RUN=3 WARMUP=10 WARMUP_MAX=20 MODE=tls bench/compare.sh   # quick look
#   bench/h2-throughput.sh                 # the HTTP/2 part alone (PARTS=h2)
#
# What it does (everything on 127.0.0.1, every server stopped by its pid at the end):
#  1. installs what is missing from Debian's packages (wrk nginx haproxy nghttp2-client gcc
#     libssl-dev; root only), builds target/wakeport.jar if missing and bench/tls-handshakes.c;
#  2. makes a self-signed certificate for seaside.bench with openssl: CERT=ecdsa (the default,
#     ECDSA P-256) or CERT=rsa (RSA 2048); every proxy serves that one certificate and key;
#  3. starts the backends (one nginx, two `server` blocks answering "first\n" / "second\n", as in the
#     plain mode) and the proxies, each sticky on the `_s` cookie's route suffix as in the plain
#     mode, each listening with TLS 1.2/1.3 and ALPN h2, http/1.1: wakeport (`https:` listener, its
#     JVM's TLS), nginx (`listen ... ssl http2`, OpenSSL), HAProxy (`bind ... ssl crt ... alpn
#     h2,http/1.1`, OpenSSL), and vertx-floor (bench/VertxFloor.java with the certificate: a bare
#     Vert.x pass-through with the JDK's TLS, as wakeport's, without SNI handling: the floor under
#     wakeport's https listener), and vertx-floor-openssl (the same with Vert.x's OpenSSLEngineOptions:
#     netty-tcnative-boringssl-static from the local Maven repository, or TCNATIVE_CP; not a wakeport
#     dependency; skipped when not found): what the TLS engine alone changes under Vert.x;
#  4. checks every proxy: the certificate it presents is the one made in 2 (SHA-256 fingerprint),
#     HTTP/1.1 and HTTP/2 answer, and the cookie picks the route; a proxy that fails is not measured;
#  5. warms the proxies (the JVMs: WARMUP s of unrecorded load, then 5 s of each part at a time until
#     its JIT compiler threads use under 2 % of a core, at most WARMUP_MAX s; the others 2 s per
#     part), then measures in ROUNDS interleaved rounds (the order of the proxies rotates each
#     round), SECONDS_PER_RUN s per run, these PARTS:
#     handshake  bench/tls-handshakes.c with HS_CONC connections at a time: every connection makes a
#                full TLS 1.3 handshake (fresh client state, no session offered, so no resumption,
#                no 0-RTT; checked: resumed must be 0), sends one GET with Connection: close and
#                reads the response up to the server's close. Rate = handshakes/s; CPU per
#                handshake includes the one proxied request on it;
#     keepalive  `wrk -t1 -cCONNS` on https:// (HTTP/1.1, TLS 1.3, one handshake per connection at
#                the start): warm HTTPS keep-alive requests, requests/s and CPU per request;
#     h2         `h2load -t1 -cH2_CONNS -mH2_STREAMS` (HTTP/2 over TLS, ALPN h2): multiplexed
#                requests/s and CPU per request;
#     every request carries `Cookie: _s=bench.first` (all to route first). Per run: rate, latency,
#     the CPU time (utime+stime from /proc of all the server's processes, as in the plain mode) per
#     handshake or request and its user part, the load tool's CPU (% of its core: near 100 % means
#     the client, not the server, set the rate) and "other" CPU on the machine; a run with other >
#     OTHER_MAX % of a core is re-run once (at most MAX_RERUNS in all) and the less disturbed kept;
#  6. stops everything and writes OUT_DIR/bench-compare-tls.md (tables, machine, command).
#
# Pinning (PIN=1, the default): the server under test on CPU 1; the load tool and the backend nginx
# on CPU 0. One worker each: nginx worker_processes 1, HAProxy nbthread 1, wakeport its default
# (follows the CPUs the JVM sees: 1 under taskset).
#
# Knobs: ROUNDS=3 SECONDS_PER_RUN=8 PARTS="handshake keepalive h2"
#        TARGETS="wakeport vertx-floor vertx-floor-openssl nginx haproxy" TCNATIVE_CP=(found in ~/.m2)
#        CERT=ecdsa CONNS=32 HS_CONC=32 H2_CONNS=4 H2_STREAMS=32 WARMUP=20 WARMUP_MAX=120
#        QUIET_WAIT=30 OTHER_MAX=30 MAX_RERUNS=12 PIN=1 NICE=0 OUT_DIR=docs KEEP_TMP=1
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
. bench/lib.sh
COMMAND_LINE=${COMPARE_COMMAND_LINE:-"$0${*:+ $*}"}
ENV_KNOBS=$(env | grep -E '^(MODE|ROUNDS|SECONDS_PER_RUN|PARTS|TARGETS|CERT|CONNS|HS_CONC|H2_CONNS|H2_STREAMS|WARMUP|WARMUP_MAX|QUIET_WAIT|OTHER_MAX|MAX_RERUNS|PIN|NICE|OUT_DIR)=' | sort | tr '\n' ' ')

ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-8}
PARTS=${PARTS:-"handshake keepalive h2"}
TARGETS=${TARGETS:-"wakeport vertx-floor vertx-floor-openssl nginx haproxy"}
CERT=${CERT:-ecdsa}
CONNS=${CONNS:-32}
HS_CONC=${HS_CONC:-32}
H2_CONNS=${H2_CONNS:-4}
H2_STREAMS=${H2_STREAMS:-32}
WARMUP=${WARMUP:-20}
WARMUP_MAX=${WARMUP_MAX:-120}
QUIET_WAIT=${QUIET_WAIT:-30}
OTHER_MAX=${OTHER_MAX:-30}
MAX_RERUNS=${MAX_RERUNS:-12}
PIN=${PIN:-1}
NICE=${NICE:-0}
OUT_DIR=${OUT_DIR:-docs}
HOST_HEADER=seaside.bench

die() { echo "compare-tls: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*"; }
START_EPOCH=$(date +%s)
[[ $CERT == ecdsa || $CERT == rsa ]] || die "CERT is ecdsa or rsa"
for p in $PARTS; do [[ $p == handshake || $p == keepalive || $p == h2 ]] || die "unknown part $p (handshake keepalive h2)"; done

# ---- 1. tools and build -----------------------------------------------------------------------
missing=()
for tool in wrk nginx haproxy h2load cc openssl; do
  command -v "$tool" >/dev/null || [[ -x /usr/sbin/$tool ]] || missing+=("$tool")
done
[[ -f /usr/include/openssl/ssl.h ]] || missing+=(libssl-dev)
if (( ${#missing[@]} )); then
  (( EUID == 0 )) || die "missing ${missing[*]}; run as root or: apt-get install -y wrk nginx haproxy nghttp2-client gcc libssl-dev openssl"
  log "installing from Debian's packages (missing: ${missing[*]})"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q wrk nginx haproxy nghttp2-client gcc libssl-dev openssl >/dev/null \
    || die "apt-get install failed"
fi
export PATH="$PATH:/usr/sbin:/sbin"
for tool in java jcmd curl taskset wrk nginx haproxy h2load cc openssl; do
  command -v "$tool" >/dev/null || die "$tool is required"
done
if [[ ! -f target/wakeport.jar ]]; then
  log "building target/wakeport.jar"; mvn -q -B package -DskipTests || die "build failed"
fi
(( $(nproc) >= 2 )) || PIN=0
if [[ $PIN == 1 ]]; then
  ON_SUT=(taskset -c 1); ON_LOAD=(taskset -c 0)
else
  ON_SUT=(); ON_LOAD=()
fi
if [[ $NICE != 0 ]]; then ON_SUT=(nice -n "$NICE" "${ON_SUT[@]}"); ON_LOAD=(nice -n "$NICE" "${ON_LOAD[@]}"); fi

# ---- ports, temp dir, cleanup -----------------------------------------------------------------
pick_ports 18700 18999 P1 P2 PW PWS PN PH PF PFO

TMP=$(mktemp -d /tmp/wakeport-compare-tls.XXXXXX)
chmod 755 "$TMP"
declare -A PID=()
STARTED_ORDER=()
trap servers_cleanup EXIT
trap 'exit 130' INT TERM
CLK_TCK=$(getconf CLK_TCK)

HS_BIN=$TMP/tls-handshakes
cc -O2 -o "$HS_BIN" bench/tls-handshakes.c -lssl -lcrypto || die "cannot compile bench/tls-handshakes.c"

# ---- 2. certificate ---------------------------------------------------------------------------
mkdir -p "$TMP/cert"
CRT=$TMP/cert/seaside.crt KEY=$TMP/cert/seaside.key
if [[ $CERT == ecdsa ]]; then
  KEYGEN=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1); CERT_TEXT="ECDSA P-256 (prime256v1), self-signed, SHA-256"
else
  KEYGEN=(-newkey rsa:2048); CERT_TEXT="RSA 2048, self-signed, SHA-256"
fi
openssl req -x509 "${KEYGEN[@]}" -sha256 -nodes -days 90 -keyout "$KEY" -out "$CRT" -subj "/CN=$HOST_HEADER" \
  -addext "subjectAltName=DNS:$HOST_HEADER" 2>/dev/null || die "openssl req failed"
cat "$CRT" "$KEY" > "$TMP/cert/haproxy.pem"        # HAProxy takes certificate and key in one file
chmod 600 "$KEY" "$TMP/cert/haproxy.pem"
CERT_FP=$(openssl x509 -in "$CRT" -noout -fingerprint -sha256 | sed 's/.*=//')

# ---- 3. configs and start ---------------------------------------------------------------------
NGINX_WORKERS=1; HAPROXY_THREADS="nbthread 1"
[[ $PIN == 1 ]] || { NGINX_WORKERS=auto; HAPROXY_THREADS=""; }
mkdir -p "$TMP"/backend "$TMP"/nginx "$TMP"/haproxy "$TMP"/wakeport
nginx_backend_conf "$TMP/backend" "$P1" "$P2" "$NGINX_WORKERS" > "$TMP/backend/nginx.conf"
nginx_sticky_proxy_conf "$TMP/nginx" "$PN" "$P1" "$P2" "$NGINX_WORKERS" "$CRT" "$KEY" > "$TMP/nginx/nginx.conf"
haproxy_sticky_conf "$TMP/haproxy" "$PH" "$P1" "$P2" "$HAPROXY_THREADS" "$TMP/cert/haproxy.pem" > "$TMP/haproxy/haproxy.cfg"
if [[ " $TARGETS " == *" wakeport "* ]]; then
{
wakeport_seaside_yaml "$PW" "$TMP/wakeport/var" "$P1" "$P2"
cat <<EOF
https:
  listen: 127.0.0.1:$PWS
  certificates:
    - hosts: [$HOST_HEADER]
      cert: $CRT
      key: $KEY
EOF
} > "$TMP/wakeport/wakeport.yaml"
java -jar target/wakeport.jar check --config "$TMP/wakeport/wakeport.yaml" > "$TMP/wakeport/check.out" 2>&1 \
  || die "wakeport rejects the config (does target/wakeport.jar have the https listener? rebuild with mvn -q -B package -DskipTests): $(tail -3 "$TMP/wakeport/check.out")"
fi

log "starting backends (nginx on $P1/$P2) and $TARGETS (wakeport :$PWS, plain :$PW; vertx-floor :$PF, -openssl :$PFO; nginx :$PN; haproxy :$PH; temp $TMP)"
start_server backend "$P1" "$TMP/backend/stderr" "${ON_LOAD[@]}" nginx -p "$TMP/backend/" -c "$TMP/backend/nginx.conf" -e "$TMP/backend/error.log"
wait_port "$P2" backend "${PID[backend]}"
WAKEPORT_LOG=$TMP/wakeport/wakeport.log
declare -A PORT=([wakeport]=$PWS [vertx-floor]=$PF [vertx-floor-openssl]=$PFO [nginx]=$PN [haproxy]=$PH)
if [[ " $TARGETS " == *" vertx-floor-openssl "* ]]; then
  if [[ -z ${TCNATIVE_CP:-} ]]; then
    tc_jar=$(ls ~/.m2/repository/io/netty/netty-tcnative-boringssl-static/*/netty-tcnative-boringssl-static-*-linux-"$(uname -m | sed 's/aarch64/aarch_64/')".jar 2>/dev/null | sort -V | tail -1)
    tc_classes=$(ls ~/.m2/repository/io/netty/netty-tcnative-classes/*/netty-tcnative-classes-*.jar 2>/dev/null | grep -v sources | sort -V | tail -1)
    [[ -n $tc_jar && -n $tc_classes ]] && TCNATIVE_CP=$tc_jar:$tc_classes
  fi
  if [[ -z ${TCNATIVE_CP:-} ]]; then
    log "vertx-floor-openssl skipped: no netty-tcnative-boringssl-static in ~/.m2 (TCNATIVE_CP=... to give one)"
    TARGETS=$(sed 's/ *vertx-floor-openssl//' <<< " $TARGETS ")
  fi
fi
for t in $TARGETS; do
  case $t in
    wakeport) start_server wakeport "$PWS" "$WAKEPORT_LOG" "${ON_SUT[@]}" java -jar target/wakeport.jar run --config "$TMP/wakeport/wakeport.yaml" ;;
    vertx-floor) start_server vertx-floor "$PF" "$TMP/vertx-floor.log" "${ON_SUT[@]}" java -cp target/wakeport.jar bench/VertxFloor.java "$PF" "$P1" "$P2" "$CRT" "$KEY" ;;
    vertx-floor-openssl) start_server vertx-floor-openssl "$PFO" "$TMP/vertx-floor-openssl.log" "${ON_SUT[@]}" java -cp "target/wakeport.jar:$TCNATIVE_CP" bench/VertxFloor.java "$PFO" "$P1" "$P2" "$CRT" "$KEY" openssl ;;
    nginx) start_server nginx "$PN" "$TMP/nginx/stderr" "${ON_SUT[@]}" nginx -p "$TMP/nginx/" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" ;;
    haproxy) start_server haproxy "$PH" "$TMP/haproxy/stderr" "${ON_SUT[@]}" haproxy -db -f "$TMP/haproxy/haproxy.cfg" ;;
    *) die "unknown target $t (wakeport vertx-floor vertx-floor-openssl nginx haproxy)" ;;
  esac
done
WP_JVM=""
if [[ -n ${PID[wakeport]:-} ]]; then
  WP_JVM=$(jcmd "${PID[wakeport]}" VM.flags 2>/dev/null | tr ' ' '\n' | awk -F= '/^-XX:\+Use.*GC$/ { sub("-XX:\\+Use", ""); gc = $0 } /^-XX:MaxHeapSize=/ { heap = sprintf("max heap %d MiB", $2 / 1048576) } END { print gc ", " heap }')
fi

# ---- 4. checks --------------------------------------------------------------------------------
curl_tls() { # port cookie [curl options...]
  local port=$1 cookie=$2; shift 2
  curl -sk -m 5 --resolve "$HOST_HEADER:$port:127.0.0.1" ${cookie:+-H "Cookie: $cookie"} "$@" "https://$HOST_HEADER:$port/"
}
declare -A CHECK=()
CHECK_ROWS=()
MEASURED=()
for t in $TARGETS; do
  p=${PORT[$t]}
  fp=$(openssl s_client -connect "127.0.0.1:$p" -servername "$HOST_HEADER" </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256 2>/dev/null | sed 's/.*=//')
  f=$(curl_tls "$p" _s=abc.first --http1.1 | tr -d '\n'); s=$(curl_tls "$p" _s=abc.second --http1.1 | tr -d '\n')
  v2=$(curl_tls "$p" _s=abc.second --http2 -o /dev/null -w '%{http_version} %{http_code}')
  v1=$(curl_tls "$p" _s=abc.first --http1.1 -o /dev/null -w '%{http_version} %{http_code}')
  res=pass
  [[ $fp == "$CERT_FP" ]] || res=FAIL
  [[ $f == first && $s == second && $v2 == "2 200" && $v1 == "1.1 200" ]] || res=FAIL
  CHECK[$t]=$res
  [[ $fp == "$CERT_FP" ]] && fpt="the run's" || fpt="OTHER: ${fp:-none}"
  CHECK_ROWS+=("| $t | $fpt | $f | $s | HTTP/$v1 | HTTP/$v2 | $res |")
  log "check $t: certificate $fpt, first -> '$f', second -> '$s', h1 '$v1', h2 '$v2': $res"
  [[ $res == pass ]] && MEASURED+=("$t")
done
(( ${#MEASURED[@]} )) || die "no proxy passed the checks (see $TMP)"

# ---- 5. load ----------------------------------------------------------------------------------
# load_run part target seconds -> "rate p50_ms p99_ms count errors tool_ticks detail"
load_run() {
  local part=$1 t=$2 secs=$3 port=${PORT[$2]} out=$TMP/load.out
  local TIMEFORMAT='%U %S'
  case $part in
    handshake)
      { time "${ON_LOAD[@]}" "$HS_BIN" --port "$port" --sni "$HOST_HEADER" --header "Cookie: _s=bench.first" \
          --seconds "$secs" --concurrency "$HS_CONC" > "$out" 2> "$TMP/load.err" ; } 2> "$TMP/load.time"
      awk -v tck="$CLK_TCK" -v tf="$TMP/load.time" '
        function kv(k,   i) { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
        /^HANDSHAKES/ { rate = kv("rate"); p50 = kv("p50_ms"); p99 = kv("p99_ms"); n = kv("ok"); err = kv("errors") + kv("non200")
          detail = kv("proto") "," kv("cipher") "," kv("group") "," kv("key") ",resumed=" kv("resumed") }
        END { getline tl < tf; split(tl, a, " "); printf "%s %s %s %d %d %d %s\n", rate + 0, p50 + 0, p99 + 0, n, err, (a[1] + a[2]) * tck, (detail == "" ? "no-output" : detail) }' "$out" ;;
    keepalive)
      { time "${ON_LOAD[@]}" wrk -t1 -c"$CONNS" -d"${secs}s" --latency -H "Host: $HOST_HEADER" -H "Cookie: _s=bench.first" \
          "https://127.0.0.1:$port/" > "$out" 2> "$TMP/load.err" ; } 2> "$TMP/load.time"
      awk -v tck="$CLK_TCK" -v tf="$TMP/load.time" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
        /requests in/ { n = $1 } /^Requests\/sec/ { rps = $2 }
        /Non-2xx/ { err += $NF } /Socket errors/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
        END { getline tl < tf; split(tl, a, " "); printf "%s %.3f %.3f %d %d %d http/1.1\n", rps + 0, p50, p99, n, err, (a[1] + a[2]) * tck }' "$out" ;;
    h2)
      { time "${ON_LOAD[@]}" h2load -t1 -c"$H2_CONNS" -m"$H2_STREAMS" -D"$secs" --connect-to="127.0.0.1:$port" \
          -H "cookie: _s=bench.first" "https://$HOST_HEADER:$port/" > "$out" 2> "$TMP/load.err" ; } 2> "$TMP/load.time"
      awk -v tck="$CLK_TCK" -v tf="$TMP/load.time" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /^finished in/ { rps = $4 }
        /^requests:/ { n = $8; err = $10 + $12 + $14 }
        /^status codes:/ { ok2 = $3 }
        /^time for request:/ { mean = ms($6) }
        /^Application protocol:/ { proto = $3 }
        END { getline tl < tf; split(tl, a, " "); if (n > ok2) err += n - ok2
          printf "%s %.3f 0 %d %d %d %s\n", rps + 0, mean, n, err, (a[1] + a[2]) * tck, (proto == "" ? "no-alpn" : proto) }' "$out" ;;
  esac
}

RAW=$TMP/raw.tsv
printf 'round\tpart\ttarget\trate\tp50_ms\tp99_ms\tcount\terrors\tcpu_us\tcore_pct\tother_pct\tjit_ms\tnote\tuser_us\ttool_pct\tdetail\n' > "$RAW"
measure() { # round part target [note] -> appends to RAW; returns 1 when disturbed
  local r=$1 part=$2 t=$3 note=${4:-}
  local spid=${PID[$t]} bpid=${PID[backend]}
  quiet_wait
  local c0 b0 m0 w0 c1 b1 m1 w1 u0 u1 res j0=0 j1=0 jvm=0
  [[ $t == wakeport || $t == vertx-floor* ]] && jvm=1
  (( jvm )) && j0=$(jit_ticks "$spid")
  c0=$(cpu_ticks_tree "$spid"); u0=$(user_ticks_tree "$spid"); b0=$(cpu_ticks_tree "$bpid"); m0=$(machine_busy_ticks); w0=$(date +%s%N)
  res=$(load_run "$part" "$t" "$SECONDS_PER_RUN")
  c1=$(cpu_ticks_tree "$spid"); u1=$(user_ticks_tree "$spid"); b1=$(cpu_ticks_tree "$bpid"); m1=$(machine_busy_ticks); w1=$(date +%s%N)
  (( jvm )) && j1=$(jit_ticks "$spid")
  local rate p50 p99 n err wt detail
  read -r rate p50 p99 n err wt detail <<< "$res"
  local line
  line=$(awk -v r="$r" -v part="$part" -v t="$t" -v rate="$rate" -v p50="$p50" -v p99="$p99" -v n="$n" -v err="$err" \
    -v cs=$((c1 - c0)) -v bs=$((b1 - b0)) -v ms=$((m1 - m0)) -v wt="$wt" -v ns=$((w1 - w0)) -v tck="$CLK_TCK" -v note="$note" \
    -v jit=$(( (j1 - j0) * 1000 / CLK_TCK )) -v jvm=$jvm -v us=$((u1 - u0)) -v detail="$detail" '
    BEGIN {
      wall = ns / 1e9 * tck; other = 100 * (ms - cs - bs - wt) / wall; if (other < 0) other = 0
      printf "%s\t%s\t%s\t%.0f\t%.3f\t%.3f\t%d\t%d\t%.1f\t%.0f\t%.0f\t%s\t%s\t%.1f\t%.0f\t%s\n", r, part, t, rate, p50, p99, n, err,
        (n > 0 ? cs / tck * 1e6 / n : 0), 100 * cs / wall, other, (jvm ? jit : "–"), note, (n > 0 ? us / tck * 1e6 / n : 0), 100 * wt / wall, detail }')
  echo "$line" >> "$RAW"
  awk -F'\t' '{ printf "    %-9s %-8s %8s /s  p50 %7.3f ms  p99 %7.3f ms  %7s us CPU each (user %s)  core %3s%%  tool %3s%%  other %3s%%  errors %s%s %s %s\n",
    $2, $3, $4, $5, $6, $9, $14, $10, $15, $11, $8, ($12 == "–" ? "" : "  jit " $12 " ms"), $16, $13 }' <<< "$line"
  local other; other=$(cut -f11 <<< "$line")
  (( other <= OTHER_MAX ))
}

log "warm-up: the JVMs ${WARMUP}s and more until their JIT is quiet (at most ${WARMUP_MAX}s), the others 2 s per part; not recorded"
for t in "${MEASURED[@]}"; do
  if [[ $t == wakeport || $t == vertx-floor* ]]; then
    warm_jvm "$t" "${PID[$t]}" "$PARTS"
  else
    for part in $PARTS; do load_run "$part" "$t" 2 > /dev/null; done
    WARMED[$t]=$(( 2 * $(wc -w <<< "$PARTS") ))
  fi
  log "warm-up: $t ${WARMED[$t]}s"
done
interleaved_rounds "$PARTS" "parts: $PARTS; ${SECONDS_PER_RUN}s each" "${MEASURED[@]}"

# ---- stop everything --------------------------------------------------------------------------
log "stopping every server we started"
ALL_PIDS=""
for name in "${STARTED_ORDER[@]}"; do ALL_PIDS+=" $(tree_pids "${PID[$name]}" | tr '\n' ' ')"; done
WP_WARN=$(grep -cE ' (WARN|ERROR) ' "$WAKEPORT_LOG" 2>/dev/null || true)
for name in "${STARTED_ORDER[@]}"; do stop_server "$name"; done
sleep 0.5
LEFT=""
for p in $ALL_PIDS; do kill -0 "$p" 2>/dev/null && LEFT+=" $p"; done
for p in $P1 $P2 $PW $PWS $PN $PH $PF $PFO; do port_open "$p" && LEFT+=" port:$p"; done
if [[ -n $LEFT ]]; then STOP_NOTE="LEFT RUNNING:$LEFT"; else STOP_NOTE="all stopped: no process of ours and none of the ports $P1 $P2 $PW $PWS $PN $PH $PF $PFO left open"; fi
log "$STOP_NOTE"

# ---- 6. report --------------------------------------------------------------------------------
SUMMARY=$TMP/summary.tsv     # part target rate_med rate_min rate_max p50 p99 cpu core errors cpu_min cpu_max other user tool
raw_summary "$RAW" > "$SUMMARY"
get() { awk -F'\t' -v m="$1" -v t="$2" -v c="$3" '$1 == m && $2 == t { print $c }' "$SUMMARY"; }
detail_of() { grep -v '^#' "$RAW" | awk -F'\t' -v p="$1" -v t="$2" '$2 == p && $3 == t { d = $16 } END { print d }'; }
RESUMED=$(grep -v '^#' "$RAW" | awk -F'\t' '$2 == "handshake" { split($16, a, "resumed="); s += a[2] } END { print s + 0 }')

mkdir -p "$OUT_DIR"
MACHINE="$(nproc) vCPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM, Linux $(uname -r)"
VERSIONS="wrk $(wrk --version 2>&1 | head -1 | awk '{ print $2 }'), h2load $(h2load --version | awk '{ print $2 }'), $(nginx -v 2>&1 | sed 's/.*: //'), HAProxy $(haproxy -v | head -1 | awk '{ print $3 }'), $(openssl version | awk '{ print $1, $2 }'), $(java -version 2>&1 | head -1 | sed 's/"//g')"
COMMIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")$(git -C "$ROOT" diff --quiet HEAD -- src 2>/dev/null || echo "+uncommitted src changes")
END_EPOCH=$(date +%s)
LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
pin_text="pinned: the server under test on CPU 1, the load tool and the backend nginx on CPU 0"
[[ $PIN == 1 ]] || pin_text="not pinned"
[[ $NICE != 0 ]] && pin_text+="; servers and load tools run at nice $NICE"
declare -A PART_TITLE=([handshake]="Full TLS handshakes: a new connection per request" [keepalive]="Warm HTTPS keep-alive, HTTP/1.1" [h2]="HTTP/2 multiplexed over TLS")
declare -A PART_LOAD=(
  [handshake]="\`tls-handshakes --concurrency $HS_CONC\` (bench/tls-handshakes.c): $HS_CONC connections at a time, each a full TLS 1.3 handshake (fresh client state, no session offered: no resumption, no 0-RTT; resumed handshakes counted: $RESUMED), one \`GET /\` with \`Connection: close\`, read to the server's close. Rate = handshakes/s; CPU per handshake includes that one proxied request. Latency: connect to close"
  [keepalive]="\`wrk -t1 -c$CONNS --latency https://127.0.0.1:PORT/\`: $CONNS TLS 1.3 connections made once, then keep-alive requests"
  [h2]="\`h2load -t1 -c$H2_CONNS -m$H2_STREAMS -D$SECONDS_PER_RUN\` (ALPN h2): $H2_CONNS connections × $H2_STREAMS concurrent streams; h2load reports no percentiles: the latency column is its mean")
declare -A PART_UNIT=([handshake]="handshakes/s" [keepalive]="requests/s" [h2]="requests/s")

REPORT=$OUT_DIR/bench-compare-tls.md
{
  echo "# wakeport against nginx and HAProxy, terminating TLS (MODE=tls bench/compare.sh)"
  echo
  echo "- command: \`${ENV_KNOBS}${COMMAND_LINE}\` in $ROOT (wakeport $COMMIT)"
  echo "- date: $(date -u -d "@$START_EPOCH" '+%Y-%m-%d %H:%M') – $(date -u -d "@$END_EPOCH" '+%H:%M') UTC, $(( (END_EPOCH - START_EPOCH) / 60 )) min $(( (END_EPOCH - START_EPOCH) % 60 )) s; load average at the end: $LOADAVG"
  echo "- machine: $MACHINE"
  echo "- software: $VERSIONS; wakeport's JVM: ${WP_JVM:-?}; wakeport and vertx-floor use the JDK's own TLS (SunJSSE), vertx-floor-openssl $( [[ -n ${TCNATIVE_CP:-} ]] && basename "${TCNATIVE_CP%%:*}" .jar || echo "-") (BoringSSL), each one event loop"
  echo "- certificate: $CERT_TEXT, CN and SAN $HOST_HEADER, made by openssl at the start of the run; the same certificate and key in every proxy (checked by fingerprint). negotiated (handshake part): $(for t in "${MEASURED[@]}"; do printf '%s %s; ' "$t" "$(detail_of handshake "$t" | cut -d, -f1-3 | tr ',' ' ')"; done)"
  echo "- $pin_text; one worker each: nginx \`worker_processes $NGINX_WORKERS\`, HAProxy \`${HAPROXY_THREADS:-default threads}\`, wakeport default \`event-loops\`, the vertx-floors 1 event loop; every proxy at its default TLS settings (session tickets and caches as they come: the client never resumes)"
  echo "- backends: one nginx, two \`server\` blocks returning \`first\\n\` / \`second\\n\`, plain HTTP/1.1 kept alive from every proxy; every request carries \`Cookie: _s=bench.first\`"
  echo "- CPU each = utime+stime of all the server's processes over the run ÷ handshakes or requests; core = that CPU ÷ wall time; tool = the load tool's CPU (% of its core: near 100 % the client set the pace); other = CPU used by anything else on the machine (steal included); a run above ${OTHER_MAX} % other is re-run once and the less disturbed kept ($RERUNS re-runs). Medians of $ROUNDS interleaved rounds of ${SECONDS_PER_RUN} s; warm-up: $(for t in "${MEASURED[@]}"; do printf '%s %s s; ' "$t" "${WARMED[$t]:-?}"; done)"
  echo
  echo "## Checks (before measuring)"
  echo
  echo "| proxy | certificate | \`_s=abc.first\` | \`_s=abc.second\` | ALPN http/1.1 | ALPN h2 | result |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${CHECK_ROWS[@]}"
  for part in $PARTS; do
    echo
    echo "## ${PART_TITLE[$part]}"
    echo
    echo "Load: ${PART_LOAD[$part]}."
    echo
    lat="p50 ms | p99 ms"; [[ $part == h2 ]] && lat="mean ms | p99 ms"
    echo "| target | ${PART_UNIT[$part]} (min–max) | $lat | CPU µs each (min–max) | of it user | core % | tool % | other % | CPU vs nginx | errors |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    for t in "${MEASURED[@]}"; do
      awk -F'\t' -v m="$part" -v t="$t" -v nc="$(get "$part" nginx 8)" '
        $1 == m && $2 == t { printf "| %s | %d (%d–%d) | %.3f | %s | %.1f (%.1f–%.1f) | %.1f | %d | %d | %d | %s | %d |\n", t, $3, $4, $5, $6, (m == "h2" ? "–" : sprintf("%.3f", $7)), $8, $11, $12, $14, $9, $15, $13,
          (nc > 0 ? sprintf("%.2f×", $8 / nc) : "–"), $10 }' "$SUMMARY"
    done
  done
  echo
  echo "wakeport log: $( [[ -f $WAKEPORT_LOG ]] && wc -l < "$WAKEPORT_LOG" || echo 0) lines, ${WP_WARN:-0} WARN/ERROR. Shutdown: $STOP_NOTE."
  echo
  echo "## Every run"
  echo
  echo "| round | part | target | rate /s | p50 (h2: mean) ms | p99 ms | count | errors | CPU µs each | user µs | core % | tool % | other % | JIT ms | TLS | note |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  tail -n +2 "$RAW" | sed 's/^#/~/' | awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $14, $10, $15, $11, $12, $16, $13 }'
  echo
  echo "~ = not used: of a disturbed run and its re-run, the one with more other load. JIT ms = CPU of the JVM's C1/C2 compiler threads during the run."
} > "$REPORT"

echo
cat "$REPORT"
echo
log "wrote $REPORT in $(( END_EPOCH - START_EPOCH ))s"
(( RESUMED == 0 )) || { echo "compare-tls: $RESUMED handshakes were resumed: the handshake figures are not of full handshakes" >&2; exit 1; }
[[ -z $LEFT ]]
