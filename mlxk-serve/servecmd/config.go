package servecmd

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/openai"
	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/mlxkerr"
)

const usage = "serve [--host H] [--port P] [--model M] [--max-tokens N] [--api-key K|--api-key-file F] " +
	"[--cors-origins O,...] [--parallel N] [--max-queue N] [--keep-alive D] [--max-models N] [--memory-limit B] " +
	"[--threads N] [--lookahead N] [--shutdown-timeout D] [--log-json] [--json]"

// config is the parsed command line.
type config struct {
	host            string
	port            int
	model           string
	maxTokens       int
	apiKeys         []string
	corsOrigins     []string
	parallel        int
	maxQueue        int
	keepAlive       time.Duration
	maxModels       int
	memoryLimit     int64 // -1: the default (a share of RAM)
	threads         int
	lookahead       int
	shutdownTimeout time.Duration
	mode            cli.Mode
	logJSON         bool
}

// envTwins maps each flag to its environment variables, first match
// wins; flags beat the environment, which beats the defaults. MLXK2_*
// names are MLX Knife's.
var envTwins = map[string][]string{
	"host":             {"MLXK_HOST", "MLXK2_HOST"},
	"port":             {"MLXK_PORT", "MLXK2_PORT"},
	"model":            {"MLXK_MODEL", "MLXK2_PRELOAD_MODEL"},
	"max-tokens":       {"MLXK_MAX_TOKENS", "MLXK2_MAX_TOKENS"},
	"api-key":          {"MLXK_API_KEY"},
	"api-key-file":     {"MLXK_API_KEY_FILE"},
	"cors-origins":     {"MLXK_CORS_ORIGINS"},
	"parallel":         {"MLXK_PARALLEL"},
	"max-queue":        {"MLXK_MAX_QUEUE"},
	"keep-alive":       {"MLXK_KEEP_ALIVE"},
	"max-models":       {"MLXK_MAX_MODELS"},
	"memory-limit":     {"MLXK_MEMORY_LIMIT"},
	"threads":          {"MLXK_THREADS"},
	"lookahead":        {"MLXK_LOOKAHEAD"},
	"shutdown-timeout": {"MLXK_SHUTDOWN_TIMEOUT"},
	"log-json":         {"MLXK_LOG_JSON", "MLXK2_LOG_JSON"},
}

