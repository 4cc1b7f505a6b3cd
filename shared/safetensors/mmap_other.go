//go:build !unix

package safetensors

import "os"

// mapFile reads the whole file into memory where mmap is not available.
func mapFile(f *os.File, size int64) (data []byte, release func() error, err error) {
	return readAll(f, size)
}

// populate has nothing to do for an in-memory copy.
func populate([]byte) {}
