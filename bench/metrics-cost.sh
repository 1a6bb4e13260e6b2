#!/usr/bin/env bash
# What metrics cost on the warm path: CPU per proxied request of one build with metrics on (the
# default) and with `metrics: false`, in one run of bench/warm-path-ab.sh (same jar, alternating
# runs, each warmed until its JIT is quiet). The cost is the median of the per-round ratios
# on/off of total CPU µs per request, so a slow patch of the shared host hits both sides of a pair.
#
#   bench/metrics-cost.sh [COMMIT]          (default HEAD)
#
# Knobs as for bench/warm-path-ab.sh; RUNS defaults to 15 here. Nothing scrapes during the runs:
# a scrape is work per scrape interval, not per request.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
COMMIT=${1:-HEAD}
export RUNS=${RUNS:-15}
OUT=$(mktemp /tmp/wakeport-metrics-cost.XXXXXX)
trap 'rm -f "$OUT"' EXIT
"$ROOT/bench/warm-path-ab.sh" "on=$COMMIT" "off=$COMMIT^metrics:false" | tee "$OUT"
[[ ${PIPESTATUS[0]} == 0 ]] || exit 1
echo
awk '
  $1 == "on" && $NF ~ /%$/ { on[++n_on] = $11 }
  $1 == "off" && $NF ~ /%$/ { off[++n_off] = $11 }
  function median(a, n,   i, j, t) {
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  END {
    n = n_on < n_off ? n_on : n_off
    for (i = 1; i <= n; i++) { r[i] = on[i] / off[i]; d[i] = on[i] - off[i] }
    mr = median(r, n); md = median(d, n)
    for (i = 1; i <= n; i++) { printf "%s%.3f", (i > 1 ? " " : "pairwise on/off: "), on[i] / off[i] } print ""
    printf "metrics cost: median of %d pairwise ratios %.3f (%+.1f %%), median difference %+.2f us/req; on %.1f, off %.1f us/req (medians)\n",
      n, mr, (mr - 1) * 100, md, median(on, n_on), median(off, n_off)
    exit (mr > 1.10)
  }' "$OUT"
