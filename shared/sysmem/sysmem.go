// Package sysmem reports the machine's physical memory, which `version`
// prints and which run and serve compare a model's needs against.
package sysmem

import "errors"

// ErrUnknown reports a platform where the total is not known.
var ErrUnknown = errors.New("total memory unknown")
