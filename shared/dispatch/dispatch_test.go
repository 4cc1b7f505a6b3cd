package dispatch_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlxk/mlxk/shared/buildinfo"
	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/dispatch"
)

// harness is a Dispatcher whose exec and PATH lookups are recorded.
type harness struct {
	d              dispatch.Dispatcher
	stdout, stderr *bytes.Buffer
	execs          []execCall
	lookups        []string
}

type execCall struct {
	path string
	argv []string
	env  []string
}

const execStubMsg = "exec stub: not replacing the test process"

// newHarness returns a dispatcher whose PATH holds the given binaries
// under /fake/bin.
func newHarness(t *testing.T, self string, onPath ...string) *harness {
	t.Helper()
	h := &harness{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	h.d = dispatch.Dispatcher{
		Env: cli.Env{
			Stdin:  strings.NewReader(""),
			Stdout: h.stdout,
			Stderr: h.stderr,
			Getenv: func(string) string { return "" },
			Now:    func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) },
		},
		Self: self,
		LookPath: func(name string) (string, error) {
			h.lookups = append(h.lookups, name)
			if slices.Contains(onPath, name) {
				return "/fake/bin/" + name, nil
			}
			return "", &exec.Error{Name: name, Err: exec.ErrNotFound}
		},
		Exec: func(path string, argv, env []string) error {
			h.execs = append(h.execs, execCall{path, slices.Clone(argv), slices.Clone(env)})
			return errors.New(execStubMsg)
		},
		Environ: []string{"MLXK_TEST=1", "PATH=/fake/bin"},
	}
	return h
}

func allBinaries() []string {
	return []string{"mlxk-list", "mlxk-health", "mlxk-pull", "mlxk-push", "mlxk-clone", "mlxk-run", "mlxk-serve", "mlxk-foo"}
}

func TestExecArgv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		path string
		argv []string
	}{
		{[]string{"list", "--json"}, "/fake/bin/mlxk-list", []string{"mlxk-list", "list", "--json"}},
		{[]string{"--json", "list"}, "/fake/bin/mlxk-list", []string{"mlxk-list", "list", "--json"}},
		{[]string{"--json", "list", "phi", "--health"}, "/fake/bin/mlxk-list", []string{"mlxk-list", "list", "--json", "phi", "--health"}},
		{[]string{"--jsonl", "list"}, "/fake/bin/mlxk-list", []string{"mlxk-list", "list", "--jsonl"}},
		{[]string{"list"}, "/fake/bin/mlxk-list", []string{"mlxk-list", "list"}},
		{[]string{"show", "Phi-3@e96", "--files"}, "/fake/bin/mlxk-list", []string{"mlxk-list", "show", "Phi-3@e96", "--files"}},
		{[]string{"health", "-", "--verify"}, "/fake/bin/mlxk-health", []string{"mlxk-health", "health", "-", "--verify"}},
		{[]string{"pull", "org/m"}, "/fake/bin/mlxk-pull", []string{"mlxk-pull", "pull", "org/m"}},
		{[]string{"rm", "m", "-f"}, "/fake/bin/mlxk-pull", []string{"mlxk-pull", "rm", "m", "-f"}},
		{[]string{"push", "./ws", "org/m", "--private"}, "/fake/bin/mlxk-push", []string{"mlxk-push", "push", "./ws", "org/m", "--private"}},
		{[]string{"clone", "m"}, "/fake/bin/mlxk-clone", []string{"mlxk-clone", "clone", "m"}},
		{[]string{"--json", "convert", "m", "out", "--quantize", "4"}, "/fake/bin/mlxk-clone", []string{"mlxk-clone", "convert", "--json", "m", "out", "--quantize", "4"}},
		{[]string{"run", "m", "hello", "world"}, "/fake/bin/mlxk-run", []string{"mlxk-run", "run", "m", "hello", "world"}},
		{[]string{"server", "--port", "9"}, "/fake/bin/mlxk-serve", []string{"mlxk-serve", "server", "--port", "9"}},
		{[]string{"serve"}, "/fake/bin/mlxk-serve", []string{"mlxk-serve", "serve"}},
		{[]string{"foo", "a", "--b"}, "/fake/bin/mlxk-foo", []string{"mlxk-foo", "a", "--b"}},
		{[]string{"--json", "foo", "a"}, "/fake/bin/mlxk-foo", []string{"mlxk-foo", "--json", "a"}},
		{[]string{"foo"}, "/fake/bin/mlxk-foo", []string{"mlxk-foo"}},
		{[]string{"list", "--", "--json"}, "/fake/bin/mlxk-list", []string{"mlxk-list", "list", "--", "--json"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "", allBinaries()...)
			code := h.d.Main(context.Background(), tc.args)
			if len(h.execs) != 1 {
				t.Fatalf("%d execs, want 1 (stderr %q)", len(h.execs), h.stderr)
			}
			got := h.execs[0]
			if got.path != tc.path || !slices.Equal(got.argv, tc.argv) {
				t.Errorf("exec(%q, %q), want exec(%q, %q)", got.path, got.argv, tc.path, tc.argv)
			}
			if !slices.Equal(got.env, []string{"MLXK_TEST=1", "PATH=/fake/bin"}) {
				t.Errorf("exec env %q", got.env)
			}
			// The stub exec returned, which is a failure of exec.
			if code != 1 {
				t.Errorf("exit %d after a failed exec, want 1", code)
			}
		})
	}
}

