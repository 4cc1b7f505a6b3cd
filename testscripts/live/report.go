package live

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// ReportSchemaVersion is the version of the report record shape
// (docs/live-report-schema.json). A change to the shape bumps it: the
// minor number for added optional fields, the major number otherwise.
const ReportSchemaVersion = "1.0.0"

// Tests of the suite, as the report names them.
const (
	TestPortfolio   = "portfolio"         // a model the plan skipped (status skip, reason)
	TestRunText     = "run_text"          // mlxk run, human output
	TestRunJSON     = "run_json"          // mlxk run --json --verbose
	TestRunStream   = "run_stream"        // mlxk run --jsonl: token events against the envelope
	TestServer      = "server"            // mlxk serve lifecycle: start, /health, /v1/models, stop
	TestServerChat  = "server_chat"       // /v1/chat/completions batch and stream
	TestServerCompl = "server_completion" // /v1/completions batch and stream
	TestHealth      = "health_verify"     // mlxk health --verify on the real files
	TestHealthCopy  = "health_damage"     // a damaged minimal copy in a test cache is caught
)

// Statuses of a record.
const (
	StatusPass = "pass"
	StatusFail = "fail"
	StatusSkip = "skip"
)

// Record is one line of a benchmark report: one model and one test.
type Record struct {
	SchemaVersion string    `json:"schema_version"`
	RunID         string    `json:"run_id"`
	Time          string    `json:"time"`
	Mode          string    `json:"mode"`
	Machine       Machine   `json:"machine"`
	Model         ModelInfo `json:"model"`
	Test          string    `json:"test"`
	Status        string    `json:"status"`
	Reason        *string   `json:"reason"`
	Failures      []string  `json:"failures"`
	// Findings are observations that do not fail the test but belong in
	// the report (e.g. a prompt-cache hit that changed a greedy answer).
	Findings   []string    `json:"findings"`
	Metrics    Metrics     `json:"metrics"`
	StopTokens *StopTokens `json:"stop_tokens"`
	Parity     *Parity     `json:"parity"`
	Reasoning  *Reasoning  `json:"reasoning"`
}

// Machine is where the report was made.
type Machine struct {
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	CPUs        int    `json:"cpus"`
	RAMBytes    uint64 `json:"ram_bytes"`
	BudgetBytes uint64 `json:"budget_bytes"`
	MLXKVersion string `json:"mlxk_version"`
}

// ModelInfo identifies the model of a record.
type ModelInfo struct {
	Name           string `json:"name"`
	Hash           string `json:"hash"`
	Family         string `json:"family"`
	Architecture   string `json:"architecture"`
	ParameterSize  string `json:"parameter_size"`
	Quantization   string `json:"quantization"`
	SizeBytes      int64  `json:"size_bytes"`
	RAMNeededBytes uint64 `json:"ram_needed_bytes"`
}

// Metrics are the measurements of a test; null where a test has none.
type Metrics struct {
	PromptTokens      *int     `json:"prompt_tokens"`
	GeneratedTokens   *int     `json:"generated_tokens"`
	PrefillTokensPerS *float64 `json:"prefill_tokens_per_s"`
	DecodeTokensPerS  *float64 `json:"decode_tokens_per_s"`
	TTFTSeconds       *float64 `json:"ttft_s"`
	LoadSeconds       *float64 `json:"load_s"`
	WallSeconds       *float64 `json:"wall_s"`
	PeakRSSBytes      *int64   `json:"peak_rss_bytes"`
	FinishReason      *string  `json:"finish_reason"`
}

// StopTokens are the stop-token findings of a generating test.
type StopTokens struct {
	// Configured are the texts of the tokens that end a turn for the model
	// (from `mlxk run --verbose`).
	Configured []string `json:"configured"`
	// Visible are those found in any output of the test; must be empty.
	Visible []string `json:"visible"`
}

// Parity compares outputs that must be equal at temperature 0.
type Parity struct {
	// Compared names what was compared ("stream=batch", "text=json", …).
	Compared []string `json:"compared"`
	Equal    bool     `json:"equal"`
}

// Reasoning says whether the model reasoned and whether its markup stayed
// out of the answer.
type Reasoning struct {
	Present bool     `json:"present"`
	Chars   int      `json:"chars"`
	Leaked  []string `json:"leaked_markers"`
}

// ReportWriter appends records to a JSON-lines file; safe for concurrent
// use.
type ReportWriter struct {
	mu sync.Mutex
	w  io.Writer
	f  *os.File
}

// OpenReport opens (appending) or creates a report file.
func OpenReport(path string) (*ReportWriter, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return &ReportWriter{w: f, f: f}, nil
}

// NewReportWriter writes records to w.
func NewReportWriter(w io.Writer) *ReportWriter { return &ReportWriter{w: w} }

// Write appends one record as a line.
func (r *ReportWriter) Write(rec Record) error {
	if rec.Failures == nil {
		rec.Failures = []string{}
	}
	if rec.Findings == nil {
		rec.Findings = []string{}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err = r.w.Write(append(b, '\n'))
	return err
}

// Close closes the report file.
func (r *ReportWriter) Close() error {
	if r.f == nil {
		return nil
	}
	return r.f.Close()
}

// ErrReport marks a report line that is not a record.
var ErrReport = errors.New("bad report line")

// ReadReport reads the records of a JSON-lines report.
func ReadReport(rd io.Reader) ([]Record, error) {
	var out []Record
	err := eachJSONLine(rd, 4<<20, ErrReport, func(n int, line []byte) error {
		var rec Record
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rec); err != nil {
			return fmt.Errorf("%w %d: %v", ErrReport, n, err)
		}
		if rec.SchemaVersion == "" || rec.Model.Name == "" || rec.Test == "" {
			return fmt.Errorf("%w %d: schema_version, model.name and test are required", ErrReport, n)
		}
		out = append(out, rec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReportSchema validates report lines against docs/live-report-schema.json.
type ReportSchema struct {
	Version string
	s       *jsonschema.Schema
}

// LoadReportSchema compiles the schema document at path.
func LoadReportSchema(path string) (*ReportSchema, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("report schema: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("report schema %s: %w", path, err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("live-report.json", doc); err != nil {
		return nil, fmt.Errorf("report schema %s: %w", path, err)
	}
	s, err := c.Compile("live-report.json")
	if err != nil {
		return nil, fmt.Errorf("report schema %s: %w", path, err)
	}
	var meta struct {
		Version string `json:"version"`
	}
	json.Unmarshal(b, &meta)
	return &ReportSchema{Version: meta.Version, s: s}, nil
}

// ValidateLines checks every non-blank line of a report and returns how
// many records it holds.
func (rs *ReportSchema) ValidateLines(rd io.Reader) (int, error) {
	n := 0
	err := eachJSONLine(rd, 4<<20, ErrReport, func(line int, text []byte) error {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(text))
		if err != nil {
			return fmt.Errorf("%w %d: %v", ErrReport, line, err)
		}
		if err := rs.s.Validate(v); err != nil {
			return fmt.Errorf("%w %d: %v", ErrReport, line, err)
		}
		n++
		return nil
	})
	return n, err
}
