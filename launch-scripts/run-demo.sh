#!/bin/sh
# Example launch script: start the JDK-only demo backend from this repository.
# usage: run-demo.sh <tenant> <port>   (env BOOT_DELAY_MS, default 1000)
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 <tenant> <port>" >&2
    exit 64
fi

# Repository root = parent of the directory holding this script.
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)

# exec so the JVM replaces the shell and receives wakeport's signals directly.
# C1-only JIT and class-data sharing make the source launch start faster.
exec java -XX:TieredStopAtLevel=1 -Xshare:auto "$ROOT/test-fixtures/DemoBackend.java" \
    --tenant "$1" --port "$2" --boot-delay "${BOOT_DELAY_MS:-1000}"
