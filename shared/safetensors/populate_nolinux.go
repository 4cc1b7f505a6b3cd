//go:build unix && !linux

package safetensors

const populateRead = 0
