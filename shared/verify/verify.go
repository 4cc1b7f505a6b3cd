// Package verify re-hashes cached blobs against their names: in a hub cache
// a blob is named by its ETag, which is the sha256 of the content for LFS
// files and the git blob sha1 for the others, so every blob carries its own
// checksum.
package verify

import (
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"hash"
	"path/filepath"
	"runtime"
	"sync"

	sha256 "github.com/minio/sha256-simd"

	"github.com/mlxk/mlxk/shared/fastio"
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

// Pool hashes files on a fixed set of workers as they are submitted, so
// that hashing overlaps with whatever produces the jobs.
type Pool struct {
	jobs chan pooled
	wg   sync.WaitGroup
}

type pooled struct {
	job  Job
	done func(Result)
}

// NewPool starts workers goroutines (GOMAXPROCS when <= 0).
func NewPool(workers int) *Pool {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &Pool{jobs: make(chan pooled, 4*workers)}
	for range workers {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			buf := make([]byte, bufSize)
			for j := range p.jobs {
				d, err := HashFile(j.job.Path, j.job.Algo, buf)
				j.done(Result{Digest: d, Err: err})
			}
		}()
	}
	return p
}

// Submit queues a job; done is called from a worker with its result. It
// blocks while the queue is full.
func (p *Pool) Submit(j Job, done func(Result)) { p.jobs <- pooled{j, done} }

// Wait finishes the queued jobs and stops the workers; the pool cannot be
// used afterwards.
func (p *Pool) Wait() {
	close(p.jobs)
	p.wg.Wait()
}

// HashFile returns the hex digest of a file under algo, reading through buf
// (allocated when nil). It never blocks on a FIFO and refuses anything that
// is not a regular file.
func HashFile(path string, algo Algo, buf []byte) (string, error) {
	var h hash.Hash
	switch algo {
	case SHA256:
		h = sha256.New()
	case GitSHA1:
		h = sha1.New()
	default:
		return "", fmt.Errorf("%s: blob name is not a content hash", filepath.Base(path))
	}
	f, size, err := fastio.OpenRegular(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if algo == GitSHA1 {
		fmt.Fprintf(h, "blob %d\x00", size)
	}
	if buf == nil {
		buf = make([]byte, bufSize)
	}
	// Read exactly the size fstat reported: blobs are immutable, and
	// stopping there saves the final empty read on every file.
	for n := int64(0); n < size; {
		k, err := f.Read(buf[:min(int64(len(buf)), size-n)])
		if err != nil {
			return "", fmt.Errorf("read %s: %w", filepath.Base(path), err)
		}
		if k == 0 {
			return "", fmt.Errorf("%s: shrank while hashing", filepath.Base(path))
		}
		h.Write(buf[:k])
		n += int64(k)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
