package modelinfo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mlxk/mlxk/shared/health"
	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/jsonscan"
	"github.com/mlxk/mlxk/shared/snapfiles"
	"github.com/mlxk/mlxk/shared/workspace"
)

// Model is the model object of list and show (JSON key order is the
// emission order of mlx-knife 2.0.3).
type Model struct {
	Name              string   `json:"name"`
	Hash              *string  `json:"hash"`
	SizeBytes         int64    `json:"size_bytes"`
	LastModified      string   `json:"last_modified"`
	Framework         string   `json:"framework"`
	ModelType         string   `json:"model_type"`
	Capabilities      []string `json:"capabilities"`
	Health            string   `json:"health"`
	RuntimeCompatible bool     `json:"runtime_compatible"`
	Reason            *string  `json:"reason"`
	Cached            bool     `json:"cached"`
}

// Framework labels.
const (
	MLX     = "MLX"
	GGUF    = "GGUF"
	PyTorch = "PyTorch"
	Unknown = "Unknown"
)

// Inspection is everything detection learned about one snapshot.
type Inspection struct {
	RepoID        string
	Files         snapfiles.Listing
	Config        map[string]any // nil when missing or invalid
	ChatTemplate  bool
	Health        health.Result
	Framework     string
	ModelType     string
	Capabilities  []string
	Runtime       bool
	RuntimeReason string
}

// Inspect scans a snapshot folder once and runs every detector on it.
func Inspect(repoID, dir string) Inspection {
	l := snapfiles.Scan(dir)
	in := Inspection{RepoID: repoID, Files: l}
	cfg := health.ReadConfig(l)
	in.Config = cfg.Values
	in.ChatTemplate = hasChatTemplate(l)
	in.Health = health.CheckConfig(l, cfg)
	in.Framework = detectFramework(repoID, l, in.Config)
	in.ModelType = detectModelType(repoID, in.Config, in.ChatTemplate)
	in.Capabilities = capabilities(in.ModelType)
	if in.Health.Healthy {
		in.Runtime, in.RuntimeReason = health.Runtime(l, in.Config, in.Framework)
	}
	return in
}

// Reason is the model object's reason: the health reason when unhealthy,
// otherwise the runtime reason, or "" when the model is runnable.
func (in Inspection) Reason() string {
	if !in.Health.Healthy {
		return in.Health.Reason
	}
	return in.RuntimeReason
}

// Describe builds the model object for a resolved model.
func Describe(res hubcache.Resolved) (Model, Inspection) {
	in := Inspect(res.Repo.ID, res.Path())
	var mtime time.Time
	var size int64
	hash := ""
	if res.HasSnapshot {
		mtime = res.Snapshot.ModTime
		hash = res.Snapshot.Hash()
		size = in.Files.TotalSize()
	} else {
		// No snapshot: describe the repo folder, counting each blob once.
		mtime = dirModTime(res.Repo.Dir)
		size = uniqueSize(res.Repo.Dir)
		in.Health = health.Result{Reason: "No snapshots found"}
		in.Runtime, in.RuntimeReason = false, ""
	}
	m := Model{
		Name:              res.Repo.ID,
		SizeBytes:         size,
		LastModified:      FormatTime(mtime),
		Framework:         in.Framework,
		ModelType:         in.ModelType,
		Capabilities:      in.Capabilities,
		Health:            "unhealthy",
		RuntimeCompatible: in.Health.Healthy && in.Runtime,
		Cached:            true,
	}
	if hash != "" {
		m.Hash = &hash
	}
	if in.Health.Healthy {
		m.Health = "healthy"
	}
	if r := in.Reason(); r != "" {
		m.Reason = &r
	}
	return m, in
}

// DescribeWorkspace builds the model object of a workspace folder: its
// name is the absolute path, it has no commit hash and is not cached.
// Detection uses the source repo its sentinel records, if any.
func DescribeWorkspace(dir string) (Model, Inspection) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	source := filepath.Base(abs)
	if s, err := workspace.ReadSentinel(abs); err == nil && s.SourceRepo != "" {
		source = s.SourceRepo
	}
	in := Inspect(source, abs)
	m := Model{
		Name:              abs,
		SizeBytes:         in.Files.TotalSize(),
		LastModified:      FormatTime(dirModTime(abs)),
		Framework:         in.Framework,
		ModelType:         in.ModelType,
		Capabilities:      in.Capabilities,
		Health:            "unhealthy",
		RuntimeCompatible: in.Health.Healthy && in.Runtime,
	}
	if in.Health.Healthy {
		m.Health = "healthy"
	}
	if r := in.Reason(); r != "" {
		m.Reason = &r
	}
	return m, in
}

