package live

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// fakeMlxk is a stand-in for a broken mlxk: every answer breaks one rule
// the suite checks, so each test must come out failed (or skipped where
// it depends on a failed one). It proves the suite fails loudly; the
// smoke run proves it passes on the real binaries.
const fakeMlxk = `#!/bin/sh
case "$*" in
"list --jsonl")
  echo '{"name":"org/Chat-1B-4bit","hash":"0123456789012345678901234567890123456789","size_bytes":1000,"framework":"MLX","model_type":"chat","capabilities":["text-generation","chat"],"health":"healthy","runtime_compatible":true,"reason":null}'
  echo '{"name":"org/Huge-400B-4bit","hash":"","size_bytes":400000000000000,"framework":"MLX","model_type":"chat","capabilities":["chat"],"health":"healthy","runtime_compatible":true,"reason":null}' ;;
"--version") echo "mlxk fake" ;;
show*) echo '{"status":"success","data":{"metadata":{"model_type":"llama","quantization":"4bit"}}}' ;;
*--jsonl*)
  echo '{"type":"token","id":1,"text":"Hel","channel":"answer"}'
  echo '{"status":"success","command":"run","data":{"response":"Hello","reasoning":null,"finish_reason":"length","usage":{"prompt_tokens":3,"completion_tokens":16},"timings":{}}}' ;;
*--json*--verbose*)
  echo 'Stop tokens: [2 "<|im_end|>"]' >&2
  echo '{"status":"success","command":"run","data":{"response":"Hi<|im_end|>","reasoning":null,"finish_reason":"stop","usage":{"prompt_tokens":3,"completion_tokens":2},"timings":{"load_s":0.1,"prefill_s":0.01,"prefill_tokens_per_s":300,"decode_tokens_per_s":20}}}' ;;
run*) echo "something else" ;;
serve*) echo "cannot serve" >&2; exit 1 ;;
health*) echo '{"status":"success","data":{"healthy":[],"unhealthy":[{"name":"org/Chat-1B-4bit","status":"unhealthy","reason":"bad","verify":{"files_checked":1,"bytes_checked":1,"mismatches":[{"file":"model.safetensors"}]}}]}}' ;;
*) echo "unexpected: $*" >&2; exit 2 ;;
esac
`

