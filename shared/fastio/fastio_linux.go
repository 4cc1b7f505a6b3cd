package fastio

import (
	"io/fs"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Dir is an open folder.
type Dir struct{ fd int }

// OpenDir opens a folder (following a symlink to it).
func OpenDir(path string) (Dir, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return Dir{-1}, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return Dir{fd}, nil
}

// Close releases the folder.
func (d Dir) Close() error { return unix.Close(d.fd) }

// direntBufs recycles getdents buffers: a listing opens a few folders per
// model and would otherwise allocate one per folder.
var direntBufs = sync.Pool{New: func() any { b := make([]byte, 16<<10); return &b }}

// Entries lists the folder, without "." and "..", in directory order.
func (d Dir) Entries() ([]Entry, error) {
	var out []Entry
	bp := direntBufs.Get().(*[]byte)
	defer direntBufs.Put(bp)
	buf := *bp
	for {
		n, err := unix.Getdents(d.fd, buf)
		if err != nil {
			return out, err
		}
		if n <= 0 {
			return out, nil
		}
		for off := 0; off < n; {
			// struct linux_dirent64 { u64 ino; s64 off; u16 reclen; u8 type; char name[]; }
			reclen := int(*(*uint16)(unsafe.Pointer(&buf[off+16])))
			typ := buf[off+18]
			nameb := buf[off+19 : off+reclen]
			for i, c := range nameb {
				if c == 0 {
					nameb = nameb[:i]
					break
				}
			}
			off += reclen
			name := string(nameb)
			if name == "." || name == ".." {
				continue
			}
			out = append(out, Entry{Name: name, Type: direntType(typ)})
		}
	}
}

func direntType(t byte) fs.FileMode {
	switch t {
	case unix.DT_DIR:
		return fs.ModeDir
	case unix.DT_LNK:
		return fs.ModeSymlink
	case unix.DT_REG:
		return 0
	case unix.DT_UNKNOWN:
		return Unknown
	}
	return fs.ModeIrregular
}

// Stat stats name inside the folder, following a symlink when follow is set.
func (d Dir) Stat(name string, follow bool) (Stat, error) {
	var st unix.Stat_t
	flags := 0
	if !follow {
		flags = unix.AT_SYMLINK_NOFOLLOW
	}
	if err := unix.Fstatat(d.fd, name, &st, flags); err != nil {
		return Stat{}, err
	}
	return fromStat(&st), nil
}

// StatPath stats a path, following symlinks.
func StatPath(path string) (Stat, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return Stat{}, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	return fromStat(&st), nil
}

func fromStat(st *unix.Stat_t) Stat {
	s := Stat{Size: st.Size, MTime: st.Mtim.Nano()}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG:
	case unix.S_IFDIR:
		s.Mode = fs.ModeDir
	case unix.S_IFLNK:
		s.Mode = fs.ModeSymlink
	default:
		s.Mode = fs.ModeIrregular
	}
	return s
}

// ReadFile reads a regular file of at most limit bytes. sizeHint, when
// known and positive, sizes the buffer so that one read call suffices; a
// read shorter than asked for means end of file for a regular file.
func ReadFile(path string, sizeHint, limit int64) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	want := int64(4096)
	if sizeHint > 0 {
		want = sizeHint + 1
	}
	if want > limit+1 {
		want = limit + 1
	}
	buf := make([]byte, 0, want)
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > limit {
				return nil, ErrTooLarge
			}
			next := int64(cap(buf)) * 2
			if next > limit+1 {
				next = limit + 1
			}
			nb := make([]byte, len(buf), next)
			copy(nb, buf)
			buf = nb
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, nil
		}
		asked := cap(buf) - len(buf)
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, ErrTooLarge
		}
		if n < asked {
			return buf, nil // short read on a regular file: end of file
		}
	}
}

// ReadPrefix reads up to n leading bytes of a file.
func ReadPrefix(path string, n int) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, n)
	got := 0
	for got < n {
		k, err := unix.Read(fd, buf[got:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if k == 0 {
			break
		}
		got += k
	}
	return buf[:got], nil
}

// File is a regular file opened for reading with raw system calls.
type File struct{ fd int }

// OpenRegular opens path for reading and returns its size. It does not
// block on a FIFO (O_NONBLOCK) and refuses anything that is not a regular
// file.
func OpenRegular(path string) (File, int64, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return File{-1}, 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return File{-1}, 0, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return File{-1}, 0, &fs.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	return File{fd}, st.Size, nil
}

// Read reads into p; it returns 0, nil at end of file.
func (f File) Read(p []byte) (int, error) {
	for {
		n, err := unix.Read(f.fd, p)
		if err == unix.EINTR {
			continue
		}
		return n, err
	}
}

// Close releases the file.
func (f File) Close() error { return unix.Close(f.fd) }
