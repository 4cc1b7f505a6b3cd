// Package buildinfo holds the version numbers every mlxk binary reports.
//
// The CLI version names the release of the tool family; the JSON API spec
// version names the shape of the JSON contract (docs/json-api.md), which moves
// independently: a change to any field, enum or error type bumps it.
package buildinfo

import "runtime"

// CLIVersion is the release of the mlxk tool family. Release builds may
// override it with -ldflags "-X github.com/mlxk/mlxk/shared/buildinfo.CLIVersion=…".
var CLIVersion = "0.1.0-dev"

// JSONAPISpecVersion is the version of docs/json-api-schema.json that the
// binaries emit. It is kept in sync with the schema's "version" by a test.
const JSONAPISpecVersion = "1.2.0"

// GoVersion reports the Go toolchain that built the running binary.
func GoVersion() string { return runtime.Version() }
