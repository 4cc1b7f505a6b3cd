#!/usr/bin/env bash
# The demo: a small hub cache laid out exactly as huggingface_hub writes it
# (a runnable MLX chat model, a GGUF model, a model with a missing shard),
# then list, show and health on it through the mlxk dispatcher.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export HF_HOME="$work/hf"
unset HF_HUB_CACHE HUGGINGFACE_HUB_CACHE || true
mlxk="$root/bin/mlxk"
(cd "$root/testscripts" && go build -o "$work/mkcache" ./cmd/mkcache)

src="$work/src"
mkdir -p "$src/chat" "$src/gguf" "$src/broken"
printf '{"model_type":"qwen2","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":256,"max_position_embeddings":2048,"quantization":{"group_size":64,"bits":4}}' > "$src/chat/config.json"
printf '{"chat_template":"{%% for m in messages %%}{{ m.content }}{%% endfor %%}"}' > "$src/chat/tokenizer_config.json"
printf '{"version":"1.0","model":{"type":"BPE","vocab":{},"merges":[]}}' > "$src/chat/tokenizer.json"
head -c 300000 /dev/urandom > "$src/chat/model.safetensors"
printf '{"model_type":"llama"}' > "$src/gguf/config.json"
head -c 200000 /dev/urandom > "$src/gguf/model-q4_0.gguf"
printf '{"model_type":"llama"}' > "$src/broken/config.json"
printf '{"weight_map":{"a":"model-00001-of-00002.safetensors","b":"model-00002-of-00002.safetensors"}}' > "$src/broken/model.safetensors.index.json"
head -c 1000 /dev/urandom > "$src/broken/model-00001-of-00002.safetensors"

"$work/mkcache" mlx-community/Demo-Chat-0.5B-4bit "$src/chat" >/dev/null
"$work/mkcache" TheBloke/Demo-7B-GGUF "$src/gguf" >/dev/null
"$work/mkcache" someone/broken-model "$src/broken" >/dev/null

run() { printf '\n$ mlxk %s\n' "$*"; "$mlxk" "$@"; }
run list
run list --all --health --verbose
run show Demo-Chat
run health
run list --jsonl
printf '\n$ mlxk list --jsonl | mlxk health - --json\n'
"$mlxk" list --jsonl | "$mlxk" health - --json
run health --verify Demo-Chat
