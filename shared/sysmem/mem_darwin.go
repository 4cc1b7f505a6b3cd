package sysmem

import (
	"encoding/binary"
	"syscall"
)

// Total is the physical memory in bytes.
func Total() (uint64, error) {
	s, err := syscall.Sysctl("hw.memsize")
	if err != nil {
		return 0, err
	}
	b := []byte(s)
	// syscall.Sysctl drops the trailing NUL that a uint64 may end with.
	for len(b) < 8 {
		b = append(b, 0)
	}
	return binary.LittleEndian.Uint64(b), nil
}
