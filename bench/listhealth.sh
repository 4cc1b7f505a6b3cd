#!/usr/bin/env bash
# The read-side benchmark (docs/performance.md): a synthetic hub cache of
# BENCH_MODELS models (default 1,000, ~20 files each) laid out by cachewrite
# exactly as huggingface_hub does, then, with the page cache hot:
#
#   - wall time of `mlxk list --json` and `mlxk health --json` against
#     their targets, and `mlxk-list list --json` (no dispatcher); the
#     dispatcher's own cost from a list whose pattern matches nothing;
#   - throughput of `mlxk health --verify --json` in GB/s over all blobs,
#     against `openssl dgst -sha256` over the same blob files (one process,
#     one core), and the ratio of the two.
#
# Run from the repository root by `make bench` (which builds bin/ first).
# Timing uses hyperfine when present (installed with apt-get when missing
# and possible), otherwise a loop over `date +%s%N`; both report medians.
# Nothing is asserted: the figures are printed and written to
# bench/out/results-<models>x<weight bytes>.txt.
#
# Knobs: BENCH_MODELS (1000), BENCH_WEIGHT_BYTES per model (2097152),
# BENCH_RUNS (20; verify and openssl use a quarter), BENCH_REGEN=1 to rebuild the
# cache even when bench/out holds one generated with the same parameters
# and the same generator, BENCH_NO_HYPERFINE=1 to time with the date loop.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
export GOEXPERIMENT="${GOEXPERIMENT:-simd}" GOFLAGS="${GOFLAGS:--buildvcs=false}"

models="${BENCH_MODELS:-1000}"
weight_bytes="${BENCH_WEIGHT_BYTES:-2097152}"
runs="${BENCH_RUNS:-20}"
slow_runs=$(( runs / 4 > 3 ? runs / 4 : 3 ))
out="$root/bench/out"
mkdir -p "$out"

for b in mlxk mlxk-list mlxk-health; do
	[[ -x "bin/$b" ]] || { echo "bench: bin/$b missing; run 'make build' (make bench does)" >&2; exit 1; }
done
command -v openssl >/dev/null || { echo "bench: openssl not found" >&2; exit 1; }

