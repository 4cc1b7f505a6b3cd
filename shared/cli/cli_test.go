package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/mlxkerr"
)

func testEnv(vars map[string]string) (cli.Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return cli.Env{
		Stdin:  strings.NewReader(""),
		Stdout: &out,
		Stderr: &errb,
		Getenv: func(k string) string { return vars[k] },
		Now:    func() time.Time { return time.Unix(1700000000, 0) },
		Home:   "/home/alice",
	}, &out, &errb
}

func TestModeFromArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want cli.Mode
	}{
		{nil, cli.Human},
		{[]string{"x", "--verbose"}, cli.Human},
		{[]string{"--json"}, cli.JSON},
		{[]string{"-json"}, cli.JSON},
		{[]string{"a", "--json=true"}, cli.JSON},
		{[]string{"--json=false"}, cli.Human},
		{[]string{"--jsonl"}, cli.JSONL},
		{[]string{"--json", "--jsonl"}, cli.JSONL},
		{[]string{"--jsonl", "--json"}, cli.JSONL},
		{[]string{"--", "--json"}, cli.Human},
		{[]string{"--json", "--", "--jsonl"}, cli.JSON},
	}
	for _, tc := range tests {
		if got := cli.ModeFromArgs(tc.args); got != tc.want {
			t.Errorf("ModeFromArgs(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

type recorded struct {
	verb string
	args []string
}

func program(calls *[]recorded, result error) cli.Program {
	run := func(_ context.Context, _ cli.Env, verb string, args []string) error {
		*calls = append(*calls, recorded{verb, slices.Clone(args)})
		return result
	}
	return cli.Program{Name: "mlxk-test", Verbs: []cli.Verb{
		{Name: "list", Usage: "list [pattern]", Run: run},
		{Name: "show", Usage: "show <model>", Run: run},
		{Name: "serve", Aliases: []string{"server"}, Usage: "serve", Run: run},
	}}
}

func TestProgramDispatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want recorded
	}{
		{nil, recorded{"list", nil}},
		{[]string{"list", "--json"}, recorded{"list", []string{"--json"}}},
		{[]string{"phi", "--json"}, recorded{"list", []string{"phi", "--json"}}},
		{[]string{"show", "x"}, recorded{"show", []string{"x"}}},
		{[]string{"server", "--port", "1"}, recorded{"server", []string{"--port", "1"}}},
		{[]string{"serve"}, recorded{"serve", []string{}}},
	}
	for _, tc := range tests {
		var calls []recorded
		env, out, errb := testEnv(nil)
		if code := program(&calls, nil).Main(context.Background(), env, tc.args); code != 0 {
			t.Errorf("%q: exit %d", tc.args, code)
		}
		if len(calls) != 1 || calls[0].verb != tc.want.verb || len(calls[0].args) != len(tc.want.args) ||
			(len(tc.want.args) > 0 && !slices.Equal(calls[0].args, tc.want.args)) {
			t.Errorf("%q: calls %+v, want %+v", tc.args, calls, tc.want)
		}
		if out.Len() != 0 || errb.Len() != 0 {
			t.Errorf("%q: output %q %q", tc.args, out, errb)
		}
	}
}

func TestProgramHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"help"}, {"show", "help"}} {
		var calls []recorded
		env, out, _ := testEnv(nil)
		if code := program(&calls, nil).Main(context.Background(), env, args); code != 0 {
			t.Errorf("%q: exit %d", args, code)
		}
		want := "usage:\n  mlxk-test list [pattern]\n  mlxk-test show <model>\n  mlxk-test serve\n"
		if out.String() != want || len(calls) != 0 {
			t.Errorf("%q: stdout %q calls %v", args, out, calls)
		}
	}
}

