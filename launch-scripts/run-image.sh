#!/bin/sh
# Example launch script: start one Smalltalk (Pharo/Squeak) Seaside image per
# tenant. wakeport runs it as: run-image.sh <tenant> <port>
#
# Environment:
#   IMAGE_DIR  directory holding <tenant>.image and start.st (default /srv/images)
#   VM         the VM executable (default: pharo)
#
# Assumption: $IMAGE_DIR/start.st is a start-up script that reads the port from
# its first argument and starts Seaside on it, e.g. for Pharo:
#   | port | port := Smalltalk arguments first asNumber.
#   (ZnZincServerAdaptor port: port) start.
# (Pharo's "st" command-line handler runs the script and passes the remaining
# arguments; adapt the command line for Squeak or other VMs.)
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: $0 <tenant> <port>" >&2
    exit 64
fi
TENANT=$1
PORT=$2

# The tenant name becomes part of a file path: allow only ^[a-z0-9][a-z0-9-]*$
# (a case pattern, unlike grep, cannot be fooled by a name containing a newline).
case $TENANT in
    ''|-*|*[!abcdefghijklmnopqrstuvwxyz0123456789-]*)
        echo "run-image.sh: invalid tenant name '$TENANT' (expected ^[a-z0-9][a-z0-9-]*\$)" >&2
        exit 64 ;;
esac
case $PORT in
    ''|*[!0-9]*) echo "run-image.sh: invalid port '$PORT'" >&2; exit 64 ;;
esac

IMAGE_DIR=${IMAGE_DIR:-/srv/images}
VM=${VM:-pharo}
IMAGE=$IMAGE_DIR/$TENANT.image

if [ ! -f "$IMAGE" ]; then
    echo "run-image.sh: image not found: $IMAGE" >&2
    exit 66   # EX_NOINPUT
fi

# exec: the VM replaces this shell, so wakeport's signals (TERM on stop) reach
# the VM directly instead of a shell that would leave it running.
exec "$VM" --headless "$IMAGE" st "$IMAGE_DIR/start.st" "$PORT"
