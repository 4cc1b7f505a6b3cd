//go:build unix

package safetensors

import (
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps size bytes of f read-only. The mapping stays valid after f is
// closed; release unmaps it.
func mapFile(f *os.File, size int64) (data []byte, release func() error, err error) {
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		return readAll(f, size)
	}
	return b, func() error { return unix.Munmap(b) }, nil
}

// populate asks the kernel to read b's pages in and map them now, so the
// first pass over the weights does not take a page fault per 4 KiB.
// Failures are ignored: it is only a hint (MADV_POPULATE_READ needs Linux
// 5.14; elsewhere the readahead hint remains).
func populate(b []byte) {
	if len(b) == 0 {
		return
	}
	if populateRead == 0 || unix.Madvise(b, populateRead) != nil {
		unix.Madvise(b, unix.MADV_WILLNEED)
	}
}
