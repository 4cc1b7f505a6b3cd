package textgen

import (
	"encoding/json"
	"testing"

	"github.com/mlxk/mlxk/shared/snapfiles"
)

func TestContextLengthOf(t *testing.T) {
	for _, c := range []struct {
		cfg  string
		want int
	}{
		{`{"max_position_embeddings": 32768}`, 32768},
		{`{"n_positions": "2048"}`, 2048},
		{`{"max_position_embeddings": 0, "seq_len": 512}`, 512},
		{`{"text_config": {"max_position_embeddings": 8192}}`, 8192},
		{`{"max_position_embeddings": 1.5}`, 4096},
		{`{}`, 4096},
	} {
		// Both ways a config reaches it: decoded plainly (float64) and
		// with UseNumber (json.Number), as modelinfo parses it.
		var plain map[string]any
		if err := json.Unmarshal([]byte(c.cfg), &plain); err != nil {
			t.Fatal(err)
		}
		num, _, _ := snapfiles.ParseJSONObject([]byte(c.cfg))
		if got, gotNum := ContextLengthOf(plain), ContextLengthOf(num); got != c.want || (num != nil && gotNum != c.want) {
			t.Errorf("%s: %d and %d, want %d", c.cfg, got, gotNum, c.want)
		}
	}
	if got := ContextLengthOf(nil); got != 4096 {
		t.Errorf("no config: %d", got)
	}
}
