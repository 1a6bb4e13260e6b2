#!/usr/bin/env bash
# Before/after for the warm path: CPU per proxied request of several wakeport builds, measured
# side by side in interleaved runs (the machine is shared: only figures from the same session
# compare), each build warmed until its JIT is quiet.
#
#   bench/warm-path-ab.sh NAME=COMMIT[+JVM_OPTS][^KEY:VALUE...] ... [floor] [nginx]
#   bench/warm-path-ab.sh before=7d7b112 epoll=a4d5fd5 relay=c9b8a7b after=HEAD floor nginx
#   bench/warm-path-ab.sh on=HEAD off=HEAD^metrics:false
#
# NAME=COMMIT builds target/wakeport.jar of that commit in a temporary git worktree (HEAD with
# uncommitted changes: the working tree's own jar), once for targets naming the same commit;
# +JVM_OPTS are extra JVM options, `~` between them
# (before=HEAD+-Dvertx.disableHttpHeadersValidation=true~-XX:+UseParallelGC); each ^KEY:VALUE adds
# a root key to the target's config (off=HEAD^metrics:false). `floor` adds
# bench/VertxFloor.java (bare Vert.x pass-through) and `nginx` an nginx proxy configured as in
# bench/compare.sh. Every target serves the same tenant as in bench/compare.sh: two routes on two
# nginx backends, sticky on `_s`, and is loaded with `wrk -t1 -c32 -H 'Cookie: _s=bench.first'`.
#
# Pinned like bench/compare.sh: targets on CPU 1, wrk and the backends on CPU 0. A run during
# which the hypervisor stole more than MAX_STEAL % of the CPUs is repeated (at most 6 times):
# steal inflates every process's CPU time per request.
# Knobs: RUNS=5 SECONDS_PER_RUN=5 WARMUP=30 WARMUP_MAX=120 MAX_STEAL=6 CONNS=32
# STRACE=1 then also counts the system calls per request of each target (strace -f -c).
# Prints each run and, per target, the medians: requests/s, p99, user/sys/total CPU µs per request.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
RUNS=${RUNS:-5}; SECS=${SECONDS_PER_RUN:-5}; WARMUP=${WARMUP:-30}; WARMUP_MAX=${WARMUP_MAX:-120}
MAX_STEAL=${MAX_STEAL:-6}; CONNS=${CONNS:-32}
(( $# > 0 )) || { sed -n '2,20p' "$0"; exit 2; }
for tool in java git mvn nginx wrk taskset; do command -v "$tool" >/dev/null || { echo "$tool is required" >&2; exit 1; }; done

T=$(mktemp -d /tmp/wakeport-ab.XXXXXX); chmod 755 "$T"
PIDS=()
cleanup() {
  local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null
  rm -rf "$T"; git -C "$ROOT" worktree prune 2>/dev/null
}
trap cleanup EXIT
wait_port() { for _ in $(seq 150); do port_open "$1" && return 0; sleep 0.2; done; echo "port $1 did not open" >&2; exit 1; }
ticks() { local s; s=$(< "/proc/$1/stat"); s=${s##*) }; local f=($s); echo "${f[11]} ${f[12]}"; }
steal() { awk '/^cpu / { print $9 }' /proc/stat; }
CLK_TCK=$(getconf CLK_TCK)

P1=18701 P2=18702 PORT=18710
for p in $P1 $P2; do port_open $p && { echo "port $p is in use" >&2; exit 1; }; done
mkdir -p "$T/backend"
nginx_backend_conf "$T/backend" $P1 $P2 > "$T/backend/nginx.conf"
taskset -c 0 nginx -p "$T/backend/" -c "$T/backend/nginx.conf" -e "$T/backend/error.log" & PIDS+=($!)
wait_port $P1

declare -A TPORT TPID JAR_OF
NAMES=()
for spec in "$@"; do
  name=${spec%%=*}; port=$PORT; PORT=$(( PORT + 1 ))
  NAMES+=("$name"); TPORT[$name]=$port
  case $spec in
    floor)
      [[ -f $ROOT/target/wakeport.jar ]] || (cd "$ROOT" && mvn -q -B package -DskipTests)
      taskset -c 1 java -cp "$ROOT/target/wakeport.jar" "$ROOT/bench/VertxFloor.java" $port $P1 $P2 > "$T/floor.log" 2>&1 &
      TPID[$name]=$!; PIDS+=($!) ;;
    nginx)
      mkdir -p "$T/nginx"
      nginx_sticky_proxy_conf "$T/nginx" $port $P1 $P2 > "$T/nginx/nginx.conf"
      taskset -c 1 nginx -p "$T/nginx/" -c "$T/nginx/nginx.conf" -e "$T/nginx/error.log" & PIDS+=($!)
      wait_port $port; TPID[$name]=$(pgrep -P "${PIDS[-1]}" | head -1) ;;
    *=*)
      rest=${spec#*=}; extra=""
      if [[ $rest == *^* ]]; then extra=${rest#*^}; rest=${rest%%^*}; extra=${extra//^/$'\n'}; extra=${extra//:/: }; fi
      commit=${rest%%+*}; opts=""; [[ $rest == *+* ]] && opts=${rest#*+}; opts=${opts//\~/ }
      jar=$T/$name.jar
      if [[ -n ${JAR_OF[$commit]:-} ]]; then
        cp "${JAR_OF[$commit]}" "$jar"
      elif [[ $commit == HEAD ]] && ! git -C "$ROOT" diff --quiet HEAD -- src pom.xml; then
        (cd "$ROOT" && mvn -q -B package -DskipTests) && cp "$ROOT/target/wakeport.jar" "$jar"
      else
        echo "building $name ($commit)"
        git -C "$ROOT" worktree add -q --detach "$T/src-$name" "$commit" \
          && (cd "$T/src-$name" && mvn -q -B package -DskipTests -Dmaven.test.skip=true) \
          && cp "$T/src-$name/target/wakeport.jar" "$jar" || { echo "cannot build $commit" >&2; exit 1; }
      fi
      JAR_OF[$commit]=$jar
      { [[ -n $extra ]] && echo "$extra"; wakeport_seaside_yaml $port "$T/var-$name" $P1 $P2; } > "$T/$name.yaml"
      # A build with the admin listener wants 127.0.0.1:8081 by default: with two targets both would.
      # Turned off where the build knows the key (a build before it rejects it, and needs no such thing).
      if [[ $extra != *admin:* ]]; then
        { echo "admin: off"; cat "$T/$name.yaml"; } > "$T/$name.try.yaml"
        if java -jar "$jar" check --config "$T/$name.try.yaml" >/dev/null 2>&1; then mv "$T/$name.try.yaml" "$T/$name.yaml"; fi
      fi
      # shellcheck disable=SC2086
      taskset -c 1 java $opts -jar "$jar" run --config "$T/$name.yaml" > "$T/$name.log" 2>&1 &
      TPID[$name]=$!; PIDS+=($!) ;;
    *) echo "unknown target $spec" >&2; exit 2 ;;
  esac
done

load() { # name seconds [--latency]
  taskset -c 0 wrk -t1 -c"$CONNS" -d"$2"s ${3:-} -H 'Host: seaside.bench' -H 'Cookie: _s=bench.first' "http://127.0.0.1:${TPORT[$1]}/"
}
for n in "${NAMES[@]}"; do
  wait_port "${TPORT[$n]}"
  body=$(curl -s -m 5 -H 'Host: seaside.bench' -H 'Cookie: _s=x.second' "http://127.0.0.1:${TPORT[$n]}/")
  [[ $body == second ]] || { echo "$n is not sticky (answered '$body')" >&2; exit 1; }
  load "$n" "$WARMUP" > /dev/null
  spent=$WARMUP
  if [[ $n != nginx ]]; then
    while (( spent < WARMUP_MAX )); do
      j0=$(jit_ticks "${TPID[$n]}"); load "$n" 5 > /dev/null; j1=$(jit_ticks "${TPID[$n]}"); spent=$(( spent + 5 ))
      (( (j1 - j0) * 100 / CLK_TCK < 10 )) && break
    done
  fi
  echo "warmed $n: ${spent}s"
done

RESULTS=$T/results
for r in $(seq "$RUNS"); do
  for n in "${NAMES[@]}"; do
    for attempt in 1 2 3 4 5 6; do
      for _ in $(seq 30); do a=$(steal); sleep 1; b=$(steal); (( (b - a) * 100 / (2 * CLK_TCK) <= MAX_STEAL )) && break; done
      s0=$(steal); read -r u0 k0 < <(ticks "${TPID[$n]}")
      out=$(load "$n" "$SECS" --latency)
      read -r u1 k1 < <(ticks "${TPID[$n]}"); s1=$(steal)
      st=$(( (s1 - s0) * 100 / (SECS * 2 * CLK_TCK) ))
      (( st <= MAX_STEAL )) && break
      echo "  ($n: the hypervisor stole ${st}% during the run: again)"
    done
    awk -v name="$n" -v u=$((u1 - u0)) -v k=$((k1 - k0)) -v tck="$CLK_TCK" -v st="$st" '
      /requests in/ { n = $1 } /^Requests\/sec/ { rps = $2 } $1 == "99%" { p99 = $2 }
      END { printf "%-10s %8.0f req/s  p99 %9s  user %5.1f  sys %5.1f  total %5.1f us/req  steal %d%%\n",
            name, rps, p99, u / tck * 1e6 / n, k / tck * 1e6 / n, (u + k) / tck * 1e6 / n, st }' <<< "$out" | tee -a "$RESULTS"
  done
done
echo
echo "medians of $RUNS runs (wrk -t1 -c$CONNS -d${SECS}s, cookie), $(date -u '+%Y-%m-%d %H:%M UTC'):"
for n in "${NAMES[@]}"; do
  col() { grep "^$n " "$RESULTS" | awk -v c="$1" '{ print $c }' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
  printf '%-10s %8s req/s  user %5s  sys %5s  total %5s us/req  (total min %s)\n' "$n" "$(col 2)" "$(col 7)" "$(col 9)" "$(col 11)" \
    "$(grep "^$n " "$RESULTS" | awk '{ print $11 }' | sort -g | head -1)"
done

if [[ ${STRACE:-0} == 1 ]]; then
  command -v strace >/dev/null || { echo "STRACE=1 needs strace" >&2; exit 1; }
  echo
  echo "system calls per request, those at 0.05 or more (strace -f -c over a ${SECS} s run):"
  for n in "${NAMES[@]}"; do
    strace -f -c -o "$T/strace.$n" -p "${TPID[$n]}" 2>/dev/null & tracer=$!
    sleep 1
    nreq=$(load "$n" "$SECS" | awk '/requests in/ { print $1 }')
    kill -INT "$tracer"; wait "$tracer" 2>/dev/null
    printf '%-10s %s\n' "$n" "$(awk -v n="$nreq" 'NR > 2 && $NF != "total" && $4 ~ /^[0-9]+$/ && $4 / n >= 0.05 { printf "%s %.2f  ", $NF, $4 / n }' "$T/strace.$n")"
  done
fi
