//go:build unix

package cachewrite

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// LockBlob takes the lock huggingface_hub takes while it writes a blob:
// flock(2) on <hub>/.locks/<repo folder>/<etag>.lock, created with mode
// 0664 and never deleted (Python's filelock leaves it too). It waits,
// polling, until the lock is free or ctx ends. On file systems without
// flock it falls back to Python's soft lock: an O_EXCL lock file holding
// "pid\nhostname\n", removed on release.
func LockBlob(ctx context.Context, hub, repoFolder, etag string) (unlock func(), err error) {
	dir := filepath.Join(hub, ".locks", repoFolder)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, etag+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o664)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.EOPNOTSUPP) {
			f.Close()
			return softLock(ctx, path)
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, err
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func softLock(ctx context.Context, path string) (func(), error) {
	host, _ := os.Hostname()
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_TRUNC, 0o664)
		if err == nil {
			_, err = f.WriteString(strconv.Itoa(os.Getpid()) + "\n" + host + "\n")
			f.Close()
			if err != nil {
				os.Remove(path)
				return nil, err
			}
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
