// Package cli is the plumbing every mlxk binary shares: the process
// environment as a value, verb dispatch inside a binary, flag parsing with
// interspersed positionals, and printing results in human, JSON or JSON-lines
// form with the exit codes of the JSON contract.
package cli

import (
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/mlxk/mlxk/shared/logx"
)

// Env is everything a command reads from its process. Tests build one by
// hand so that commands run in parallel without touching globals.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads an environment variable; unset and empty are the same.
	Getenv func(string) string
	// Now is the clock.
	Now func() time.Time
	// Home is the user's home directory ("" when unknown).
	Home string
	// StdinTTY and StdoutTTY report whether the streams are terminals.
	StdinTTY, StdoutTTY, StderrTTY bool
}

// OSEnv returns the environment of the running process.
func OSEnv(stdin io.Reader, stdout, stderr io.Writer) Env {
	home, _ := os.UserHomeDir()
	return Env{
		Stdin:     stdin,
		Stdout:    stdout,
		Stderr:    stderr,
		Getenv:    os.Getenv,
		Now:       time.Now,
		Home:      home,
		StdinTTY:  isTerminal(stdin),
		StdoutTTY: isTerminal(stdout),
		StderrTTY: isTerminal(stderr),
	}
}

// isTerminal reports whether f is a character device (a TTY); pipes,
// files and /dev/null-like sinks in tests are not.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	if err != nil {
		return false
	}
	m := st.Mode()
	return m&os.ModeCharDevice != 0 && m&os.ModeDevice != 0 && f.Name() != os.DevNull
}

// Logger returns the process logger on stderr. JSON logs are chosen by the
// --log-json flag or MLXK_LOG_JSON=1 (MLXK2_LOG_JSON=1 is honoured for
// mlx-knife compatibility); MLXK_LOG_LEVEL sets the level.
func (e Env) Logger(logJSON bool) *slog.Logger {
	if !logJSON {
		logJSON = e.Getenv("MLXK_LOG_JSON") == "1" || e.Getenv("MLXK2_LOG_JSON") == "1"
	}
	level := slog.LevelInfo
	switch e.Getenv("MLXK_LOG_LEVEL") {
	case "debug", "DEBUG":
		level = slog.LevelDebug
	case "warning", "warn", "WARNING", "WARN":
		level = slog.LevelWarn
	case "error", "ERROR":
		level = slog.LevelError
	}
	return logx.New(e.Stderr, logx.Options{JSON: logJSON, Level: level, Home: e.Home, Now: e.Now})
}
