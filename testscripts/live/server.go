package live

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// ErrServer marks a server that did not start, become ready or stop as
// documented.
var ErrServer = errors.New("mlxk serve")

// Server is one running `mlxk serve` with one model preloaded.
type Server struct {
	Client
	Port int
	// Ready is how long the server took from start to a healthy /health
	// with the model loaded.
	Ready time.Duration

	cmd    *exec.Cmd
	stderr *LockedBuffer
	exited chan struct{}
	// PeakRSS, ExitCode are set by Stop.
	PeakRSS  int64
	ExitCode int
}

// ServerTimeouts bound the server's lifecycle steps.
type ServerTimeouts struct {
	// Start: from exec to the startup record and a healthy /health.
	Start time.Duration
	// Stop: from SIGTERM to exit (then SIGKILL), and again for the port.
	Stop time.Duration
}

// StartServer runs `mlxk serve --host 127.0.0.1 --port 0 --model <model>
// --json`, reads the port from its startup record, and waits until
// /health says healthy (the model is loaded).
func StartServer(ctx context.Context, t Tool, model string, to ServerTimeouts) (*Server, error) {
	cmd := exec.Command(t.Path, "serve", "--host", "127.0.0.1", "--port", "0", "--model", model,
		"--keep-alive", "-1", "--json")
	cmd.Env = t.Env
	cmd.Dir = t.Dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	s := &Server{cmd: cmd, stderr: &LockedBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: start: %v", ErrServer, err)
	}
	go func() { cmd.Wait(); close(s.exited) }()

	record := make(chan []byte, 1)
	go func() {
		br := bufio.NewReader(stdout)
		line, _ := br.ReadBytes('\n')
		record <- line
		io.Copy(io.Discard, br)
	}()
	fail := func(format string, args ...any) (*Server, error) {
		s.Stop(to.Stop)
		return nil, fmt.Errorf("%w: %s\nstderr: %s", ErrServer, fmt.Sprintf(format, args...), clip(s.stderr.String(), 2000))
	}
	deadline := time.NewTimer(to.Start)
	defer deadline.Stop()
	var line []byte
	select {
	case line = <-record:
	case <-s.exited:
		return fail("exited before its startup record (exit %d)", cmd.ProcessState.ExitCode())
	case <-deadline.C:
		return fail("no startup record after %s", to.Start)
	case <-ctx.Done():
		return fail("%v", ctx.Err())
	}
	if len(bytes.TrimSpace(line)) == 0 { // stdout closed: the process is ending
		select {
		case <-s.exited:
			return fail("exited before its startup record (exit %d)", cmd.ProcessState.ExitCode())
		case <-time.After(to.Stop):
			return fail("closed its stdout without a startup record")
		}
	}
	port, url, err := ParseStartup(line)
	if err != nil {
		return fail("%v", err)
	}
	s.Port, s.BaseURL = port, url
	s.HTTP = &http.Client{Timeout: 10 * time.Minute}
	for {
		var h struct {
			Status string `json:"status"`
		}
		hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		code, err := s.Get(hctx, "/health", &h)
		cancel()
		if err == nil && code == http.StatusOK && h.Status == "healthy" {
			break
		}
		select {
		case <-s.exited:
			return fail("exited while loading (exit %d)", cmd.ProcessState.ExitCode())
		case <-deadline.C:
			return fail("/health not healthy after %s (last: %d %q %v)", to.Start, code, h.Status, err)
		case <-ctx.Done():
			return fail("%v", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	s.Ready = time.Since(start)
	return s, nil
}

// ParseStartup reads the record `mlxk serve --json` prints once its port
// is bound: a success envelope with the port and URL.
func ParseStartup(line []byte) (port int, url string, err error) {
	var env struct {
		Status string `json:"status"`
		Data   struct {
			Port int    `json:"port"`
			URL  string `json:"url"`
		} `json:"data"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(line), &env); err != nil || env.Status != "success" || env.Data.Port == 0 {
		return 0, "", fmt.Errorf("startup record %q is not a success envelope with a port (%v)", clip(string(line), 300), err)
	}
	return env.Data.Port, env.Data.URL, nil
}

// Stop sends SIGTERM, waits for the process to exit (SIGKILL after the
// timeout), then waits until the port accepts a new listener, so the next
// server starts on a machine with this one fully gone.
func (s *Server) Stop(timeout time.Duration) error {
	if s.cmd.Process == nil {
		return nil
	}
	select {
	case <-s.exited:
	default:
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(timeout):
			s.cmd.Process.Kill()
			<-s.exited
			return fmt.Errorf("%w: still running %s after SIGTERM; killed", ErrServer, timeout)
		}
	}
	s.ExitCode = s.cmd.ProcessState.ExitCode()
	s.PeakRSS = peakRSS(s.cmd.ProcessState.SysUsage())
	if s.Port == 0 {
		return nil
	}
	deadline := time.Now().Add(timeout)
	for {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)))
		if err == nil {
			ln.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w: port %d still busy %s after the server exited", ErrServer, s.Port, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stderr is what the server logged so far.
func (s *Server) Stderr() string { return s.stderr.String() }

// LockedBuffer collects a process's output while tests read it.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
