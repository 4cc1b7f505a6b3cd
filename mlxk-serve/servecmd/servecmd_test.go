package servecmd

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/models"
	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/engine"
	"github.com/mlxk/mlxk/shared/mlxkerr"
)

// syncBuffer is a bytes.Buffer safe for the server's log writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a serve verb running in the test process.
type running struct {
	url    string
	port   int
	cancel context.CancelFunc
	done   chan error
	stderr *syncBuffer
}

// start runs serve with args on a cache holding org/Tiny and returns once
// the startup record is out.
func start(t *testing.T, backend engine.Backend, environ map[string]string, args ...string) *running {
	t.Helper()
	home := t.TempDir()
	hub := filepath.Join(home, "hf", "hub")
	src := filepath.Join(t.TempDir(), "src")
	if err := servetest.WriteModel(src, "llama-q4", servetest.ChatTemplate); err != nil {
		t.Fatal(err)
	}
	if _, err := servetest.AddToCache(hub, "org/Tiny", src); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"HF_HOME": filepath.Join(home, "hf")}
	for k, v := range environ {
		vars[k] = v
	}
	outR, outW := io.Pipe()
	r := &running{done: make(chan error, 1), stderr: &syncBuffer{}}
	env := cli.Env{Stdin: strings.NewReader(""), Stdout: outW, Stderr: r.stderr, Getenv: func(k string) string { return vars[k] },
		Now: time.Now, Home: home}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		r.done <- server{backend: backend}.serve(ctx, env, "serve", append([]string{"--host", "127.0.0.1", "--port", "0", "--json"}, args...))
		outW.Close()
	}()
	t.Cleanup(func() {
		cancel()
		<-r.done
	})
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("no startup record: %v; stderr:\n%s", err, r.stderr.String())
	}
	go io.Copy(io.Discard, outR)
	var rec struct {
		Status string  `json:"status"`
		Data   Started `json:"data"`
	}
	if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Status != "success" {
		t.Fatalf("startup record %q: %v", line, err)
	}
	r.url, r.port = rec.Data.URL, rec.Data.Port
	return r
}

// stop ends the server as a signal would and returns serve's error.
func (r *running) stop(t *testing.T) error {
	t.Helper()
	r.cancel()
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		return err
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return")
		return nil
	}
}

func portFree(t *testing.T, port int) {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		t.Fatalf("port %d still taken: %v", port, err)
	}
	ln.Close()
}

// openStream starts a streamed chat and returns a reader over its events.
func openStream(t *testing.T, url string, maxTokens int) (*bufio.Reader, func()) {
	t.Helper()
	body := `{"model":"org/Tiny","messages":[{"role":"user","content":"Hi"}],"stream":true,"max_tokens":` + strconv.Itoa(maxTokens) + `}`
	resp, err := http.Post(url+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
	return bufio.NewReader(resp.Body), func() { resp.Body.Close() }
}

// readEvents reads data lines until [DONE] or EOF.
func readEvents(t *testing.T, rd *bufio.Reader, n int) []string {
	t.Helper()
	var out []string
	for n < 0 || len(out) < n {
		line, err := rd.ReadString('\n')
		if d, ok := strings.CutPrefix(strings.TrimSpace(line), "data: "); ok {
			out = append(out, d)
			if d == "[DONE]" {
				return out
			}
		}
		if err != nil {
			return out
		}
	}
	return out
}

func TestShutdownLetsStreamsFinish(t *testing.T) {
	// Generation takes ~0.6 s; the grace period is longer: the stream that
	// runs when the shutdown starts ends normally.
	r := start(t, servetest.ScriptBackend{Reply: "abc", Repeat: true, Step: 10 * time.Millisecond}, nil, "--shutdown-timeout", "20s")
	rd, closeBody := openStream(t, r.url, 60)
	defer closeBody()
	readEvents(t, rd, 2)
	errc := make(chan error, 1)
	go func() { errc <- r.stop(t) }()
	rest := readEvents(t, rd, -1)
	if len(rest) < 2 || rest[len(rest)-1] != "[DONE]" || !strings.Contains(rest[len(rest)-2], `"finish_reason":"length"`) {
		t.Fatalf("stream did not finish normally: %q", rest[max(0, len(rest)-3):])
	}
	if err := <-errc; err != nil {
		t.Fatalf("serve: %v", err)
	}
	portFree(t, r.port)
	if !strings.Contains(r.stderr.String(), "mlxk-serve stopped") {
		t.Errorf("stderr:\n%s", r.stderr.String())
	}
}

func TestShutdownEndsLongStreams(t *testing.T) {
	// An endless generation outlives the grace period: its stream gets an
	// error event and [DONE], and serve returns.
	r := start(t, servetest.ScriptBackend{Reply: "abc", Repeat: true, Step: 5 * time.Millisecond}, nil, "--shutdown-timeout", "200ms")
	rd, closeBody := openStream(t, r.url, 100000)
	defer closeBody()
	readEvents(t, rd, 2)
	began := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- r.stop(t) }()
	rest := readEvents(t, rd, -1)
	if len(rest) < 2 || rest[len(rest)-1] != "[DONE]" || !strings.Contains(rest[len(rest)-2], `"code":"server_shutdown"`) {
		t.Fatalf("stream end: %q", rest[max(0, len(rest)-3):])
	}
	if err := <-errc; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("shutdown took %v", took)
	}
	portFree(t, r.port)
	// New requests were refused while draining; after the stop nothing listens.
	if _, err := http.Get(r.url + "/health"); err == nil {
		t.Error("server still answers after stop")
	}
}

