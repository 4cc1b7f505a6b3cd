package live

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Settings are the live suite's environment variables (docs/live-tests.md).
type Settings struct {
	// Source is the HF_HOME of the cache under test (MLXK_LIVE_HF_HOME).
	Source string
	// Smoke is MLXK_LIVE_SMOKE=1: the generated portfolio.
	Smoke bool
	// RAM is the machine's memory, or MLXK_LIVE_RAM.
	RAM uint64
	// Select is MLXK_LIVE_MODELS (a regexp on names) and
	// MLXK_LIVE_MAX_MODELS.
	Select Selection
	// MaxTokens is MLXK_LIVE_MAX_TOKENS (default 16).
	MaxTokens int
	// TreeContent is false with MLXK_LIVE_TREE_CHECK=meta: the
	// before/after fingerprint of the source cache uses inode change times
	// instead of reading every byte.
	TreeContent bool
	// CopyLimit is MLXK_LIVE_COPY_LIMIT (default 256MB).
	CopyLimit int64
	// ServerSkip is MLXK_LIVE_SKIP_SERVER: when set, its value is the
	// reason the server tests are skipped.
	ServerSkip string
}

// Active reports whether the environment turns the live suite on: it is
// off unless MLXK_LIVE_HF_HOME names a cache or MLXK_LIVE_SMOKE=1.
func Active(getenv func(string) string) bool {
	return getenv("MLXK_LIVE_HF_HOME") != "" || getenv("MLXK_LIVE_SMOKE") == "1"
}

// Options are the suite's options under these settings: DefaultOptions
// with the token and copy limits, the server skip and the mode set.
func (s Settings) Options() Options {
	o := DefaultOptions()
	o.MaxTokens, o.CopyLimit, o.ServerSkip = s.MaxTokens, s.CopyLimit, s.ServerSkip
	if s.Smoke {
		o.Mode = "smoke"
	}
	return o
}

// SettingsFromEnv reads the settings; bad values are errors, not defaults.
func SettingsFromEnv(getenv func(string) string) (Settings, error) {
	s := Settings{
		Source:      getenv("MLXK_LIVE_HF_HOME"),
		Smoke:       getenv("MLXK_LIVE_SMOKE") == "1",
		MaxTokens:   16,
		TreeContent: true,
		CopyLimit:   256 << 20,
		ServerSkip:  getenv("MLXK_LIVE_SKIP_SERVER"),
	}
	if v := getenv("MLXK_LIVE_RAM"); v != "" {
		n, err := ParseBytes(v)
		if err != nil {
			return s, fmt.Errorf("MLXK_LIVE_RAM: %w", err)
		}
		s.RAM = n
	} else {
		n, err := SystemRAM()
		if err != nil {
			return s, err
		}
		s.RAM = n
	}
	if v := getenv("MLXK_LIVE_MODELS"); v != "" {
		re, err := regexp.Compile(v)
		if err != nil {
			return s, fmt.Errorf("MLXK_LIVE_MODELS: %w", err)
		}
		s.Select.Match = re
	}
	for _, iv := range []struct {
		name string
		dst  *int
		min  int
	}{{"MLXK_LIVE_MAX_MODELS", &s.Select.Max, 0}, {"MLXK_LIVE_MAX_TOKENS", &s.MaxTokens, 1}} {
		if v := getenv(iv.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < iv.min {
				return s, fmt.Errorf("%s=%q: want an integer of at least %d", iv.name, v, iv.min)
			}
			*iv.dst = n
		}
	}
	if v := getenv("MLXK_LIVE_COPY_LIMIT"); v != "" {
		n, err := ParseBytes(v)
		if err != nil {
			return s, fmt.Errorf("MLXK_LIVE_COPY_LIMIT: %w", err)
		}
		s.CopyLimit = int64(n)
	}
	switch v := getenv("MLXK_LIVE_TREE_CHECK"); v {
	case "", "content":
	case "meta":
		s.TreeContent = false
	default:
		return s, fmt.Errorf("MLXK_LIVE_TREE_CHECK=%q: want content or meta", v)
	}
	return s, nil
}

// ToolEnv is the environment mlxk runs in: base (the caller's), with
// HF_HOME naming the cache under test and nothing that could point
// elsewhere or reach the network.
func ToolEnv(base []string, hfHome string) []string {
	drop := []string{"HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "HF_HUB_OFFLINE", "HF_ENDPOINT",
		"HF_TOKEN", "MLXK_LOG_JSON", "MLXK_PORT", "MLXK_HOST", "MLXK_MODEL", "MLXK_API_KEY", "MLXK_API_KEY_FILE"}
	out := make([]string, 0, len(base)+4)
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(drop, k) {
			out = append(out, kv)
		}
	}
	return append(out, "HF_HOME="+hfHome, "HF_HUB_OFFLINE=1", "HF_ENDPOINT=http://127.0.0.1:9")
}

// Prepare checks the cache under test and plans the portfolio: the
// budget from the settings' RAM, the models mlxk lists there, and which
// of them run.
func Prepare(ctx context.Context, st Settings, t Tool) (Budget, []Entry, error) {
	if err := CheckSource(st.Source); err != nil {
		return Budget{}, nil, err
	}
	b := NewBudget(st.RAM)
	models, err := Discover(ctx, t)
	if err != nil {
		return b, nil, err
	}
	return b, Plan(models, b, st.Select), nil
}

// NewMachine describes this machine for the report.
func NewMachine(ctx context.Context, t Tool, b Budget) Machine {
	m := Machine{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(), RAMBytes: b.RAM, BudgetBytes: b.Limit}
	if r, err := t.Run(ctx, "--version"); err == nil && r.ExitCode == 0 {
		m.MLXKVersion = strings.TrimSpace(string(r.Stdout))
	}
	return m
}

// NewRunID names one suite run: the UTC time and the process id.
func NewRunID() string {
	return fmt.Sprintf("%s-%d", time.Now().UTC().Format("20060102T150405Z"), os.Getpid())
}

// CheckSource makes sure dir is an HF_HOME with a hub cache in it. A hub
// folder itself (models--* entries directly inside) is a common slip that
// would otherwise test an empty portfolio.
func CheckSource(dir string) error {
	if st, err := os.Stat(filepath.Join(dir, "hub")); err == nil && st.IsDir() {
		return nil
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "models--*")); len(m) > 0 {
		return fmt.Errorf("%s is a hub folder; set MLXK_LIVE_HF_HOME to its parent (the HF_HOME)", dir)
	}
	return fmt.Errorf("%s has no hub/ folder: not an HF_HOME", dir)
}
