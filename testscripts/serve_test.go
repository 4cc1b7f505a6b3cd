package testscripts

import (
	"bufio"
	"flag"
	"fmt"
	"github.com/mlxk/mlxk/testscripts/live"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// scriptServers holds the mlxk-serve process each script started, keyed
// by its *testscript.TestScript, like scriptHubs.
var scriptServers sync.Map

// servedProcess is a running mlxk-serve.
type servedProcess struct {
	cmd            *exec.Cmd
	port           int
	stdout, stderr *live.LockedBuffer
	exited         chan struct{}
	waitErr        error
}

const serveUsage = `usage:
  serve start [ARG...]      run mlxk-serve serve --host 127.0.0.1 --port 0 --json ARG... in the background;
                            waits for the startup record, sets $SERVE_URL and $SERVE_PORT;
                            ! serve start expects it to exit with an error (its output becomes stdout/stderr)
  serve ready [TIMEOUT]     wait until GET /health answers 200 (default 60s)
  serve stop [INT|TERM]     send the signal (default INT), wait for the exit; its stdout and stderr become the
                            script's; fails unless it exits 0 (! serve stop: unless it fails) and the port is free`

// cmdServe runs mlxk-serve as a real background process for the script.
// The process gets the script's environment (HOME, HF_HOME, PATH and the
// MLXK_* settings); see serveUsage.
func cmdServe(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("%s", serveUsage)
	}
	switch args[0] {
	case "start":
		serveStart(ts, neg, args[1:])
		return
	case "ready", "stop":
	default:
		ts.Fatalf("%s", serveUsage)
	}
	v, ok := scriptServers.Load(ts)
	if !ok {
		ts.Fatalf("serve %s: no server running; use serve start first", args[0])
	}
	p := v.(*servedProcess)
	switch args[0] {
	case "ready":
		if neg {
			ts.Fatalf("unsupported: ! serve ready")
		}
		timeout := 60 * time.Second
		if len(args) > 1 {
			d, err := time.ParseDuration(args[1])
			ts.Check(err)
			timeout = d
		}
		serveReady(ts, p, timeout)
	case "stop":
		sig := syscall.SIGINT
		if len(args) > 1 {
			switch args[1] {
			case "INT":
			case "TERM":
				sig = syscall.SIGTERM
			default:
				ts.Fatalf("serve stop: unknown signal %s", args[1])
			}
		}
		serveStop(ts, neg, p, sig)
	}
}

// serveEnv is the script's environment for the server process.
func serveEnv(ts *testscript.TestScript) []string {
	keys := []string{"HOME", "HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME", "PATH", "TMPDIR",
		"WORK", "DEMO_MODEL", "HF_ENDPOINT", "MLXK_LOG_LEVEL", "MLXK_LOG_JSON", "MLXK2_LOG_JSON",
		"MLXK_HOST", "MLXK_PORT", "MLXK_MODEL", "MLXK_MAX_TOKENS", "MLXK_API_KEY", "MLXK_API_KEY_FILE",
		"MLXK_CORS_ORIGINS", "MLXK_PARALLEL", "MLXK_MAX_QUEUE", "MLXK_KEEP_ALIVE", "MLXK_MAX_MODELS",
		"MLXK_MEMORY_LIMIT", "MLXK_THREADS", "MLXK_SHUTDOWN_TIMEOUT", "MLXK2_HOST", "MLXK2_PORT",
		"MLXK2_PRELOAD_MODEL", "MLXK2_MAX_TOKENS", "GOCOVERDIR"}
	for _, kv := range os.Environ() {
		if k, _, ok := strings.Cut(kv, "="); ok && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	var env []string
	for _, k := range keys {
		if v := ts.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func serveStart(ts *testscript.TestScript, neg bool, args []string) {
	if _, running := scriptServers.Load(ts); running {
		ts.Fatalf("serve start: a server is already running; serve stop it first")
	}
	bin := lookPathIn("mlxk-serve", ts.Getenv("PATH"))
	if bin == "" {
		ts.Fatalf("mlxk-serve is not on the script's PATH")
	}
	cmd := exec.Command(bin, append([]string{"serve", "--host", "127.0.0.1", "--port", "0", "--json"}, args...)...)
	cmd.Dir = ts.Getenv("WORK")
	cmd.Env = serveEnv(ts)
	outR, outW := io.Pipe()
	p := &servedProcess{cmd: cmd, stdout: &live.LockedBuffer{}, stderr: &live.LockedBuffer{}, exited: make(chan struct{})}
	cmd.Stdout = io.MultiWriter(p.stdout, outW)
	cmd.Stderr = p.stderr
	ts.Check(cmd.Start())
	go func() {
		p.waitErr = cmd.Wait()
		outW.Close()
		close(p.exited)
	}()
	ts.Defer(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.exited
		}
		scriptServers.Delete(ts)
	})
	// The first stdout line is the startup record with the bound port.
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(outR)
		if sc.Scan() {
			line <- sc.Text()
		} else {
			line <- ""
		}
		_, _ = io.Copy(io.Discard, outR)
	}()
	var rec string
	select {
	case rec = <-line:
	case <-time.After(60 * time.Second):
		ts.Fatalf("serve start: no startup record within 60s; stderr:\n%s", p.stderr.String())
	}
	if rec == "" || neg {
		<-p.exited
		fmt.Fprint(ts.Stdout(), p.stdout.String())
		fmt.Fprint(ts.Stderr(), p.stderr.String())
		if neg && p.waitErr == nil {
			ts.Fatalf("serve start: mlxk-serve exited 0, want an error")
		}
		if !neg {
			ts.Fatalf("serve start: mlxk-serve exited (%v) without a startup record; stderr:\n%s", p.waitErr, p.stderr.String())
		}
		return
	}
	port, url, err := live.ParseStartup([]byte(rec))
	if err != nil {
		ts.Fatalf("serve start: %v", err)
	}
	p.port = port
	scriptServers.Store(ts, p)
	ts.Setenv("SERVE_URL", url)
	ts.Setenv("SERVE_PORT", strconv.Itoa(p.port))
}

