package live

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// Tool runs the mlxk dispatcher as a subprocess, as a user would.
type Tool struct {
	// Path is the mlxk executable.
	Path string
	// Env is the complete environment of every command (HF_HOME names
	// the cache).
	Env []string
	// Dir is the working folder.
	Dir string
}

// Result is a finished command.
type Result struct {
	Args     []string
	Stdout   []byte
	Stderr   []byte
	ExitCode int
	Wall     time.Duration
	// PeakRSS is the peak resident set size of the process in bytes, from
	// the kernel's accounting of the child (0 when unknown).
	PeakRSS int64
}

// Run runs mlxk with args and waits for it. A non-zero exit is not an
// error; failing to start or being killed by ctx is.
func (t Tool) Run(ctx context.Context, args ...string) (Result, error) {
	cmd := exec.CommandContext(ctx, t.Path, args...)
	cmd.Env = t.Env
	cmd.Dir = t.Dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := Result{Args: args, Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Wall: time.Since(start)}
	if cmd.ProcessState != nil {
		r.ExitCode = cmd.ProcessState.ExitCode()
		r.PeakRSS = peakRSS(cmd.ProcessState.SysUsage())
	}
	if ctx.Err() != nil {
		return r, fmt.Errorf("mlxk %s: %w", strings.Join(args, " "), ctx.Err())
	}
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		return r, fmt.Errorf("mlxk %s: %w", strings.Join(args, " "), err)
	}
	return r, nil
}

// peakRSS reads ru_maxrss: kilobytes on Linux, bytes on macOS.
func peakRSS(usage any) int64 {
	ru, ok := usage.(*syscall.Rusage)
	if !ok || ru == nil {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss)
	}
	return int64(ru.Maxrss) * 1024
}

// Describe is a short account of a failed command for test failures.
func (r Result) Describe() string {
	return fmt.Sprintf("mlxk %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(r.Args, " "), r.ExitCode,
		clip(string(r.Stdout), 2000), clip(string(r.Stderr), 2000))
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("… (%d more bytes)", len(s)-n)
}