func TestExecFailureIsReported(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "", "mlxk-list")
	if code := h.d.Main(context.Background(), []string{"list"}); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(h.stderr.String(), "exec mlxk-list") || !strings.Contains(h.stderr.String(), execStubMsg) {
		t.Errorf("stderr %q does not report the exec failure", h.stderr)
	}
	if h.stdout.Len() != 0 {
		t.Errorf("stdout %q", h.stdout)
	}

	h = newHarness(t, "", "mlxk-list")
	if code := h.d.Main(context.Background(), []string{"list", "--json"}); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	env := decodeEnvelope(t, h.stdout.Bytes())
	if env.Status != "error" || env.Command == nil || *env.Command != "list" || env.Error == nil || env.Error.Type != "InternalError" {
		t.Errorf("envelope %s", h.stdout)
	}
}

func TestBinaryBesideSelfWins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	self := filepath.Join(dir, "mlxk")
	writeExe(t, self, 0o755)
	writeExe(t, filepath.Join(dir, "mlxk-list"), 0o755)
	writeExe(t, filepath.Join(dir, "mlxk-health"), 0o644) // not executable
	if err := os.Mkdir(filepath.Join(dir, "mlxk-run"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeExe(t, filepath.Join(dir, "mlxk-bar"), 0o700)

	tests := []struct {
		args []string
		path string
	}{
		{[]string{"list"}, filepath.Join(dir, "mlxk-list")},
		{[]string{"bar", "x"}, filepath.Join(dir, "mlxk-bar")},
		{[]string{"health"}, "/fake/bin/mlxk-health"},
		{[]string{"run"}, "/fake/bin/mlxk-run"},
	}
	for _, tc := range tests {
		h := newHarness(t, self, "mlxk-list", "mlxk-health", "mlxk-run", "mlxk-bar")
		h.d.Main(context.Background(), tc.args)
		if len(h.execs) != 1 || h.execs[0].path != tc.path {
			t.Errorf("%q: execs %+v, want path %s", tc.args, h.execs, tc.path)
		}
		if tc.path == filepath.Join(dir, filepath.Base(tc.path)) && len(h.lookups) != 0 {
			t.Errorf("%q: PATH searched (%q) although the binary is beside mlxk", tc.args, h.lookups)
		}
	}
}

func writeExe(t *testing.T, p string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(p, []byte("#!/bin/sh\nexit 0\n"), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

func TestNilLookPath(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	h.d.LookPath = nil
	if code := h.d.Main(context.Background(), []string{"foo"}); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}

type envelopeDoc struct {
	Status  string          `json:"status"`
	Command *string         `json:"command"`
	Data    json.RawMessage `json:"data"`
	Error   *struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

func decodeEnvelope(t *testing.T, b []byte) envelopeDoc {
	t.Helper()
	if bytes.Count(b, []byte("\n")) != 1 {
		t.Fatalf("not exactly one line: %q", b)
	}
	var env envelopeDoc
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("not an envelope: %v: %s", err, b)
	}
	return env
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		json    bool
		message string
	}{
		{nil, false, "No command specified"},
		{[]string{}, false, "No command specified"},
		{[]string{"--json"}, true, "No command specified"},
		{[]string{"foo"}, false, "'foo' is not an mlxk command"},
		{[]string{"--json", "foo"}, true, "'foo' is not an mlxk command"},
		{[]string{"--bogus", "list"}, false, "unknown flag --bogus"},
		{[]string{"--json", "--bogus"}, true, "unknown flag --bogus"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "")
			if code := h.d.Main(context.Background(), tc.args); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if len(h.execs) != 0 {
				t.Errorf("exec called: %+v", h.execs)
			}
			if tc.json {
				env := decodeEnvelope(t, h.stdout.Bytes())
				if env.Status != "error" || env.Command != nil || string(env.Data) != "null" || env.Error == nil ||
					env.Error.Type != "CommandError" || !strings.Contains(env.Error.Message, tc.message) {
					t.Errorf("envelope %s", h.stdout)
				}
				return
			}
			if h.stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", h.stdout)
			}
			if !strings.Contains(h.stderr.String(), tc.message) || !strings.Contains(h.stderr.String(), "usage: mlxk") {
				t.Errorf("stderr %q, want %q and the usage", h.stderr, tc.message)
			}
		})
	}
}

