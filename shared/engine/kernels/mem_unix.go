//go:build unix

package kernels

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// allocPanels returns n zeroed bytes for p.data outside the Go heap,
// unmapped when p becomes unreachable. Repacked weights are most of a
// model's memory: on the heap they would double the heap the garbage
// collector lets grow before it runs (a 300 MB model would let 300 MB of
// garbage pile up between collections).
func allocPanels(p *panels, n int) []byte {
	b, err := unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		return make([]byte, n)
	}
	// Huge pages where the kernel offers them on request: a decode step
	// streams every byte, and with 4 KiB pages the TLB misses cost
	// measurably (the Go heap asks for them too). Only a hint.
	if hugePages != 0 {
		unix.Madvise(b, hugePages)
	}
	runtime.AddCleanup(p, func(b []byte) { unix.Munmap(b) }, b)
	return b
}

// prefault maps b's pages now, in one call, before a loop writes them: a
// page fault per 4 KiB taken one by one cost most of the repacking time.
// Linux only (MADV_POPULATE_WRITE, 5.14+); elsewhere, or when it fails,
// the pages fault in as they are written.
func prefault(b []byte) {
	if populateWrite != 0 && len(b) > 0 {
		unix.Madvise(b, populateWrite)
	}
}
