package cli

import (
	"os"
	"runtime/debug"
)

// shortRunHeap is the heap size at which a short-lived command starts
// collecting garbage.
const shortRunHeap = 256 << 20

// TuneGCForShortRun is for commands that run for a fraction of a second
// and allocate little in total (list, show, health): garbage collection
// then costs more than the memory it frees, so it runs only when the heap
// nears shortRunHeap. A GOGC or GOMEMLIMIT set by the user wins.
func TuneGCForShortRun() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(shortRunHeap)
	debug.SetGCPercent(-1)
}