func TestMissingBuiltinBinary(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "")
	if code := h.d.Main(context.Background(), []string{"health", "--json"}); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	env := decodeEnvelope(t, h.stdout.Bytes())
	if env.Command == nil || *env.Command != "health" || env.Error == nil || env.Error.Type != "InternalError" ||
		!strings.Contains(env.Error.Message, "mlxk-health") {
		t.Errorf("envelope %s", h.stdout)
	}
	if len(h.execs) != 0 {
		t.Errorf("exec called: %+v", h.execs)
	}
}

func TestVersionHuman(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--version"}, {"-V"}, {"version"}, {"-version"}} {
		h := newHarness(t, "", allBinaries()...)
		if code := h.d.Main(context.Background(), args); code != 0 {
			t.Errorf("%q: exit %d", args, code)
		}
		if got, want := h.stdout.String(), "mlxk "+buildinfo.CLIVersion+"\n"; got != want {
			t.Errorf("%q: stdout %q, want %q", args, got, want)
		}
		if len(h.execs) != 0 || h.stderr.Len() != 0 {
			t.Errorf("%q: execs %+v stderr %q", args, h.execs, h.stderr)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version", "--json"}, {"--version", "--json"}, {"--json", "--version"}, {"--json", "version"}} {
		h := newHarness(t, "", allBinaries()...)
		if code := h.d.Main(context.Background(), args); code != 0 {
			t.Errorf("%q: exit %d", args, code)
		}
		env := decodeEnvelope(t, h.stdout.Bytes())
		if env.Status != "success" || env.Command == nil || *env.Command != "version" || env.Error != nil {
			t.Errorf("%q: envelope %s", args, h.stdout)
		}
		var data struct {
			CLIVersion         string `json:"cli_version"`
			JSONAPISpecVersion string `json:"json_api_spec_version"`
			GoVersion          string `json:"go_version"`
			OS                 string `json:"os"`
			Arch               string `json:"arch"`
			System             *struct {
				MemoryTotalBytes uint64 `json:"memory_total_bytes"`
			} `json:"system"`
		}
		dec := json.NewDecoder(bytes.NewReader(env.Data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&data); err != nil {
			t.Fatalf("%q: data %s: %v", args, env.Data, err)
		}
		if data.CLIVersion != buildinfo.CLIVersion || data.JSONAPISpecVersion != buildinfo.JSONAPISpecVersion ||
			data.GoVersion != runtime.Version() || data.OS != runtime.GOOS || data.Arch != runtime.GOARCH {
			t.Errorf("%q: data %+v", args, data)
		}
		if data.JSONAPISpecVersion == "" {
			t.Error("empty json_api_spec_version")
		}
		if (runtime.GOOS == "linux" || runtime.GOOS == "darwin") && (data.System == nil || data.System.MemoryTotalBytes < 1<<20) {
			t.Errorf("%q: system %+v, want the machine's memory", args, data.System)
		}
		// Key order of the data object.
		var keys []string
		kd := json.NewDecoder(bytes.NewReader(env.Data))
		kd.Token()
		for kd.More() {
			tok, _ := kd.Token()
			keys = append(keys, tok.(string))
			var skip json.RawMessage
			kd.Decode(&skip)
		}
		if want := []string{"cli_version", "json_api_spec_version", "go_version", "os", "arch", "system"}; !slices.Equal(keys, want) {
			t.Errorf("data keys %q, want %q", keys, want)
		}
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		h := newHarness(t, "", allBinaries()...)
		if code := h.d.Main(context.Background(), args); code != 0 {
			t.Errorf("%q: exit %d", args, code)
		}
		out := h.stdout.String()
		if !strings.HasPrefix(out, "usage: mlxk") {
			t.Errorf("%q: stdout %q", args, out)
		}
		for verb := range dispatch.Owners {
			if !strings.Contains(out, verb) {
				t.Errorf("%q: usage does not mention %s", args, verb)
			}
		}
		if len(h.execs) != 0 {
			t.Errorf("%q: exec called", args)
		}
	}
}

func TestOwners(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"list": "mlxk-list", "show": "mlxk-list", "health": "mlxk-health", "pull": "mlxk-pull", "rm": "mlxk-pull", "prune": "mlxk-pull",
		"push": "mlxk-push", "clone": "mlxk-clone", "convert": "mlxk-clone", "run": "mlxk-run", "embed": "mlxk-run", "serve": "mlxk-serve", "server": "mlxk-serve",
	}
	if len(dispatch.Owners) != len(want) {
		t.Errorf("Owners = %v", dispatch.Owners)
	}
	for verb, bin := range want {
		if dispatch.Owners[verb] != bin {
			t.Errorf("Owners[%s] = %q, want %q", verb, dispatch.Owners[verb], bin)
		}
	}
}
