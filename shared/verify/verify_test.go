package verify_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/mlxk/mlxk/shared/internal/testutil"

	"github.com/mlxk/mlxk/shared/verify"
)

// contents covers the empty file, sizes around the 1 MiB read buffer, and
// binary data.
func contents() map[string][]byte {
	big := make([]byte, 3<<20+17)
	for i := range big {
		big[i] = byte(i*7 + i>>9)
	}
	return map[string][]byte{
		"empty":    nil,
		"hello":    []byte("hello\n"),
		"config":   []byte(`{"model_type":"llama"}`),
		"buf-1":    big[:1<<20-1],
		"buf":      big[:1<<20],
		"buf+1":    big[:1<<20+1],
		"big":      big,
		"binary":   {0, 0xff, 0, 0x80, '\n'},
		"no-final": []byte(strings.Repeat("x", 4097)),
	}
}

func TestHashFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, b := range contents() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			for _, buf := range [][]byte{nil, make([]byte, 7), make([]byte, 1<<20)} {
				got, err := verify.HashFile(p, verify.SHA256, buf)
				if err != nil || got != testutil.SHA256Hex(b) {
					t.Errorf("SHA256 (buf %d) = %s, %v; want %s", len(buf), got, err, testutil.SHA256Hex(b))
				}
				got, err = verify.HashFile(p, verify.GitSHA1, buf)
				if err != nil || got != testutil.GitSHA1Hex(b) {
					t.Errorf("GitSHA1 (buf %d) = %s, %v; want %s", len(buf), got, err, testutil.GitSHA1Hex(b))
				}
			}
		})
	}
}

func TestHashFileKnownValues(t *testing.T) {
	t.Parallel()
	// Values computed by `git hash-object` and `sha256sum`, independent of
	// any Go code.
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := verify.HashFile(p, verify.GitSHA1, nil); got != "ce013625030ba8dba906f756967f9e9ca394464a" {
		t.Errorf("git sha1 of hello\\n = %s", got)
	}
	if got, _ := verify.HashFile(p, verify.SHA256, nil); got != "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03" {
		t.Errorf("sha256 of hello\\n = %s", got)
	}
	empty := filepath.Join(t.TempDir(), "e")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := verify.HashFile(empty, verify.GitSHA1, nil); got != "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391" {
		t.Errorf("git sha1 of the empty blob = %s", got)
	}
}

func TestHashFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := verify.HashFile(filepath.Join(dir, "missing"), verify.SHA256, nil); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := verify.HashFile(p, verify.None, nil); err == nil {
		t.Error("algo None did not fail")
	}
	if _, err := verify.HashFile(dir, verify.SHA256, nil); err == nil {
		t.Error("hashing a folder did not fail")
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err == nil {
		// Opening a FIFO for reading blocks until a writer appears; give it
		// one so the test cannot hang, then expect a refusal.
		go func() {
			if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				w.Close()
			}
		}()
		if _, err := verify.HashFile(fifo, verify.SHA256, nil); err == nil {
			t.Error("hashing a FIFO did not fail")
		}
	}
}

func TestAlgoFor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want verify.Algo
	}{
		{strings.Repeat("a", 64), verify.SHA256},
		{testutil.SHA256Hex([]byte("x")), verify.SHA256},
		{strings.Repeat("0", 40), verify.GitSHA1},
		{testutil.GitSHA1Hex([]byte("x")), verify.GitSHA1},
		{strings.Repeat("A", 64), verify.None},
		{strings.Repeat("a", 63), verify.None},
		{strings.Repeat("a", 65), verify.None},
		{strings.Repeat("a", 39), verify.None},
		{strings.Repeat("g", 40), verify.None},
		{strings.Repeat("a", 40) + ".incomplete", verify.None},
		{"", verify.None},
		{"main", verify.None},
	}
	for _, tc := range tests {
		if got := verify.AlgoFor(tc.name); got != tc.want {
			t.Errorf("AlgoFor(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestPool(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var jobs []verify.Job
	want := map[string]string{}
	for i := range 40 {
		b := []byte(strings.Repeat(fmt.Sprintf("file %d ", i), i*100))
		p := filepath.Join(dir, fmt.Sprintf("f%02d", i))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		algo, digest := verify.SHA256, testutil.SHA256Hex(b)
		if i%2 == 1 {
			algo, digest = verify.GitSHA1, testutil.GitSHA1Hex(b)
		}
		jobs = append(jobs, verify.Job{Path: p, Algo: algo, Size: int64(len(b))})
		want[p] = digest
	}
	missing := filepath.Join(dir, "missing")
	jobs = append(jobs, verify.Job{Path: missing, Algo: verify.SHA256, Size: 10})

	for _, workers := range []int{0, 1, 3, 100} {
		var mu sync.Mutex
		got := map[string]verify.Result{}
		pool := verify.NewPool(workers)
		for _, j := range jobs {
			pool.Submit(j, func(r verify.Result) {
				mu.Lock()
				defer mu.Unlock()
				got[j.Path] = r
			})
		}
		pool.Wait()
		if len(got) != len(want)+1 {
			t.Errorf("workers=%d: %d results, want %d", workers, len(got), len(want)+1)
		}
		for p, d := range want {
			r, ok := got[p]
			if !ok || r.Err != nil || r.Digest != d {
				t.Errorf("workers=%d: %s = %+v, want %s", workers, filepath.Base(p), r, d)
			}
		}
		if r := got[missing]; r.Err == nil || r.Digest != "" {
			t.Errorf("workers=%d: missing file = %+v, want an error", workers, r)
		}
	}
	verify.NewPool(4).Wait() // an unused pool stops cleanly
}
