#!/usr/bin/env bash
# Engine speed: the pure-Go engine (shared/engine) beside llama.cpp on the
# same weights, in the same run. For each model shape (Qwen2.5-0.5B and
# Llama-3.2-1B, random weights, MLX 4-bit group 64, written with the
# project's own safetensors/quant code) it builds the GGUF q4_0 twin, then
# measures load time, time to first token (32-token prompt), prefill
# (BENCH_ENGINE_PROMPT tokens, default 512), decode (BENCH_ENGINE_GEN
# tokens, default 128, after the prompt and from an empty context) and
# peak RSS, with BENCH_ENGINE_THREADS threads (default 2) for both; the
# Go engine takes the prompt BENCH_ENGINE_CHUNK tokens at a time (256).
# llama.cpp is the prebuilt CPU build of node-llama-cpp (pinned in
# bench/engine/package.json; `npm ci` there needs the npm registry once).
# See docs/performance.md, "Engine speed".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export GOEXPERIMENT="${GOEXPERIMENT:-simd}" GOFLAGS="${GOFLAGS:--buildvcs=false}"
threads="${BENCH_ENGINE_THREADS:-2}"
prompt="${BENCH_ENGINE_PROMPT:-512}"
gen="${BENCH_ENGINE_GEN:-128}"
reps="${BENCH_ENGINE_REPS:-2}"
# Prompt tokens per forward call of the Go engine (engine.Generate's
# PrefillChunk): 256 is as fast as 512 and keeps the activations of a call
# (and so the peak RSS) small.
chunk="${BENCH_ENGINE_CHUNK:-256}"
shapes="${BENCH_ENGINE_SHAPES:-qwen2.5-0.5b llama-3.2-1b}"
out=bench/out/engine
mkdir -p "$out"

go build -o "$out/enginebench" ./testscripts/cmd/enginebench
if [[ ! -d bench/engine/node_modules/node-llama-cpp ]]; then
	(cd bench/engine && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm ci --omit=optional --no-audit --no-fund >/dev/null)
fi

# busy: CPU seconds all processes have used so far (/proc/stat).
busy() { awk '/^cpu /{print ($2+$3+$4+$7+$8)/100}' /proc/stat; }
# measure NAME CMD...: runs CMD (which prints one JSON line), adding the
# shape, the wall time and how much CPU other processes took meanwhile
# (busy time minus the command's own cpu_s): the noise on a shared machine.
measure() {
	local name=$1; shift
	local b0 t0 line b1 t1
	b0=$(busy); t0=$(date +%s.%N)
	line=$("$@")
	b1=$(busy); t1=$(date +%s.%N)
	echo "$line" | awk -v s="$name" -v b0="$b0" -v b1="$b1" -v t0="$t0" -v t1="$t1" \
		'{ b = b1 - b0; w = t1 - t0; match($0, /"cpu_s":[0-9.e+-]+/); c = substr($0, RSTART + 8, RLENGTH - 8) + 0;
		   o = (b - c) / w; if (o < 0) o = 0;
		   sub(/^\{/, "{\"shape\":\"" s "\",\"wall_s\":" w ",\"others_cpus\":" sprintf("%.2f", o) ",") ; print }'
}

: >"$out/results.jsonl"
for s in $shapes; do
	dir="$out/$s-4bit"
	gguf="$out/$s-q4_0.gguf"
	[[ -f "$dir/config.json" ]] || "$out/enginebench" gen -shape "$s" -out "$dir"
	[[ -f "$gguf" ]] || "$out/enginebench" gguf -in "$dir" -out "$gguf"
	echo "== $s: Go engine" >&2
	measure "$s" "$out/enginebench" run -dir "$dir" -threads "$threads" -prompt "$prompt" -gen "$gen" -reps "$reps" -chunk "$chunk" -batch 0 >>"$out/results.jsonl"
	echo "== $s: llama.cpp" >&2
	measure "$s" node bench/engine/llama.mjs "$gguf" "$threads" "$prompt" "$gen" "$reps" 2>/dev/null >>"$out/results.jsonl"
done
node bench/engine/report.mjs "$out/results.jsonl" | tee "$out/results.txt"
