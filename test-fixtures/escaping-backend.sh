#!/bin/sh
# Test fixture: starts a backend so that it escapes its launcher's process tree or group,
# as classic daemons and many "*.sh start" scripts do.
#
# usage: escaping-backend.sh MODE command [args...]
#   double-fork  the backend is orphaned by a subshell (reparented to init); the launcher stays
#   setsid       the backend runs in a session of its own; the launcher stays
#   daemonize    the backend is double-forked into a session of its own and the launcher exits 0
#                (systemd's Type=forking)

mode=$1
shift
case "$mode" in
  double-fork)
    ( "$@" & )
    exec sleep 3600
    ;;
  setsid)
    setsid -f "$@"
    exec sleep 3600
    ;;
  daemonize)
    setsid -f sh -c '( "$@" & )' daemon "$@"
    exit 0
    ;;
  *)
    echo "usage: $0 double-fork|setsid|daemonize command [args...]" >&2
    exit 2
    ;;
esac
