// Package dispatch is the `mlxk <verb>` front door: it finds the binary
// that owns a verb and replaces itself with it, git-style, so that every
// verb keeps its own small binary and third parties can add verbs by
// installing an mlxk-<verb> executable.
package dispatch

import (
	"context"
	"fmt"
	"github.com/mlxk/mlxk/shared/sysmem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/mlxk/mlxk/shared/buildinfo"
	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/envelope"
	"github.com/mlxk/mlxk/shared/mlxkerr"
)

// Owners maps each built-in verb to the binary that implements it.
var Owners = map[string]string{
	"list":    "mlxk-list",
	"show":    "mlxk-list",
	"health":  "mlxk-health",
	"pull":    "mlxk-pull",
	"rm":      "mlxk-pull",
	"prune":   "mlxk-pull",
	"push":    "mlxk-push",
	"clone":   "mlxk-clone",
	"convert": "mlxk-clone",
	"run":     "mlxk-run",
	"embed":   "mlxk-run",
	"serve":   "mlxk-serve",
	"server":  "mlxk-serve",
}

// Dispatcher holds what the front door needs from its process.
type Dispatcher struct {
	Env cli.Env
	// Self is the path of the running mlxk executable; binaries beside it
	// win over PATH.
	Self string
	// LookPath searches PATH (exec.LookPath in production).
	LookPath func(string) (string, error)
	// Exec replaces the process with argv[0] at path (syscall.Exec in
	// production); it returns only on failure.
	Exec func(path string, argv []string, env []string) error
	// Environ is the environment handed to the executed binary.
	Environ []string
}

const usage = `usage: mlxk <command> [args]

Cache:
  list [pattern]        list cached models (--json, --jsonl, --health, --all, --verbose)
  show <model>[@rev]    show one model (--files, --config, --json)
  health [model | -]    check integrity and runtime compatibility (--verify, --json, --jsonl)
  pull <org/name>[@rev] download a model into the cache
  rm <model>[@rev]      remove a model (or one snapshot) from the cache
  prune [--dry-run]     remove interrupted downloads and blobs no snapshot uses
Workspaces:
  push <dir> <org/name> upload a workspace to the Hub
  clone <model> [dir]   copy a model out of the Hub into a workspace
  convert <model> <dir> write an MLX copy, quantized (--quantize N) or re-typed (--dtype)
Inference:
  run <model> [prompt]  run a model
  embed <model> [text]  print embeddings as JSON lines (--batch, --query, --json)
  serve                 OpenAI-compatible server (alias: server)
Other:
  version [--json]      print the version (also: mlxk --version [--json])

'mlxk <verb>' runs the binary mlxk-<owner> found beside mlxk or on PATH;
an unknown verb foo runs mlxk-foo.
`

// Main runs the front door and returns an exit code when it does not exec.
func (d Dispatcher) Main(ctx context.Context, args []string) int {
	var global []string
	version, help, asJSON := false, false, false
	for len(args) > 0 && strings.HasPrefix(args[0], "-") {
		switch args[0] {
		case "--version", "-version", "-V":
			version = true
		case "--help", "-help", "-h":
			help = true
		case "--json", "-json":
			asJSON = true
			global = append(global, "--json")
		case "--jsonl", "-jsonl":
			global = append(global, "--jsonl")
		default:
			return d.usageError(asJSON, fmt.Sprintf("unknown flag %s before the command", args[0]))
		}
		args = args[1:]
	}
	switch {
	case version:
		return d.version(asJSON)
	case help:
		io.WriteString(d.Env.Stdout, usage)
		return 0
	case len(args) == 0:
		return d.usageError(asJSON, "No command specified")
	}
	verb, rest := args[0], args[1:]
	switch verb {
	case "version":
		return d.version(asJSON || cli.ModeFromArgs(rest) != cli.Human)
	case "help":
		io.WriteString(d.Env.Stdout, usage)
		return 0
	}
	bin, builtin := Owners[verb]
	argv := append([]string{}, rest...)
	if builtin {
		// Global flags move behind the verb, so `mlxk --json list` is
		// `mlxk-list list --json` (mlx-knife 2.0.3 silently printed human
		// output here).
		argv = append(append([]string{verb}, global...), rest...)
	} else {
		bin = "mlxk-" + verb
		argv = append(global, rest...)
	}
	path, err := d.find(bin)
	if err != nil {
		if !builtin {
			return d.usageError(asJSON, fmt.Sprintf("'%s' is not an mlxk command (no %s beside mlxk or on PATH); see 'mlxk help'", verb, bin))
		}
		e := mlxkerr.New(mlxkerr.InternalError, "%s needs %s, which is neither beside mlxk nor on PATH", verb, bin)
		cli.PrintError(d.Env, modeFor(asJSON, rest), verb, e)
		return 1
	}
	err = d.Exec(path, append([]string{bin}, argv...), d.Environ)
	e := mlxkerr.Wrap(mlxkerr.InternalError, err, "exec %s", bin)
	cli.PrintError(d.Env, modeFor(asJSON, rest), verb, e)
	return 1
}

func modeFor(asJSON bool, rest []string) cli.Mode {
	if asJSON {
		return cli.JSON
	}
	return cli.ModeFromArgs(rest)
}

// find looks for bin beside the dispatcher first, then on PATH.
func (d Dispatcher) find(bin string) (string, error) {
	if d.Self != "" {
		p := filepath.Join(filepath.Dir(d.Self), bin)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	if d.LookPath == nil {
		return "", exec.ErrNotFound
	}
	return d.LookPath(bin)
}

func (d Dispatcher) usageError(asJSON bool, msg string) int {
	if asJSON {
		_ = envelope.Write(d.Env.Stdout, envelope.Failure("", mlxkerr.Usagef("%s", msg), nil))
	} else {
		fmt.Fprintf(d.Env.Stderr, "mlxk: %s\n\n%s", msg, usage)
	}
	return 2
}

// VersionData is the data of `mlxk version --json`.
type VersionData struct {
	CLIVersion         string  `json:"cli_version"`
	JSONAPISpecVersion string  `json:"json_api_spec_version"`
	GoVersion          string  `json:"go_version"`
	OS                 string  `json:"os"`
	Arch               string  `json:"arch"`
	System             *System `json:"system"`
}

// System describes the machine, as mlx-knife 2.0.4 added.
type System struct {
	MemoryTotalBytes uint64 `json:"memory_total_bytes"`
}

func (d Dispatcher) version(asJSON bool) int {
	if !asJSON {
		fmt.Fprintf(d.Env.Stdout, "mlxk %s\n", buildinfo.CLIVersion)
		return 0
	}
	v := VersionData{
		CLIVersion:         buildinfo.CLIVersion,
		JSONAPISpecVersion: buildinfo.JSONAPISpecVersion,
		GoVersion:          buildinfo.GoVersion(),
		OS:                 runtime.GOOS,
		Arch:               runtime.GOARCH,
	}
	if m, err := sysmem.Total(); err == nil {
		v.System = &System{MemoryTotalBytes: m}
	}
	if err := envelope.Write(d.Env.Stdout, envelope.Success("version", v)); err != nil {
		return 1
	}
	return 0
}
