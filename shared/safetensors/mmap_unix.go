//go:build unix

package safetensors

import (
	"os"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mapFile maps size bytes of f read-only. The mapping stays valid after f is
// closed; release unmaps it.
// mapped reports whether data is a file mapping (false: a copy in memory).
func mapFile(f *os.File, size int64) (data []byte, release func() error, mapped bool, err error) {
	b, err := unix.Mmap(int(f.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		data, release, err = readAll(f, size)
		return data, release, false, err
	}
	return b, func() error { return unix.Munmap(b) }, true, nil
}

// dontNeed unmaps the pages that lie wholly inside b, a part of a
// read-only file mapping: the process stops holding them (they leave
// its resident set), and touching them again reads them back from the
// file. Failures are ignored: it only saves memory.
func dontNeed(b []byte) {
	if len(b) == 0 {
		return
	}
	ps := uintptr(os.Getpagesize())
	addr := uintptr(unsafe.Pointer(&b[0]))
	start := (addr + ps - 1) / ps * ps
	end := (addr + uintptr(len(b))) / ps * ps
	if end <= start {
		return
	}
	unix.Madvise(b[start-addr:end-addr], unix.MADV_DONTNEED)
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
