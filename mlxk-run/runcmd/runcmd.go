// Package runcmd implements the mlxk-run binary: `run` generates text from
// a cached model (or a workspace folder) with the native engine, single
// shot or as an interactive chat; `embed` prints texts' embeddings.
package runcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/engine"
	"github.com/mlxk/mlxk/shared/engine/sample"
	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/mlxkerr"
	"github.com/mlxk/mlxk/shared/modelinfo"
	"github.com/mlxk/mlxk/shared/sysmem"
	"github.com/mlxk/mlxk/shared/textgen"
	"github.com/mlxk/mlxk/shared/workspace"
)

// Program is the mlxk-run binary.
var Program = cli.Program{
	Name:  "mlxk-run",
	Verbs: []cli.Verb{{Name: "run", Usage: usage, Run: run}, {Name: "embed", Usage: embedUsage, Run: embed}},
}

// Main runs mlxk-run with the process environment.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	engine.LimitGarbage()
	return Program.Main(ctx, cli.OSEnv(stdin, stdout, stderr), args)
}

const usage = "run <model|./workspace> [prompt…|-] [--system S] [--max-tokens N] [--temperature T] [--top-p P] " +
	"[--top-k K] [--min-p M] [--repetition-penalty R] [--seed N] [--stop S]… [--no-stream] [--no-chat-template] " +
	"[--no-reasoning] [--ignore-eos] [--lookahead N] [--verbose] [--json|--jsonl]"

// Error types of run. mlx-knife 2.0.3 reports every failure as
// execution_error; resolution failures keep the cache's own types.
const (
	errExecution    = "execution_error"
	errIncompatible = "model_incompatible"
	errUnhealthy    = "model_unhealthy"
	errInterrupted  = "interrupted"
	errMemory       = "insufficient_memory"
)

// options are the parsed flags of one run.
type options struct {
	system         string
	maxTokens      int
	params         sample.Params
	stops          []string
	noStream       bool
	noChatTemplate bool
	noReasoning    bool
	ignoreEOS      bool
	lookahead      int
	verbose        bool
	mode           cli.Mode
	seed           int64
}

func run(ctx context.Context, env cli.Env, verb string, args []string) error {
	fs := cli.NewFlags(verb, usage)
	o := &options{}
	fs.StringVar(&o.system, "system", "", "system prompt")
	fs.IntVar(&o.maxTokens, "max-tokens", 0, "most tokens to generate (default: the rest of the context)")
	temp := fs.Float64("temperature", 0.7, "sampling temperature; 0 picks the most likely token")
	topP := fs.Float64("top-p", 0.9, "nucleus sampling mass (1 turns it off)")
	topK := fs.Int("top-k", 0, "keep the K most likely tokens (0 turns it off)")
	minP := fs.Float64("min-p", 0, "drop tokens below this fraction of the top probability")
	rep := fs.Float64("repetition-penalty", 1.1, "penalty for tokens among the last 20 (1 turns it off)")
	fs.Int64Var(&o.seed, "seed", -1, "random seed for reproducible sampling")
	fs.Func("stop", "stop generating at this text (repeatable)", func(s string) error {
		o.stops = append(o.stops, s)
		return nil
	})
	fs.BoolVar(&o.noStream, "no-stream", false, "print the answer when it is complete")
	fs.BoolVar(&o.noChatTemplate, "no-chat-template", false, "send the prompt as typed, without the chat template")
	fs.BoolVar(&o.noReasoning, "no-reasoning", false, "hide the model's reasoning")
	fs.BoolVar(&o.ignoreEOS, "ignore-eos", false, "keep generating through end-of-turn tokens (benchmarks)")
	fs.IntVar(&o.lookahead, "lookahead", 0, "feed up to N tokens that followed the text's last words earlier in the prompt or answer as a draft; same output, fewer passes when answers copy")
	fs.BoolVar(&o.verbose, "verbose", false, "print load time, token counts, speeds and memory on stderr")
	out := fs.OutputFlags("print one JSON record per token, then the envelope")
	pos, err := fs.Parse(env, args)
	if err != nil {
		return err
	}
	o.mode = out.Mode()
	if len(pos) < 1 {
		return mlxkerr.Usagef("run needs a model (usage: %s)", usage)
	}
	if o.maxTokens < 0 {
		return mlxkerr.Usagef("--max-tokens must be positive")
	}
	if o.lookahead < 0 || o.lookahead > 64 {
		return mlxkerr.Usagef("--lookahead must be between 0 and 64")
	}
	o.params = sample.Params{Temperature: float32(*temp), TopP: float32(*topP), TopK: *topK,
		MinP: float32(*minP), RepetitionPenalty: float32(*rep)}
	if *rep == 1 {
		o.params.RepetitionPenalty = 0
	}
	if o.seed >= 0 {
		s := uint64(o.seed)
		o.params.Seed = &s
	}
	if err := validParams(o.params); err != nil {
		return mlxkerr.Usagef("%v", err)
	}

	spec := pos[0]
	prompt, interactive, err := readPrompt(env, pos[1:])
	if err != nil {
		return err
	}
	if interactive && o.mode != cli.Human {
		return mlxkerr.New(mlxkerr.CommandError, "interactive mode is not compatible with JSON output; give a prompt")
	}

	dir, info, err := locate(env, spec)
	if err != nil {
		return err
	}
	if !slices.Contains(info.Capabilities, "text-generation") {
		return mlxkerr.New(errIncompatible, "model %s does not generate text (capabilities: %s); for embeddings use: mlxk embed %s <text>",
			info.Name, strings.Join(info.Capabilities, ", "), spec)
	}
	if o.verbose {
		fmt.Fprintf(env.Stderr, "Loading model from %s...\n", dir)
	}
	m, err := load(ctx, dir, spec)
	if err != nil {
		return err
	}
	defer m.Close()
	if o.verbose {
		printLoadInfo(env.Stderr, m)
	}
	r := &runner{env: env, o: o, m: m, spec: spec}
	if interactive {
		return r.chat(ctx)
	}
	return r.single(ctx, prompt)
}

