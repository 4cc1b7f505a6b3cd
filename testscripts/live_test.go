package testscripts

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/mlxk/mlxk/testscripts/live"
)

// TestLiveScripts runs testdata/live_*.txtar, the live suite
// (docs/live-tests.md). They are off unless MLXK_LIVE_HF_HOME names a
// cache to test or MLXK_LIVE_SMOKE=1 asks for the generated smoke
// portfolio (make test-live, make test-live-smoke); TestScripts sees the
// same files and skips them, as its [live] condition is always false.
//
// The scripts may run in parallel: the suite takes a machine-wide lock,
// so models are still loaded strictly one at a time.
func TestLiveScripts(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("testdata", "live_*.txtar"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no live scripts: %v", err)
	}
	active := live.Active(os.Getenv)
	schema, _ := filepath.Abs(filepath.Join("..", "docs", "live-report-schema.json"))
	testscript.Run(t, testscript.Params{
		Files:               files,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(env *testscript.Env) error {
			home := isolateEnv(env)
			env.Setenv("LIVE_SCHEMA", schema)
			for _, kv := range os.Environ() {
				if k, v, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "MLXK_LIVE_") {
					env.Setenv(k, v)
				}
			}
			// LIVE_CACHE is the cache under test: the one named, else (smoke
			// mode) the generated portfolio, made fresh for each script.
			cache := os.Getenv("MLXK_LIVE_HF_HOME")
			if cache == "" {
				cache = filepath.Join(env.WorkDir, "smoke")
				if active {
					if _, err := live.WriteSmokeCache(context.Background(), cache, demoIfPresent(demoModel()), live.SmokePortfolio()); err != nil {
						return err
					}
				}
			}
			env.Setenv("LIVE_CACHE", cache)
			return os.MkdirAll(home, 0o777)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mkcache":       cmdMkcache,
			"jsonget":       cmdJSONGet,
			"treehash":      cmdTreeHash,
			"livesmoke":     cmdLiveSmoke,
			"liveportfolio": cmdLivePortfolio,
			"livesuite":     cmdLiveSuite,
			"livereport":    cmdLiveReport,
			"livereports":   cmdLiveRecords,
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "live":
				return active, nil
			case "smoke":
				return os.Getenv("MLXK_LIVE_SMOKE") == "1" && os.Getenv("MLXK_LIVE_HF_HOME") == "", nil
			case "demo":
				return demoIfPresent(demoModel()) != "", nil
			}
			return false, nil
		},
	})
}

// demoIfPresent is the demo model folder when it holds a model (it is
// rebuilt from time to time), else "".
func demoIfPresent(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		return ""
	}
	return dir
}

// liveTool is mlxk from the script's PATH, running against the cache
// under test with the script's HOME.
func liveTool(ts *testscript.TestScript, cache string) live.Tool {
	path := lookPathIn("mlxk", ts.Getenv("PATH"))
	if path == "" {
		ts.Fatalf("mlxk is not on the script's PATH")
	}
	var base []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "GOCOVERDIR"} {
		if v := ts.Getenv(k); v != "" {
			base = append(base, k+"="+v)
		}
	}
	return live.Tool{Path: path, Env: live.ToolEnv(base, cache), Dir: ts.Getenv("WORK")}
}

// liveSetup reads the script's MLXK_LIVE_* settings and plans the
// portfolio of $LIVE_CACHE with `mlxk list --jsonl`.
func liveSetup(ts *testscript.TestScript) (live.Settings, live.Tool, live.Budget, []live.Entry) {
	st, err := live.SettingsFromEnv(ts.Getenv)
	ts.Check(err)
	st.Source = ts.Getenv("LIVE_CACHE")
	t := liveTool(ts, st.Source)
	b, entries, err := live.Prepare(context.Background(), st, t)
	ts.Check(err)
	return st, t, b, entries
}

// cmdLiveSmoke writes smoke models as a hub cache:
// livesmoke [-demo] [-only spec,…] HF_HOME
func cmdLiveSmoke(ts *testscript.TestScript, neg bool, args []string) {
	fl := flag.NewFlagSet("livesmoke", flag.ContinueOnError)
	withDemo := fl.Bool("demo", false, "add the demo model")
	only := fl.String("only", "", "comma-separated catalog names (default: the whole smoke portfolio)")
	ts.Check(fl.Parse(args))
	if neg || fl.NArg() != 1 {
		ts.Fatalf("usage: livesmoke [-demo] [-only spec,…] HF_HOME")
	}
	models := live.SmokePortfolio()
	if *only != "" {
		models = nil
		for _, s := range strings.Split(*only, ",") {
			models = append(models, live.SmokeModel{Spec: s})
		}
	}
	demo := ""
	if *withDemo {
		demo = demoIfPresent(ts.Getenv("DEMO_MODEL"))
	}
	ids, err := live.WriteSmokeCache(context.Background(), ts.MkAbs(fl.Arg(0)), demo, models)
	ts.Check(err)
	fmt.Fprintln(ts.Stdout(), strings.Join(ids, "\n"))
}

