package model

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/mlxk/mlxk/shared/modeltypes"
)

// TestSupportedTableMatchesEngine keeps the table list and health read
// (shared/modeltypes, which must not link the engine) equal to the set of
// model types this package builds a decoder for.
func TestSupportedTableMatchesEngine(t *testing.T) {
	minimal := `{"model_type":%q,"hidden_size":64,"num_hidden_layers":1,"intermediate_size":64,
		"num_attention_heads":4,"num_key_value_heads":2,"head_dim":16,"rms_norm_eps":1e-6,"vocab_size":32,
		"max_position_embeddings":128,"rope_theta":10000,"tie_word_embeddings":true}`
	if got, want := Types(), modeltypes.All(); !slices.Equal(got, want) {
		t.Fatalf("engine runs %v, shared/modeltypes lists %v", got, want)
	}
	for _, mt := range modeltypes.All() {
		if _, err := ParseConfig([]byte(fmt.Sprintf(minimal, mt))); err != nil {
			t.Errorf("modeltypes lists %s but the engine rejects it: %v", mt, err)
		}
	}
	for _, mt := range []string{"gpt_oss", "mamba", "bert", "llava", "gemma"} {
		_, err := ParseConfig([]byte(fmt.Sprintf(minimal, mt)))
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: err = %v, want ErrUnsupported", mt, err)
		}
		if modeltypes.Supported(mt) {
			t.Errorf("modeltypes lists %s, which the engine does not run", mt)
		}
	}
}

// FuzzParseConfig: any bytes give a config or an error, never a panic,
// and an accepted config is internally consistent.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"model_type":"qwen2","hidden_size":64,"num_hidden_layers":2,"intermediate_size":128,"num_attention_heads":4,"num_key_value_heads":2,"rms_norm_eps":1e-6,"vocab_size":256}`))
	f.Add([]byte(`{"model_type":"phi3","hidden_size":64,"num_hidden_layers":2,"intermediate_size":128,"num_attention_heads":4,"rms_norm_eps":1e-5,"vocab_size":256,"partial_rotary_factor":0.5,"rope_scaling":{"type":"longrope","long_factor":[1,2,3,4],"short_factor":[1,1,1,1]}}`))
	f.Add([]byte(`{"model_type":"gemma3","text_config":{"hidden_size":64,"sliding_window":4},"quantization":{"group_size":64,"bits":4,"lm_head":false}}`))
	f.Add([]byte(`{"model_type":"llama","hidden_size":64,"num_hidden_layers":1,"intermediate_size":64,"num_attention_heads":4,"rms_norm_eps":1e-6,"vocab_size":32,"rope_scaling":{"rope_type":"llama3","factor":8}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		if c.Heads%c.KVHeads != 0 || c.Rope.Dims > c.HeadDim || len(c.LayerSliding) != c.Layers || len(c.Rope.InvFreq) != c.Rope.Dims/2 {
			t.Fatalf("inconsistent config accepted: %+v", c)
		}
	})
}