// load loads the model folder dir (named spec) on the native engine. It
// refuses a model whose weights and KV cache (up to 8k tokens of its
// context) would not fit in physical memory, before mapping anything.
func load(ctx context.Context, dir, spec string) (*textgen.Model, error) {
	opts := engine.LoadOptions{ContextTokens: min(textgen.ContextLength(dir), 8192)}
	if total, err := sysmem.Total(); err == nil {
		opts.MemoryLimit = int64(total)
	}
	m, err := textgen.Load(ctx, engine.Native{}, dir, opts)
	if errors.Is(err, engine.ErrTooLarge) {
		return nil, mlxkerr.Wrap(errMemory, err, "load %s", spec)
	}
	if err != nil {
		return nil, mlxkerr.Wrap(errExecution, err, "load %s", spec)
	}
	return m, nil
}

// readPrompt joins the positional prompt words; "-" reads stdin first
// (`cat doc.txt | mlxk run m - "summarize"` puts the document, a blank
// line, then the instruction). No words at all means interactive chat.
func readPrompt(env cli.Env, words []string) (string, bool, error) {
	if len(words) == 0 {
		return "", true, nil
	}
	if words[0] != "-" {
		return strings.Join(words, " "), false, nil
	}
	b, err := io.ReadAll(env.Stdin)
	if err != nil {
		return "", false, mlxkerr.Wrap(errExecution, err, "read prompt from stdin")
	}
	p := strings.TrimRight(string(b), "\n")
	if rest := strings.Join(words[1:], " "); rest != "" {
		p += "\n\n" + rest
	}
	return p, false, nil
}

// locate finds the model folder and refuses, before anything is loaded,
// models that are missing, ambiguous, unhealthy or not runnable.
func locate(env cli.Env, spec string) (string, modelinfo.Model, error) {
	var model modelinfo.Model
	var dir string
	if workspace.IsExplicitPath(spec) {
		st, err := os.Stat(spec)
		if err != nil || !st.IsDir() {
			return "", model, mlxkerr.New(mlxkerr.ModelNotFound, "%s is not a model folder", spec)
		}
		model, _ = modelinfo.DescribeWorkspace(spec)
		dir = spec
	} else {
		cache := hubcache.Cache{Dir: hubcache.Locate(env.Getenv, env.Home)}
		res, err := cache.Resolve(spec)
		if err != nil {
			return "", model, err
		}
		if !res.HasSnapshot {
			return "", model, mlxkerr.New(mlxkerr.ModelNotFound, "model %s has no snapshot in the cache; try: mlxk pull %s", res.Repo.ID, res.Repo.ID)
		}
		model, _ = modelinfo.Describe(res)
		dir = res.Path()
	}
	reason := ""
	if model.Reason != nil {
		reason = *model.Reason
	}
	if model.Health != "healthy" {
		return "", model, mlxkerr.New(errUnhealthy, "model %s is not healthy: %s", model.Name, reason)
	}
	if !model.RuntimeCompatible {
		return "", model, mlxkerr.New(errIncompatible, "model %s is not compatible: %s", model.Name, reason)
	}
	return dir, model, nil
}

func printLoadInfo(w io.Writer, m *textgen.Model) {
	info := m.Engine.Info()
	fmt.Fprintf(w, "Model loaded in %.1fs (%s, %s, %.1f MB of weights)\n", m.LoadTime.Seconds(),
		info.ModelType, info.Quantization, float64(info.Estimate.WeightBytes)/1e6)
	fmt.Fprintf(w, "Model context length: %d tokens\n", m.ContextLength)
	var stops []string
	for _, id := range m.EOS {
		s, _ := m.Tok.Token(int(id))
		stops = append(stops, fmt.Sprintf("%d %q", id, s))
	}
	fmt.Fprintf(w, "Stop tokens: [%s]\n", strings.Join(stops, ", "))
}

// validParams checks sampling settings and names the flag that is wrong.
func validParams(p sample.Params) error {
	err := p.Validate()
	var pe *sample.ParamError
	if errors.As(err, &pe) {
		flag := map[string]string{"Temperature": "temperature", "TopP": "top-p", "TopK": "top-k", "MinP": "min-p",
			"RepetitionPenalty": "repetition-penalty"}[pe.Field]
		if flag != "" {
			return fmt.Errorf("--%s %s: %s", flag, pe.Value, pe.Reason)
		}
	}
	return err
}