// cmdLivePortfolio prints what the suite would test in $LIVE_CACHE and
// what it would skip, with why, without running anything: liveportfolio
func cmdLivePortfolio(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: liveportfolio")
	}
	st, _, b, entries := liveSetup(ts)
	ts.Check(live.WritePortfolio(ts.Stdout(), entries, b, st.Source))
}

// cmdLiveSuite runs the live suite over the portfolio of $LIVE_CACHE,
// printing one line per test ("pass|fail|skip model test reason"), the
// counts and the failures, and writing the records to FILE (and appending
// them to $MLXK_LIVE_REPORT when set). Failed tests do not fail the
// command, so that a script can still compare the cache before it checks
// the output: livesuite FILE
func cmdLiveSuite(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: livesuite FILE")
	}
	st, t, b, entries := liveSetup(ts)
	if run, _ := live.Counts(entries); run == 0 {
		ts.Logf("no model of %s qualifies; the suite only records the skips", st.Source)
	}
	path := ts.MkAbs(args[0])
	rw, err := live.OpenReport(path)
	ts.Check(err)
	opts := st.Options()
	opts.Scratch = ts.MkAbs("scratch")
	ts.Check(os.MkdirAll(opts.Scratch, 0o777))
	ctx := context.Background()
	// MLXK_LIVE_PROGRESS=1 also prints each result on the test's stderr as
	// it happens (make test-live, which runs go test in local directory
	// mode, so that it streams).
	var progress io.Writer = ts.Stdout()
	if ts.Getenv("MLXK_LIVE_PROGRESS") == "1" {
		progress = io.MultiWriter(ts.Stdout(), os.Stderr)
	}
	s := &live.Suite{Tool: t, Source: st.Source, Opts: opts, Report: rw,
		Machine: live.NewMachine(ctx, t, b), RunID: live.NewRunID(), Progress: progress}
	sum, err := s.Run(ctx, entries)
	ts.Check(rw.Close())
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%d passed, %d failed, %d skipped\n", sum.Pass, sum.Fail, sum.Skip)
	if out := ts.Getenv("MLXK_LIVE_REPORT"); out != "" {
		b, err := os.ReadFile(path)
		ts.Check(err)
		f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
		ts.Check(err)
		_, err = f.Write(b)
		ts.Check(err)
		ts.Check(f.Close())
	}
	if sum.Fail > 0 {
		// Not fatal here: the script still proves the cache unchanged
		// before it checks for failures.
		fmt.Fprintf(ts.Stdout(), "failures:\n%s\n", strings.Join(sum.Failures, "\n"))
	}
}

// cmdTreeHash prints the fingerprint of a folder tree (live.HashTree):
// treehash [-meta] DIR. Compare two runs with cp and cmp.
func cmdTreeHash(ts *testscript.TestScript, neg bool, args []string) {
	meta := len(args) == 2 && args[0] == "-meta"
	if meta {
		args = args[1:]
	}
	if neg || len(args) != 1 {
		ts.Fatalf("usage: treehash [-meta] DIR")
	}
	tree, err := live.HashTree(ts.MkAbs(args[0]), !meta)
	ts.Check(err)
	_, err = tree.WriteTo(ts.Stdout())
	ts.Check(err)
}

// cmdLiveReport validates a report against docs/live-report-schema.json
// and prints it as the Markdown table: livereport FILE…
func cmdLiveReport(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("usage: livereport FILE…")
	}
	rs, err := live.LoadReportSchema(ts.Getenv("LIVE_SCHEMA"))
	ts.Check(err)
	var all []live.Record
	var failed error
	for _, a := range args {
		f, err := os.Open(ts.MkAbs(a))
		ts.Check(err)
		_, err = rs.ValidateLines(f)
		f.Close()
		if err != nil {
			failed = fmt.Errorf("%s: %w", a, err)
			break
		}
		f, err = os.Open(ts.MkAbs(a))
		ts.Check(err)
		recs, err := live.ReadReport(f)
		f.Close()
		ts.Check(err)
		all = append(all, recs...)
	}
	switch {
	case neg && failed == nil:
		ts.Fatalf("the reports unexpectedly validate")
	case !neg && failed != nil:
		ts.Fatalf("%v", failed)
	case failed == nil:
		ts.Check(live.RenderMarkdown(ts.Stdout(), all))
	}
}

// cmdLiveRecords prints the records of a report that match, one
// "model test status reason" line each, for scripts to grep:
// livereports FILE [test]
func cmdLiveRecords(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: livereports FILE [test]")
	}
	f, err := os.Open(ts.MkAbs(args[0]))
	ts.Check(err)
	defer f.Close()
	recs, err := live.ReadReport(f)
	ts.Check(err)
	for _, r := range recs {
		if len(args) == 2 && r.Test != args[1] {
			continue
		}
		line := fmt.Sprintf("%s %s %s", r.Model.Name, r.Test, r.Status)
		if r.Metrics.FinishReason != nil {
			line += " finish=" + *r.Metrics.FinishReason
		}
		if r.Reasoning != nil && r.Reasoning.Present {
			line += " reasoning"
		}
		if r.Reason != nil {
			line += ": " + *r.Reason
		}
		fmt.Fprintln(ts.Stdout(), line)
	}
}
