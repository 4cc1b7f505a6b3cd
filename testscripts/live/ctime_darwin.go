package live

import (
	"io/fs"
	"syscall"
)

// changeTime is the inode change time in nanoseconds (0 when unknown).
func changeTime(info fs.FileInfo) int64 {
	if st, ok := info.Sys().(*syscall.Stat_t); ok {
		return st.Ctimespec.Nano()
	}
	return 0
}
