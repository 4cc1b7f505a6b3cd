package runcmd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/mlxkerr"
	"github.com/mlxk/mlxk/shared/textgen"
)

const embedUsage = "embed <model|./workspace> [text…|-] [--batch] [--query] [--instruct S] [--dimensions N] " +
	"[--verbose] [--json|--jsonl]"

// defaultTask is the retrieval instruction Qwen3-Embedding's model card
// uses for queries when none is given.
const defaultTask = "Given a web search query, retrieve relevant passages that answer the query"

// embedRecord is one embedded text. With --batch the input line's other
// fields come along (Extra).
type embedRecord struct {
	Text      string                     `json:"text"`
	Embedding []float32                  `json:"embedding"`
	Metadata  embedMetadata              `json:"metadata"`
	Extra     map[string]json.RawMessage `json:"-"`
}

type embedMetadata struct {
	Model       string `json:"model"`
	Dimensions  int    `json:"dimensions"`
	ContentHash string `json:"content_hash"` // sha256 of the text: a key to deduplicate by
	Device      string `json:"device"`
}

// MarshalJSON writes text, embedding and metadata first (mlx-knife's
// order), then the input line's other fields by name.
func (r embedRecord) MarshalJSON() ([]byte, error) {
	type head struct {
		Text      string        `json:"text"`
		Embedding []float32     `json:"embedding"`
		Metadata  embedMetadata `json:"metadata"`
	}
	b, err := json.Marshal(head{r.Text, r.Embedding, r.Metadata})
	if err != nil || len(r.Extra) == 0 {
		return b, err
	}
	buf := bytes.NewBuffer(b[:len(b)-1])
	for _, k := range slices.Sorted(maps.Keys(r.Extra)) {
		if k == "embedding" || k == "metadata" {
			continue // ours win
		}
		key, _ := json.Marshal(k)
		buf.WriteByte(',')
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(r.Extra[k])
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

// embed prints the embeddings of texts as JSON lines (mlx-knife's default
// output), or one envelope with --json.
func embed(ctx context.Context, env cli.Env, verb string, args []string) error {
	fs := cli.NewFlags(verb, embedUsage)
	batch := fs.Bool("batch", false, `read JSON lines with a "text" field from stdin; other fields are kept`)
	query := fs.Bool("query", false, "embed the texts as search queries (the model's query prompt)")
	instruct := fs.String("instruct", "", `the task of --query: "Instruct: S\nQuery:" before each text`)
	dims := fs.Int("dimensions", 0, "keep the first N values of each vector, normalized again")
	verbose := fs.Bool("verbose", false, "print load time and token counts on stderr")
	out := fs.OutputFlags("one envelope with all records (--json), or records one per line (--jsonl, the default)")
	pos, err := fs.Parse(env, args)
	if err != nil {
		return err
	}
	mode := out.Mode()
	if len(pos) < 1 {
		return mlxkerr.Usagef("embed needs a model (usage: %s)", embedUsage)
	}
	if *dims < 0 {
		return mlxkerr.Usagef("--dimensions must be positive")
	}
	if *instruct != "" {
		*query = true
	}
	spec := pos[0]
	records, err := embedInputs(env, pos[1:], *batch)
	if err != nil {
		return err
	}
	dir, _, err := locate(env, spec)
	if err != nil {
		return err
	}
	m, err := load(ctx, dir, spec)
	if err != nil {
		return err
	}
	defer m.Close()
	prefix := ""
	if *query {
		prefix = queryPrompt(dir, *instruct)
	}
	inputs := make([][]int32, len(records))
	tokens := 0
	for i, r := range records {
		inputs[i] = m.EncodeForEmbedding(prefix + r.Text)
		tokens += len(inputs[i])
	}
	vecs, err := m.EmbedTokens(ctx, inputs, *dims)
	if tooLong := (*textgen.ContextExceededError)(nil); errors.As(err, &tooLong) {
		return mlxkerr.New(errExecution, "text %d has %d tokens; the model's context is %d", tooLong.Input+1, tooLong.Tokens, tooLong.Limit)
	}
	if err != nil {
		if ctx.Err() != nil {
			return mlxkerr.Wrap(errInterrupted, ctx.Err(), "embed")
		}
		return mlxkerr.Wrap(errExecution, err, "embed with %s", spec)
	}
	if *verbose {
		fmt.Fprintf(env.Stderr, "Model loaded in %.1fs; %d texts, %d tokens\n", m.LoadTime.Seconds(), len(records), tokens)
	}
	for i := range records {
		sum := sha256.Sum256([]byte(records[i].Text))
		records[i].Embedding = vecs[i]
		records[i].Metadata = embedMetadata{Model: spec, Dimensions: len(vecs[i]), ContentHash: "sha256:" + hex.EncodeToString(sum[:]), Device: "cpu"}
	}
	if mode == cli.JSON {
		return cli.Emit(env, mode, verb, map[string]any{"records": records}, nil)
	}
	enc := json.NewEncoder(env.Stdout)
	enc.SetEscapeHTML(false)
	for _, r := range records {
		if err := enc.Encode(r); err != nil {
			return mlxkerr.Wrap(errExecution, err, "write")
		}
	}
	return nil
}

// embedInputs reads the texts: the positional words joined (one text), "-"
// for all of stdin, or with batch one JSON object per stdin line.
func embedInputs(env cli.Env, words []string, batch bool) ([]embedRecord, error) {
	if batch {
		if len(words) > 0 {
			return nil, mlxkerr.Usagef("--batch reads its texts from stdin; give no text")
		}
		return readBatch(env.Stdin)
	}
	if len(words) == 0 {
		return nil, mlxkerr.Usagef("embed needs a text, or - to read it from stdin (usage: %s)", embedUsage)
	}
	text := strings.Join(words, " ")
	if words[0] == "-" && len(words) == 1 {
		b, err := io.ReadAll(env.Stdin)
		if err != nil {
			return nil, mlxkerr.Wrap(errExecution, err, "read stdin")
		}
		text = strings.TrimRight(string(b), "\n")
	}
	if text == "" {
		return nil, mlxkerr.Usagef("the text is empty")
	}
	return []embedRecord{{Text: text}}, nil
}

// readBatch reads JSON lines with a non-empty "text" string each.
func readBatch(r io.Reader) ([]embedRecord, error) {
	var out []embedRecord
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &fields); err != nil || fields == nil {
			return nil, mlxkerr.New(mlxkerr.CommandError, "stdin line %d is not a JSON object", n)
		}
		var text string
		if err := json.Unmarshal(fields["text"], &text); err != nil || text == "" {
			return nil, mlxkerr.New(mlxkerr.CommandError, `stdin line %d has no "text" string`, n)
		}
		delete(fields, "text")
		out = append(out, embedRecord{Text: text, Extra: fields})
	}
	if err := sc.Err(); err != nil {
		return nil, mlxkerr.Wrap(errExecution, err, "read stdin")
	}
	if len(out) == 0 {
		return nil, mlxkerr.New(mlxkerr.CommandError, "stdin has no JSON lines to embed")
	}
	return out, nil
}

// queryPrompt is what goes before a search query: the model's own query
// prompt (config_sentence_transformers.json), or Qwen3-Embedding's
// "Instruct: task\nQuery:" layout with the given (or default) task.
func queryPrompt(dir, task string) string {
	if task == "" {
		var cfg struct {
			Prompts map[string]string `json:"prompts"`
		}
		if b, err := os.ReadFile(filepath.Join(dir, "config_sentence_transformers.json")); err == nil &&
			json.Unmarshal(b, &cfg) == nil && cfg.Prompts["query"] != "" {
			return cfg.Prompts["query"]
		}
		task = defaultTask
	}
	return "Instruct: " + task + "\nQuery:"
}
