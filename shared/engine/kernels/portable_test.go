package kernels

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestPortableBuild compiles the package the two ways the SIMD files are
// left out, so the portable fallback cannot rot: without the simd
// experiment on amd64, and for arm64. (The portable kernels themselves
// run in every build: the tests compare them with the SIMD ones.)
func TestPortableBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	gocmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, env := range [][]string{
		{"GOEXPERIMENT=", "GOARCH=amd64"},
		{"GOEXPERIMENT=", "GOARCH=arm64"},
	} {
		cmd := exec.Command(gocmd, "vet", ".")
		cmd.Env = append(os.Environ(), append(env, "GOOS=linux")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%v: go vet: %v\n%s", env, err, out)
		}
	}
}
