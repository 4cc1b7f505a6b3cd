#!/usr/bin/env bash
# Pull throughput (docs/performance.md): a model of BENCH_PULL_MIB MiB (default
# 1024) in several files, served by the fake Hub (testscripts/cmd/fakehub) on
# loopback, downloaded by `mlxk pull` into an empty cache and, side by side,
# by curl from the same server (the same resolve URLs, redirects followed,
# written to disk): one file at a time, and all files in parallel as mlxk
# does. Reports MB/s and mlxk's ratio to each. Nothing is asserted.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export GOEXPERIMENT="${GOEXPERIMENT:-simd}" GOFLAGS="${GOFLAGS:--buildvcs=false}"
mib="${BENCH_PULL_MIB:-1024}"
runs="${BENCH_PULL_RUNS:-3}"
out="$root/bench/out/pull"
mkdir -p "$out"
command -v curl >/dev/null || { echo "bench: curl not found" >&2; exit 1; }
[[ -x bin/mlxk ]] || { echo "bench: run 'make build' first (make bench-pull does)" >&2; exit 1; }
go build -o "$out/fakehub" ./testscripts/cmd/fakehub

# The model: config, tokenizer files and four equal shards.
src="$out/hub/mlx-community/Bench-1GiB"
if [[ ! -f "$out/stamp" || "$(cat "$out/stamp")" != "$mib" ]]; then
	rm -rf "$out/hub"; mkdir -p "$src"
	printf '{"model_type":"llama","quantization":{"group_size":64,"bits":4}}' >"$src/config.json"
	printf '{"version":"1.0"}' >"$src/tokenizer.json"
	printf '{"chat_template":"{{ messages }}"}' >"$src/tokenizer_config.json"
	shard=$(( mib / 4 ))
	idx='{"weight_map":{'
	for i in 1 2 3 4; do
		f=$(printf 'model-%05d-of-00004.safetensors' "$i")
		head -c "$(( shard * 1024 * 1024 ))" /dev/urandom >"$src/$f"
		idx+="\"t$i\":\"$f\","
	done
	printf '%s}}' "${idx%,}" >"$src/model.safetensors.index.json"
	echo "$mib" >"$out/stamp"
fi
bytes=$(find "$src" -type f -printf '%s\n' | awk '{s += $1} END {printf "%d", s}')

"$out/fakehub" -dir "$out/hub" -addr 127.0.0.1:0 >"$out/fakehub.out" 2>"$out/fakehub.err" &
hubpid=$!
trap 'kill $hubpid 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q HF_ENDPOINT "$out/fakehub.out" 2>/dev/null && break; sleep 0.1; done
endpoint=$(sed -n 's/^HF_ENDPOINT=//p' "$out/fakehub.out")
commit=""
for _ in $(seq 100); do
	commit=$(curl -s "$endpoint/api/models/mlx-community/Bench-1GiB" | grep -o '"sha":"[0-9a-f]\{40\}"' | cut -d'"' -f4 || true)
	[[ -n "$commit" ]] && break
	sleep 0.1
done
[[ -n "$commit" ]] || { echo "bench: the fake Hub did not answer" >&2; exit 1; }
files=$(cd "$src" && find . -type f | sed 's|^\./||' | sort)

now() { date +%s%N; }
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
t_mlxk=(); t_curl1=(); t_curlp=()
for ((r = 0; r < runs; r++)); do
	rm -rf "$out/cache" "$out/curl"; mkdir -p "$out/curl"
	sync
	t0=$(now)
	HF_HOME="$out/cache" HF_ENDPOINT="$endpoint" bin/mlxk pull mlx-community/Bench-1GiB --json >"$out/pull.json"
	t1=$(now); t_mlxk+=($(( t1 - t0 )))
	grep -q '"download_status":"success"' "$out/pull.json" || { cat "$out/pull.json" >&2; exit 1; }

	t0=$(now)
	for f in $files; do curl -sSfL -o "$out/curl/${f//\//_}" "$endpoint/mlx-community/Bench-1GiB/resolve/$commit/$f"; done
	t1=$(now); t_curl1+=($(( t1 - t0 )))
	rm -rf "$out/curl"; mkdir -p "$out/curl"; sync

	args=()
	for f in $files; do args+=(-o "$out/curl/${f//\//_}" "$endpoint/mlx-community/Bench-1GiB/resolve/$commit/$f"); done
	t0=$(now)
	curl -sSfL --parallel --parallel-max 8 "${args[@]}"
	t1=$(now); t_curlp+=($(( t1 - t0 )))
done
m=$(printf '%s\n' "${t_mlxk[@]}" | median)
c1=$(printf '%s\n' "${t_curl1[@]}" | median)
cp=$(printf '%s\n' "${t_curlp[@]}" | median)
awk -v b="$bytes" -v m="$m" -v c1="$c1" -v cp="$cp" -v runs="$runs" 'BEGIN {
	mb = b / 1e6
	printf "pull benchmark: %.1f MB in 7 files from the fake Hub on loopback (median of %d runs, cold cache folder, warm server)\n\n", mb, runs
	printf "%-44s %9s %10s  %s\n", "client", "time", "MB/s", "mlxk / client"
	printf "%-44s %7.0f ms %10.0f\n", "mlxk pull (8 files in parallel, sha256 check)", m / 1e6, mb / (m / 1e9)
	printf "%-44s %7.0f ms %10.0f  %.2fx\n", "curl, one file after another", c1 / 1e6, mb / (c1 / 1e9), c1 / m
	printf "%-44s %7.0f ms %10.0f  %.2fx\n", "curl --parallel --parallel-max 8", cp / 1e6, mb / (cp / 1e9), cp / m
}' | tee "$out/results.txt"
