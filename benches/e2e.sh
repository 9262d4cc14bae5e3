#!/usr/bin/env bash
# End-to-end benchmark: the same signed bucket validated by cloudtrail-digest from a directory
# and from a loopback S3 server, and by `aws cloudtrail validate-logs` (when installed) from
# the same server, in one run.
#
#   bash benches/e2e.sh LOGS [LATENCY_MS] [LOGS_PER_DIGEST] [LOG_KB]
#
# Defaults: 15 ms per request (S3 first-byte latency), 100 logs per hourly digest, ~20 KB
# raw per log. REAL_LOGS=DIR makes the log objects of the files in DIR as they are, in turn
# (e.g. the real AWS log files of the project's shared samples), instead of generated ones. AWSCLI=0 skips awscli (at 200,000 logs it would take about an hour).
# DIR_RUNS=N: the directory row is the median of N runs (default 5). CEILING=1 also times the
# all-core ceiling program on the same files, alternated with the directory run, and prints
# the directory run's share of it. CONCURRENCY="64 512" adds S3 runs with those --concurrency
# values (the default is an adaptive window of at most 256). Data goes to
# ${BENCH_DIR:-/tmp/cloudtrail-digest-bench}/LOGS (LOGS-PERxKBkb for other shapes). Servers bind
# 127.0.0.1 and are stopped on exit. Needs /usr/bin/time.
set -euo pipefail
logs=${1:?usage: e2e.sh LOGS [LATENCY_MS] [LOGS_PER_DIGEST] [LOG_KB]}
latency=${2:-15}
per_digest=${3:-100}
log_kb=${4:-20}
cd "$(dirname "$0")/.."
# One folder per shape, so that a bucket made with other parameters is never reused.
root=${BENCH_DIR:-/tmp/cloudtrail-digest-bench}/$logs
if [ "$per_digest" != 100 ] || [ "$log_kb" != 20 ]; then root=$root-${per_digest}x${log_kb}kb; fi
if [ -n "${REAL_LOGS:-}" ]; then root=$root-real; fi
bin=${CARGO_TARGET_DIR:-target}/release
cargo build --locked --release -q -p cloudtrail-digest-cli -p cloudtrail-digest-testgen -p cloudtrail-digest-testserver
if [ ! -f "$root/public-keys.json" ]; then
  mkdir -p "$root"
  if [ -n "${REAL_LOGS:-}" ]; then
    "$bin/cloudtrail-digest-testgen" bench-real testdata/keys "$root" "$logs" "$per_digest" "$REAL_LOGS"
  else
    "$bin/cloudtrail-digest-testgen" bench testdata/keys "$root" "$logs" "$per_digest" "$log_kb"
  fi
fi
bucket=example-trail-bucket
raw_mb=$(find "$root/$bucket" -path '*/CloudTrail/*' -name '*.json.gz' -print0 | xargs -0 cat | gzip -dc | wc -c | awk '{printf "%.1f", $1/1e6}')

env_file=$(mktemp)
"$bin/cloudtrail-digest-testserver" --bucket "$bucket=$root/$bucket" --public-keys "$root/public-keys.json" \
  --latency-ms "$latency" >"$env_file" 2>/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -f "$env_file" "${aws_config:-}"' EXIT
for _ in $(seq 1 300); do grep -q AWS_REGION "$env_file" && break; sleep 0.2; done
set -a; . "$env_file"; set +a
export AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=/nonexistent
aws_config=$(mktemp)
printf '[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n' >"$aws_config"
export AWS_CONFIG_FILE=$aws_config