func TestProgramErrors(t *testing.T) {
	t.Parallel()
	notFound := mlxkerr.New(mlxkerr.ModelNotFound, "No model found matching 'x'")
	ambiguous := mlxkerr.New(mlxkerr.AmbiguousMatch, "Multiple models match 'q'")
	ambiguous.Matches = []string{"a/q", "b/q"}
	hashes := mlxkerr.New(mlxkerr.HashNotFound, "Hash 'z' not found")
	hashes.AvailableHashes = []string{"h1", "h2"}
	tests := []struct {
		name   string
		args   []string
		err    error
		code   int
		stdout string
		stderr string
	}{
		{"typed, human", []string{"show", "x"}, notFound, 1, "", "show: Error: No model found matching 'x'\n"},
		{"typed, JSON", []string{"show", "x", "--json"}, notFound, 1,
			`{"status":"error","command":"show","data":null,"error":{"type":"model_not_found","message":"No model found matching 'x'"}}` + "\n", ""},
		{"JSONL prints an envelope", []string{"list", "--jsonl"}, notFound, 1,
			`{"status":"error","command":"list","data":null,"error":{"type":"model_not_found","message":"No model found matching 'x'"}}` + "\n", ""},
		{"alias maps to server", []string{"serve", "--json"}, notFound, 1,
			`{"status":"error","command":"server","data":null,"error":{"type":"model_not_found","message":"No model found matching 'x'"}}` + "\n", ""},
		{"usage error has no command", []string{"show", "--json"}, mlxkerr.Usagef("missing model"), 2,
			`{"status":"error","command":null,"data":null,"error":{"type":"CommandError","message":"missing model"}}` + "\n", ""},
		{"usage error, human", []string{"show"}, mlxkerr.Usagef("missing model"), 2, "", "mlxk: Error: missing model\n"},
		{"plain error becomes InternalError", []string{"list", "--json"}, errors.New("disk on fire"), 1,
			`{"status":"error","command":"list","data":null,"error":{"type":"InternalError","message":"disk on fire"}}` + "\n", ""},
		{"matches listed", []string{"show", "q"}, ambiguous, 1, "", "show: Error: Multiple models match 'q'\n  a/q\n  b/q\n"},
		{"hashes listed", []string{"show", "q@z"}, hashes, 1, "", "show: Error: Hash 'z' not found\n  available: h1, h2\n"},
		{"Reported sets the code only", []string{"list"}, cli.Reported{Code: 3}, 3, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var calls []recorded
			env, out, errb := testEnv(nil)
			if code := program(&calls, tc.err).Main(context.Background(), env, tc.args); code != tc.code {
				t.Errorf("exit %d, want %d", code, tc.code)
			}
			if out.String() != tc.stdout || errb.String() != tc.stderr {
				t.Errorf("stdout %q stderr %q,\nwant   %q        %q", out, errb, tc.stdout, tc.stderr)
			}
		})
	}
}

func TestNotImplemented(t *testing.T) {
	t.Parallel()
	p := cli.Program{Name: "mlxk-pull", Verbs: []cli.Verb{cli.NotImplemented("pull", "pull <model>"), cli.NotImplemented("rm", "rm <model>", "remove")}}
	env, out, _ := testEnv(nil)
	if code := p.Main(context.Background(), env, []string{"remove", "x", "--json"}); code != 1 {
		t.Errorf("exit %d", code)
	}
	var doc struct {
		Command string
		Error   struct{ Type, Message string }
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Command != "remove" || doc.Error.Type != "not_implemented" || !strings.Contains(doc.Error.Message, "remove") {
		t.Errorf("envelope %s", out)
	}
}

func TestFlagsParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		pos  []string
		json bool
		host string
	}{
		{nil, nil, false, ""},
		{[]string{"a", "--json", "b", "--host", "h", "c"}, []string{"a", "b", "c"}, true, "h"},
		{[]string{"--host=x", "a"}, []string{"a"}, false, "x"},
		{[]string{"a", "--", "--json", "b"}, []string{"a", "--json", "b"}, false, ""},
		{[]string{"--", "-x"}, []string{"-x"}, false, ""},
		{[]string{"-json", "-"}, []string{"-"}, true, ""},
	}
	for _, tc := range tests {
		env, _, _ := testEnv(nil)
		f := cli.NewFlags("list", "list [pattern] [--json]")
		asJSON := f.Bool("json", false, "JSON output")
		host := f.String("host", "", "host")
		pos, err := f.Parse(env, tc.args)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.args, err)
			continue
		}
		if !slices.Equal(pos, tc.pos) || *asJSON != tc.json || *host != tc.host {
			t.Errorf("Parse(%q) = %q json %v host %q; want %q %v %q", tc.args, pos, *asJSON, *host, tc.pos, tc.json, tc.host)
		}
	}
}

