package snapfiles_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mlxk/mlxk/shared/cachewrite"
	"github.com/mlxk/mlxk/shared/snapfiles"
)

const lfsPointer = "version https://git-lfs.github.com/spec/v1\n" +
	"oid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\n" +
	"size 12345\n"

func write(t *testing.T, p, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, p string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

func rels(l snapfiles.Listing) []string {
	var out []string
	for _, f := range l.Files {
		out = append(out, f.Rel)
	}
	return out
}

// hostileSnapshot is a folder holding every kind of entry Scan must
// survive.
func hostileSnapshot(t *testing.T) (dir string) {
	t.Helper()
	root := t.TempDir()
	dir = filepath.Join(root, "snap")
	write(t, filepath.Join(root, "outside.txt"), "secret")
	write(t, filepath.Join(root, "blob"), "0123456789")
	write(t, filepath.Join(dir, "config.json"), `{"model_type":"llama"}`)
	write(t, filepath.Join(dir, "sub", "deep", "file.txt"), "abc")
	symlink(t, "../blob", filepath.Join(dir, "linked.safetensors"))
	symlink(t, "../missing-blob", filepath.Join(dir, "broken.safetensors"))
	symlink(t, "loop-b", filepath.Join(dir, "loop-a"))
	symlink(t, "loop-a", filepath.Join(dir, "loop-b"))
	mkfifo(t, filepath.Join(dir, "fifo"))
	symlink(t, "fifo", filepath.Join(dir, "to-fifo"))
	symlink(t, "sub", filepath.Join(dir, "linked-dir"))
	symlink(t, ".", filepath.Join(dir, "self"))
	return dir
}

func TestScan(t *testing.T) {
	t.Parallel()
	dir := hostileSnapshot(t)
	done := make(chan snapfiles.Listing)
	go func() { done <- snapfiles.Scan(dir) }()
	var l snapfiles.Listing
	select {
	case l = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Scan blocked")
	}
	if !l.Exists || l.Dir != dir {
		t.Fatalf("Scan: Exists %v Dir %q", l.Exists, l.Dir)
	}
	want := []string{"broken.safetensors", "config.json", "fifo", "linked.safetensors", "loop-a", "loop-b", "sub/deep/file.txt", "to-fifo"}
	if got := rels(l); !slices.Equal(got, want) {
		t.Fatalf("Files = %q, want %q", got, want)
	}
	type exp struct {
		size      int64
		link      string
		broken    bool
		irregular bool
	}
	wants := map[string]exp{
		"broken.safetensors": {0, "../missing-blob", true, false},
		"config.json":        {int64(len(`{"model_type":"llama"}`)), "", false, false},
		"fifo":               {0, "", false, true},
		"linked.safetensors": {10, "../blob", false, false},
		"loop-a":             {0, "loop-b", true, false},
		"loop-b":             {0, "loop-a", true, false},
		"sub/deep/file.txt":  {3, "", false, false},
		"to-fifo":            {0, "fifo", false, true},
	}
	for _, f := range l.Files {
		w := wants[f.Rel]
		if f.Size != w.size || l.Target(f) != w.link || f.Broken != w.broken || f.Irregular != w.irregular {
			t.Errorf("%s = %+v, want %+v", f.Rel, f, w)
		}
	}
	if got, want := l.TotalSize(), int64(len(`{"model_type":"llama"}`)+10+3); got != want {
		t.Errorf("TotalSize() = %d, want %d", got, want)
	}
	f, _ := l.Get("sub/deep/file.txt")
	if f.Base() != "file.txt" {
		t.Errorf("Base() = %q", f.Base())
	}
	if l.Abs(f) != filepath.Join(dir, "sub", "deep", "file.txt") {
		t.Errorf("Abs() = %q", l.Abs(f))
	}
	if len(l.Unreadable) != 0 {
		t.Errorf("Unreadable = %q", l.Unreadable)
	}
}

func TestScanMissingOrNotADir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, filepath.Join(root, "file"), "x")
	for _, p := range []string{filepath.Join(root, "missing"), filepath.Join(root, "file")} {
		l := snapfiles.Scan(p)
		if l.Exists || len(l.Files) != 0 {
			t.Errorf("Scan(%s) = %+v, want nothing", p, l)
		}
		if _, ok := l.Get("file"); ok {
			t.Errorf("Get on an empty listing found something")
		}
		if _, err := l.ReadFile("config.json", 10); !errors.Is(err, snapfiles.ErrMissing) {
			t.Errorf("ReadFile on an empty listing = %v, want ErrMissing", err)
		}
	}
}

