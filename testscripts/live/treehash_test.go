package live

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHashTreeSeesEveryKindOfChange(t *testing.T) {
	for _, content := range []bool{true, false} {
		for name, change := range map[string]func(root string) error{
			"a byte rewritten, size and mtime restored": func(root string) error {
				p := filepath.Join(root, "blobs", "b1")
				st, _ := os.Stat(p)
				if err := os.WriteFile(p, []byte("hellO"), 0o644); err != nil {
					return err
				}
				return os.Chtimes(p, st.ModTime(), st.ModTime())
			},
			"a file created and removed again": func(root string) error {
				p := filepath.Join(root, "blobs", "tmp")
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					return err
				}
				return os.Remove(p)
			},
			"a symlink re-pointed": func(root string) error {
				p := filepath.Join(root, "snap", "f")
				os.Remove(p)
				return os.Symlink("../blobs/b2", p)
			},
			"a mode changed": func(root string) error { return os.Chmod(filepath.Join(root, "blobs", "b2"), 0o600) },
			"a ref rewritten": func(root string) error {
				return os.WriteFile(filepath.Join(root, "refs"), []byte("other"), 0o644)
			},
		} {
			root := t.TempDir()
			old := time.Now().Add(-time.Hour)
			os.MkdirAll(filepath.Join(root, "blobs"), 0o755)
			os.MkdirAll(filepath.Join(root, "snap"), 0o755)
			os.WriteFile(filepath.Join(root, "blobs", "b1"), []byte("hello"), 0o644)
			os.WriteFile(filepath.Join(root, "blobs", "b2"), []byte("world"), 0o644)
			os.WriteFile(filepath.Join(root, "refs"), []byte("main"), 0o644)
			os.Symlink("../blobs/b1", filepath.Join(root, "snap", "f"))
			for _, p := range []string{"blobs/b1", "blobs/b2", "refs", "blobs", "snap", "."} {
				os.Chtimes(filepath.Join(root, p), old, old)
			}
			before, err := HashTree(root, content)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := HashTree(root, content)
			if again.Digest() != before.Digest() || len(again.Diff(before)) != 0 {
				t.Fatalf("two fingerprints of an unchanged tree differ")
			}
			time.Sleep(10 * time.Millisecond) // let the clock move for ctime
			if err := change(root); err != nil {
				t.Fatal(err)
			}
			after, err := HashTree(root, content)
			if err != nil {
				t.Fatal(err)
			}
			if after.Digest() == before.Digest() || len(after.Diff(before)) == 0 {
				t.Errorf("content=%v: %s went unnoticed", content, name)
			}
		}
	}
}

func TestTreeDiffAndLines(t *testing.T) {
	a := &Tree{Entries: map[string]string{"x": "file 1", "y": "dir"}}
	b := &Tree{Entries: map[string]string{"x": "file 2", "z": "dir"}}
	got := strings.Join(b.Diff(a), "|")
	if got != "+ z|- y|~ x: file 1 → file 2" {
		t.Errorf("Diff = %s", got)
	}
	var sb strings.Builder
	a.WriteTo(&sb)
	if !strings.HasPrefix(sb.String(), "digest "+a.Digest()+"\nx: file 1\ny: dir\n") {
		t.Errorf("WriteTo = %q", sb.String())
	}
}
