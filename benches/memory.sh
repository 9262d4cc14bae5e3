#!/usr/bin/env bash
# Memory against the number of log files: the peak RSS of the directory run on signed buckets
# of each size (100 log files per hourly digest, ~2 KB raw each, so that what a run holds
# per log file shows, not the files' size), and how much it grows per log file from one size
# to the next. The goal is flat memory: at most 32 bytes more per log file.
#
#   bash benches/memory.sh [LOGS...]        (default: 20000 200000 2000000)
#
# RUNS=N: the median of N runs per size (default 3). PER_DIGEST=N: N log files per digest
# (default 100); what a run keeps per digest (its outcome in the report) shows as growth per
# log file divided by N, so two shapes tell the costs per log file and per digest apart.
# Buckets go to ${BENCH_DIR:-/tmp/cloudtrail-digest-bench}/LOGS-PERx2kb, shared with e2e.sh
# and made once:
# 2,000,000 log files take about 8 GB of disk and some minutes to generate. Needs
# /usr/bin/time. Not run by CI.
set -euo pipefail
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(20000 200000 2000000)
cd "$(dirname "$0")/.."
bin=${CARGO_TARGET_DIR:-target}/release
# The same package set as e2e.sh, so that features unify the same way and nothing rebuilds.
cargo build --locked --release -q -p cloudtrail-digest-cli -p cloudtrail-digest-testgen -p cloudtrail-digest-testserver
median() { printf '%s\n' "$@" | sort -n | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'; }
echo "${PER_DIGEST:-100} log files per digest"
echo "| log files | wall | peak RSS (median of ${RUNS:-3}) | peak RSS (runs) | growth per log file |"
echo "|---|---|---|---|---|"
previous=
for logs in "${sizes[@]}"; do
  root=${BENCH_DIR:-/tmp/cloudtrail-digest-bench}/$logs-${PER_DIGEST:-100}x2kb
  if [ ! -f "$root/public-keys.json" ]; then
    mkdir -p "$root"
    "$bin/cloudtrail-digest-testgen" bench testdata/keys "$root" "$logs" "${PER_DIGEST:-100}" 2 >/dev/null
  fi
  t=$(mktemp); walls=(); kbs=()
  for _ in $(seq 1 "${RUNS:-3}"); do
    /usr/bin/time -f '%e %M' -o "$t" "$bin/cloudtrail-digest" validate "$root/example-trail-bucket" \
      --public-keys "$root/public-keys.json" >/dev/null 2>&1 || { echo "the run on $logs log files failed" >&2; exit 1; }
    read -r w kb <"$t"; walls+=("$w"); kbs+=("$kb")
  done
  rm -f "$t"
  kb=$(median "${kbs[@]}")
  growth=-
  if [ -n "$previous" ]; then
    read -r plogs pkb <<<"$previous"
    growth=$(awk -v a="$pkb" -v b="$kb" -v n="$plogs" -v m="$logs" 'BEGIN { printf "%.0f bytes", (b - a) * 1024 / (m - n) }')
  fi
  runs=$(printf '%s\n' "${kbs[@]}" | awk '{ printf "%s%.1f", (NR > 1 ? ", " : ""), $1 / 1024 }')
  awk -v logs="$logs" -v w="$(median "${walls[@]}")" -v kb="$kb" -v runs="$runs" -v g="$growth" \
    'BEGIN { printf "| %d | %.2f s | %.1f MB | %s MB | %s |\n", logs, w, kb / 1024, runs, g }'
  previous="$logs $kb"
done
