// Package testscripts is the end-to-end harness of mlxk: every binary and
// the mlxk dispatcher run as real executables under testscript, and the
// scripts in testdata/*.txtar are the primary specification of what users
// see. Custom commands build real hub caches and check JSON output against
// docs/json-api-schema.json.
package testscripts
