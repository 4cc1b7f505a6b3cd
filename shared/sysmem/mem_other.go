//go:build !linux && !darwin

package sysmem

// Total is the physical memory in bytes.
func Total() (uint64, error) { return 0, ErrUnknown }
