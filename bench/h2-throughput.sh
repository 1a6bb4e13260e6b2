#!/usr/bin/env bash
# HTTP/2 multiplexed throughput over TLS: wakeport, nginx (http2) and HAProxy (alpn h2,http/1.1) with
# `h2load -t1 -cH2_CONNS -mH2_STREAMS`, requests/s and CPU per request. The h2 part of the TLS mode
# of bench/compare.sh, alone; every knob of bench/compare-tls.sh applies.
#
#   bench/h2-throughput.sh                        # about 3 minutes
#   H2_CONNS=1 H2_STREAMS=100 bench/h2-throughput.sh
export PARTS=${PARTS:-h2}
exec bash "$(dirname "${BASH_SOURCE[0]}")/compare-tls.sh" "$@"
