package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/peterbourgon/ff/v3"

	"github.com/mlxk/mlxk/shared/envelope"
	"github.com/mlxk/mlxk/shared/mlxkerr"
)

// Verb is one subcommand of a binary.
type Verb struct {
	Name    string
	Aliases []string
	// Usage is the one-line synopsis, without the binary name.
	Usage string
	// Run executes the verb. It returns a typed error, which Program.Main
	// prints once in the caller's output mode, or Reported when it has
	// already printed its own result.
	Run func(ctx context.Context, env Env, verb string, args []string) error
}

// Program is a binary made of verbs; the first verb is the default when the
// first argument names none.
type Program struct {
	Name  string
	Verbs []Verb
}

// Reported is returned by verbs that printed their result themselves and
// only need the exit code set.
type Reported struct{ Code int }

func (r Reported) Error() string { return fmt.Sprintf("exit status %d", r.Code) }

// Main runs the program and returns the process exit code.
func (p Program) Main(ctx context.Context, env Env, args []string) int {
	v := p.Verbs[0]
	name := v.Name
	if len(args) > 0 {
		for _, cand := range p.Verbs {
			if args[0] == cand.Name || slices.Contains(cand.Aliases, args[0]) {
				v, name, args = cand, args[0], args[1:]
				break
			}
		}
	}
	if len(args) > 0 && (args[0] == "help") {
		fmt.Fprint(env.Stdout, p.usage())
		return 0
	}
	err := v.Run(ctx, env, name, args)
	var rep Reported
	if errors.As(err, &rep) {
		return rep.Code
	}
	if err != nil {
		PrintError(env, ModeFromArgs(args), commandName(name), err)
	}
	return mlxkerr.ExitCode(err)
}

func (p Program) usage() string {
	var b strings.Builder
	fmt.Fprintf(&b, "usage:\n")
	for _, v := range p.Verbs {
		fmt.Fprintf(&b, "  %s %s\n", p.Name, v.Usage)
	}
	return b.String()
}

// commandName maps verb aliases onto the JSON "command" enum.
func commandName(verb string) string {
	if verb == "serve" {
		return "server"
	}
	return verb
}

// Mode is how a command prints its result.
type Mode int

const (
	Human Mode = iota
	JSON       // one envelope on stdout
	JSONL      // one record per line on stdout
)

// ModeFromArgs looks for --json/--jsonl anywhere in args, so that even a
// usage error is reported as JSON when the caller asked for JSON.
func ModeFromArgs(args []string) Mode {
	m := Human
	for _, a := range args {
		if a == "--" {
			break
		}
		switch a {
		case "--json", "-json", "--json=true", "-json=true":
			if m == Human {
				m = JSON
			}
		case "--jsonl", "-jsonl", "--jsonl=true", "-jsonl=true":
			m = JSONL
		}
	}
	return m
}

// PrintError reports err once: as an envelope on stdout in JSON modes, as
// "command: Error: message" on stderr otherwise.
func PrintError(env Env, mode Mode, command string, err error) {
	e := mlxkerr.From(err, mlxkerr.InternalError)
	if e.Type == mlxkerr.CommandError {
		command = "" // usage errors have no command, as in mlx-knife
	}
	if mode != Human {
		_ = envelope.Write(env.Stdout, envelope.Failure(command, e, nil))
		return
	}
	PrintHumanError(env.Stderr, command, e)
}

// PrintHumanError writes the human form of a typed error to w.
func PrintHumanError(w io.Writer, command string, e *mlxkerr.Error) {
	prefix := "mlxk"
	if command != "" {
		prefix = command
	}
	fmt.Fprintf(w, "%s: Error: %s\n", prefix, e.Message)
	for _, m := range e.Matches {
		fmt.Fprintf(w, "  %s\n", m)
	}
	if len(e.AvailableHashes) > 0 {
		fmt.Fprintf(w, "  available: %s\n", strings.Join(e.AvailableHashes, ", "))
	}
}

// Emit prints a successful result: the envelope in JSON mode, the human
// rendering otherwise. JSONL callers stream records themselves.
func Emit(env Env, mode Mode, command string, data any, human func(w io.Writer)) error {
	if mode == Human {
		human(env.Stdout)
		return nil
	}
	return envelope.Write(env.Stdout, envelope.Success(command, data))
}

// Flags is a flag set that parses like the mlxk CLI: flags and positionals
// may be mixed, "--" ends flags, "-h"/"--help" prints usage.
type Flags struct {
	*flag.FlagSet
	synopsis string
}

// NewFlags returns an empty flag set for a verb; synopsis is printed with
// -h, e.g. "list [pattern] [--json]".
func NewFlags(name, synopsis string) *Flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &Flags{FlagSet: fs, synopsis: synopsis}
}

// ErrHelp is returned by Parse after it printed the usage for -h.
var ErrHelp = Reported{Code: 0}

// Parse parses args and returns the positionals. A parse error is a usage
// error; -h prints the usage to stdout and returns ErrHelp.
func (f *Flags) Parse(env Env, args []string) ([]string, error) {
	var pos []string
	for {
		err := ff.Parse(f.FlagSet, args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(env.Stdout, "usage: %s\n\nflags:\n%s", f.synopsis, f.defaults())
			return nil, ErrHelp
		}
		if err != nil {
			return nil, mlxkerr.Usagef("%s: %v (usage: %s)", f.Name(), err, f.synopsis)
		}
		rest := f.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// flag stops at the first positional; a "--" it consumed itself
		// means everything after it is positional.
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func (f *Flags) defaults() string {
	var b strings.Builder
	f.VisitAll(func(fl *flag.Flag) {
		fmt.Fprintf(&b, "  --%-20s %s\n", fl.Name, fl.Usage)
	})
	return b.String()
}

// NotImplemented returns a verb that answers with a typed not_implemented
// error; binaries whose verbs are still being built use it so that callers
// and scripts get a stable answer instead of a crash.
func NotImplemented(name, usage string, aliases ...string) Verb {
	return Verb{
		Name:    name,
		Aliases: aliases,
		Usage:   usage,
		Run: func(_ context.Context, _ Env, verb string, _ []string) error {
			return mlxkerr.New(mlxkerr.NotImplemented, "%s is not implemented in this build of mlxk", verb)
		},
	}
}

// Output holds the output flags every verb shares.
type Output struct {
	json, jsonl, logJSON *bool
}

// OutputFlags registers --json, --jsonl (when the verb streams records,
// with jsonlUsage saying what a line is; "" leaves the flag out) and
// --log-json.
func (f *Flags) OutputFlags(jsonlUsage string) *Output {
	o := &Output{
		json:    f.Bool("json", false, "print one JSON envelope"),
		logJSON: f.Bool("log-json", false, "write logs as JSON lines on stderr"),
	}
	if jsonlUsage != "" {
		o.jsonl = f.Bool("jsonl", false, jsonlUsage)
	}
	return o
}

// Mode is the output mode the flags chose (--jsonl wins over --json).
func (o *Output) Mode() Mode {
	switch {
	case o.jsonl != nil && *o.jsonl:
		return JSONL
	case *o.json:
		return JSON
	}
	return Human
}

// LogJSON reports --log-json.
func (o *Output) LogJSON() bool { return *o.logJSON }
