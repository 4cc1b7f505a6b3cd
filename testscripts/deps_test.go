package testscripts

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlxk/mlxk/shared/buildinfo"
)

// TestReadSideLinksNoEngineOrServer keeps mlxk-list and mlxk-health small
// and fast to start: they must link neither the inference engine nor the
// HTTP stack.
func TestReadSideLinksNoEngineOrServer(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not available")
	}
	forbidden := []string{
		"github.com/julienschmidt/httprouter",
		"net/http",
		"github.com/mlxk/mlxk/shared/engine",
	}
	for _, bin := range []string{"mlxk-list", "mlxk-health"} {
		cmd := exec.Command("go", "list", "-deps", "./"+bin)
		cmd.Dir = ".."
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps ./%s: %v", bin, err)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 10 {
			t.Fatalf("go list -deps ./%s listed only %d packages; the guard would be vacuous", bin, len(deps))
		}
		for _, d := range deps {
			for _, f := range forbidden {
				if d == f || strings.HasPrefix(d, f+"/") {
					t.Errorf("%s links %s", bin, d)
				}
			}
		}
	}
}

// TestSpecVersionInSync checks that the version the binaries report is the
// one the schema and the JSON API document carry.
func TestSpecVersionInSync(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile(filepath.Join("..", "docs", "json-api-schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != buildinfo.JSONAPISpecVersion {
		t.Errorf("schema version %q, binaries report %q", doc.Version, buildinfo.JSONAPISpecVersion)
	}
	md, err := os.ReadFile(filepath.Join("..", "docs", "json-api.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Spec version: (\S+)$`).FindSubmatch(md)
	if m == nil || string(m[1]) != buildinfo.JSONAPISpecVersion {
		t.Errorf("docs/json-api.md does not state 'Spec version: %s'", buildinfo.JSONAPISpecVersion)
	}
}
