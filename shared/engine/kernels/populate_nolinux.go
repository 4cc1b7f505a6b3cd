//go:build unix && !linux

package kernels

const (
	populateWrite = 0
	hugePages     = 0
)