func TestFlagsErrorsAndHelp(t *testing.T) {
	t.Parallel()
	env, out, _ := testEnv(nil)
	f := cli.NewFlags("list", "list [pattern] [--json]")
	f.Bool("json", false, "JSON output")
	_, err := f.Parse(env, []string{"a", "--bogus"})
	if mlxkerr.ExitCode(err) != 2 || !strings.Contains(err.Error(), "bogus") || !strings.Contains(err.Error(), "list [pattern] [--json]") {
		t.Errorf("unknown flag: %v (exit %d)", err, mlxkerr.ExitCode(err))
	}
	if out.Len() != 0 {
		t.Errorf("stdout %q", out)
	}

	f = cli.NewFlags("list", "list [pattern] [--json]")
	f.Bool("json", false, "JSON output")
	_, err = f.Parse(env, []string{"-h"})
	var rep cli.Reported
	if !errors.As(err, &rep) || rep.Code != 0 {
		t.Errorf("-h: %v, want Reported{Code: 0}", err)
	}
	if !strings.Contains(out.String(), "usage: list [pattern] [--json]") || !strings.Contains(out.String(), "--json") ||
		!strings.Contains(out.String(), "JSON output") {
		t.Errorf("help output %q", out)
	}
}

func TestEmit(t *testing.T) {
	t.Parallel()
	env, out, _ := testEnv(nil)
	if err := cli.Emit(env, cli.Human, "list", nil, func(w io.Writer) { io.WriteString(w, "table\n") }); err != nil {
		t.Fatal(err)
	}
	if err := cli.Emit(env, cli.JSON, "list", map[string]int{"count": 0}, func(io.Writer) { t.Error("human renderer called in JSON mode") }); err != nil {
		t.Fatal(err)
	}
	want := "table\n" + `{"status":"success","command":"list","data":{"count":0},"error":null}` + "\n"
	if out.String() != want {
		t.Errorf("Emit wrote %q, want %q", out, want)
	}
}

func TestLogger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		vars    map[string]string
		flag    bool
		json    bool
		debug   bool
		infoOut bool
	}{
		{nil, false, false, false, true},
		{nil, true, true, false, true},
		{map[string]string{"MLXK_LOG_JSON": "1"}, false, true, false, true},
		{map[string]string{"MLXK2_LOG_JSON": "1"}, false, true, false, true},
		{map[string]string{"MLXK_LOG_JSON": "true"}, false, false, false, true},
		{map[string]string{"MLXK_LOG_LEVEL": "debug"}, false, false, true, true},
		{map[string]string{"MLXK_LOG_LEVEL": "WARNING"}, false, false, false, false},
		{map[string]string{"MLXK_LOG_LEVEL": "error"}, false, false, false, false},
	}
	for _, tc := range tests {
		env, out, errb := testEnv(tc.vars)
		log := env.Logger(tc.flag)
		log.Debug("dbg")
		log.Info("info at /home/alice/x")
		s := errb.String()
		if out.Len() != 0 {
			t.Errorf("%v: logs on stdout", tc.vars)
		}
		if strings.Contains(s, "dbg") != tc.debug || strings.Contains(s, "info at") != tc.infoOut {
			t.Errorf("%v flag %v: stderr %q", tc.vars, tc.flag, s)
		}
		if tc.infoOut {
			if strings.Contains(s, "/home/alice") || !strings.Contains(s, "~/x") {
				t.Errorf("%v: home not redacted: %q", tc.vars, s)
			}
			first := strings.SplitN(s, "\n", 2)[0]
			if tc.debug {
				first = strings.SplitN(s, "\n", 3)[1]
			}
			if json.Valid([]byte(first)) != tc.json {
				t.Errorf("%v flag %v: line %q, want JSON %v", tc.vars, tc.flag, first, tc.json)
			}
		}
	}
}

func TestOSEnvNotTerminal(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	env := cli.OSEnv(r, w, &bytes.Buffer{})
	if env.StdinTTY || env.StdoutTTY || env.StderrTTY {
		t.Errorf("pipes and buffers reported as terminals: %+v", env)
	}
	if env.Getenv == nil || env.Now == nil {
		t.Error("OSEnv left Getenv or Now nil")
	}
}
