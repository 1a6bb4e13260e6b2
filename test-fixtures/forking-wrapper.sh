#!/bin/sh
# Test fixture: a launcher wrapper that does NOT exec, so the real backend is a
# grandchild of whoever started this script. A stray "sleep" grandchild is also
# left behind. Killing only this shell would orphan both; tests use it to prove
# that stopping a backend kills the whole process tree (process group).
# Deliberately no "trap ... TERM": the wrapper must not clean up after itself.
#
# usage: forking-wrapper.sh command [args...]

if [ "$#" -eq 0 ]; then
    echo "usage: $0 command [args...]" >&2
    exit 2
fi

"$@" &
child=$!

sleep 3600 &
sleeper=$!

echo "wrapper: child $child sleeper $sleeper" >&2

# Wait for the real backend only, and pass on its exit status.
wait "$child"
