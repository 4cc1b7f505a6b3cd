// Package servetest makes runnable tiny models for mlxk-serve's tests: a
// random test model of the engine's catalog, a byte-level tokenizer over
// its 256-token vocabulary (every byte one token, so any text encodes),
// and a chat template, put into a hub cache the registry resolves.
package servetest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mlxk/mlxk/shared/cachewrite"
	"github.com/mlxk/mlxk/shared/engine/testmodel"
	"github.com/mlxk/mlxk/shared/tokenizer/tokentest"
)

// ChatTemplate is a ChatML-like template without special tokens (the
// byte vocabulary has none).
const ChatTemplate = `{% for m in messages %}<|{{ m.role }}|>{{ m.content }}
{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}`

// ToolTemplate is a Hermes-style template that takes tools.
const ToolTemplate = `{% if tools %}<|system|>Tools: {{ tools | tojson }}. Call with <tool_call>{"name": ..., "arguments": ...}</tool_call>
{% endif %}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}
{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}`

// ThinkTemplate opens a <think> block in the generation prompt, as
// DeepSeek-R1 and Qwen3 templates do.
const ThinkTemplate = `{% for m in messages %}<|{{ m.role }}|>{{ m.content }}
{% endfor %}{% if add_generation_prompt %}<|assistant|><think>
{% endif %}`

// ContextLength is the context of the models WriteModel writes.
const ContextLength = 1024

// WriteModel writes a runnable model into dir: the catalog test model
// spec (e.g. "llama-q4"), the byte tokenizer and template (none when
// empty).
func WriteModel(dir, spec, template string) error {
	return WriteModelWith(dir, spec, template, ByteTokenizer())
}

// WriteModelWith is WriteModel with the given tokenizer.json.
func WriteModelWith(dir, spec, template string, tokenizerJSON []byte) error {
	s, ok := testmodel.Lookup(spec)
	if !ok {
		return fmt.Errorf("servetest: no test model %q", spec)
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	// A longer context than the catalog's 256 leaves room for tool
	// definitions in the prompt.
	s.Config = map[string]any{"max_position_embeddings": ContextLength}
	if err := testmodel.Write(dir, s); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), tokenizerJSON, 0o666); err != nil {
		return err
	}
	cfg := map[string]any{"tokenizer_class": "PreTrainedTokenizerFast"}
	if template != "" {
		cfg["chat_template"] = template
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), b, 0o666)
}

// AddToCache puts the model folder src into the hub cache hub as repoID
// and returns the snapshot folder.
func AddToCache(hub, repoID, src string) (string, error) {
	files, err := cachewrite.FilesFromDir(src)
	if err != nil {
		return "", err
	}
	w, err := cachewrite.Write(hub, cachewrite.Snapshot{RepoID: repoID, Refs: []string{"main"}, Files: files})
	if err != nil {
		return "", err
	}
	return w.Dir, nil
}

// ByteTokenizer is a tokenizer.json whose vocabulary is the 256 bytes in
// order, in the GPT-2 byte-level alphabet, without merges.
func ByteTokenizer() []byte { return tokentest.ByteLevel() }

// HarmonyTemplate renders gpt-oss's harmony layout (channels, messages)
// in plain bytes; its generation prompt ends "<|start|>assistant".
const HarmonyTemplate = `{% for m in messages %}<|start|>{{ m.role }}{% if m.role == "assistant" %}<|channel|>final{% endif %}<|message|>{{ m.content }}<|end|>{% endfor %}{% if add_generation_prompt %}<|start|>assistant{% endif %}`
