module github.com/mlxk/mlxk/shared

go 1.26.0

require (
	github.com/ardanlabs/jinja v1.8.0
	github.com/dlclark/regexp2 v1.12.0
	github.com/minio/sha256-simd v1.0.1
	github.com/peterbourgon/ff/v3 v3.4.0
	golang.org/x/sys v0.50.0
	golang.org/x/text v0.44.0
)

require github.com/klauspost/cpuid/v2 v2.2.3 // indirect
