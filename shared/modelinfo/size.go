package modelinfo

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

func dirModTime(dir string) time.Time {
	st, err := os.Stat(dir)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}

// uniqueSize sums the regular files under dir, counting each inode once, so
// that a repo folder without snapshots is not counted twice (mlx-knife 2.0.3
// added the blobs and the snapshot links pointing at them).
func uniqueSize(dir string) int64 {
	type key struct{ dev, ino uint64 }
	seen := map[key]bool{}
	var n int64
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			return nil
		}
		if sys, isStat := st.Sys().(*syscall.Stat_t); isStat {
			k := key{uint64(sys.Dev), uint64(sys.Ino)}
			if seen[k] {
				return nil
			}
			seen[k] = true
		}
		n += st.Size()
		return nil
	})
	return n
}
