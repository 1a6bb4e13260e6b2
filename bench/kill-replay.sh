#!/usr/bin/env bash
# Kill -9 a ready backend, then send the next request at once, ROUNDS times (default 50): how many
# of those requests got 200 from a new process, and how many spawns it took (target: every one,
# and one spawn per round). See bench/KillReplay.java for what one round does.
#
#   bench/kill-replay.sh                 # 50 rounds
#   ROUNDS=200 bench/kill-replay.sh
#
# wakeport runs from target/wakeport.jar with one tenant (the demo backend from test-fixtures,
# crash-loop backoff raised so that the kills do not trip it). Binds 127.0.0.1 only: the front
# port (first free one from 18080) and the backend port (first free one from 21500). Bounded: a
# few seconds of start-up, then about a second per round. KEEP_TMP=1 keeps the config and logs.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$ROOT/bench/lib.sh"
cd "$ROOT"

ROUNDS=${ROUNDS:-50}
STOP_TIMEOUT=30

die() { echo "kill-replay: $*" >&2; exit 1; }
command -v java >/dev/null || die "java is required"

if [[ ! -f target/wakeport.jar ]]; then
  echo "building target/wakeport.jar ..."
  mvn -q -B package -DskipTests || die "build failed"
fi
if [[ ! -f target/test-classes/DemoBackend.class ]]; then
  echo "compiling the demo backend (mvn -q -B test-compile) ..."
  mvn -q -B test-compile || die "test-compile failed"
fi

free_port() { # FIRST LAST
  local p
  for p in $(seq "$1" "$2"); do
    if ! port_open "$p"; then echo "$p"; return; fi
  done
  die "no free port in $1-$2"
}
LISTEN_PORT=$(free_port 18080 18180)
BACKEND_PORT=$(free_port 21500 21600)

TMP=$(mktemp -d /tmp/wakeport-kill-replay.XXXXXX)
CONFIG=$TMP/wakeport.yaml
cat > "$CONFIG" <<EOF
listen: 127.0.0.1:$LISTEN_PORT
state-dir: $TMP/var
tenants:
  acme:
    hosts: [acme.bench]
    port: $BACKEND_PORT
    idle-timeout: never
    backoff: {after: 1000, within: 1s}   # every round is a crash: no crash-loop backoff here
    command: [java, -Xmx32m, -XX:+UseSerialGC, -cp, $ROOT/target/test-classes, DemoBackend, --port, "\${port}", --tenant, acme]
EOF
java -jar target/wakeport.jar check --config "$CONFIG" >/dev/null || die "config rejected: $CONFIG"

WP_PID=""
cleanup() {
  stop_wakeport "$WP_PID" "$STOP_TIMEOUT"   # on-exit: stop (the default) stops the backend too
  if [[ ${KEEP_TMP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

java -jar target/wakeport.jar run --config "$CONFIG" 2> "$TMP/wakeport.log" &
WP_PID=$!
for _ in $(seq 1 300); do
  port_open "$LISTEN_PORT" && break
  kill -0 "$WP_PID" 2>/dev/null || die "wakeport exited: $(tail -5 "$TMP/wakeport.log")"
  sleep 0.1
done
port_open "$LISTEN_PORT" || die "wakeport not listening on $LISTEN_PORT after 30 s"

echo "kill-replay: $ROUNDS rounds of kill -9 then GET at once; wakeport $(git rev-parse --short HEAD 2>/dev/null || echo '?')," \
  "front 127.0.0.1:$LISTEN_PORT, backend port $BACKEND_PORT, $(nproc) cores"
java bench/KillReplay.java --port "$LISTEN_PORT" --host-header acme.bench --rounds "$ROUNDS" \
  --log "$TMP/var/logs/acme.log"
STATUS=$?
echo "wakeport log: $(grep -c 'spawned pid' "$TMP/wakeport.log") spawns in all (one before the rounds)," \
  "$(grep -c ' 502 \|forwarding to .* failed' "$TMP/wakeport.log") forwarding failures," \
  "$(grep -c 'holding the request' "$TMP/wakeport.log") requests held for a restart"
exit $STATUS
