package kernels

import "golang.org/x/sys/unix"

// Linux-only madvise advice (see mem_unix.go).
const (
	populateWrite = unix.MADV_POPULATE_WRITE
	hugePages     = unix.MADV_HUGEPAGE
)
