package live

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func schemaForTest(t *testing.T) *ReportSchema {
	t.Helper()
	rs, err := LoadReportSchema(filepath.Join("..", "..", "docs", "live-report-schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rs.Version != ReportSchemaVersion {
		t.Fatalf("schema version %q, code writes %q", rs.Version, ReportSchemaVersion)
	}
	return rs
}

func sampleRecords() []Record {
	gen, pt := 16, 29
	tps, ttft := 1234.5, 0.012
	rss := int64(15 << 20)
	fin := "length"
	reason := "needs 9.0 GB of RAM, budget is 6.4 GB (40% of 16.0 GB)"
	fail := "stop tokens visible in the output: [\"<|im_end|>\"]"
	base := Record{SchemaVersion: ReportSchemaVersion, RunID: "r1", Time: "2026-01-01T00:00:00Z", Mode: "smoke",
		Machine: Machine{OS: "linux", Arch: "amd64", CPUs: 2, RAMBytes: 16 * GB, BudgetBytes: NewBudget(16 * GB).Limit, MLXKVersion: "mlxk 0.1.0"},
		Model:   ModelInfo{Name: "org/Llama-3B|x", Hash: "abc", Family: "Llama", Architecture: "llama", ParameterSize: "3B", Quantization: "4bit", SizeBytes: 2 << 30, RAMNeededBytes: 3 << 30}}
	a := base
	a.Test, a.Status = TestRunJSON, StatusPass
	a.Metrics = Metrics{PromptTokens: &pt, GeneratedTokens: &gen, PrefillTokensPerS: &tps, DecodeTokensPerS: &tps, TTFTSeconds: &ttft, PeakRSSBytes: &rss, FinishReason: &fin}
	a.StopTokens = &StopTokens{Configured: []string{"<|im_end|>"}, Visible: []string{}}
	a.Reasoning = &Reasoning{Leaked: []string{}}
	b := base
	b.Test, b.Status, b.Reason, b.Failures = TestServerChat, StatusFail, &fail, []string{fail}
	b.StopTokens = &StopTokens{Configured: []string{"<|im_end|>"}, Visible: []string{"<|im_end|>"}}
	b.Parity = &Parity{Compared: []string{"stream=batch"}, Equal: true}
	b.Findings = []string{"a prompt-cache hit changed the temperature-0 answer"}
	c := base
	c.Model = ModelInfo{Name: "org/Big-70B", Family: "Llama"}
	c.Test, c.Status, c.Reason = TestPortfolio, StatusSkip, &reason
	return []Record{a, b, c}
}

func TestReportRoundTripValidates(t *testing.T) {
	rs := schemaForTest(t)
	var buf bytes.Buffer
	w := NewReportWriter(&buf)
	for _, r := range sampleRecords() {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := rs.ValidateLines(bytes.NewReader(buf.Bytes())); err != nil || n != 3 {
		t.Fatalf("ValidateLines = %d, %v\n%s", n, err, buf.String())
	}
	got, err := ReadReport(bytes.NewReader(buf.Bytes()))
	if err != nil || len(got) != 3 || got[1].Status != StatusFail || *got[2].Reason == "" {
		t.Fatalf("ReadReport = %+v, %v", got, err)
	}
}

func TestReportSchemaRejects(t *testing.T) {
	rs := schemaForTest(t)
	var buf bytes.Buffer
	NewReportWriter(&buf).Write(sampleRecords()[0])
	good := strings.TrimSpace(buf.String())
	for name, line := range map[string]string{
		"an unknown status":      strings.Replace(good, `"status":"pass"`, `"status":"ok"`, 1),
		"an unknown test":        strings.Replace(good, `"test":"run_json"`, `"test":"vibes"`, 1),
		"another major version":  strings.Replace(good, `"schema_version":"1.0.0"`, `"schema_version":"2.0.0"`, 1),
		"a negative token count": strings.Replace(good, `"generated_tokens":16`, `"generated_tokens":-1`, 1),
		"an extra field":         strings.Replace(good, `"mode":"smoke"`, `"mode":"smoke","extra":1`, 1),
		"a missing field":        strings.Replace(good, `"failures":[],`, ``, 1),
		"not JSON":               good[:40],
	} {
		if line == good {
			t.Fatalf("%s: the replacement did not apply", name)
		}
		if _, err := rs.ValidateLines(strings.NewReader(line)); !errors.Is(err, ErrReport) {
			t.Errorf("%s: ValidateLines = %v", name, err)
		}
	}
	if _, err := ReadReport(strings.NewReader(`{"schema_version":"1.0.0","model":{"name":"x"},"test":"run_json","surprise":1}`)); !errors.Is(err, ErrReport) {
		t.Errorf("ReadReport accepted an unknown field: %v", err)
	}
}

func TestRenderMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := RenderMarkdown(&b, sampleRecords()); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"## Run r1 (smoke)",
		"1 tests passed, 1 failed, 1 skipped.",
		"| org/Llama-3B\\|x | Llama | 3B | 4bit | llama | 2.0 GB | 1 pass, **1 fail** | `<\\|im_end\\|>` | **`<\\|im_end\\|>`** | no | 1/1 equal |",
		"| org/Llama-3B\\|x | run_json | 29 | 16 | 1234.5 | 1234.5 | 0.012 | - | 15.0 MB | length |",
		"| org/Big-70B | portfolio | needs 9.0 GB of RAM, budget is 6.4 GB (40% of 16.0 GB) |",
		"| org/Llama-3B\\|x | server_chat | a prompt-cache hit changed the temperature-0 answer |",
		"| org/Llama-3B\\|x | server_chat | stop tokens visible in the output: [\"<\\|im_end\\|>\"] |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("missing %q in:\n%s", want, md)
		}
	}
	if strings.Contains(md, "| org/Big-70B | Llama |") {
		t.Error("a model the plan skipped is in the model table")
	}
}

func FuzzReadReport(f *testing.F) {
	var buf bytes.Buffer
	w := NewReportWriter(&buf)
	for _, r := range sampleRecords() {
		w.Write(r)
	}
	f.Add(buf.Bytes())
	f.Add([]byte("{}\n{\"schema_version\":\"1\"}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		recs, err := ReadReport(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrReport) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		var out bytes.Buffer
		if err := RenderMarkdown(&out, recs); err != nil {
			t.Fatal(err)
		}
	})
}
