#!/usr/bin/env bash
# Server throughput: 1, 4 and 8 concurrent streaming clients against
# mlxk-serve on a Qwen2.5-0.5B-shaped 4-bit model (random weights, written
# by testscripts/cmd/enginebench, the tool bench/engine.sh uses; a
# byte-level tokenizer over its 151,936-token vocabulary is added here).
# For each client count it reports aggregate decode throughput (generated
# tokens over wall time, all clients together), time to first token (p50,
# p99), per-request decode speed and the server's CPU time per generated
# token (prompt tokens included; Linux); then the 8-client/1-client ratio,
# which continuous batching should lift to 3x or more. Prompts are random
# token ids, different for every request, so the prefix cache never helps.
#
# Settings: BENCH_SERVE_CLIENTS (default "1 4 8"), BENCH_SERVE_REQUESTS per
# client (2), BENCH_SERVE_PROMPT tokens (32), BENCH_SERVE_GEN tokens (64),
# BENCH_SERVE_THREADS (2), BENCH_SERVE_PARALLEL (8); BENCH_SERVE_PREBUILT=1 runs
# bench/out/serve/mlxk-serve as it is (a build with a profiling hook, say). Results go to
# bench/out/serve/results.{jsonl,txt}. See docs/performance.md and docs/serve.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export GOEXPERIMENT="${GOEXPERIMENT:-simd}" GOFLAGS="${GOFLAGS:--buildvcs=false}"
clients="${BENCH_SERVE_CLIENTS:-1 4 8}"
requests="${BENCH_SERVE_REQUESTS:-2}"
prompt="${BENCH_SERVE_PROMPT:-32}"
gen="${BENCH_SERVE_GEN:-64}"
threads="${BENCH_SERVE_THREADS:-2}"
parallel="${BENCH_SERVE_PARALLEL:-8}"
vocab=151936
out=bench/out/serve
model="$out/qwen2.5-0.5b-4bit"
mkdir -p "$out"

[[ -n "${BENCH_SERVE_PREBUILT:-}" ]] || go build -o "$out/mlxk-serve" ./mlxk-serve
go build -o "$out/enginebench" ./testscripts/cmd/enginebench
if [[ ! -f "$model/config.json" ]]; then
	if [[ -f bench/out/engine/qwen2.5-0.5b-4bit/config.json ]]; then
		mkdir -p "$model"
		cp bench/out/engine/qwen2.5-0.5b-4bit/* "$model/"
	else
		"$out/enginebench" gen -shape qwen2.5-0.5b -out "$model"
	fi
fi
[[ -f "$model/tokenizer.json" ]] || node bench/serve.mjs tokenizer "$vocab" "$model/tokenizer.json"

log="$out/server.log"
"$out/mlxk-serve" serve --host 127.0.0.1 --port 0 --json --model "$(cd "$model" && pwd)" \
	--threads "$threads" --parallel "$parallel" --max-queue 64 --keep-alive -1 >"$out/startup.json" 2>"$log" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 100); do
	[[ -s "$out/startup.json" ]] && break
	sleep 0.1
done
url=$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$out/startup.json")
name=$(sed -n 's/.*"model":"\([^"]*\)".*/\1/p' "$out/startup.json")
[[ -n "$url" ]] || { echo "mlxk-serve did not start:" >&2; cat "$log" >&2; exit 1; }
for i in $(seq 1 300); do
	curl -fs -m 5 "$url/health" >/dev/null 2>&1 && break
	kill -0 $pid 2>/dev/null || { echo "mlxk-serve exited:" >&2; cat "$log" >&2; exit 1; }
	[[ $i -lt 300 ]] || { echo "mlxk-serve not healthy after 60 s:" >&2; cat "$log" >&2; exit 1; }
	sleep 0.2
done

# Warm up (page the weights in), then measure.
node bench/serve.mjs run "$url" "$name" 1 1 "$prompt" 8 "$vocab" 99 >/dev/null
: >"$out/results.jsonl"
# The server's CPU time (user+system) per run, from /proc where there is
# one: on a machine shared with other work, CPU time per token moves much
# less than wall time does.
cpu_ticks() { awk '{print $14+$15}' "/proc/$pid/stat" 2>/dev/null || echo -1; }
ticks=$(getconf CLK_TCK 2>/dev/null || echo 100)
for c in $clients; do
	echo "== $c client(s)" >&2
	c0=$(cpu_ticks)
	line=$(node bench/serve.mjs run "$url" "$name" "$c" "$requests" "$prompt" "$gen" "$vocab" "$c")
	c1=$(cpu_ticks)
	node -e '
const r = JSON.parse(process.argv[1]);
const [c0, c1, hz] = process.argv.slice(2).map(Number);
if (c0 >= 0 && c1 >= 0) {
  r.server_cpu_s = +((c1 - c0) / hz).toFixed(2);
  r.server_cpu_ms_per_token = +((1000 * (c1 - c0)) / hz / r.tokens).toFixed(2);
}
console.log(JSON.stringify(r));' "$line" "$c0" "$c1" "$ticks" | tee -a "$out/results.jsonl" >&2
done
curl -fs "$url/metrics" >"$out/metrics.txt" || true

node - "$out/results.jsonl" "$threads" "$parallel" <<'EOF' | tee "$out/results.txt"
const fs = require("fs");
const [file, threads, parallel] = process.argv.slice(2);
const rows = fs.readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
const r0 = rows[0];
console.log(`mlxk-serve, qwen2.5-0.5b 4-bit (random weights), ${threads} threads, --parallel ${parallel}; ` +
  `prompt ${r0.prompt_tokens} tokens, ${r0.max_tokens} generated per request, streamed`);
console.log("clients  requests  tokens  wall s  aggregate tok/s  vs 1 client  TTFT p50 ms  TTFT p99 ms  per-request tok/s  server CPU ms/token");
const base = rows.find((r) => r.clients === 1)?.aggregate_tok_s;
for (const r of rows) {
  const ratio = base ? (r.aggregate_tok_s / base).toFixed(2) + "x" : "-";
  console.log(`${String(r.clients).padStart(7)}  ${String(r.requests).padStart(8)}  ${String(r.tokens).padStart(6)}  ` +
    `${r.wall_s.toFixed(1).padStart(6)}  ${r.aggregate_tok_s.toFixed(1).padStart(15)}  ${ratio.padStart(11)}  ` +
    `${r.ttft_p50_ms.toFixed(0).padStart(11)}  ${r.ttft_p99_ms.toFixed(0).padStart(11)}  ${r.per_request_decode_tok_s.toFixed(1).padStart(17)}  ` +
    `${(r.server_cpu_ms_per_token?.toFixed(1) ?? "-").padStart(19)}`);
}
EOF
