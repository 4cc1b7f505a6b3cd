// Package live is the opt-in live test suite of mlxk: it discovers the chat
// models of a real hub cache through the production command (`mlxk list
// --jsonl`), keeps those that fit a RAM budget sized to the machine, and
// runs each of them, strictly one at a time, through `mlxk run`, `mlxk
// serve` and `mlxk health --verify`, writing one benchmark record per model
// and test as JSON lines (docs/live-report-schema.json).
//
// The suite never writes to the cache it reads: every command that reads
// runs against it as it is, and a test that damages files works on a
// minimal copy in a test cache that carries a sentinel (TestCache), which
// every destructive step checks first. HashTree lets a caller prove that
// the source cache is byte-identical after a run.
//
// The smoke mode (WriteSmokeCache) lays out a portfolio of generated tiny
// models of every architecture and quantization, plus the bundled demo
// model, as a real cache, so CI can run the whole suite in minutes.
//
// Nothing here is linked into the production binaries: the package lives in
// the testscripts module and drives the binaries as subprocesses.
package live
