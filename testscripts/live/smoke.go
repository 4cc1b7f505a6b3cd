package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mlxk/mlxk/shared/cachewrite"
	"github.com/mlxk/mlxk/shared/engine"
	"github.com/mlxk/mlxk/shared/engine/sample"
	"github.com/mlxk/mlxk/shared/engine/testmodel"
	"github.com/mlxk/mlxk/shared/textgen"
	"github.com/mlxk/mlxk/shared/tokenizer"
)

// SmokeOrg is the organisation of the generated models in a smoke cache.
const SmokeOrg = "mlxk-smoke"

// DemoRepo is the repo id the bundled demo model gets in a smoke cache.
const DemoRepo = "mlxk/demo-chat-4bit"

// SmokeModel is one generated model of the smoke portfolio.
type SmokeModel struct {
	// Spec names an entry of the engine's test model catalog.
	Spec string
	// Thinking gives the model a template that opens a <think> block, so
	// everything it says is reasoning until it closes it.
	Thinking bool
	// MultiEOS makes a model that ends its turn the way Phi-3 does in
	// MLX Knife's issue 32: its config names only <|endoftext|> as the end
	// token, but greedy decoding of SmokePrompt emits <|end|> first and
	// <|endoftext|> later. The two tokens are placed on ids the model
	// emits (found by running it), so the generation must stop at <|end|>
	// and show neither.
	MultiEOS bool
}

// SmokePrompt is the chat prompt the multi-EOS model is tuned to (the
// suite's default prompt).
const SmokePrompt = "Say hello."

// SmokePortfolio is the default smoke portfolio: every model of the
// engine's test catalog, that is every supported architecture as float32,
// bfloat16, 4- and 8-bit, plus 2- and 5-bit, float16, mixed-precision and
// sharded variants. The qwen3 models get a thinking template, as real
// Qwen3 models have, so reasoning is exercised too; and one more phi3
// model ends its turns with two different end tokens (MultiEOS).
func SmokePortfolio() []SmokeModel {
	var out []SmokeModel
	for _, s := range testmodel.Catalog() {
		out = append(out, SmokeModel{Spec: s.Name, Thinking: s.Arch == "qwen3"})
	}
	return append(out, SmokeModel{Spec: "phi3-q4", MultiEOS: true})
}

// RepoID is the model's name in a smoke cache.
func (m SmokeModel) RepoID() string {
	switch {
	case m.Thinking:
		return SmokeOrg + "/" + m.Spec + "-thinking"
	case m.MultiEOS:
		return SmokeOrg + "/" + m.Spec + "-multi-eos"
	}
	return SmokeOrg + "/" + m.Spec
}

// Token ids of the byte-level smoke tokenizer. Ids below 251 are the bytes
// of the same value; the top ids are bytes that never occur in UTF-8
// (0xFB-0xFF), so the tokenizer still encodes every prompt, and they carry
// the special tokens instead. The thinking flavour also takes 251 and 252.
const (
	idThink      = 251
	idThinkEnd   = 252
	idIMStart    = 253
	idIMEnd      = 254
	idEndOfText  = 255
	smokeContext = 256
)

const chatML = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
	"{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"

// phiTemplate is Phi-3's layout of turns, with the turn end left to the
// model (the prompt must not contain the end tokens, whose ids are
// chosen after the model has run).
const phiTemplate = "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '\\n' }}{% endfor %}" +
	"{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"

const chatMLThinking = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
	"{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n<think>\\n' }}{% endif %}"

