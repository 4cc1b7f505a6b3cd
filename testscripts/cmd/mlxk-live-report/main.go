// Command mlxk-live-report checks live-test reports (JSON lines written by
// the live suite, testscripts/live) against docs/live-report-schema.json
// and renders them as Markdown tables:
//
//	mlxk-live-report [-schema FILE] [-o OUT.md] REPORT.jsonl…
//
// Several reports (machines, runs) render one after the other. A line that
// does not validate is an error (exit 1) and nothing is written.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mlxk/mlxk/testscripts/live"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("mlxk-live-report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	schema := fs.String("schema", defaultSchema(), "the report schema")
	out := fs.String("o", "", "write the Markdown here instead of stdout")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 || *schema == "" {
		fmt.Fprintln(stderr, "usage: mlxk-live-report [-schema FILE] [-o OUT.md] REPORT.jsonl…")
		return 2
	}
	rs, err := live.LoadReportSchema(*schema)
	if err != nil {
		fmt.Fprintln(stderr, "mlxk-live-report:", err)
		return 1
	}
	var recs []live.Record
	for _, path := range fs.Args() {
		b, err := os.ReadFile(path)
		if err == nil {
			_, err = rs.ValidateLines(bytes.NewReader(b))
		}
		var got []live.Record
		if err == nil {
			got, err = live.ReadReport(bytes.NewReader(b))
		}
		if err != nil {
			fmt.Fprintf(stderr, "mlxk-live-report: %s: %v\n", path, err)
			return 1
		}
		recs = append(recs, got...)
	}
	var md bytes.Buffer
	fmt.Fprintf(&md, "# mlxk live-test report\n\nRendered by `mlxk-live-report` from %d records (schema %s); see docs/live-tests.md.\n\n", len(recs), rs.Version)
	if err := live.RenderMarkdown(&md, recs); err != nil {
		fmt.Fprintln(stderr, "mlxk-live-report:", err)
		return 1
	}
	if *out == "" {
		stdout.Write(md.Bytes())
		return 0
	}
	if err := os.WriteFile(*out, md.Bytes(), 0o644); err != nil {
		fmt.Fprintln(stderr, "mlxk-live-report:", err)
		return 1
	}
	return 0
}

// defaultSchema finds docs/live-report-schema.json from the checkout root
// or one of its folders.
func defaultSchema() string {
	for _, p := range []string{"docs", "../docs", "../../docs"} {
		f := filepath.Join(p, "live-report-schema.json")
		if _, err := os.Stat(f); err == nil {
			return f
		}
	}
	return ""
}