# run NAME COMMAND...: wall, CPU and peak RSS of one run; the command must exit 0. With
# REPEAT=N set, the run with the median wall time of N.
declare -A wall
run() {
  local name=$1; shift
  local t; t=$(mktemp)
  for _ in $(seq 1 "${REPEAT:-1}"); do
    /usr/bin/time -f '%e %U %S %M' -a -o "$t" "$@" >/dev/null 2>&1 || { echo "$name failed" >&2; exit 1; }
  done
  read -r w u s m < <(sort -n "$t" | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'); rm -f "$t"
  wall[$name]=$w
  awk -v n="$name" -v w="$w" -v u="$u" -v s="$s" -v m="$m" -v logs="$logs" -v mb="$raw_mb" 'BEGIN {
    printf "| %-26s | %8.2f s | %9.0f | %8.1f | %12.0f | %7.1f MB |\n", n, w, logs / w, mb / w, (u + s) / logs * 1e6, m / 1024 }'
}
echo "$logs logs, $raw_mb MB raw, ${latency} ms per S3 request"
echo "| run | wall | logs/s | raw MB/s | CPU us/log | peak RSS |"
echo "|---|---|---|---|---|---|"
# The directory run is short and noisy: the median of DIR_RUNS runs (page cache warm).
REPEAT=${DIR_RUNS:-5} run "cloudtrail-digest dir" "$bin/cloudtrail-digest" validate "$root/$bucket" --public-keys "$root/public-keys.json"
run "cloudtrail-digest s3" "$bin/cloudtrail-digest" validate "s3://$bucket"
for c in ${CONCURRENCY:-}; do
  run "cloudtrail-digest s3 c=$c" "$bin/cloudtrail-digest" validate "s3://$bucket" --concurrency "$c"
done
if [ "${AWSCLI:-1}" != 0 ] && command -v aws >/dev/null; then
  run "aws cloudtrail validate-logs" aws cloudtrail validate-logs \
    --trail-arn "arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events" \
    --start-time 2024-02-29T00:00:00Z --end-time 2030-01-01T00:00:00Z --s3-bucket "$bucket"
  for c in default ${CONCURRENCY:-}; do
    name="cloudtrail-digest s3"; [ "$c" = default ] || name="cloudtrail-digest s3 c=$c"
    awk -v a="${wall[aws cloudtrail validate-logs]}" -v c="${wall[$name]}" -v n="$c" \
      'BEGIN { printf "cloudtrail-digest from S3 (--concurrency %s) is %.1fx faster than awscli on the same server\n", n, a / c }'
  done
fi

# CEILING=1: the all-core ceiling (benches/src/bin/ceiling.rs: walk, read, inflate whole with
# libdeflate, SHA-256, on every core, nothing else) as a whole process on these same files,
# alternated with the directory run CEILING_RUNS times (default 7); the medians, and the
# directory run's share of the ceiling.
if [ "${CEILING:-0}" != 0 ]; then
  cargo build --locked --release -q -p cloudtrail-digest-benches --bin ceiling
  t=$(mktemp); ceiling_times=(); tool_times=()
  for _ in $(seq 1 "${CEILING_RUNS:-7}"); do
    /usr/bin/time -f %e -o "$t" "$bin/ceiling" "$root/$bucket" >/dev/null
    ceiling_times+=("$(tail -1 "$t")")
    /usr/bin/time -f %e -o "$t" "$bin/cloudtrail-digest" validate "$root/$bucket" \
      --public-keys "$root/public-keys.json" >/dev/null 2>&1
    tool_times+=("$(tail -1 "$t")")
  done
  rm -f "$t"
  median() { printf '%s\n' "$@" | sort -n | awk '{ l[NR] = $0 } END { print l[int((NR + 1) / 2)] }'; }
  c=$(median "${ceiling_times[@]}"); d=$(median "${tool_times[@]}")
  echo "ceiling runs: ${ceiling_times[*]} s; directory runs: ${tool_times[*]} s"
  awk -v c="$c" -v d="$d" -v logs="$logs" 'BEGIN {
    printf "all-core ceiling on these files: %.2f s (%.0f logs/s); the directory run (%.2f s) is at %.0f%% of it\n", c, logs / c, d, 100 * c / d }'
fi
