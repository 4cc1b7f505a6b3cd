package envelope_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/mlxk/mlxk/shared/internal/testutil"

	"github.com/mlxk/mlxk/shared/envelope"
	"github.com/mlxk/mlxk/shared/mlxkerr"
)

func TestKeyOrder(t *testing.T) {
	t.Parallel()
	dataFirst := []string{"status", "command", "data", "error"}
	errorFirst := []string{"status", "command", "error", "data"}
	tests := []struct {
		command string
		want    []string
	}{
		{"list", dataFirst},
		{"show", dataFirst},
		{"version", dataFirst},
		{"run", dataFirst},
		{"server", dataFirst},
		{"", dataFirst},
		{"health", errorFirst},
		{"pull", errorFirst},
		{"rm", errorFirst},
		{"push", errorFirst},
		{"clone", errorFirst},
	}
	for _, tc := range tests {
		t.Run(tc.command, func(t *testing.T) {
			t.Parallel()
			for _, env := range []envelope.Envelope{
				envelope.Success(tc.command, map[string]int{"count": 0}),
				envelope.Failure(tc.command, mlxkerr.New(mlxkerr.ModelNotFound, "nope"), nil),
			} {
				b, err := json.Marshal(env)
				if err != nil {
					t.Fatal(err)
				}
				if got := testutil.Keys(t, b); !slices.Equal(got, tc.want) {
					t.Errorf("%s: keys %q, want %q", b, got, tc.want)
				}
			}
		})
	}
	b, _ := json.Marshal(envelope.Envelope{Status: "success", Command: "list", ErrorFirst: true})
	if got := testutil.Keys(t, b); !slices.Equal(got, errorFirst) {
		t.Errorf("ErrorFirst: keys %q", got)
	}
}

func TestExactOutput(t *testing.T) {
	t.Parallel()
	e := mlxkerr.New(mlxkerr.AmbiguousMatch, "Multiple models match '%s'", "Qwen3")
	e.Matches = []string{"Qwen/Qwen3-Coder", "mlx-community/Qwen3-30B"}
	hashErr := mlxkerr.New(mlxkerr.HashNotFound, "Hash 'x' not found")
	hashErr.AvailableHashes = []string{"abc"}
	tests := []struct {
		name string
		env  envelope.Envelope
		want string
	}{
		{"success", envelope.Success("list", map[string]any{"count": 0, "models": []string{}}),
			`{"status":"success","command":"list","data":{"count":0,"models":[]},"error":null}`},
		{"CLI-level error has a null command", envelope.Failure("", mlxkerr.Usagef("No command specified"), nil),
			`{"status":"error","command":null,"data":null,"error":{"type":"CommandError","message":"No command specified"}}`},
		{"health error keeps data", envelope.Failure("health", e, map[string]any{"healthy": []string{}}),
			`{"status":"error","command":"health","error":{"type":"ambiguous_match","message":"Multiple models match 'Qwen3'",` +
				`"matches":["Qwen/Qwen3-Coder","mlx-community/Qwen3-30B"]},"data":{"healthy":[]}}`},
		{"available hashes", envelope.Failure("show", hashErr, nil),
			`{"status":"error","command":"show","data":null,"error":{"type":"hash_not_found","message":"Hash 'x' not found","available_hashes":["abc"]}}`},
		{"no HTML escaping", envelope.Success("run", map[string]string{"response": "<b>a & b</b> → ok"}),
			`{"status":"success","command":"run","data":{"response":"<b>a & b</b> → ok"},"error":null}`},
		{"error messages are not HTML-escaped", envelope.Failure("run", mlxkerr.New("execution_error", "x <y> & z"), nil),
			`{"status":"error","command":"run","data":null,"error":{"type":"execution_error","message":"x <y> & z"}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := envelope.Write(&buf, tc.env); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tc.want+"\n" {
				t.Errorf("Write =\n%s\nwant\n%s", got, tc.want)
			}
			if strings.Count(buf.String(), "\n") != 1 {
				t.Errorf("output is not one line: %q", buf.String())
			}
			if !json.Valid(buf.Bytes()) {
				t.Errorf("invalid JSON: %s", buf.String())
			}
		})
	}
}

func TestWriteRecord(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	records := []any{
		map[string]any{"name": "a<b>", "multi": "line1\nline2"},
		[]int{1, 2},
		nil,
	}
	for _, r := range records {
		if err := envelope.Write(&buf, r); err != nil {
			t.Fatal(err)
		}
	}
	want := "{\"multi\":\"line1\\nline2\",\"name\":\"a<b>\"}\n[1,2]\nnull\n"
	if buf.String() != want {
		t.Errorf("Write = %q, want %q", buf.String(), want)
	}
}

func TestWriteErrors(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	if err := envelope.Write(&buf, envelope.Success("list", make(chan int))); err == nil {
		t.Error("Write of an unencodable value did not fail")
	}
	if buf.Len() != 0 {
		t.Errorf("a failed Write printed %q", buf.String())
	}
	if err := envelope.Write(failingWriter{}, map[string]int{"a": 1}); err == nil {
		t.Error("a writer error was swallowed")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
