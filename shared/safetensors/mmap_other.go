//go:build !unix

package safetensors

import "os"

// mapFile reads the whole file into memory where mmap is not available.
func mapFile(f *os.File, size int64) (data []byte, release func() error, mapped bool, err error) {
	data, release, err = readAll(f, size)
	return data, release, false, err
}

// dontNeed has nothing to drop without mappings.
func dontNeed([]byte) {}

// populate has nothing to do for an in-memory copy.
func populate([]byte) {}