type addedToken struct {
	ID         int    `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

// tokenizerSpec is one flavour of the smoke tokenizer.
type tokenizerSpec struct {
	specials []addedToken // each takes the id of a byte
	template string
	eos      string // tokenizer_config eos_token
	// eosIDs go to config.json and generation_config.json.
	eosIDs []int
}

func standardTokenizer(thinking bool) tokenizerSpec {
	t := tokenizerSpec{
		specials: []addedToken{
			{ID: idIMStart, Content: "<|im_start|>", Special: true},
			{ID: idIMEnd, Content: "<|im_end|>", Special: true},
			{ID: idEndOfText, Content: "<|endoftext|>", Special: true},
		},
		template: chatML, eos: "<|im_end|>",
		// Two end ids, as many real models have: a generation stops at
		// whichever comes first and shows neither.
		eosIDs: []int{idIMEnd, idEndOfText},
	}
	if thinking {
		t.specials = append([]addedToken{{ID: idThink, Content: "<think>"}, {ID: idThinkEnd, Content: "</think>"}}, t.specials...)
		t.template = chatMLThinking
	}
	return t
}

// build returns tokenizer.json and tokenizer_config.json: a BPE model
// without merges over the byte alphabet, the specials on their ids.
func (t tokenizerSpec) build() (tokJSON, tokConfig []byte, err error) {
	vocab := map[string]int{}
	taken := map[int]bool{}
	for _, s := range t.specials {
		vocab[s.Content] = s.ID
		taken[s.ID] = true
	}
	alphabet := tokenizer.ByteLevelAlphabet()
	for b := range 256 {
		if !taken[b] {
			vocab[string(alphabet[b])] = b
		}
	}
	byteLevel := map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}
	doc := map[string]any{
		"version":        "1.0",
		"truncation":     nil,
		"padding":        nil,
		"added_tokens":   t.specials,
		"normalizer":     nil,
		"pre_tokenizer":  byteLevel,
		"post_processor": byteLevel,
		"decoder":        byteLevel,
		"model": map[string]any{
			"type": "BPE", "dropout": nil, "unk_token": nil, "continuing_subword_prefix": nil,
			"end_of_word_suffix": nil, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
			"vocab": vocab, "merges": []any{},
		},
	}
	if tokJSON, err = json.MarshalIndent(doc, "", "  "); err != nil {
		return nil, nil, fmt.Errorf("smoke tokenizer: %w", err)
	}
	decoder := map[string]any{}
	for _, s := range t.specials {
		decoder[fmt.Sprint(s.ID)] = s
	}
	cfg := map[string]any{
		"added_tokens_decoder":         decoder,
		"bos_token":                    nil,
		"eos_token":                    t.eos,
		"chat_template":                t.template,
		"model_max_length":             smokeContext,
		"tokenizer_class":              "PreTrainedTokenizerFast",
		"clean_up_tokenization_spaces": false,
	}
	if tokConfig, err = json.MarshalIndent(cfg, "", "  "); err != nil {
		return nil, nil, fmt.Errorf("smoke tokenizer config: %w", err)
	}
	return tokJSON, tokConfig, nil
}

// SmokeTokenizer returns tokenizer.json and tokenizer_config.json of the
// byte-level tokenizer that makes a generated model (vocabulary 256, no
// tokenizer of its own) runnable: ChatML special tokens on the top ids and
// a ChatML template (with an opening <think> for the thinking flavour).
func SmokeTokenizer(thinking bool) (tokJSON, tokConfig []byte, err error) {
	return standardTokenizer(thinking).build()
}

const smokeCard = `---
library_name: mlx
pipeline_tag: text-generation
tags:
- mlx
- mlxk-smoke
---

# %s

A generated tiny model with random weights (mlxk's engine test model %q)
and a byte-level tokenizer, for the live suite's smoke mode. Its answers
are noise.
`

// WriteSmokeModel writes one smoke model into dir as a workspace folder:
// the generated weights and config, the byte-level tokenizer, a
// generation_config.json with the end-of-turn ids, and a model card that
// says MLX.
func WriteSmokeModel(ctx context.Context, dir string, m SmokeModel) error {
	spec, ok := testmodel.Lookup(m.Spec)
	if !ok {
		return fmt.Errorf("smoke model %q: no such test model (have %s)", m.Spec, testmodel.Names())
	}
	tok := standardTokenizer(m.Thinking)
	if m.MultiEOS {
		// Phi-3's turn markers, and no end tokens yet, to see what the
		// model says.
		tok = tokenizerSpec{
			specials: []addedToken{
				{ID: idIMStart, Content: "<|user|>", Special: true},
				{ID: idIMEnd, Content: "<|assistant|>", Special: true},
			},
			template: phiTemplate, eos: "", eosIDs: []int{idEndOfText},
		}
	}
	if err := writeSmokeFiles(dir, spec, m, tok); err != nil {
		return err
	}
	if !m.MultiEOS {
		return nil
	}
	seq, err := greedyChat(ctx, dir, SmokePrompt, 16)
	if err != nil {
		return fmt.Errorf("smoke model %s: %w", m.RepoID(), err)
	}
	a, b, ok := pickEndTokens(seq)
	if !ok {
		return fmt.Errorf("smoke model %s: its answer %v has no two non-ASCII tokens to make end tokens of", m.RepoID(), seq)
	}
	tok.specials = append(tok.specials,
		addedToken{ID: a, Content: "<|end|>", Special: true},
		addedToken{ID: b, Content: "<|endoftext|>", Special: true})
	// As Phi-3's config: only <|endoftext|> is named; <|end|> ends the
	// turn by the engine's list of common end-of-turn tokens.
	tok.eos, tok.eosIDs = "<|endoftext|>", []int{b}
	return writeSmokeFiles(dir, spec, m, tok)
}

func writeSmokeFiles(dir string, spec testmodel.Spec, m SmokeModel, tok tokenizerSpec) error {
	cfg := make(map[string]any, len(spec.Config)+1)
	for k, v := range spec.Config {
		cfg[k] = v
	}
	cfg["eos_token_id"] = tok.eosIDs
	spec.Config = cfg
	// The weights once; a second call (new end tokens) only patches the
	// config's eos_token_id.
	if _, err := os.Stat(filepath.Join(dir, "config.json")); errors.Is(err, fs.ErrNotExist) {
		os.RemoveAll(dir)
		if err := testmodel.Write(dir, spec); err != nil {
			return err
		}
	} else if err := setConfigEOS(dir, tok.eosIDs); err != nil {
		return fmt.Errorf("smoke model %s: %w", m.Spec, err)
	}
	tokJSON, tokCfg, err := tok.build()
	if err != nil {
		return err
	}
	gen, _ := json.MarshalIndent(map[string]any{"eos_token_id": tok.eosIDs}, "", "  ")
	files := map[string][]byte{
		"tokenizer.json":         tokJSON,
		"tokenizer_config.json":  tokCfg,
		"generation_config.json": gen,
		"README.md":              []byte(fmt.Sprintf(smokeCard, m.RepoID(), m.Spec)),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return fmt.Errorf("smoke model %s: %w", m.Spec, err)
		}
	}
	return nil
}

// setConfigEOS sets config.json's eos_token_id in dir.
func setConfigEOS(dir string, ids []int) error {
	path := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var cfg map[string]any
	if err := json.Unmarshal(b, &cfg); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	cfg["eos_token_id"] = ids
	b, _ = json.MarshalIndent(cfg, "", "  ")
	return os.WriteFile(path, b, 0o644)
}

// greedyChat runs the model in dir on one user message at temperature 0
// with mlxk run's default repetition penalty, through the end tokens, and
// returns the generated ids.
func greedyChat(ctx context.Context, dir, prompt string, n int) ([]int32, error) {
	m, err := textgen.Load(ctx, engine.Native{}, dir, engine.LoadOptions{})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	msgs, _ := json.Marshal([]map[string]string{{"role": "user", "content": prompt}})
	p, err := m.Chat(msgs, textgen.ChatOptions{})
	if err != nil {
		return nil, err
	}
	sampler, err := sample.NewSampler(sample.Params{Temperature: 0, TopP: 0.9, RepetitionPenalty: 1.1})
	if err != nil {
		return nil, err
	}
	var ids []int32
	_, err = m.Generate(ctx, textgen.Request{Prompt: m.Encode(p), MaxTokens: n, Sampler: sampler, IgnoreEOS: true},
		func(t engine.Token) error {
			if t.ID >= 0 {
				ids = append(ids, t.ID)
			}
			return nil
		})
	return ids, err
}

// pickEndTokens chooses the ids to turn into <|end|> and <|endoftext|>:
// a at the first position from 2 on (so the answer has some text) and b
// at a later one, both bytes that are not ASCII (so no prompt contains
// them) and not already special, neither occurring earlier.
func pickEndTokens(seq []int32) (a, b int, ok bool) {
	usable := func(id int32) bool { return id >= 0x80 && id < idIMStart }
	for i := 2; i < len(seq); i++ {
		if !usable(seq[i]) || slices.Contains(seq[:i], seq[i]) {
			continue
		}
		for j := i + 1; j < len(seq); j++ {
			if usable(seq[j]) && seq[j] != seq[i] && !slices.Contains(seq[:i], seq[j]) {
				return int(seq[i]), int(seq[j]), true
			}
		}
		return 0, 0, false
	}
	return 0, 0, false
}

// WriteSmokeCache lays the smoke portfolio out as a hub cache under
// hfHome (HF_HOME; the cache is hfHome/hub), exactly as huggingface_hub
// would have downloaded it. demoDir, when not empty, is the bundled demo
// model's folder, cached as DemoRepo. It returns the repo ids written.
func WriteSmokeCache(ctx context.Context, hfHome, demoDir string, models []SmokeModel) ([]string, error) {
	hub := filepath.Join(hfHome, "hub")
	work, err := os.MkdirTemp("", "mlxk-smoke-src-")
	if err != nil {
		return nil, fmt.Errorf("smoke cache: %w", err)
	}
	defer os.RemoveAll(work)
	var ids []string
	if demoDir != "" {
		files, err := cachewrite.FilesFromDir(demoDir)
		if err != nil {
			return nil, fmt.Errorf("smoke cache: demo model: %w", err)
		}
		kept := files[:0]
		for _, f := range files {
			// A workspace's sentinel is not part of a model repository.
			if !strings.HasPrefix(f.Path, ".") {
				kept = append(kept, f)
			}
		}
		if _, err := cachewrite.Write(hub, cachewrite.Snapshot{RepoID: DemoRepo, Refs: []string{"main"}, Files: kept}); err != nil {
			return nil, fmt.Errorf("smoke cache: demo model: %w", err)
		}
		ids = append(ids, DemoRepo)
	}
	for _, m := range models {
		dir := filepath.Join(work, m.RepoID())
		if err := WriteSmokeModel(ctx, dir, m); err != nil {
			return nil, err
		}
		files, err := cachewrite.FilesFromDir(dir)
		if err != nil {
			return nil, fmt.Errorf("smoke cache: %w", err)
		}
		if _, err := cachewrite.Write(hub, cachewrite.Snapshot{RepoID: m.RepoID(), Refs: []string{"main"}, Files: files}); err != nil {
			return nil, fmt.Errorf("smoke cache: %s: %w", m.RepoID(), err)
		}
		ids = append(ids, m.RepoID())
	}
	return ids, nil
}
