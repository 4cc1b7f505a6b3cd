package logx_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlxk/mlxk/shared/internal/testutil"

	"github.com/mlxk/mlxk/shared/logx"
)

const (
	token  = "hf_abcdefghijklmnopqrstuvwxyz0123" // 30 alphanumerics after hf_
	token2 = "HF_ZYXWVUTSRQPONMLKJIHGFEDCBA98765432"
	home   = "/home/alice"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	r := logx.Redactor{Home: home}
	tests := []struct {
		in, want string
	}{
		{"token " + token + " end", "token [REDACTED_TOKEN] end"},
		{token2, "[REDACTED_TOKEN]"},
		{"Hf_" + strings.Repeat("A", 30), "[REDACTED_TOKEN]"},
		{"two: " + token + "," + token2 + ".", "two: [REDACTED_TOKEN],[REDACTED_TOKEN]."},
		{"Bearer " + token + "xyz", "Bearer [REDACTED_TOKEN]"},
		{"short hf_" + strings.Repeat("a", 29), "short hf_" + strings.Repeat("a", 29)},
		{"hf-" + strings.Repeat("a", 40), "hf-" + strings.Repeat("a", 40)},
		{"hf_" + strings.Repeat("a", 29) + "-" + strings.Repeat("b", 30), "hf_" + strings.Repeat("a", 29) + "-" + strings.Repeat("b", 30)},
		{"path " + home + "/.cache/huggingface/hub", "path ~/.cache/huggingface/hub"},
		{home + " and " + home, "~ and ~"},
		{"/home/bob/x", "/home/bob/x"},
		{"token at " + home + ": " + token, "token at ~: [REDACTED_TOKEN]"},
	}
	for _, tc := range tests {
		if got := r.Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := (logx.Redactor{}).Redact("/home/alice/x " + token); got != "/home/alice/x [REDACTED_TOKEN]" {
		t.Errorf("Redact without home = %q", got)
	}
	if got := (logx.Redactor{Home: "/"}).Redact("/usr/bin"); got != "/usr/bin" {
		t.Errorf("Redact with home / = %q", got)
	}
}

func decodeLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not JSON: %v", line, err)
		}
		recs = append(recs, m)
	}
	return recs
}

func TestJSON(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logx.New(&buf, logx.Options{JSON: true, Level: slog.LevelDebug, Home: home})
	before := time.Now()
	log.Info("pulling with "+token+" into "+home+"/hub",
		"model", "org/m",
		"path", home+"/hub/models--org--m",
		"token", token2,
		"n", 3,
		"u", uint64(7),
		"ratio", 0.5,
		"ok", true,
		"took", 1500*time.Millisecond,
		"at", time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("x", 3600)),
		"err", errors.New("auth failed for "+token),
		"any", []string{token},
	)
	after := time.Now()
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("not one line: %q", out)
	}
	if strings.Contains(out, "hf_") || strings.Contains(strings.ToLower(out), "hf_") || strings.Contains(out, home) {
		t.Errorf("secret leaked: %s", out)
	}
	wantKeys := []string{"ts", "level", "msg", "model", "path", "token", "n", "u", "ratio", "ok", "took", "at", "err", "any"}
	if got := testutil.Keys(t, []byte(out)); !slices.Equal(got, wantKeys) {
		t.Errorf("keys = %q, want %q", got, wantKeys)
	}
	rec := decodeLines(t, out)[0]
	want := map[string]any{
		"level": "INFO",
		"msg":   "pulling with [REDACTED_TOKEN] into ~/hub",
		"model": "org/m",
		"path":  "~/hub/models--org--m",
		"token": "[REDACTED_TOKEN]",
		"n":     3.0,
		"u":     7.0,
		"ratio": 0.5,
		"ok":    true,
		"took":  1500.0,
		"at":    "2025-01-02T02:04:05Z",
		"err":   "auth failed for [REDACTED_TOKEN]",
		"any":   "[[REDACTED_TOKEN]]",
	}
	for k, v := range want {
		if rec[k] != v {
			t.Errorf("%s = %#v, want %#v", k, rec[k], v)
		}
	}
	ts, isNum := rec["ts"].(float64)
	lo, hi := float64(before.UnixNano())/1e9, float64(after.UnixNano())/1e9
	if !isNum || ts < lo-0.001 || ts > hi+0.001 {
		t.Errorf("ts = %v, want a unix time in [%f, %f]", rec["ts"], lo, hi)
	}
}

