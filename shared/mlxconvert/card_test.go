package mlxconvert

import (
	"testing"

	"github.com/mlxk/mlxk/shared/modelinfo"
)

func TestMarkCardMLX(t *testing.T) {
	cases := map[string]string{
		"":                              "---\nlibrary_name: mlx\n---\n",
		"# Model\ntext\n":               "---\nlibrary_name: mlx\n---\n# Model\ntext\n",
		"---\nlicense: mit\n---\n# M\n": "---\nlibrary_name: mlx\nlicense: mit\n---\n# M\n",
		"---\nlibrary_name: transformers\ntags:\n- a\n---\nx": "---\nlibrary_name: mlx\ntags:\n- a\n---\nx",
		"---\r\nlicense: mit\r\n---\r\n":                      "---\nlibrary_name: mlx\nlicense: mit\n---\n",
		"---\n---\nbody":                                      "---\nlibrary_name: mlx\n---\nbody",
		"---\nunterminated":                                   "---\nlibrary_name: mlx\n---\n---\nunterminated",
	}
	for in, want := range cases {
		got := MarkCardMLX([]byte(in))
		if string(got) != want {
			t.Errorf("MarkCardMLX(%q) = %q, want %q", in, got, want)
		}
		if !modelinfo.ParseFrontMatter(got).SaysMLX() {
			t.Errorf("MarkCardMLX(%q) not recognised as MLX: %q", in, got)
		}
	}
}