func TestScanThroughSymlinkedDir(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, filepath.Join(root, "real", "config.json"), "{}")
	symlink(t, "real", filepath.Join(root, "ws"))
	l := snapfiles.Scan(filepath.Join(root, "ws"))
	if !l.Exists || !slices.Equal(rels(l), []string{"config.json"}) {
		t.Fatalf("Scan(symlinked dir) = %q, exists %v", rels(l), l.Exists)
	}
	if b, err := l.ReadFile("config.json", 100); err != nil || string(b) != "{}" {
		t.Errorf("ReadFile = %q, %v", b, err)
	}
}

func TestScanUnreadableFolder(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads every folder")
	}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "config.json"), "{}")
	write(t, filepath.Join(dir, "locked", "x"), "x")
	if err := os.Chmod(filepath.Join(dir, "locked"), 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "locked"), 0o755) })
	l := snapfiles.Scan(dir)
	if !slices.Equal(l.Unreadable, []string{"locked"}) {
		t.Errorf("Unreadable = %q, want [locked]", l.Unreadable)
	}
}

func TestScanCacheSnapshot(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	write(t, filepath.Join(src, "config.json"), `{"a":1}`)
	write(t, filepath.Join(src, "model.safetensors"), strings.Repeat("w", 300))
	write(t, filepath.Join(src, "sub", "tok.json"), "[]")
	w, err := cachewrite.Write(t.TempDir(), cachewrite.Snapshot{RepoID: "org/m", Refs: []string{"main"}, Files: []cachewrite.File{
		{Path: "config.json", Src: filepath.Join(src, "config.json")},
		{Path: "model.safetensors", Src: filepath.Join(src, "model.safetensors")},
		{Path: "sub/tok.json", Src: filepath.Join(src, "sub", "tok.json")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	l := snapfiles.Scan(w.Dir)
	if !slices.Equal(rels(l), []string{"config.json", "model.safetensors", "sub/tok.json"}) {
		t.Fatalf("Files = %q", rels(l))
	}
	for _, f := range l.Files {
		if l.Target(f) == "" || f.Broken || f.Irregular {
			t.Errorf("%s = %+v, want a working symlink into blobs", f.Rel, f)
		}
		if filepath.Base(l.Target(f)) != filepath.Base(w.Blobs[f.Rel]) {
			t.Errorf("%s links to %q, want blob %q", f.Rel, l.Target(f), w.Blobs[f.Rel])
		}
	}
	if l.TotalSize() != int64(len(`{"a":1}`)+300+2) {
		t.Errorf("TotalSize() = %d", l.TotalSize())
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	dir := hostileSnapshot(t)
	l := snapfiles.Scan(dir)
	tests := []struct {
		rel   string
		found bool
	}{
		{"config.json", true},
		{"./config.json", true},
		{"sub/../config.json", true},
		{"sub/deep/file.txt", true},
		{"sub//deep/./file.txt", true},
		{"broken.safetensors", true},
		{"../outside.txt", false},
		{"../blob", false},
		{"..", false},
		{".", false},
		{"", false},
		{"sub/../../outside.txt", false},
		{"/config.json", false},
		{filepath.Join(dir, "config.json"), false},
		{"/etc/passwd", false},
		{"sub", false},
		{"linked-dir/deep/file.txt", false},
	}
	for _, tc := range tests {
		f, ok := l.Get(tc.rel)
		if ok != tc.found {
			t.Errorf("Get(%q) found = %v, want %v", tc.rel, ok, tc.found)
		}
		if ok && f.Rel == "" {
			t.Errorf("Get(%q) returned an empty file", tc.rel)
		}
	}
	if !l.Present("config.json") || l.Present("broken.safetensors") || l.Present("loop-a") || l.Present("nope") {
		t.Error("Present disagrees with Broken")
	}
	if _, err := l.ReadFile("../outside.txt", 1<<20); !errors.Is(err, snapfiles.ErrMissing) {
		t.Errorf("ReadFile(../outside.txt) = %v, want ErrMissing", err)
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := hostileSnapshot(t)
	l := snapfiles.Scan(dir)

	b, err := l.ReadFile("linked.safetensors", 10)
	if err != nil || string(b) != "0123456789" {
		t.Errorf("ReadFile(limit == size) = %q, %v", b, err)
	}
	_, err = l.ReadFile("linked.safetensors", 9)
	if !errors.Is(err, snapfiles.ErrTooLarge) {
		t.Errorf("ReadFile over the limit = %v, want ErrTooLarge", err)
	}
	for _, rel := range []string{"broken.safetensors", "loop-a", "missing.json"} {
		if _, err := l.ReadFile(rel, 100); !errors.Is(err, snapfiles.ErrMissing) {
			t.Errorf("ReadFile(%s) = %v, want ErrMissing", rel, err)
		}
	}
	for _, rel := range []string{"fifo", "to-fifo"} {
		done := make(chan error, 1)
		go func() {
			_, err := l.ReadFile(rel, 100)
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, snapfiles.ErrIrregular) {
				t.Errorf("ReadFile(%s) = %v, want ErrIrregular", rel, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("ReadFile(%s) blocked on a FIFO", rel)
		}
		f, _ := l.Get(rel)
		hd := make(chan []byte, 1)
		go func() { hd <- l.Head(f, 10) }()
		select {
		case b := <-hd:
			if b != nil {
				t.Errorf("Head(%s) = %q, want nil", rel, b)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Head(%s) blocked on a FIFO", rel)
		}
		if l.IsLFSPointer(f) {
			t.Errorf("IsLFSPointer(%s) = true", rel)
		}
	}
}

func TestHead(t *testing.T) {
	t.Parallel()
	dir := hostileSnapshot(t)
	l := snapfiles.Scan(dir)
	f, _ := l.Get("linked.safetensors")
	if got := string(l.Head(f, 4)); got != "0123" {
		t.Errorf("Head(4) = %q", got)
	}
	if got := string(l.Head(f, 100)); got != "0123456789" {
		t.Errorf("Head(100) = %q", got)
	}
	f, _ = l.Get("broken.safetensors")
	if got := l.Head(f, 4); got != nil {
		t.Errorf("Head(broken) = %q", got)
	}
}

func TestIsLFSPointer(t *testing.T) {
	t.Parallel()
	marker := "version https://git-lfs.github.com/spec/v1"
	tests := []struct {
		name    string
		content string
		want    bool
	}{
		{"pointer", lfsPointer, true},
		{"marker only", marker, true},
		{"marker at byte 50", strings.Repeat("x", 50) + marker, true},
		{"marker past byte 100", strings.Repeat("x", 80) + marker, false},
		{"199 bytes", marker + strings.Repeat("x", 199-len(marker)), true},
		{"200 bytes", marker + strings.Repeat("x", 200-len(marker)), false},
		{"real content", strings.Repeat("\x00", 150), false},
		{"empty", "", false},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		write(t, filepath.Join(dir, "f"+string(rune('a'+i))), tc.content)
	}
	symlink(t, "nowhere", filepath.Join(dir, "zz-broken"))
	l := snapfiles.Scan(dir)
	for i, tc := range tests {
		f, ok := l.Get("f" + string(rune('a'+i)))
		if !ok {
			t.Fatalf("%s not listed", tc.name)
		}
		if got := l.IsLFSPointer(f); got != tc.want {
			t.Errorf("%s: IsLFSPointer = %v, want %v", tc.name, got, tc.want)
		}
	}
	f, _ := l.Get("zz-broken")
	if l.IsLFSPointer(f) {
		t.Error("a broken symlink is an LFS pointer")
	}
}

func TestReadJSONObject(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write(t, filepath.Join(dir, "ok.json"), `{"model_type":"llama","n":7}`)
	write(t, filepath.Join(dir, "bad.json"), `{"model_type":`)
	write(t, filepath.Join(dir, "array.json"), `[1,2]`)
	write(t, filepath.Join(dir, "empty-object.json"), `{}`)
	write(t, filepath.Join(dir, "empty.json"), ``)
	write(t, filepath.Join(dir, "trailing.json"), `{"a":1} {"b":2}`)
	symlink(t, "nowhere", filepath.Join(dir, "broken.json"))
	mkfifo(t, filepath.Join(dir, "fifo.json"))
	// A sparse file one byte over the limit: too large, never read.
	big, err := os.Create(filepath.Join(dir, "big.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := big.Truncate(snapfiles.ConfigLimit + 1); err != nil {
		t.Fatal(err)
	}
	big.Close()

	l := snapfiles.Scan(dir)
	tests := []struct {
		rel  string
		want snapfiles.JSONStatus
	}{
		{"ok.json", snapfiles.JSONOK},
		{"bad.json", snapfiles.JSONInvalid},
		{"array.json", snapfiles.JSONNotObject},
		{"empty-object.json", snapfiles.JSONNotObject},
		{"empty.json", snapfiles.JSONInvalid},
		{"trailing.json", snapfiles.JSONInvalid},
		{"broken.json", snapfiles.JSONMissing},
		{"absent.json", snapfiles.JSONMissing},
		{"fifo.json", snapfiles.JSONInvalid},
		{"big.json", snapfiles.JSONInvalid},
	}
	for _, tc := range tests {
		type result struct {
			m   map[string]any
			st  snapfiles.JSONStatus
			err error
		}
		done := make(chan result, 1)
		go func() {
			m, st, err := l.ReadJSONObject(tc.rel)
			done <- result{m, st, err}
		}()
		var m map[string]any
		var st snapfiles.JSONStatus
		var err error
		select {
		case r := <-done:
			m, st, err = r.m, r.st, r.err
		case <-time.After(5 * time.Second):
			t.Fatalf("ReadJSONObject(%s) blocked", tc.rel)
		}
		if st != tc.want {
			t.Errorf("ReadJSONObject(%s) status = %v, want %v (err %v)", tc.rel, st, tc.want, err)
		}
		if (st == snapfiles.JSONOK) != (err == nil) {
			t.Errorf("ReadJSONObject(%s): status %v with err %v", tc.rel, st, err)
		}
		if st != snapfiles.JSONOK && m != nil {
			t.Errorf("ReadJSONObject(%s) returned a map with status %v", tc.rel, st)
		}
	}
	m, _, _ := l.ReadJSONObject("ok.json")
	if m["model_type"] != "llama" || m["n"] != json.Number("7") {
		t.Errorf("ok.json = %#v", m)
	}
}

func TestParseJSONObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want snapfiles.JSONStatus
	}{
		{`{"a":1}`, snapfiles.JSONOK},
		{" \n\t{\"a\":1}\n\n ", snapfiles.JSONOK},
		{`{"a":{"b":[1,2,{}]}}`, snapfiles.JSONOK},
		{`{}`, snapfiles.JSONNotObject},
		{` { } `, snapfiles.JSONNotObject},
		{`[]`, snapfiles.JSONNotObject},
		{`[{"a":1}]`, snapfiles.JSONNotObject},
		{`"x"`, snapfiles.JSONNotObject},
		{`null`, snapfiles.JSONNotObject},
		{`42`, snapfiles.JSONNotObject},
		{`true`, snapfiles.JSONNotObject},
		{``, snapfiles.JSONInvalid},
		{`   `, snapfiles.JSONInvalid},
		{`{`, snapfiles.JSONInvalid},
		{`{"a":}`, snapfiles.JSONInvalid},
		{`{'a':1}`, snapfiles.JSONInvalid},
		{`{"a":1,}`, snapfiles.JSONInvalid},
		{`{"a":1} x`, snapfiles.JSONInvalid},
		{`{"a":1}{"b":2}`, snapfiles.JSONInvalid},
		{`{"a":1}]`, snapfiles.JSONInvalid},
		{`{"a":1}}`, snapfiles.JSONInvalid},
		{`{"a":1} 2`, snapfiles.JSONInvalid},
		{`{"a":NaN}`, snapfiles.JSONInvalid},
		{"\xef\xbb\xbf{\"a\":1}", snapfiles.JSONInvalid},
	}
	for _, tc := range tests {
		m, st, err := snapfiles.ParseJSONObject([]byte(tc.in))
		if st != tc.want {
			t.Errorf("ParseJSONObject(%q) = %v (%v), want %v", tc.in, st, err, tc.want)
		}
		if st == snapfiles.JSONOK && (len(m) == 0 || err != nil) {
			t.Errorf("ParseJSONObject(%q) OK with %v, %v", tc.in, m, err)
		}
		if st != snapfiles.JSONOK && (m != nil || err == nil) {
			t.Errorf("ParseJSONObject(%q) status %v with map %v, err %v", tc.in, st, m, err)
		}
	}
	// Numbers keep their text (no float rounding of big integers).
	m, _, _ := snapfiles.ParseJSONObject([]byte(`{"n":12345678901234567890,"f":1.50}`))
	if m["n"] != json.Number("12345678901234567890") || m["f"] != json.Number("1.50") {
		t.Errorf("numbers = %#v", m)
	}
}

func FuzzParseJSONObject(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{}`, `[]`, `null`, ``, `{"a":1} x`, `{"weight_map":{"a":"b"}}`,
		`{"a":1}{"b":2}`, " {\"x\":[1,2,3]} \n", `"s"`, `{"a":"\ud800"}`, "{\"a\":\"\xff\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, st, err := snapfiles.ParseJSONObject(b)
		switch st {
		case snapfiles.JSONOK:
			if len(m) == 0 || err != nil {
				t.Fatalf("JSONOK with map %v, err %v", m, err)
			}
		case snapfiles.JSONInvalid, snapfiles.JSONNotObject:
			if m != nil || err == nil {
				t.Fatalf("status %v with map %v, err %v", st, m, err)
			}
		default:
			t.Fatalf("ParseJSONObject returned status %v", st)
		}
		// Oracle: the standard library's view of the same bytes.
		if !json.Valid(b) {
			if st != snapfiles.JSONInvalid {
				t.Fatalf("invalid JSON %q gave status %v", b, st)
			}
			return
		}
		// UseNumber: a valid document may hold numbers beyond float64.
		var v any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("json.Valid but Decode failed: %v", err)
		}
		obj, isObj := v.(map[string]any)
		want := snapfiles.JSONNotObject
		if isObj && len(obj) > 0 {
			want = snapfiles.JSONOK
		}
		if st != want {
			t.Fatalf("ParseJSONObject(%q) = %v, want %v", b, st, want)
		}
		if st == snapfiles.JSONOK {
			if len(m) != len(obj) {
				t.Fatalf("ParseJSONObject(%q) has %d keys, want %d", b, len(m), len(obj))
			}
			for k := range obj {
				if _, ok := m[k]; !ok {
					t.Fatalf("key %q missing", k)
				}
			}
		}
	})
}
