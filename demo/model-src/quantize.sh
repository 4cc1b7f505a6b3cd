#!/usr/bin/env bash
# Quantizes the float export (export.py) into the committed demo model with
# the project's own MLX writer: 4-bit affine, group size 64, bfloat16 scales,
# biases and norms, as mlx-community's *-4bit models are.
# usage: quantize.sh <float-dir> [target-dir]   (target default: ../model)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
src="$(cd "$1" && pwd)"
dst="${2:-$here/../model}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export GOEXPERIMENT=simd GOFLAGS=-buildvcs=false
(cd "$root" && go build -o "$tmp/" ./mlxk-clone)
# The writer refuses a non-empty target: replace the previous model.
rm -rf "$dst"
"$tmp/mlxk-clone" convert "$src" "$dst" --quantize 4 --group-size 64 --dtype bfloat16
ls -l "$dst"
