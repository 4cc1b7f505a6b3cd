// Package fastio reads folders and small files with as few system calls as
// the platform allows. Listing a cache of a thousand models touches tens of
// thousands of files; on virtual machines where a system call is costly,
// the extra calls the os package makes for every file (poller
// registration, blocking-mode switches, a final empty read) dominate.
package fastio

import (
	"errors"
	"io/fs"
)

// ErrTooLarge is returned when a file exceeds the caller's limit.
var ErrTooLarge = errors.New("too large")

var errNotRegular = errors.New("not a regular file")

// Entry is one name in a folder.
type Entry struct {
	Name string
	Type fs.FileMode // fs.ModeDir, fs.ModeSymlink, 0 (regular) or fs.ModeIrregular; ^0 when unknown
}

// Unknown marks an entry whose type the folder listing did not say.
const Unknown = ^fs.FileMode(0)

// Stat is what the listing needs of a file.
type Stat struct {
	Size  int64
	MTime int64       // modification time, Unix nanoseconds
	Mode  fs.FileMode // type bits only: fs.ModeDir, 0 (regular), fs.ModeIrregular, fs.ModeSymlink (no-follow only)
}
