package workspace

import (
	"io"
	"os"
)

// CopyFile copies src to a new file dst, sharing storage with the source
// where the file system can (FICLONE on Linux: btrfs, XFS, bcachefs;
// clonefile on macOS: APFS) and copying the bytes otherwise. It reports
// whether it cloned.
func CopyFile(src, dst string) (cloned bool, err error) {
	if tryClone(src, dst) {
		return true, nil
	}
	in, err := os.Open(src)
	if err != nil {
		return false, err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	if err != nil {
		return false, err
	}
	if _, err := io.Copy(out, in); err != nil { // copy_file_range on Linux
		out.Close()
		os.Remove(dst)
		return false, err
	}
	return false, out.Close()
}
