#!/usr/bin/env bash
# Checks a tokenizer written by train_tokenizer.py against the project's Go
# tokenizer (shared/tokenizer) and chat-template renderer (shared/chattemplate):
# same ids as the Python encoder on every sample of one epoch, exact decode,
# and the rendered chat prompts.
# usage: check_tokenizer.sh <model-dir> <chapters.jsonl>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="$(cd "$1" && pwd)"
chapters="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$here" && /usr/bin/python3 - "$dir/tokenizer.json" "$chapters" "$tmp/cases.jsonl" <<'PY'
import json, sys
import bpe, data
vocab, merges = bpe.load(sys.argv[1])
enc = bpe.Encoder(vocab, merges)
extra = ["", " ", "  hello  world \n\n\t x", "Don't SHOUT'S we'll 1234 (a) -- ok...", "a\r\nb", "<|im_end|>x<|endoftext|>"]
with open(sys.argv[3], "w") as f:
    for t in extra + data.samples(data.load_chapters(sys.argv[2]), seed=1):
        f.write(json.dumps({"text": t, "ids": enc.encode(t)}) + "\n")
PY
)
cp "$here/tokcheck/main.go" "$tmp/"
cat > "$tmp/go.mod" <<MOD
module tokcheck

go 1.26.0

require github.com/mlxk/mlxk/shared v0.0.0

replace github.com/mlxk/mlxk/shared => $root/shared
MOD
cp "$root/shared/go.sum" "$tmp/"
export GOEXPERIMENT=simd GOFLAGS=-buildvcs=false GOWORK=off
(cd "$tmp" && go mod tidy >/dev/null 2>&1 && go run . "$dir" "$tmp/cases.jsonl")
