//go:build !linux && !darwin

package dispatch

func totalMemory() (uint64, error) { return 0, errNoMemInfo }