# hyperfine: use it when present; install it when apt-get can
# (BENCH_NO_HYPERFINE=1 forces the date loop).
if [[ "${BENCH_NO_HYPERFINE:-0}" != 1 ]] && ! command -v hyperfine >/dev/null; then
	apt=()
	if [[ $(id -u) == 0 ]]; then apt=(apt-get); elif sudo -n true 2>/dev/null; then apt=(sudo -n apt-get); fi
	if [[ ${#apt[@]} -gt 0 ]] && command -v apt-get >/dev/null; then
		echo "bench: installing hyperfine" >&2
		"${apt[@]}" install -y -qq hyperfine >/dev/null 2>&1 ||
			{ "${apt[@]}" update -qq >/dev/null 2>&1 && "${apt[@]}" install -y -qq hyperfine >/dev/null 2>&1; } || true
	fi
fi
have_hyperfine=false
[[ "${BENCH_NO_HYPERFINE:-0}" != 1 ]] && command -v hyperfine >/dev/null && have_hyperfine=true

# --- the cache -------------------------------------------------------------
# One HF_HOME per parameter set, so a second size can be measured without
# rebuilding the default cache.
export HF_HOME="$out/hf-${models}x${weight_bytes}"
unset HF_HUB_CACHE HUGGINGFACE_HUB_CACHE || true
hub="$HF_HOME/hub"
go build -o "$out/mkbenchcache" ./testscripts/cmd/mkbenchcache
gen_id="$(cat testscripts/cmd/mkbenchcache/main.go shared/cachewrite/cachewrite.go | sha256sum | cut -c1-16)"
stamp="models=$models weight_bytes=$weight_bytes generator=$gen_id"
if [[ "${BENCH_REGEN:-0}" == 1 || ! -f "$HF_HOME/stamp" || "$(cat "$HF_HOME/stamp")" != "$stamp" ]]; then
	rm -rf "$HF_HOME"
	echo "bench: generating $models models under $hub" >&2
	"$out/mkbenchcache" -hub "$hub" -n "$models" -weight-bytes "$weight_bytes" >&2
	echo "$stamp" >"$HF_HOME/stamp"
else
	echo "bench: reusing $hub ($stamp; BENCH_REGEN=1 rebuilds it)" >&2
fi

# The blobs, by absolute path as mlxk opens them.
find "$hub" -path "$hub/models--*/blobs/*" -type f -print0 >"$out/blobs.list0"
blob_files=$(tr -cd '\0' <"$out/blobs.list0" | wc -c)
blob_bytes=$(xargs -0 stat -c %s <"$out/blobs.list0" | awk '{s += $1} END {printf "%d", s}')

# Warm the page cache and the dentry cache, and check the cache reads as
# intended: every model listed, every blob verified, no mismatch.
xargs -0 cat <"$out/blobs.list0" >/dev/null
listed=$(bin/mlxk list --json | grep -o '"count": *[0-9]*' | grep -o '[0-9]*$' || true)
verify_json="$(bin/mlxk health --verify --json)"
verified=$(grep -o '"bytes_checked": *[0-9]*' <<<"$verify_json" | awk -F: '{s += $2} END {printf "%d", s}')
mismatches=$(grep -o '"expected": *"' <<<"$verify_json" | wc -l || true)
if [[ "$listed" != "$models" || "$verified" != "$blob_bytes" || "$mismatches" != 0 ]]; then
	echo "bench: WARNING: listed $listed of $models models, verified $verified of $blob_bytes bytes, $mismatches mismatches" >&2
fi
bin/mlxk health --json >/dev/null

# --- timing ----------------------------------------------------------------
# measure RUNS CMD... prints "median min cpu" in seconds: the median and
# the fastest wall time, and the mean user+system CPU time (the CPU figure
# is the steadier one on a shared machine; "-" without hyperfine).
measure() {
	local n="$1"; shift
	if $have_hyperfine; then
		local csv="$out/hyperfine.csv"
		hyperfine -N --style none --warmup 2 --runs "$n" --export-csv "$csv" -- "$(printf '%q ' "$@")" >/dev/null
		# command,mean,stddev,median,user,system,min,max
		awk -F, 'NR == 2 {printf "%.6f %.6f %.6f", $4, $7, $5 + $6}' "$csv"
	else
		local i t0 t1 times=()
		"$@" >/dev/null; "$@" >/dev/null # warm-up
		for ((i = 0; i < n; i++)); do
			t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
			times+=($(( t1 - t0 )))
		done
		printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR] = $1} END {m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.6f %.6f -", m / 1e9, a[1] / 1e9}'
	fi
}

# hash_blobs: openssl over every blob file, one process at a time (xargs
# batches run sequentially; openssl dgst is single-threaded).
hash_blobs() { xargs -0 -s 1000000 openssl dgst -sha256 <"$out/blobs.list0"; }
export -f hash_blobs
export out

# Other processes competing for the two cores inflate wall times. Measure
# how much CPU they took while we timed: all busy CPU time from /proc/stat
# minus the CPU time of our own children (bash's `times`, which includes
# hyperfine's children once they are waited for).
busy_s() { awk '/^cpu / {printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / 100}' /proc/stat; }
kids_s() { awk 'NR == 2 {split($1, u, "m"); split($2, s, "m"); printf "%.2f", u[1] * 60 + u[2] + s[1] * 60 + s[2]}' "$1"; }
busy_before=$(busy_s); times >"$out/times.before"; start_ns=$(date +%s%N)
echo "bench: timing (hyperfine: $have_hyperfine, $runs runs; verify and openssl $slow_runs runs)" >&2
t_list=$(measure "$runs" bin/mlxk list --json)
t_list_direct=$(measure "$runs" bin/mlxk-list list --json)
# The dispatcher's own cost, on a pattern that matches no model (the cache
# folder is read, nothing is inspected), where it is not lost in the noise.
t_disp=$(measure "$runs" bin/mlxk list no-such-model-xyz --json)
t_disp_direct=$(measure "$runs" bin/mlxk-list list no-such-model-xyz --json)
t_health=$(measure "$runs" bin/mlxk health --json)
t_verify=$(measure "$slow_runs" bin/mlxk health --verify --json)
t_openssl=$(measure "$slow_runs" bash -c hash_blobs)
busy_after=$(busy_s); times >"$out/times.after"; end_ns=$(date +%s%N)
others=$(awk -v b0="$busy_before" -v b1="$busy_after" -v k0="$(kids_s "$out/times.before")" -v k1="$(kids_s "$out/times.after")" \
	-v wall="$(( (end_ns - start_ns) / 1000000 ))" -v cores="$(nproc)" \
	'BEGIN {o = (b1 - b0) - (k1 - k0); if (o < 0) o = 0; printf "%.0f", 100 * o / (wall / 1000 * cores)}')
# Pure hashing speed of one core with large buffers, for context.
openssl_speed=$(openssl speed -evp sha256 -bytes 1048576 -seconds 1 2>/dev/null | awk '/^sha256/ {v = $NF; sub(/k$/, "", v); printf "%.2f", v * 1000 / 1e9}')

# --- report ----------------------------------------------------------------
cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || echo unknown)
shani=no
grep -qw sha_ni /proc/cpuinfo 2>/dev/null && shani=yes
report="$(awk -v models="$models" -v files="$blob_files" -v bytes="$blob_bytes" \
	-v list="$t_list" -v direct="$t_list_direct" -v disp="$t_disp" -v dispd="$t_disp_direct" -v health="$t_health" \
	-v verify="$t_verify" -v ossl="$t_openssl" -v speed="$openssl_speed" \
	-v cpu="$cpu" -v cores="$(nproc)" -v shani="$shani" -v others="$others" \
	-v tool="$($have_hyperfine && echo hyperfine || echo date-loop)" '
function ms(s) { return sprintf("%.0f ms", s * 1000) }
function cpums(s) { return s == "-" ? "-" : ms(s) }
function verdict(ok) { return ok ? "met" : "MISSED" }
function row(name, t, target, ratio) {
	split(t, a, " ")
	printf "%-42s %9s %9s %9s %9s  %s\n", name, (t == "" ? "" : ms(a[1])), (t == "" ? "" : ms(a[2])), (t == "" ? "" : cpums(a[3])), target, ratio
}
BEGIN {
	split(list, L, " "); split(direct, D, " "); split(disp, P, " "); split(dispd, PD, " "); split(health, H, " "); split(verify, V, " "); split(ossl, O, " ")
	vg = bytes / V[1] / 1e9; og = bytes / O[1] / 1e9
	printf "mlxk read-side benchmark: %d models, %d blob files, %.1f MB of blobs\n", models, files, bytes / 1e6
	printf "machine: %s, %d cores, SHA-NI %s; warm page cache; %s; other processes took %d%% of the CPU meanwhile\n\n", cpu, cores, shani, tool, others
	printf "%-42s %9s %9s %9s %9s  %s\n", "command", "median", "fastest", "cpu", "target", "result (from the median)"
	row("mlxk list --json", list, "150 ms", sprintf("%.2fx the target, %s", L[1] / 0.150, verdict(L[1] <= 0.150)))
	row("mlxk-list list --json (no dispatcher)", direct, "", "")
	row("mlxk list no-such-model-xyz --json", disp, "", "")
	row("mlxk-list list no-such-model-xyz --json", dispd, "", sprintf("dispatcher adds %.1f ms", (P[1] - PD[1]) * 1000))
	row("mlxk health --json", health, "300 ms", sprintf("%.2fx the target, %s", H[1] / 0.300, verdict(H[1] <= 0.300)))
	row("mlxk health --verify --json", verify, "", sprintf("%.2f GB/s", vg))
	row("openssl dgst -sha256, same files, 1 core", ossl, "", sprintf("%.2f GB/s", og))
	printf "%-42s %9s %9s %9s %9s  %s\n", "verify / openssl throughput", "", "", "", ">= 1.60x", sprintf("%.2fx, %s", vg / og, verdict(vg / og >= 1.6))
	if (speed != "") printf "%-42s %9s %9s %9s %9s  %s\n", "(openssl speed -evp sha256, 1 MiB blocks)", "", "", "", "", sprintf("%.2f GB/s of hashing on one core", speed)
	if (others + 0 > 10)
		printf "\nWARNING: other processes took %d%% of the machine while timing: wall times are inflated; the cpu column is the steadier figure.\n", others
}')"
printf '%s\n' "$report" | tee "$out/results-${models}x${weight_bytes}.txt"
