#!/usr/bin/env bash
# Load benchmark of `tessera serve` (not a test): 64 concurrent clients sending 1-16 short texts
# per request for DURATION seconds (wrk), compared with the library's own batched throughput on
# the same texts; then a 10x overload (640 connections, --max-concurrent-requests 64) that must
# give 429s and no crash, then recovery. Prints one JSON object per phase.
# usage: bench/server/run.sh BUILD_DIR [DURATION_S] [MODEL_DIR]
set -euo pipefail
build=$(realpath "${1:?usage: run.sh BUILD_DIR [DURATION_S] [MODEL_DIR]}")
duration=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/tessera-server-bench.XXXXXX)
model=${3:-$work/model}
trap 'kill $server_pid $rss_pid 2>/dev/null || true; rm -rf "$work"' EXIT

echo "{\"machine\": \"$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\", \"commit\": \"$(git -C "$here" rev-parse --short HEAD)\"}"
[ -d "$model" ] || "$build/tessera-make-model" --arch bert --shape minilm-l6 --seed 1 "$model" > /dev/null
node "$here/make_requests.mjs" "$work" 2000
echo "{\"phase\": \"library\", \"result\": $("$build/bench/server/tessera_server_baseline_bench" "$model" "$work/requests.json" 20)}"

start_server() {
    "$build/tessera" serve -q --model "bench=$model" --port 0 "$@" > "$work/serve.out" 2> "$work/serve.err" &
    server_pid=$!
    for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
    port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$work/serve.out")
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$server_pid/status"; }

start_server --max-concurrent-requests 256
rss_before=$(rss_kb)
(while sleep 5; do rss_kb; done > "$work/rss.txt") & rss_pid=$!
result=$(BODIES="$work/wrk_bodies.lua" wrk -t2 -c64 -d"${duration}s" --timeout 30s --latency -s "$here/load.lua" "http://127.0.0.1:$port" | tail -1)
kill $rss_pid
echo "{\"phase\": \"load 64 clients\", \"result\": $result, \"rss_kb_start\": $rss_before, \"rss_kb_samples\": [$(paste -sd, "$work/rss.txt")]}"
kill -TERM $server_pid; wait $server_pid || true

start_server --max-concurrent-requests 64
result=$(BODIES="$work/wrk_bodies.lua" wrk -t2 -c640 -d"$((duration / 3))s" --timeout 30s --latency -s "$here/load.lua" "http://127.0.0.1:$port" | tail -1)
alive=$(kill -0 $server_pid 2>/dev/null && echo true || echo false)
echo "{\"phase\": \"overload 640 connections, limit 64\", \"result\": $result, \"server_alive\": $alive, \"rss_kb\": $(rss_kb)}"
result=$(BODIES="$work/wrk_bodies.lua" wrk -t2 -c16 -d10s --timeout 30s --latency -s "$here/load.lua" "http://127.0.0.1:$port" | tail -1)
echo "{\"phase\": \"recovery 16 clients\", \"result\": $result}"
kill -TERM $server_pid; wait $server_pid || true
