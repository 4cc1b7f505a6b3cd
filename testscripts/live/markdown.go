package live

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// speedTests are the tests whose measurements the speed table shows.
var speedTests = []string{TestRunJSON, TestServerChat, TestServerCompl}

// RenderMarkdown writes records as Markdown: per suite run (run_id, in
// the order first seen) a header with the machine, a table of models with
// their results and stop-token findings, a table of measurements, and the
// skips and failures with their reasons.
func RenderMarkdown(w io.Writer, recs []Record) error {
	var order []string
	runs := map[string][]Record{}
	for _, r := range recs {
		if _, ok := runs[r.RunID]; !ok {
			order = append(order, r.RunID)
		}
		runs[r.RunID] = append(runs[r.RunID], r)
	}
	var b strings.Builder
	for i, id := range order {
		if i > 0 {
			b.WriteString("\n")
		}
		renderRun(&b, runs[id])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

type modelRow struct {
	info                      ModelInfo
	pass, fail, skip          int
	configured, visible       []string
	reasoning, skippedEntire  bool
	leaked                    []string
	parityChecked, parityFail int
}

func renderRun(b *strings.Builder, recs []Record) {
	first := recs[0]
	m := first.Machine
	var pass, fail, skip int
	for _, r := range recs {
		switch r.Status {
		case StatusPass:
			pass++
		case StatusFail:
			fail++
		default:
			skip++
		}
	}
	fmt.Fprintf(b, "## Run %s (%s)\n\n", first.RunID, first.Mode)
	fmt.Fprintf(b, "%s/%s, %d CPUs, %s RAM, budget %s per model; %s; schema %s.\n",
		m.OS, m.Arch, m.CPUs, FormatBytes(m.RAMBytes), FormatBytes(m.BudgetBytes), orUnknown(m.MLXKVersion), first.SchemaVersion)
	fmt.Fprintf(b, "%d tests passed, %d failed, %d skipped.\n\n", pass, fail, skip)

	var names []string
	rows := map[string]*modelRow{}
	for _, r := range recs {
		row, ok := rows[r.Model.Name]
		if !ok {
			row = &modelRow{info: r.Model}
			rows[r.Model.Name] = row
			names = append(names, r.Model.Name)
		}
		if r.Model.Architecture != "" && row.info.Architecture == "" {
			row.info = r.Model
		}
		switch r.Status {
		case StatusPass:
			row.pass++
		case StatusFail:
			row.fail++
		default:
			row.skip++
			row.skippedEntire = r.Test == TestPortfolio
		}
		if st := r.StopTokens; st != nil {
			row.configured = union(row.configured, st.Configured)
			row.visible = union(row.visible, st.Visible)
		}
		if rs := r.Reasoning; rs != nil {
			row.reasoning = row.reasoning || rs.Present
			row.leaked = union(row.leaked, rs.Leaked)
		}
		if p := r.Parity; p != nil {
			row.parityChecked++
			if !p.Equal {
				row.parityFail++
			}
		}
	}

	b.WriteString("| Model | Family | Params | Quant | Arch | Size | Tests | Stop tokens | Visible | Reasoning | Parity |\n")
	b.WriteString("|---|---|---|---|---|---:|---|---|---|---|---|\n")
	for _, n := range names {
		row := rows[n]
		if row.skippedEntire {
			continue
		}
		tests := fmt.Sprintf("%d pass", row.pass)
		if row.fail > 0 {
			tests += fmt.Sprintf(", **%d fail**", row.fail)
		}
		if row.skip > 0 {
			tests += fmt.Sprintf(", %d skip", row.skip)
		}
		visible := "none"
		if len(row.visible) > 0 {
			visible = "**" + cell(quoteList(row.visible)) + "**"
		}
		reasoning := "no"
		if row.reasoning {
			reasoning = "kept apart"
		}
		if len(row.leaked) > 0 {
			reasoning = "**leaked " + cell(quoteList(row.leaked)) + "**"
		}
		parity := "-"
		if row.parityChecked > 0 {
			parity = fmt.Sprintf("%d/%d equal", row.parityChecked-row.parityFail, row.parityChecked)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			cell(n), cell(row.info.Family), cell(row.info.ParameterSize), cell(row.info.Quantization), cell(row.info.Architecture),
			FormatBytes(uint64(row.info.SizeBytes)), tests, cell(quoteList(row.configured)), visible, reasoning, parity)
	}

	b.WriteString("\n| Model | Test | Prompt tok | Gen tok | Prefill tok/s | Decode tok/s | TTFT s | Load s | Peak RSS | Finish |\n")
	b.WriteString("|---|---|---:|---:|---:|---:|---:|---:|---:|---|\n")
	for _, n := range names {
		for _, t := range speedTests {
			for _, r := range recs {
				if r.Model.Name != n || r.Test != t || r.Status == StatusSkip {
					continue
				}
				mt := r.Metrics
				load := mt.LoadSeconds
				if t != TestRunJSON {
					load = serverLoad(recs, n)
				}
				fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", cell(n), t,
					intCell(mt.PromptTokens), intCell(mt.GeneratedTokens), numCell(mt.PrefillTokensPerS, 1),
					numCell(mt.DecodeTokensPerS, 1), numCell(mt.TTFTSeconds, 3), numCell(load, 3),
					rssCell(peakFor(recs, n, t)), strCell(mt.FinishReason))
			}
		}
	}

	var skips, fails, finds []string
	for _, r := range recs {
		for _, f := range r.Findings {
			finds = append(finds, fmt.Sprintf("| %s | %s | %s |", cell(r.Model.Name), r.Test, cell(f)))
		}
		switch {
		case r.Status == StatusSkip && r.Reason != nil:
			skips = append(skips, fmt.Sprintf("| %s | %s | %s |", cell(r.Model.Name), r.Test, cell(*r.Reason)))
		case r.Status == StatusFail:
			fails = append(fails, fmt.Sprintf("| %s | %s | %s |", cell(r.Model.Name), r.Test, cell(strings.Join(r.Failures, "; "))))
		}
	}
	if len(skips) > 0 {
		b.WriteString("\nSkipped:\n\n| Model | Test | Reason |\n|---|---|---|\n" + strings.Join(skips, "\n") + "\n")
	}
	if len(finds) > 0 {
		b.WriteString("\nFindings (not failures):\n\n| Model | Test | Finding |\n|---|---|---|\n" + strings.Join(finds, "\n") + "\n")
	}
	if len(fails) > 0 {
		b.WriteString("\nFailures:\n\n| Model | Test | Failures |\n|---|---|---|\n" + strings.Join(fails, "\n") + "\n")
	}
}

// serverLoad is the server start-to-ready time of a model's server record.
func serverLoad(recs []Record, name string) *float64 {
	for _, r := range recs {
		if r.Model.Name == name && r.Test == TestServer {
			return r.Metrics.LoadSeconds
		}
	}
	return nil
}

// peakFor is the process peak of a test: the run's own, or for the server
// tests the server process's (recorded once on the server record).
func peakFor(recs []Record, name, test string) *int64 {
	want := test
	if test != TestRunJSON {
		want = TestServer
	}
	for _, r := range recs {
		if r.Model.Name == name && r.Test == want {
			return r.Metrics.PeakRSSBytes
		}
	}
	return nil
}

func union(a, b []string) []string {
	for _, s := range b {
		if !slices.Contains(a, s) {
			a = append(a, s)
		}
	}
	return a
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = "`" + strings.ReplaceAll(v, "`", "'") + "`"
	}
	return strings.Join(q, " ")
}

// cell makes text safe inside a table cell.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	s = strings.ReplaceAll(s, "|", "\\|")
	return strings.ReplaceAll(s, "\n", " ")
}

func intCell(v *int) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprint(*v)
}

func numCell(v *float64, prec int) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, *v)
}

func rssCell(v *int64) string {
	if v == nil || *v <= 0 {
		return "-"
	}
	return FormatBytes(uint64(*v))
}

func strCell(v *string) string {
	if v == nil {
		return "-"
	}
	return cell(*v)
}
