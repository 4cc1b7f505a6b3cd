package mlxkerr_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"github.com/mlxk/mlxk/shared/mlxkerr"
)

func TestNewAndWrap(t *testing.T) {
	t.Parallel()
	e := mlxkerr.New(mlxkerr.ModelNotFound, "No model found matching '%s'", "x")
	if e.Type != "model_not_found" || e.Error() != "No model found matching 'x'" || e.Usage || e.Unwrap() != nil {
		t.Errorf("New = %+v", e)
	}
	w := mlxkerr.Wrap(mlxkerr.InternalError, fs.ErrNotExist, "read %s", "cache")
	if w.Message != "read cache: file does not exist" || !errors.Is(w, fs.ErrNotExist) {
		t.Errorf("Wrap = %+v", w)
	}
	if w := mlxkerr.Wrap(mlxkerr.InternalError, nil, "ctx"); w.Message != "ctx" || w.Err != nil {
		t.Errorf("Wrap(nil) = %+v", w)
	}
	u := mlxkerr.Usagef("bad flag %s", "--x")
	if u.Type != mlxkerr.CommandError || !u.Usage || u.Message != "bad flag --x" {
		t.Errorf("Usagef = %+v", u)
	}
}

func TestFrom(t *testing.T) {
	t.Parallel()
	if mlxkerr.From(nil, mlxkerr.InternalError) != nil {
		t.Error("From(nil) != nil")
	}
	typed := mlxkerr.New(mlxkerr.AmbiguousMatch, "many")
	if got := mlxkerr.From(fmt.Errorf("context: %w", typed), mlxkerr.InternalError); got != typed {
		t.Errorf("From(wrapped typed) = %+v, want the typed error itself", got)
	}
	plain := errors.New("boom")
	got := mlxkerr.From(plain, mlxkerr.HealthCheckFailed)
	if got.Type != mlxkerr.HealthCheckFailed || got.Message != "boom" || !errors.Is(got, plain) {
		t.Errorf("From(plain) = %+v", got)
	}
}

func TestExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("x"), 1},
		{mlxkerr.New(mlxkerr.ModelNotFound, "x"), 1},
		{mlxkerr.Usagef("x"), 2},
		{fmt.Errorf("wrapped: %w", mlxkerr.Usagef("x")), 2},
		{mlxkerr.New(mlxkerr.CommandError, "not marked as usage"), 1},
	}
	for _, tc := range tests {
		if got := mlxkerr.ExitCode(tc.err); got != tc.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  *mlxkerr.Error
		want string
	}{
		{mlxkerr.New(mlxkerr.ModelNotFound, "m"), `{"type":"model_not_found","message":"m"}`},
		{&mlxkerr.Error{Type: "t", Message: "m", Matches: []string{"a", "b"}, AvailableHashes: []string{"h"}, Detail: "d",
			Usage: true, Err: errors.New("hidden")}, `{"type":"t","message":"m","matches":["a","b"],"available_hashes":["h"],"detail":"d"}`},
		{mlxkerr.Usagef("u"), `{"type":"CommandError","message":"u"}`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(tc.err)
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal = %s, %v; want %s", b, err, tc.want)
		}
	}
}
