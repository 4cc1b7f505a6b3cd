#!/usr/bin/env bash
# The demo: a small hub cache laid out exactly as huggingface_hub writes it
# (the bundled demo chat model from demo/model, a GGUF model, a model with a
# missing shard), then list, show, health and run on it through the mlxk
# dispatcher. Everything is offline.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export HF_HOME="$work/hf"
unset HF_HUB_CACHE HUGGINGFACE_HUB_CACHE || true
mlxk="$root/bin/mlxk"
(cd "$root/testscripts" && go build -o "$work/mkcache" ./cmd/mkcache)

src="$work/src"
mkdir -p "$src/gguf" "$src/broken"
printf '{"model_type":"llama"}' > "$src/gguf/config.json"
head -c 200000 /dev/urandom > "$src/gguf/model-q4_0.gguf"
printf '{"model_type":"llama"}' > "$src/broken/config.json"
printf '{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}' > "$src/broken/model.safetensors.index.json"
head -c 1000 /dev/urandom > "$src/broken/model-00001-of-00002.safetensors"

"$work/mkcache" mlxk/demo-chat-4bit "$root/demo/model" >/dev/null
"$work/mkcache" TheBloke/Demo-7B-GGUF "$src/gguf" >/dev/null
"$work/mkcache" someone/broken-model "$src/broken" >/dev/null

run() { printf '\n$ mlxk %s\n' "$*"; "$mlxk" "$@"; }
run list
run list --all --health --verbose
run show demo-chat
run health
run list --jsonl
printf '\n$ mlxk list --jsonl | mlxk health - --json\n'
"$mlxk" list --jsonl | "$mlxk" health - --json
run health --verify demo-chat

# Generation with the native Go engine: greedy, then sampled with a seed.
run run demo-chat "Tell me a story about Noah." --temperature 0 --max-tokens 60
run run demo-chat "Continue: In the beginning" --seed 7 --max-tokens 40 --verbose
printf '\n$ echo "And God said, Let there be light." | mlxk run demo-chat - "Continue:" --max-tokens 30 --json\n'
echo "And God said, Let there be light." | "$mlxk" run demo-chat - "Continue:" --max-tokens 30 --json
