//go:build goexperiment.simd && amd64

package kernels

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoAVX512 type-checks this package and reads the documentation of
// every simd/archsimd function and method it uses: each must be an
// AVX, AVX2 or FMA instruction (or emulated with them). Running the tests
// on an AVX2-only CPU would catch a slip too, but only on such a CPU.
func TestNoAVX512(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks simd/archsimd from source")
	}
	fset := token.NewFileSet()
	paths, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") || strings.HasSuffix(p, "_other.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	info := &types.Info{Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	if _, err := conf.Check("kernels", fset, files, info); err != nil {
		t.Skipf("cannot type-check with the source importer here: %v", err)
	}
	docs := map[string][]string{} // file -> lines
	checked := 0
	for id, obj := range info.Uses {
		fn, ok := obj.(*types.Func)
		if !ok || fn.Pkg() == nil || fn.Pkg().Path() != "simd/archsimd" {
			continue
		}
		pos := fset.Position(fn.Pos())
		lines, ok := docs[pos.Filename]
		if !ok {
			b, err := os.ReadFile(pos.Filename)
			if err != nil {
				t.Fatal(err)
			}
			lines = strings.Split(string(b), "\n")
			docs[pos.Filename] = lines
		}
		feature := ""
		for i := pos.Line - 2; i >= 0 && strings.HasPrefix(strings.TrimSpace(lines[i]), "//"); i-- {
			if _, f, ok := strings.Cut(lines[i], "CPU Feature: "); ok {
				feature = strings.TrimSpace(f)
				break
			}
		}
		checked++
		if strings.Contains(feature, "AVX512") {
			t.Errorf("%s uses %s, which needs %s", fset.Position(id.Pos()), fn.FullName(), feature)
		}
	}
	if checked < 30 {
		t.Fatalf("only %d archsimd uses found", checked)
	}
}