func TestJSONLevels(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logx.New(&buf, logx.Options{JSON: true, Level: slog.LevelDebug})
	log.Debug("d")
	log.Info("i")
	log.Warn("w")
	log.Error("e")
	log.Log(context.Background(), slog.LevelError+4, "fatal")
	var got []string
	for _, r := range decodeLines(t, buf.String()) {
		got = append(got, r["level"].(string)+":"+r["msg"].(string))
	}
	want := []string{"DEBUG:d", "INFO:i", "WARN:w", "ERROR:e", "ERROR:fatal"}
	if !slices.Equal(got, want) {
		t.Errorf("levels = %q, want %q", got, want)
	}
}

func TestJSONZeroTimeUsesNow(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	now := time.Unix(1700000000, 250_000_000)
	log := logx.New(&buf, logx.Options{JSON: true, Now: func() time.Time { return now }})
	r := slog.NewRecord(time.Time{}, slog.LevelWarn, "m", 0)
	if err := log.Handler().Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	rec := decodeLines(t, buf.String())[0]
	if ts := rec["ts"].(float64); math.Abs(ts-1700000000.25) > 1e-6 {
		t.Errorf("ts = %f, want 1700000000.25", ts)
	}
	// A record with a time keeps it.
	buf.Reset()
	r = slog.NewRecord(time.Unix(1600000000, 0), slog.LevelWarn, "m", 0)
	if err := log.Handler().Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if ts := decodeLines(t, buf.String())[0]["ts"].(float64); ts != 1600000000 {
		t.Errorf("ts = %f, want 1600000000", ts)
	}
}

func TestJSONWithAttrsAndGroup(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logx.New(&buf, logx.Options{JSON: true, Home: home})
	log.With("request_id", "r1", "secret", token).Info("m", "k", "v")
	log.WithGroup("http").Info("m", "status", 200)
	rec := decodeLines(t, buf.String())
	if rec[0]["request_id"] != "r1" || rec[0]["secret"] != "[REDACTED_TOKEN]" || rec[0]["k"] != "v" {
		t.Errorf("With attrs: %v", rec[0])
	}
	if got := testutil.Keys(t, []byte(strings.Split(buf.String(), "\n")[0])); !slices.Equal(got, []string{"ts", "level", "msg", "request_id", "secret", "k"}) {
		t.Errorf("keys = %q", got)
	}
	if rec[1]["http.status"] != 200.0 {
		t.Errorf("group attr: %v", rec[1])
	}
}

// Attributes added before WithGroup are not qualified by the group (the
// log/slog Handler contract).
func TestJSONAttrsBeforeGroupStayUnqualified(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logx.New(&buf, logx.Options{JSON: true})
	log.With("request_id", "r1").WithGroup("http").Info("m", "status", 200)
	rec := decodeLines(t, buf.String())[0]
	if rec["request_id"] != "r1" || rec["http.status"] != 200.0 {
		t.Errorf("record = %v, want request_id at the top and http.status", rec)
	}
}

func TestPlain(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logx.New(&buf, logx.Options{Level: slog.LevelDebug, Home: home})
	log.Info("hello " + home)
	log.Warn("careful", "token", token)
	log.Error("boom", "n", 2)
	log.Debug("details")
	want := "hello ~\n" +
		"[WARN] careful token=[REDACTED_TOKEN]\n" +
		"[ERROR] boom n=2\n" +
		"[DEBUG] details\n"
	if buf.String() != want {
		t.Errorf("plain output =\n%s\nwant\n%s", buf.String(), want)
	}
}

func TestLevelFilter(t *testing.T) {
	t.Parallel()
	for _, json := range []bool{false, true} {
		var buf bytes.Buffer
		log := logx.New(&buf, logx.Options{JSON: json, Level: slog.LevelWarn})
		log.Debug("d")
		log.Info("i")
		if buf.Len() != 0 {
			t.Errorf("json=%v: below-level records written: %q", json, buf.String())
		}
		log.Warn("w")
		if buf.Len() == 0 {
			t.Errorf("json=%v: WARN dropped at level WARN", json)
		}
	}
	var buf bytes.Buffer
	logx.New(&buf, logx.Options{}).Debug("d")
	if buf.Len() != 0 {
		t.Errorf("DEBUG written at the default level: %q", buf.String())
	}
}

func TestDiscard(t *testing.T) {
	t.Parallel()
	log := logx.Discard()
	if log.Enabled(context.Background(), slog.LevelError) {
		t.Error("Discard logger is enabled")
	}
	log.Error("nothing")
}

func TestConcurrentLinesStayWhole(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	log := logx.New(&buf, logx.Options{JSON: true})
	var wg sync.WaitGroup
	for g := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := log.With("g", g)
			for i := range 50 {
				l.Info(strings.Repeat("x", 200), "i", i)
			}
		}()
	}
	wg.Wait()
	if n := len(decodeLines(t, buf.String())); n != 1000 {
		t.Errorf("%d lines, want 1000", n)
	}
}
