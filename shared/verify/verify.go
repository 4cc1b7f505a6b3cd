// Package verify re-hashes cached blobs against their names: in a hub cache
// a blob is named by its ETag, which is the sha256 of the content for LFS
// files and the git blob sha1 for the others, so every blob carries its own
// checksum.
package verify

import (
	"cmp"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"

	sha256 "github.com/minio/sha256-simd"
)

// Algo is how a blob name was derived from its content.
type Algo int

const (
	None    Algo = iota // the name is not a content hash
	SHA256              // 64 hex digits: LFS object id
	GitSHA1             // 40 hex digits: sha1("blob <len>\x00" + content)
)

// AlgoFor returns the hash a blob name implies.
func AlgoFor(blobName string) Algo {
	if !isHex(blobName) {
		return None
	}
	switch len(blobName) {
	case 64:
		return SHA256
	case 40:
		return GitSHA1
	}
	return None
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// Job is one file to hash.
type Job struct {
	Path string
	Algo Algo
	Size int64 // used to schedule large files first
}

// Result is the digest of one job, or the error that prevented it.
type Result struct {
	Digest string
	Err    error
}

// bufSize is large enough to amortise read syscalls and small enough to
// stay in L2 while the hash consumes it.
const bufSize = 1 << 20

// HashAll hashes jobs on workers goroutines (GOMAXPROCS when <= 0), largest
// files first so that one big file does not finish last on its own, and
// returns the results keyed by path. Each path is hashed once.
func HashAll(jobs []Job, workers int) map[string]Result {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	uniq := map[string]Job{}
	for _, j := range jobs {
		uniq[j.Path] = j
	}
	order := make([]Job, 0, len(uniq))
	for _, j := range uniq {
		order = append(order, j)
	}
	slices.SortFunc(order, func(a, b Job) int {
		if c := cmp.Compare(b.Size, a.Size); c != 0 {
			return c
		}
		return strings.Compare(a.Path, b.Path)
	})
	out := make(map[string]Result, len(order))
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan Job)
	for range min(workers, len(order)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, bufSize)
			for j := range next {
				d, err := HashFile(j.Path, j.Algo, buf)
				mu.Lock()
				out[j.Path] = Result{Digest: d, Err: err}
				mu.Unlock()
			}
		}()
	}
	for _, j := range order {
		next <- j
	}
	close(next)
	wg.Wait()
	return out
}

// HashFile returns the hex digest of a file under algo, reading through buf
// (allocated when nil).
func HashFile(path string, algo Algo, buf []byte) (string, error) {
	// O_NONBLOCK: a FIFO swapped in after the scan must not block the
	// worker; it is refused below as not regular.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file", filepath.Base(path))
	}
	var h hash.Hash
	switch algo {
	case SHA256:
		h = sha256.New()
	case GitSHA1:
		h = sha1.New()
		fmt.Fprintf(h, "blob %d\x00", st.Size())
	default:
		return "", fmt.Errorf("%s: blob name is not a content hash", filepath.Base(path))
	}
	if buf == nil {
		buf = make([]byte, bufSize)
	}
	// A plain read loop: io.CopyBuffer would defer to os.File.WriteTo and
	// ignore buf.
	var n int64
	for {
		k, err := f.Read(buf)
		if k > 0 {
			h.Write(buf[:k])
			n += int64(k)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
	}
	if algo == GitSHA1 && n != st.Size() {
		return "", fmt.Errorf("%s: size changed while hashing", filepath.Base(path))
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
