#!/usr/bin/env bash
# Sharded runs, measured: an organization trail's bucket (ACCOUNTS x REGIONS chains of HOURS
# hourly digests, PER_HOUR logs of ~20 KB each) served by the loopback S3 server at
# LATENCY_MS per request, validated once whole, then as SHARDS shards run one after the other
# (as separate processes, each as an AWS Batch child would: --shard env) and merged.
#
#   bash benches/shards.sh ACCOUNTS REGIONS HOURS PER_HOUR [LATENCY_MS] [SHARDS]
#
# OMIT=1 passes --omit-valid-logs to every run (as at scale).
# Prints each run's wall time, logs/s, CPU and peak RSS, the merge's, and checks that the
# merged report equals the whole run's. Data goes to ${BENCH_DIR:-/tmp/cloudtrail-digest-bench}.
# The server binds 127.0.0.1 and is stopped on exit. Needs /usr/bin/time.
set -euo pipefail
accounts=${1:?usage: shards.sh ACCOUNTS REGIONS HOURS PER_HOUR [LATENCY_MS] [SHARDS]}
regions=${2:?}; hours=${3:?}; per_hour=${4:?}
latency=${5:-15}; shards=${6:-4}
cd "$(dirname "$0")/.."
root=${BENCH_DIR:-/tmp/cloudtrail-digest-bench}/org-${accounts}x${regions}x${hours}x${per_hour}
bin=${CARGO_TARGET_DIR:-target}/release
cargo build --locked --release -q -p cloudtrail-digest-cli -p cloudtrail-digest-testgen -p cloudtrail-digest-testserver
if [ ! -f "$root/public-keys.json" ]; then
  mkdir -p "$root"
  "$bin/cloudtrail-digest-testgen" bench-org testdata/keys "$root" "$accounts" "$regions" "$hours" "$per_hour"
fi
bucket=example-org-bucket
logs=$((accounts * regions * hours * per_hour))
env_file=$(mktemp); out=$(mktemp -d)
"$bin/cloudtrail-digest-testserver" --bucket "$bucket=$root/$bucket" --public-keys "$root/public-keys.json" \
  --latency-ms "$latency" >"$env_file" 2>/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true; rm -rf "$env_file" "$out"' EXIT
for _ in $(seq 1 300); do grep -q AWS_REGION "$env_file" && break; sleep 0.2; done
set -a; . "$env_file"; set +a
export AWS_EC2_METADATA_DISABLED=true AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_CONFIG_FILE=/nonexistent
as_of=2030-01-01T00:00:00Z
extra=(); [ "${OMIT:-0}" = 0 ] || extra=(--omit-valid-logs)

# logs_in REPORT: the log files a JSON report judged.
logs_in() {
  python3 -c 'import json, sys; t = json.load(open(sys.argv[1]))["totals"]["log_files"]; print(sum(t.values()))' "$1"
}
# run NAME REPORT COMMAND...: wall, logs/s, CPU us/log and peak RSS of one run (exit 0 or 1),
# the logs counted in the JSON report it wrote.
run() {
  local name=$1 report=$2; shift 2
  local t; t=$(mktemp)
  /usr/bin/time -f '%e %U %S %M' -o "$t" "$@" >/dev/null 2>&1 || [ $? -le 1 ] || { echo "$name failed" >&2; exit 1; }
  read -r w u s m <"$t"; rm -f "$t"
  local n; n=$(logs_in "$report")
  awk -v n="$name" -v w="$w" -v u="$u" -v s="$s" -v m="$m" -v logs="$n" 'BEGIN {
    printf "| %-22s | %8.2f s | %9.0f | %10.0f | %7.1f MB |\n", n, w, logs / w, (u + s) / (logs > 0 ? logs : 1) * 1e6, m / 1024 }'
}
echo "$accounts accounts x $regions regions x $hours hours x $per_hour logs = $logs logs, ${latency} ms per S3 request, $shards shards"
echo "| run | wall | logs/s | CPU us/log | peak RSS |"
echo "|---|---|---|---|---|"
run "whole run" "$out/whole.json" "$bin/cloudtrail-digest" validate "s3://$bucket" --as-of "$as_of" --no-progress "${extra[@]}" --output "$out/whole.json"
for i in $(seq 0 $((shards - 1))); do
  report=$(printf '%s/shards/shard-%05d-of-%05d.json' "$out" "$i" "$shards")
  AWS_BATCH_JOB_ARRAY_INDEX=$i AWS_BATCH_JOB_ARRAY_SIZE=$shards \
    run "shard $i of $shards" "$report" "$bin/cloudtrail-digest" validate "s3://$bucket" --as-of "$as_of" \
    --no-progress "${extra[@]}" --shard env --output "$out/shards/"
done
run "merge" "$out/merged.json" "$bin/cloudtrail-digest" merge "$out/shards/" --output "$out/merged.json"
python3 - "$out/whole.json" "$out/merged.json" <<'PY'
import json, sys
strip = lambda r: {k: v for k, v in r.items() if k not in ("trail_records",)}
a, b = (strip(json.load(open(p))) for p in sys.argv[1:3])
sys.exit("the merged report differs from the whole run's" if a != b else 0)
PY
echo "merged report = whole run's report; reports: $(du -cb "$out"/shards/*.json | tail -1 | cut -f1) bytes"