func TestPreloadHealth(t *testing.T) {
	// /health is 503 while --model loads, 200 once it is loaded.
	r := start(t, servetest.ScriptBackend{Reply: "x", LoadDelay: 300 * time.Millisecond}, nil, "--model", "org/Tiny")
	deadline := time.Now().Add(10 * time.Second)
	first := true
	for {
		resp, err := http.Get(r.url + "/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if first && resp.StatusCode != 503 {
			t.Fatalf("health %d while loading", resp.StatusCode)
		}
		first = false
		if resp.StatusCode == 200 {
			break
		}
		if resp.StatusCode != 503 || time.Now().After(deadline) {
			t.Fatalf("health %d", resp.StatusCode)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := r.stop(t); err != nil {
		t.Fatal(err)
	}
}

func TestPreloadFailureStopsTheServer(t *testing.T) {
	r := start(t, servetest.ScriptBackend{LoadErr: errors.New("truncated weights")}, nil, "--model", "org/Tiny")
	select {
	case err := <-r.done:
		r.done <- err
		var e *mlxkerr.Error
		if !errors.As(err, &e) || e.Type != models.ErrLoadFailed || !strings.Contains(e.Message, "truncated weights") {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server kept running after its --model failed to load")
	}
	portFree(t, r.port)
}

func TestConfigPrecedence(t *testing.T) {
	env := func(vars map[string]string) cli.Env {
		return cli.Env{Getenv: func(k string) string { return vars[k] }, Stdout: io.Discard, Stderr: io.Discard}
	}
	c, err := parseConfig(env(map[string]string{"MLXK_PORT": "9001", "MLXK_HOST": "0.0.0.0", "MLXK_PARALLEL": "3",
		"MLXK_KEEP_ALIVE": "-1", "MLXK_API_KEY": "a, b", "MLXK2_MAX_TOKENS": "77", "MLXK_MEMORY_LIMIT": "2GiB", "MLXK_LOOKAHEAD": "3"}), "serve", []string{"--port", "9002"})
	if err != nil {
		t.Fatal(err)
	}
	if c.port != 9002 || c.host != "0.0.0.0" || c.parallel != 3 || c.keepAlive != -1 || c.maxTokens != 77 || c.memoryLimit != 2<<30 || c.lookahead != 3 {
		t.Errorf("flag > env > default broken: %+v", c)
	}
	if strings.Join(c.apiKeys, "|") != "a|b" {
		t.Errorf("api keys %q", c.apiKeys)
	}
	c, err = parseConfig(env(nil), "serve", nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.host != "127.0.0.1" || c.port != 8000 || c.keepAlive != 5*time.Minute || c.memoryLimit != -1 || c.corsOrigins != nil {
		t.Errorf("defaults: %+v", c)
	}
	for _, bad := range []struct {
		vars map[string]string
		args []string
		want string
	}{
		{map[string]string{"MLXK_PORT": "http"}, nil, "MLXK_PORT"},
		{nil, []string{"--keep-alive", "soon"}, "keep-alive"},
		{nil, []string{"--memory-limit", "lots"}, "memory-limit"},
		{nil, []string{"--parallel", "0"}, "parallel"},
		{nil, []string{"--lookahead", "-2"}, "lookahead"},
		{nil, []string{"extra"}, "no arguments"},
		{nil, []string{"--api-key-file", "/nonexistent/keys"}, "api-key-file"},
	} {
		if _, err := parseConfig(env(bad.vars), "serve", bad.args); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%v %v: error %v, want one naming %s", bad.vars, bad.args, err, bad.want)
		}
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"": -1, "0": 0, "512": 512, "8GB": 8e9, "512MiB": 512 << 20, "1.5G": 3 << 29, "100B": 100} {
		got, err := parseBytes(in)
		if err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"x", "-1", "GB", "1e30"} {
		if _, err := parseBytes(bad); err == nil {
			t.Errorf("parseBytes(%q) accepted", bad)
		}
	}
}
