//go:build !(goexperiment.simd && amd64)

package kernels

// simdKernels: without GOEXPERIMENT=simd on amd64 there are no SIMD
// kernels; the portable ones in generic.go run everywhere.
func simdKernels() *kernelSet { return nil }

func softmaxFast([]float32) bool                            { return false }
func siluMulFast(_, _ []float32) bool                       { return false }
func geluTanhMulFast(_, _ []float32) bool                   { return false }
func rmsNormFast(_, _, _ []float32, _ float32, _ bool) bool { return false }
func dotRowsFast(_, _, _ []float32, _ int, _ float32) bool  { return false }
func addScaledRowsFast(_, _, _ []float32, _ int) bool       { return false }
