package kernels

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestPortableBuild compiles the package the ways the SIMD files are
// left out, so the portable fallback cannot rot: without the simd
// experiment on amd64, for arm64, and for macOS on Apple Silicon (no
// Linux-only madvise advice). (The portable kernels themselves run in
// every build: the tests compare them with the SIMD ones.)
func TestPortableBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	gocmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, env := range [][]string{
		{"GOEXPERIMENT=", "GOARCH=amd64", "GOOS=linux"},
		{"GOEXPERIMENT=", "GOARCH=arm64", "GOOS=linux"},
		{"GOEXPERIMENT=", "GOARCH=arm64", "GOOS=darwin"},
	} {
		cmd := exec.Command(gocmd, "vet", ".")
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%v: go vet: %v\n%s", env, err, out)
		}
	}
}
