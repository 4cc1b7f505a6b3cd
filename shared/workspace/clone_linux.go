package workspace

import (
	"os"

	"golang.org/x/sys/unix"
)

// tryClone creates dst sharing src's extents (FICLONE); on failure it
// leaves no dst behind.
func tryClone(src, dst string) bool {
	in, err := os.Open(src)
	if err != nil {
		return false
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return false
	}
	if err := unix.IoctlFileClone(int(out.Fd()), int(in.Fd())); err != nil {
		out.Close()
		os.Remove(dst)
		return false
	}
	return out.Close() == nil
}