func TestSuiteFailsLoudly(t *testing.T) {
	dir := t.TempDir()
	mlxk := filepath.Join(dir, "mlxk")
	if err := os.WriteFile(mlxk, []byte(fakeMlxk), 0o755); err != nil {
		t.Fatal(err)
	}
	source := filepath.Join(dir, "cache")
	// A snapshot for the listed model, so health_damage gets as far as
	// the fake's health answer on its intact copy.
	snap := filepath.Join(source, "hub", "models--org--Chat-1B-4bit", "snapshots", "0123456789012345678901234567890123456789")
	if err := os.MkdirAll(snap, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"config.json": "{}", "model.safetensors": "weights"} {
		if err := os.WriteFile(filepath.Join(snap, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tool := Tool{Path: mlxk, Env: ToolEnv(os.Environ(), source)}
	ctx := context.Background()
	models, err := Discover(ctx, tool)
	if err != nil {
		t.Fatal(err)
	}
	budget := NewBudget(16 * GB)
	plan := Plan(models, budget, Selection{})
	var report, progress bytes.Buffer
	opts := DefaultOptions()
	opts.Scratch, opts.Lock = t.TempDir(), filepath.Join(dir, "lock")
	opts.Server = ServerTimeouts{Start: 5 * time.Second, Stop: 5 * time.Second}
	s := &Suite{Tool: tool, Source: source, Opts: opts, Report: NewReportWriter(&report), Progress: &progress,
		Machine: NewMachine(ctx, tool, budget), RunID: "test"}
	sum, err := s.Run(ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := ReadReport(&report)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range recs {
		got[r.Model.Name+" "+r.Test] = r.Status + ": " + strings.Join(r.Failures, "; ")
		if r.Status == StatusSkip && r.Reason != nil {
			got[r.Model.Name+" "+r.Test] = "skip: " + *r.Reason
		}
	}
	for key, want := range map[string]string{
		"org/Huge-400B-4bit portfolio":       "skip: needs",
		"org/Chat-1B-4bit run_json":          `fail: stop tokens visible in the output: ["<|im_end|>"]`,
		"org/Chat-1B-4bit run_text":          "fail: human output and --json response differ at byte 0",
		"org/Chat-1B-4bit run_stream":        "fail: streamed answer and envelope response differ at byte 3",
		"org/Chat-1B-4bit server":            "fail: mlxk serve: exited before its startup record",
		"org/Chat-1B-4bit server_chat":       "skip: the server did not start",
		"org/Chat-1B-4bit server_completion": "skip: the server did not start",
		"org/Chat-1B-4bit health_verify":     "fail: health --verify: unhealthy (bad)",
		"org/Chat-1B-4bit health_damage":     "fail: the intact copy does not verify",
	} {
		if !strings.HasPrefix(got[key], want) {
			t.Errorf("%s = %q, want it to start with %q", key, got[key], want)
		}
	}
	if sum.Fail != 6 || sum.Skip != 3 || sum.Pass != 0 || len(sum.Failures) != 6 {
		t.Errorf("summary %+v", sum)
	}
	if !strings.Contains(progress.String(), "fail org/Chat-1B-4bit") {
		t.Errorf("progress:\n%s", progress.String())
	}
}

func TestLockIsExclusive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := lockExclusive(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := lockExclusive(ctx, path); err == nil {
		t.Fatal("a second holder got the lock")
	}
	unlock()
	unlock2, err := lockExclusive(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	unlock2()
}

func TestSettingsFromEnv(t *testing.T) {
	env := map[string]string{"MLXK_LIVE_HF_HOME": "/c", "MLXK_LIVE_RAM": "32GB", "MLXK_LIVE_MODELS": "qwen",
		"MLXK_LIVE_MAX_MODELS": "3", "MLXK_LIVE_MAX_TOKENS": "8", "MLXK_LIVE_TREE_CHECK": "meta", "MLXK_LIVE_COPY_LIMIT": "1MB"}
	st, err := SettingsFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if st.Source != "/c" || st.RAM != 32*GB || st.Select.Match.String() != "qwen" || st.Select.Max != 3 ||
		st.MaxTokens != 8 || st.TreeContent || st.CopyLimit != 1<<20 || st.Smoke {
		t.Errorf("settings %+v", st)
	}
	for k, v := range map[string]string{"MLXK_LIVE_RAM": "much", "MLXK_LIVE_MODELS": "(", "MLXK_LIVE_MAX_TOKENS": "0",
		"MLXK_LIVE_MAX_MODELS": "-1", "MLXK_LIVE_TREE_CHECK": "maybe", "MLXK_LIVE_COPY_LIMIT": "x"} {
		bad := map[string]string{"MLXK_LIVE_RAM": "16GB", k: v}
		if _, err := SettingsFromEnv(func(k string) string { return bad[k] }); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v", k, v, err)
		}
	}
	if err := CheckSource(filepath.Join(t.TempDir(), "none")); err == nil || !strings.Contains(err.Error(), "not an HF_HOME") {
		t.Errorf("CheckSource(missing) = %v", err)
	}
	hub := t.TempDir()
	os.Mkdir(filepath.Join(hub, "models--org--x"), 0o755)
	if err := CheckSource(hub); err == nil || !strings.Contains(err.Error(), "is a hub folder") {
		t.Errorf("CheckSource(hub) = %v", err)
	}
	home := t.TempDir()
	os.Mkdir(filepath.Join(home, "hub"), 0o755)
	if err := CheckSource(home); err != nil {
		t.Errorf("CheckSource(an HF_HOME) = %v", err)
	}
	if Active(func(string) string { return "" }) || !Active(func(k string) string { return map[string]string{"MLXK_LIVE_SMOKE": "1"}[k] }) {
		t.Error("Active")
	}
	got := ToolEnv([]string{"PATH=/bin", "HF_HOME=/user", "HF_HUB_CACHE=/user/hub", "HF_TOKEN=secret", "MLXK_PORT=1"}, "/test")
	if strings.Join(got, " ") != "PATH=/bin HF_HOME=/test HF_HUB_OFFLINE=1 HF_ENDPOINT=http://127.0.0.1:9" {
		t.Errorf("ToolEnv = %v", got)
	}
}