func parseConfig(env cli.Env, verb string, args []string) (*config, error) {
	fs := cli.NewFlags(verb, usage)
	c := &config{}
	fs.StringVar(&c.host, "host", "127.0.0.1", "address to listen on (0.0.0.0: every interface)")
	fs.IntVar(&c.port, "port", 8000, "port to listen on (0: any free port; --json reports it)")
	fs.StringVar(&c.model, "model", "", "model to load at startup and keep loaded (a cached name or a ./folder)")
	fs.IntVar(&c.maxTokens, "max-tokens", 0, "default generation limit (0: the rest of the context)")
	apiKey := fs.String("api-key", "", "require this bearer token (comma-separated for several)")
	apiKeyFile := fs.String("api-key-file", "", "require one of the bearer tokens in this file (one per line)")
	cors := fs.String("cors-origins", "", "browser origins allowed to call the API, comma-separated, or * (default: none)")
	fs.IntVar(&c.parallel, "parallel", 8, "sequences generated together per model (continuous batching)")
	fs.IntVar(&c.maxQueue, "max-queue", 64, "requests that may wait per model beyond --parallel; more get 429")
	keepAlive := fs.String("keep-alive", "5m", "how long an idle model stays loaded (0: unload at once, -1: forever)")
	fs.IntVar(&c.maxModels, "max-models", 1, "models loaded at once; another model unloads the least recently used idle one")
	memLimit := fs.String("memory-limit", "", "memory budget for loaded models, e.g. 8GB (default: 80% of RAM; 0: none)")
	fs.IntVar(&c.threads, "threads", 0, "compute threads per model (0: all CPUs)")
	fs.IntVar(&c.lookahead, "lookahead", 0, "prompt-lookup drafts of up to N tokens for a request decoding alone (same answers; fewer passes when answers copy)")
	fs.DurationVar(&c.shutdownTimeout, "shutdown-timeout", 10*time.Second, "on SIGINT/SIGTERM, how long running requests may finish")
	out := fs.OutputFlags("")
	pos, err := fs.Parse(env, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, mlxkerr.Usagef("serve takes no arguments, got %q (usage: %s)", pos[0], usage)
	}
	if err := applyEnv(env, fs.FlagSet); err != nil {
		return nil, err
	}
	c.mode = out.Mode()
	c.logJSON = out.LogJSON()
	switch {
	case c.port < 0 || c.port > 65535:
		return nil, mlxkerr.Usagef("--port %d: must be 0-65535", c.port)
	case c.maxTokens < 0:
		return nil, mlxkerr.Usagef("--max-tokens must be positive")
	case c.parallel < 1:
		return nil, mlxkerr.Usagef("--parallel must be at least 1")
	case c.maxQueue < 0:
		return nil, mlxkerr.Usagef("--max-queue must be 0 or more")
	case c.maxModels < 1:
		return nil, mlxkerr.Usagef("--max-models must be at least 1")
	case c.threads < 0:
		return nil, mlxkerr.Usagef("--threads must be 0 or more")
	case c.lookahead < 0 || c.lookahead > 64:
		return nil, mlxkerr.Usagef("--lookahead must be between 0 and 64")
	case c.shutdownTimeout < 0:
		return nil, mlxkerr.Usagef("--shutdown-timeout must be 0 or more")
	}
	if c.keepAlive, err = openai.ParseKeepAlive(jsonString(*keepAlive)); err != nil {
		return nil, mlxkerr.Usagef("--keep-alive %q: %v", *keepAlive, err)
	}
	if c.memoryLimit, err = parseBytes(*memLimit); err != nil {
		return nil, mlxkerr.Usagef("--memory-limit %q: %v", *memLimit, err)
	}
	c.corsOrigins = splitList(*cors)
	c.apiKeys = splitList(*apiKey)
	if *apiKeyFile != "" {
		keys, err := readKeyFile(*apiKeyFile)
		if err != nil {
			return nil, mlxkerr.Usagef("--api-key-file: %v", err)
		}
		c.apiKeys = append(c.apiKeys, keys...)
	}
	return c, nil
}

// applyEnv sets every flag not given on the command line from its
// environment twin, through the flag's own parser so values are checked
// the same way.
func applyEnv(env cli.Env, fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, vars := range envTwins {
		if set[name] || fs.Lookup(name) == nil {
			continue
		}
		for _, v := range vars {
			val := env.Getenv(v)
			if val == "" {
				continue
			}
			if name == "log-json" {
				val = strconv.FormatBool(val == "1" || strings.EqualFold(val, "true"))
			}
			if err := fs.Set(name, val); err != nil {
				return mlxkerr.Usagef("%s=%q: %v", v, val, err)
			}
			break
		}
	}
	return nil
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// readKeyFile reads API keys, one per line; blank lines and # comments
// are skipped.
func readKeyFile(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			keys = append(keys, line)
		}
	}
	if len(keys) == 0 {
		return nil, errors.New(path + " holds no key")
	}
	return keys, nil
}

// parseBytes reads a size: a number of bytes, or with a unit (KB, MB, GB,
// TB are powers of 1000; KiB, MiB, GiB, TiB powers of 1024). "" is the
// default (-1).
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return -1, nil
	}
	units := []struct {
		suffix string
		mult   float64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
		{"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}, {"B", 1}}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(strings.ToUpper(s), strings.ToUpper(u.suffix)) {
			s, mult = strings.TrimSpace(s[:len(s)-len(u.suffix)]), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v*mult > 1<<62 {
		return 0, fmt.Errorf("not a size (e.g. 8GB, 512MiB, 0)")
	}
	return int64(v * mult), nil
}
