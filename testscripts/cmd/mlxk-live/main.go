// Command mlxk-live runs the live suite (testscripts/live) by hand, with
// the mlxk binaries of a build (bin/ by default):
//
//	mlxk-live portfolio [-mlxk PATH]          what would run and what would be skipped, and why
//	mlxk-live run [-mlxk PATH] [-report F]    the suite over the portfolio, one model at a time
//	mlxk-live smoke-cache [-demo DIR] HF_HOME the generated smoke portfolio as a hub cache
//
// The cache under test is MLXK_LIVE_HF_HOME, else HF_HOME; the other
// settings are the MLXK_LIVE_* variables of docs/live-tests.md. `make
// test-live` and `make test-live-smoke` run the same suite as testscripts.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/mlxk/mlxk/testscripts/live"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  mlxk-live portfolio [-mlxk PATH]
  mlxk-live run [-mlxk PATH] [-report FILE]
  mlxk-live smoke-cache [-demo DIR] HF_HOME`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("mlxk-live "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	mlxk := fs.String("mlxk", defaultMlxk(), "the mlxk dispatcher to test")
	report := fs.String("report", os.Getenv("MLXK_LIVE_REPORT"), "append JSON-lines records to this file")
	demo := fs.String("demo", "", "the demo model folder to add to the smoke cache")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	var err error
	switch args[0] {
	case "portfolio":
		err = portfolio(ctx, *mlxk, stdout)
	case "run":
		err = suite(ctx, *mlxk, *report, stdout)
	case "smoke-cache":
		if fs.NArg() != 1 {
			fmt.Fprintln(stderr, usage)
			return 2
		}
		var ids []string
		ids, err = live.WriteSmokeCache(ctx, fs.Arg(0), *demo, live.SmokePortfolio())
		if err == nil {
			fmt.Fprintln(stdout, strings.Join(ids, "\n"))
		}
	default:
		fmt.Fprintln(stderr, usage)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "mlxk-live:", err)
		return 1
	}
	return 0
}

// defaultMlxk is bin/mlxk of the checkout when run from it, else mlxk.
func defaultMlxk() string {
	for _, p := range []string{"bin/mlxk", "../bin/mlxk"} {
		if abs, err := filepath.Abs(p); err == nil {
			if _, err := os.Stat(abs); err == nil {
				return abs
			}
		}
	}
	return "mlxk"
}

// setup reads the settings and plans the portfolio.
func setup(ctx context.Context, mlxk string) (live.Settings, live.Tool, live.Budget, []live.Entry, error) {
	st, err := live.SettingsFromEnv(os.Getenv)
	if err != nil {
		return st, live.Tool{}, live.Budget{}, nil, err
	}
	if st.Source == "" {
		st.Source = os.Getenv("HF_HOME")
	}
	if st.Source == "" {
		return st, live.Tool{}, live.Budget{}, nil, errors.New("set MLXK_LIVE_HF_HOME (or HF_HOME) to the cache to test")
	}
	t := live.Tool{Path: mlxk, Env: live.ToolEnv(os.Environ(), st.Source)}
	b, entries, err := live.Prepare(ctx, st, t)
	return st, t, b, entries, err
}

func portfolio(ctx context.Context, mlxk string, w io.Writer) error {
	st, _, b, entries, err := setup(ctx, mlxk)
	if err != nil {
		return err
	}
	return live.WritePortfolio(w, entries, b, st.Source)
}

func suite(ctx context.Context, mlxk, reportPath string, w io.Writer) error {
	st, t, b, entries, err := setup(ctx, mlxk)
	if err != nil {
		return err
	}
	if err := live.WritePortfolio(w, entries, b, st.Source); err != nil {
		return err
	}
	fmt.Fprintln(w)
	s := &live.Suite{Tool: t, Source: st.Source, Opts: st.Options(), Machine: live.NewMachine(ctx, t, b), RunID: live.NewRunID(), Progress: w}
	if reportPath != "" {
		rw, err := live.OpenReport(reportPath)
		if err != nil {
			return err
		}
		defer rw.Close()
		s.Report = rw
	}
	before, err := live.HashTree(st.Source, st.TreeContent)
	if err != nil {
		return err
	}
	sum, err := s.Run(ctx, entries)
	if err != nil {
		return err
	}
	after, err := live.HashTree(st.Source, st.TreeContent)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d passed, %d failed, %d skipped\n", sum.Pass, sum.Fail, sum.Skip)
	if d := after.Diff(before); len(d) > 0 {
		return fmt.Errorf("the cache under test changed during the run:\n%s", strings.Join(d, "\n"))
	}
	fmt.Fprintf(w, "cache under test unchanged (%d entries, digest %s)\n", len(after.Entries), after.Digest()[:16])
	if sum.Fail > 0 {
		return fmt.Errorf("%d failures:\n%s", sum.Fail, strings.Join(sum.Failures, "\n"))
	}
	return nil
}
