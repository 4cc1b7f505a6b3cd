package live

import (
	"fmt"

	"github.com/mlxk/mlxk/shared/sysmem"
)

// SystemRAM is the machine's physical memory in bytes.
func SystemRAM() (uint64, error) {
	n, err := sysmem.Total()
	if err != nil {
		return 0, fmt.Errorf("%w; set MLXK_LIVE_RAM", err)
	}
	return n, nil
}