func lookPathIn(name, path string) string {
	for _, dir := range filepath.SplitList(path) {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

func serveReady(ts *testscript.TestScript, p *servedProcess, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	url := fmt.Sprintf("http://127.0.0.1:%d/health", p.port)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.exited:
			ts.Fatalf("serve ready: mlxk-serve exited (%v); stderr:\n%s", p.waitErr, p.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			ts.Fatalf("serve ready: /health not 200 within %v", timeout)
		}
	}
}

func serveStop(ts *testscript.TestScript, neg bool, p *servedProcess, sig syscall.Signal) {
	ts.Check(p.cmd.Process.Signal(sig))
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
		ts.Fatalf("serve stop: mlxk-serve did not exit within 30s of %v; stderr:\n%s", sig, p.stderr.String())
	}
	scriptServers.Delete(ts)
	fmt.Fprint(ts.Stdout(), p.stdout.String())
	fmt.Fprint(ts.Stderr(), p.stderr.String())
	switch {
	case neg && p.waitErr == nil:
		ts.Fatalf("serve stop: mlxk-serve exited 0, want a failure")
	case !neg && p.waitErr != nil:
		ts.Fatalf("serve stop: mlxk-serve: %v", p.waitErr)
	}
	// The port is free again: binding it succeeds.
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p.port))
	if err != nil {
		ts.Fatalf("serve stop: port %d still taken: %v", p.port, err)
	}
	ln.Close()
}

// cmdHTTP sends one request to the server the script started and prints
// the body on stdout and the status line and headers on stderr:
//
//	http [-status N] [-H 'Name: value']... METHOD PATH [BODY|@FILE]
//
// It fails unless the status is N (default: any 2xx).
func cmdHTTP(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! http (use -status)")
	}
	fs := flag.NewFlagSet("http", flag.ContinueOnError)
	status := fs.Int("status", 0, "expected status (default: any 2xx)")
	var headers multi
	fs.Var(&headers, "H", "request header 'Name: value' (repeatable)")
	ts.Check(fs.Parse(args))
	if fs.NArg() < 2 || fs.NArg() > 3 {
		ts.Fatalf("usage: http [-status N] [-H 'Name: value']... METHOD PATH [BODY|@FILE]")
	}
	base := ts.Getenv("SERVE_URL")
	if base == "" {
		ts.Fatalf("http: $SERVE_URL is not set; use serve start first")
	}
	var body io.Reader
	if fs.NArg() == 3 {
		b := fs.Arg(2)
		if f, ok := strings.CutPrefix(b, "@"); ok {
			body = strings.NewReader(ts.ReadFile(f))
		} else {
			body = strings.NewReader(b)
		}
	}
	req, err := http.NewRequest(fs.Arg(0), base+fs.Arg(1), body)
	ts.Check(err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			ts.Fatalf("http: header %q is not 'Name: value'", h)
		}
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := (&http.Client{Timeout: 120 * time.Second}).Do(req)
	ts.Check(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	ts.Check(err)
	var head strings.Builder
	fmt.Fprintf(&head, "%s %s\n", resp.Proto, resp.Status)
	names := make([]string, 0, len(resp.Header))
	for k := range resp.Header {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		for _, v := range resp.Header[k] {
			fmt.Fprintf(&head, "%s: %s\n", k, v)
		}
	}
	fmt.Fprint(ts.Stdout(), string(b))
	fmt.Fprint(ts.Stderr(), head.String())
	ok := resp.StatusCode >= 200 && resp.StatusCode < 300
	if *status != 0 {
		ok = resp.StatusCode == *status
	}
	if !ok {
		ts.Fatalf("http %s %s: status %d; body: %s", fs.Arg(0), fs.Arg(1), resp.StatusCode, b)
	}
}
