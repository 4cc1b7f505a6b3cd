package live

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func str(s string) *string { return &s }

func TestPlanDecidesInOrderOfReasons(t *testing.T) {
	models := []Model{
		{Name: "mlx-community/Big-70B-4bit", SizeBytes: 40 * GB, Framework: "MLX", Health: "healthy", RuntimeCompatible: true, Capabilities: []string{"text-generation", "chat"}},
		{Name: "TheBloke/Demo-GGUF", SizeBytes: 1 << 20, Framework: "GGUF", Health: "healthy"},
		{Name: "org/broken", SizeBytes: 1 << 20, Framework: "MLX", Health: "unhealthy", Reason: str("Missing weight shards: b")},
		{Name: "org/bert", SizeBytes: 1 << 20, Framework: "MLX", Health: "healthy", Reason: str("Model type bert is not supported")},
		{Name: "org/base", SizeBytes: 1 << 20, Framework: "MLX", Health: "healthy", RuntimeCompatible: true, Capabilities: []string{"text-generation"}},
		{Name: "mlx-community/Small-1B-4bit", SizeBytes: 2 * GB, Framework: "MLX", Health: "healthy", RuntimeCompatible: true, Capabilities: []string{"chat"}},
		{Name: "mlx-community/Tiny-0.5B-4bit", SizeBytes: GB / 2, Framework: "mlx", Health: "healthy", RuntimeCompatible: true, Capabilities: []string{"chat"}},
	}
	plan := Plan(models, NewBudget(16*GB), Selection{})
	var got []string
	for _, e := range plan {
		d := "run"
		if !e.Run {
			d = e.Reason
		}
		got = append(got, e.Name+": "+d)
	}
	want := []string{
		"mlx-community/Tiny-0.5B-4bit: run", // smallest first
		"mlx-community/Small-1B-4bit: run",
		"mlx-community/Big-70B-4bit: needs 48.0 GB of RAM, budget is 6.4 GB (40% of 16.0 GB)",
		"TheBloke/Demo-GGUF: framework GGUF, not MLX",
		"org/broken: unhealthy: Missing weight shards: b",
		"org/bert: not runnable: Model type bert is not supported",
		"org/base: not a chat model (capabilities: text-generation)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	run, skipped := Counts(plan)
	if run != 2 || skipped != 5 {
		t.Errorf("Counts = %d, %d", run, skipped)
	}

	var b bytes.Buffer
	if err := WritePortfolio(&b, plan, NewBudget(16*GB), "/cache"); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"Models: 2 to test, 5 skipped",
		"1  mlx-community/Tiny-0.5B-4bit  512.0 MB  614.4 MB    run",
		"-  org/base                      1.0 MB    1.2 MB      skip: not a chat model (capabilities: text-generation)",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("portfolio lacks %q:\n%s", line, b.String())
		}
	}
}

func TestPlanSelection(t *testing.T) {
	chat := func(name string, size int64) Model {
		return Model{Name: name, SizeBytes: size, Framework: "MLX", Health: "healthy", RuntimeCompatible: true, Capabilities: []string{"chat"}}
	}
	models := []Model{chat("a/qwen-big", 30), chat("a/qwen-small", 10), chat("a/llama", 20), chat("a/qwen-mid", 20)}
	plan := Plan(models, NewBudget(GB), Selection{Match: regexp.MustCompile("qwen"), Max: 2})
	var got []string
	for _, e := range plan {
		got = append(got, e.Name+" "+map[bool]string{true: "run", false: e.Reason}[e.Run])
	}
	want := "a/qwen-small run|a/qwen-mid run|a/qwen-big beyond MLXK_LIVE_MAX_MODELS=2|a/llama not selected by MLXK_LIVE_MODELS=qwen"
	if strings.Join(got, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
}

func TestParseList(t *testing.T) {
	in := `{"name":"org/a","hash":"abc","size_bytes":5,"framework":"MLX","model_type":"chat","capabilities":["chat"],"health":"healthy","runtime_compatible":true,"reason":null,"cached":true,"last_modified":"x"}

{"name":"org/b","health":"unhealthy","reason":"gone"}
`
	ms, err := ParseList(strings.NewReader(in))
	if err != nil || len(ms) != 2 || ms[0].Name != "org/a" || !ms[0].HasCapability("chat") || *ms[1].Reason != "gone" {
		t.Fatalf("ParseList = %+v, %v", ms, err)
	}
	for _, bad := range []string{"{", `{"name":""}`, `[1]`, `{"name":"x","size_bytes":"big"}`} {
		if _, err := ParseList(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseList(%q) accepted", bad)
		}
	}
}

func FuzzParseList(f *testing.F) {
	f.Add([]byte(`{"name":"org/a","size_bytes":1,"capabilities":["chat"]}` + "\n"))
	f.Add([]byte("\n\n{\"name\":\"x\"}\n{"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := ParseList(bytes.NewReader(b))
		if err != nil {
			if !strings.Contains(err.Error(), ErrListing.Error()) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, m := range ms {
			if m.Name == "" {
				t.Fatal("a model without a name was accepted")
			}
		}
		Plan(ms, NewBudget(16*GB), Selection{})
	})
}
