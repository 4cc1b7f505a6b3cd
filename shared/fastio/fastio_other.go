//go:build !linux

package fastio

import (
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Dir is an open folder.
type Dir struct {
	f    *os.File
	path string
}

// OpenDir opens a folder (following a symlink to it).
func OpenDir(path string) (Dir, error) {
	f, err := os.Open(path)
	if err != nil {
		return Dir{}, err
	}
	return Dir{f: f, path: path}, nil
}

// Close releases the folder.
func (d Dir) Close() error { return d.f.Close() }

// Entries lists the folder.
func (d Dir) Entries() ([]Entry, error) {
	ents, err := d.f.ReadDir(-1)
	out := make([]Entry, 0, len(ents))
	for _, e := range ents {
		t := e.Type()
		switch {
		case t.IsDir():
			t = fs.ModeDir
		case t&fs.ModeSymlink != 0:
			t = fs.ModeSymlink
		case t.IsRegular():
			t = 0
		default:
			t = fs.ModeIrregular
		}
		out = append(out, Entry{Name: e.Name(), Type: t})
	}
	return out, err
}

// Stat stats name inside the folder, following a symlink when follow is set.
func (d Dir) Stat(name string, follow bool) (Stat, error) {
	p := filepath.Join(d.path, name)
	st, err := os.Lstat(p)
	if follow {
		st, err = os.Stat(p)
	}
	if err != nil {
		return Stat{}, err
	}
	return fromInfo(st), nil
}

// StatPath stats a path, following symlinks.
func StatPath(path string) (Stat, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Stat{}, err
	}
	return fromInfo(st), nil
}

func fromInfo(st fs.FileInfo) Stat {
	s := Stat{Size: st.Size(), MTime: st.ModTime().UnixNano()}
	m := st.Mode()
	switch {
	case m.IsRegular():
	case m.IsDir():
		s.Mode = fs.ModeDir
	case m&fs.ModeSymlink != 0:
		s.Mode = fs.ModeSymlink
	default:
		s.Mode = fs.ModeIrregular
	}
	return s
}

// openRegular opens a file without blocking on a FIFO and refuses
// anything that is not a regular file.
func openRegular(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = &fs.PathError{Op: "open", Path: path, Err: errNotRegular}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads a regular file of at most limit bytes.
func ReadFile(path string, _, limit int64) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, ErrTooLarge
	}
	return b, nil
}

// ReadPrefix reads up to n leading bytes of a file.
func ReadPrefix(path string, n int) ([]byte, error) {
	f, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	k, err := io.ReadFull(f, buf)
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		err = nil
	}
	return buf[:k], err
}

// File is a regular file opened for reading.
type File struct{ f *os.File }

// OpenRegular opens path for reading and returns its size. It does not
// block on a FIFO and refuses anything that is not a regular file.
func OpenRegular(path string) (File, int64, error) {
	f, err := openRegular(path)
	if err != nil {
		return File{}, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return File{}, 0, err
	}
	return File{f}, st.Size(), nil
}

// Read reads into p; it returns 0, nil at end of file.
func (f File) Read(p []byte) (int, error) {
	n, err := f.f.Read(p)
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// Close releases the file.
func (f File) Close() error { return f.f.Close() }