// FormatTime renders a modification time as ISO 8601 in true UTC (mlx-knife
// 2.0.3 printed local time with a "Z" suffix; see docs/json-api.md).
func FormatTime(t time.Time) string {
	if t.IsZero() {
		return "1970-01-01T00:00:00Z"
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// ForEach runs fn(0..n-1) on a bounded pool of goroutines.
func ForEach(n int, fn func(i int)) {
	workers := min(n, 4*runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	next := make(chan int)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// detectFramework reads the model card only when the name does not
// already say MLX: most cached MLX models are mlx-community's.
func detectFramework(repoID string, l snapfiles.Listing, config map[string]any) string {
	if strings.Contains(repoID, "mlx-community/") || ReadFrontMatter(l).SaysMLX() {
		return MLX
	}
	for _, f := range l.Files {
		if strings.HasSuffix(f.Rel, ".gguf") {
			return GGUF
		}
	}
	// mlx-lm writes its quantization parameters under "quantization"
	// (Hugging Face uses "quantization_config"): a private-org MLX model
	// without a model card is still recognised (mlx-knife issue #48).
	if q, isMap := config["quantization"].(map[string]any); isMap && len(q) > 0 {
		return MLX
	}
	for _, f := range l.Files {
		b := f.Base()
		if strings.HasSuffix(b, ".safetensors") || strings.HasPrefix(b, "pytorch_model") && strings.HasSuffix(b, ".bin") {
			return PyTorch
		}
	}
	return Unknown
}

func detectModelType(repoID string, config map[string]any, chatTemplate bool) string {
	low := strings.ToLower(repoID)
	switch {
	case strings.Contains(low, "embed"):
		return "embedding"
	case config["model_type"] == "chat", chatTemplate:
		return "chat"
	case strings.Contains(low, "instruct"), strings.Contains(low, "chat"):
		return "chat"
	}
	return "base"
}

func capabilities(modelType string) []string {
	switch modelType {
	case "embedding":
		return []string{"embeddings"}
	case "chat":
		return []string{"text-generation", "chat"}
	}
	return []string{"text-generation"}
}

// tokenizerJSONLimit bounds the tokenizer.json read for a chat template;
// real ones reach tens of megabytes.
const tokenizerJSONLimit = 256 << 20

// hasChatTemplate looks for a chat template where transformers keeps one:
// chat_template.jinja or chat_template.json files, then a non-blank
// "chat_template" (string, or a list of named templates) in
// tokenizer_config.json, then in tokenizer.json. Both JSON files can be
// megabytes, so a byte search rules most of them out and jsonscan reads
// only the one value.
func hasChatTemplate(l snapfiles.Listing) bool {
	if l.Present("chat_template.jinja") || l.Present("chat_template.json") {
		return true
	}
	for _, name := range []string{"tokenizer_config.json", "tokenizer.json"} {
		b, err := l.ReadFile(name, tokenizerJSONLimit)
		if err != nil || !bytes.Contains(b, []byte(`"chat_template"`)) {
			continue
		}
		raw, found, err := jsonscan.TopLevel(b, "chat_template")
		if err != nil || !found {
			continue
		}
		var v any
		if json.Unmarshal(raw, &v) == nil && templateValue(v) {
			return true
		}
	}
	return false
}

func templateValue(v any) bool {
	switch t := v.(type) {
	case string:
		return strings.TrimSpace(t) != ""
	case []any:
		for _, item := range t {
			if m, isMap := item.(map[string]any); isMap {
				if s, isStr := m["template"].(string); isStr && strings.TrimSpace(s) != "" {
					return true
				}
			}
		}
	}
	return false
}

// Metadata is the summary of config.json that show prints by default.
// Keys appear only when config.json has them.
type Metadata struct {
	ModelType         any    `json:"model_type,omitempty"`
	Architecture      any    `json:"architecture,omitempty"`
	Quantization      string `json:"quantization,omitempty"`
	ContextLength     any    `json:"context_length,omitempty"`
	VocabSize         any    `json:"vocab_size,omitempty"`
	HiddenSize        any    `json:"hidden_size,omitempty"`
	NumAttentionHeads any    `json:"num_attention_heads,omitempty"`
	NumHiddenLayers   any    `json:"num_hidden_layers,omitempty"`
}

// ExtractMetadata summarises a config. Quantization is read from MLX's
// "quantization" as well as Hugging Face's "quantization_config" (mlx-knife
// 2.0.3 read only the latter, so MLX models showed none). It returns nil
// when nothing is known.
func ExtractMetadata(config map[string]any) *Metadata {
	if config == nil {
		return nil
	}
	md := &Metadata{
		ModelType:         config["model_type"],
		ContextLength:     config["max_position_embeddings"],
		VocabSize:         config["vocab_size"],
		HiddenSize:        config["hidden_size"],
		NumAttentionHeads: config["num_attention_heads"],
		NumHiddenLayers:   config["num_hidden_layers"],
	}
	if archs, isList := config["architectures"].([]any); isList && len(archs) > 0 {
		md.Architecture = archs[0]
	}
	for _, key := range []string{"quantization", "quantization_config"} {
		if q, isMap := config[key].(map[string]any); isMap {
			if bits, found := q["bits"]; found && bits != nil {
				md.Quantization = fmt.Sprintf("%vbit", bits)
				break
			}
		}
	}
	if *md == (Metadata{}) {
		return nil
	}
	return md
}
