#!/bin/sh
# Cold-start overhead benchmark: what wakeport adds to a tenant's start, compared with starting the
# same demo backend directly and polling it as tightly as possible. See bench/ColdStartBench.java.
# usage: bench/cold-start.sh [--runs N] [--boot-delay MS] [--keep] ...   (all arguments go to the program)
set -eu

# Repository root = parent of the directory holding this script.
ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cd "$ROOT"

if [ ! -f target/wakeport.jar ] || [ ! -f target/test-classes/DemoBackend.class ]; then
    echo "building wakeport and the demo backend..." >&2
    mvn -q -B package -DskipTests
    mvn -q -B test-compile
fi

exec java bench/ColdStartBench.java "$@"
