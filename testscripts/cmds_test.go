package testscripts

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/mlxk/mlxk/shared/cachewrite"
	"github.com/mlxk/mlxk/shared/hubcache"

	"github.com/mlxk/mlxk/shared/engine/testmodel"
	"github.com/mlxk/mlxk/shared/tokenizer/tokentest"
)

// cmdMkcache lays a folder of the script out as a model in the hub cache,
// exactly as huggingface_hub writes it, and sets $COMMIT and $SNAP:
//
//	mkcache [-commit C] [-ref R]... [-noref] [-mtime RFC3339] org/name srcdir
func cmdMkcache(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! mkcache")
	}
	fl := flag.NewFlagSet("mkcache", flag.ContinueOnError)
	commit := fl.String("commit", "", "commit hash (default: derived from the content)")
	var refs multi
	fl.Var(&refs, "ref", "ref to point at the commit (default main)")
	noRef := fl.Bool("noref", false, "write no ref at all")
	mtime := fl.String("mtime", "", "modification time of the snapshot folder (RFC 3339)")
	hubDir := fl.String("hub", "", "hub cache folder (default: the one HF_HOME names)")
	ts.Check(fl.Parse(args))
	if fl.NArg() != 2 {
		ts.Fatalf("usage: mkcache [flags] org/name srcdir")
	}
	if len(refs) == 0 && !*noRef {
		refs = multi{"main"}
	}
	src := ts.MkAbs(fl.Arg(1))
	files, err := cachewrite.FilesFromDir(src)
	ts.Check(err)
	dst := hub(ts)
	if *hubDir != "" {
		dst = ts.MkAbs(*hubDir)
	}
	w, err := cachewrite.Write(dst, cachewrite.Snapshot{RepoID: fl.Arg(0), Commit: *commit, Refs: refs, Files: files})
	ts.Check(err)
	if *mtime != "" {
		t, err := time.Parse(time.RFC3339, *mtime)
		ts.Check(err)
		ts.Check(os.Chtimes(w.Dir, t, t))
	}
	ts.Setenv("COMMIT", w.Commit)
	ts.Setenv("SNAP", w.Dir)
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func hub(ts *testscript.TestScript) string {
	return hubcache.Locate(ts.Getenv, ts.Getenv("HOME"))
}

// cmdBlobof sets $BLOB to the blob a file of a model's current snapshot
// links to: blobof org/name path
func cmdBlobof(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: blobof org/name path")
	}
	repo := hubcache.Cache{Dir: hub(ts)}.Repo(args[0])
	snap, ok, err := repo.Current()
	ts.Check(err)
	if !ok {
		ts.Fatalf("%s has no snapshot", args[0])
	}
	ptr := filepath.Join(snap.Path, filepath.FromSlash(args[1]))
	target, err := os.Readlink(ptr)
	ts.Check(err)
	ts.Setenv("BLOB", filepath.Clean(filepath.Join(filepath.Dir(ptr), target)))
}

// cmdTouch sets the modification time of files or folders:
// touch RFC3339 path...
func cmdTouch(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 2 {
		ts.Fatalf("usage: touch RFC3339 path...")
	}
	t, err := time.Parse(time.RFC3339, args[0])
	ts.Check(err)
	for _, p := range args[1:] {
		ts.Check(os.Chtimes(ts.MkAbs(p), t, t))
	}
}

// schema holds every definition of the project schema, compiled up front
// (the compiler is not safe for concurrent use; compiled schemas are).
type schema struct{ defs map[string]*jsonschema.Schema }

func loadSchema(t *testing.T, path string) schema {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mlxk.json", doc); err != nil {
		t.Fatal(err)
	}
	s := schema{defs: map[string]*jsonschema.Schema{}}
	for name := range doc.(map[string]any)["$defs"].(map[string]any) {
		sch, err := c.Compile("mlxk.json#/$defs/" + name)
		if err != nil {
			t.Fatalf("compile %s: %v", name, err)
		}
		s.defs[name] = sch
	}
	return s
}

// cmd validates every non-empty line of the last command's stdout against
// a definition of docs/json-api-schema.json: schema envelope|model|healthEntry
func (s schema) cmd(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: schema <definition>")
	}
	sch, found := s.defs[args[0]]
	if !found {
		ts.Fatalf("schema has no definition %q", args[0])
	}
	lines := strings.Split(strings.TrimRight(ts.ReadFile("stdout"), "\n"), "\n")
	var failed error
	n := 0
	for i, line := range lines {
		if line == "" {
			continue
		}
		n++
		v, err := jsonschema.UnmarshalJSON(strings.NewReader(line))
		if err != nil {
			failed = fmt.Errorf("stdout line %d is not JSON: %v", i+1, err)
			break
		}
		if err := sch.Validate(v); err != nil {
			failed = fmt.Errorf("stdout line %d does not match %s: %v", i+1, args[0], err)
			break
		}
	}
	if n == 0 && failed == nil {
		failed = fmt.Errorf("stdout is empty")
	}
	switch {
	case neg && failed == nil:
		ts.Fatalf("stdout unexpectedly matches %s", args[0])
	case !neg && failed != nil:
		ts.Fatalf("%v", failed)
	}
}

// cmdJSONGet compares a value of a JSON line of stdout:
//
//	jsonget [-line N] path want
//
// path is dot-separated with numeric list indices (data.models.0.name);
// "#" after a list gives its length. Strings compare by value, everything
// else as canonical JSON (object key order ignored).
func cmdJSONGet(ts *testscript.TestScript, neg bool, args []string) {
	line, explicitLine := 1, false
	if len(args) == 4 && args[0] == "-line" {
		n, err := strconv.Atoi(args[1])
		ts.Check(err)
		line, args, explicitLine = n, args[2:], true
	}
	if len(args) != 2 {
		ts.Fatalf("usage: jsonget [-line N] path want")
	}
	// Without -line the first JSON value of stdout is read, which may span
	// lines (an indented file); with it, that line alone.
	text := ts.ReadFile("stdout")
	if line > 1 || explicitLine {
		lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
		if line < 1 || line > len(lines) {
			ts.Fatalf("stdout has %d lines, want line %d", len(lines), line)
		}
		text = lines[line-1]
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	ts.Check(dec.Decode(&v))
	for _, key := range strings.Split(args[0], ".") {
		switch cur := v.(type) {
		case map[string]any:
			val, found := cur[key]
			if !found {
				ts.Fatalf("%s: no key %q", args[0], key)
			}
			v = val
		case []any:
			if key == "#" {
				v = json.Number(strconv.Itoa(len(cur)))
				continue
			}
			i, err := strconv.Atoi(key)
			if err != nil || i < 0 || i >= len(cur) {
				ts.Fatalf("%s: bad index %q into a list of %d", args[0], key, len(cur))
			}
			v = cur[i]
		default:
			ts.Fatalf("%s: cannot index %T with %q", args[0], v, key)
		}
	}
	got, isStr := v.(string)
	want := args[1]
	if !isStr {
		// Compare JSON canonically: maps re-encode with sorted keys, so
		// key order does not matter here (scripts pin order with stdout).
		got = canonicalJSON(ts, v)
		var w any
		dec := json.NewDecoder(strings.NewReader(want))
		dec.UseNumber()
		if dec.Decode(&w) == nil {
			want = canonicalJSON(ts, w)
		}
	}
	if (got == want) == neg {
		ts.Fatalf("%s = %s, want %s%s", args[0], got, map[bool]string{true: "not ", false: ""}[neg], args[1])
	}
}

func canonicalJSON(ts *testscript.TestScript, v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	ts.Check(enc.Encode(v))
	return strings.TrimSuffix(b.String(), "\n")
}

// cmdSparse creates a sparse file of a given size: sparse SIZE path
// (SIZE takes K, M, G suffixes). Huge files cost nothing on disk.
func cmdSparse(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: sparse SIZE path")
	}
	mult := int64(1)
	n := args[0]
	switch n[len(n)-1] {
	case 'K':
		mult, n = 1<<10, n[:len(n)-1]
	case 'M':
		mult, n = 1<<20, n[:len(n)-1]
	case 'G':
		mult, n = 1<<30, n[:len(n)-1]
	}
	size, err := strconv.ParseInt(n, 10, 64)
	ts.Check(err)
	f, err := os.Create(ts.MkAbs(args[1]))
	ts.Check(err)
	ts.Check(f.Truncate(size * mult))
	ts.Check(f.Close())
}

// cmdMkfifo creates a named pipe: mkfifo path
func cmdMkfifo(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: mkfifo path")
	}
	ts.Check(syscall.Mkfifo(ts.MkAbs(args[0]), 0o666))
}

// cmdHoldLock takes flock(2) on a file, as a running download would, and
// keeps it until the script ends: holdlock path
func cmdHoldLock(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: holdlock path")
	}
	f, err := os.OpenFile(ts.MkAbs(args[0]), os.O_RDWR|os.O_CREATE, 0o664)
	ts.Check(err)
	ts.Check(syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB))
	ts.Defer(func() { f.Close() })
}

// cmdCacheTree prints a hub cache as sorted lines, one per entry: the
// path, then "-> target" for symlinks, "dir" for folders, or the size and
// the content (for refs) — enough to compare two caches byte for byte in
// layout: cachetree DIR
func cmdCacheTree(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: cachetree DIR")
	}
	root := ts.MkAbs(args[0])
	var lines []string
	ts.Check(filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			lines = append(lines, rel+" -> "+t)
		case d.IsDir():
			lines = append(lines, rel+" dir")
		default:
			info, err := d.Info()
			if err != nil {
				return err
			}
			line := fmt.Sprintf("%s %d mode=%o", rel, info.Size(), info.Mode().Perm())
			if strings.Contains(rel, "/refs/") {
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				line += fmt.Sprintf(" %q", b)
			}
			lines = append(lines, line)
		}
		return nil
	}))
	sort.Strings(lines)
	fmt.Fprintln(ts.Stdout(), strings.Join(lines, "\n"))
}

// cmdRandFile writes SIZE deterministic pseudo-random bytes (seeded by
// the path) to a file: randfile SIZE path
func cmdRandFile(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: randfile SIZE path")
	}
	n, err := strconv.Atoi(args[0])
	ts.Check(err)
	seed := uint64(14695981039346656037)
	for _, c := range []byte(args[1]) {
		seed = (seed ^ uint64(c)) * 1099511628211
	}
	b := make([]byte, n)
	for i := range b {
		seed ^= seed << 13
		seed ^= seed >> 7
		seed ^= seed << 17
		b[i] = byte(seed)
	}
	p := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(filepath.Dir(p), 0o777))
	ts.Check(os.WriteFile(p, b, 0o666))
}

// cmdSleep pauses the script: sleep DURATION
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: sleep DURATION")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}

// cmdIncreasing checks that the numbers a regexp captures in stdout never
// decrease and occur at least twice: increasing REGEXP
func cmdIncreasing(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: increasing REGEXP")
	}
	re, err := regexp.Compile(args[0])
	ts.Check(err)
	var prev float64
	ms := re.FindAllStringSubmatch(ts.ReadFile("stdout"), -1)
	if len(ms) < 2 {
		ts.Fatalf("%d matches of %s, want at least 2", len(ms), args[0])
	}
	for i, m := range ms {
		v, err := strconv.ParseFloat(m[1], 64)
		ts.Check(err)
		if i > 0 && v < prev {
			ts.Fatalf("value %v after %v: going backwards", v, prev)
		}
		prev = v
	}
}

// cmdMkSafetensors writes a small valid safetensors file: one U8 tensor
// "w" of N pseudo-random bytes: mksafetensors path [N]
func cmdMkSafetensors(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 || len(args) > 2 {
		ts.Fatalf("usage: mksafetensors path [N]")
	}
	n := 64
	if len(args) == 2 {
		var err error
		n, err = strconv.Atoi(args[1])
		ts.Check(err)
	}
	header := fmt.Sprintf(`{"w":{"dtype":"U8","shape":[%d],"data_offsets":[0,%d]}}`, n, n)
	for len(header)%8 != 0 {
		header += " "
	}
	b := make([]byte, 8, 8+len(header)+n)
	binary.LittleEndian.PutUint64(b, uint64(len(header)))
	b = append(b, header...)
	x := uint64(len(args[0]) + n)
	for range n {
		x = x*6364136223846793005 + 1442695040888963407
		b = append(b, byte(x>>56))
	}
	p := ts.MkAbs(args[0])
	ts.Check(os.MkdirAll(filepath.Dir(p), 0o777))
	ts.Check(os.WriteFile(p, b, 0o666))
}

// cmdShortSHA sets $SHORT to the first 7 characters of a commit id:
// shortsha COMMIT
func cmdShortSHA(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || len(args[0]) < 7 {
		ts.Fatalf("usage: shortsha COMMIT")
	}
	ts.Setenv("SHORT", args[0][:7])
}

// cmdMkTokenizer writes a byte-level tokenizer.json (every byte one token,
// its id the byte) with special tokens in place of some bytes:
// mktokenizer file [id=content...].
func cmdMkTokenizer(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 1 {
		ts.Fatalf("usage: mktokenizer file [id=content...]")
	}
	var added []tokentest.Added
	for _, a := range args[1:] {
		id, content, ok := strings.Cut(a, "=")
		n, err := strconv.Atoi(id)
		if !ok || err != nil || n < 0 || n > 255 || content == "" {
			ts.Fatalf("mktokenizer: %q is not id=content with an id in 0-255", a)
		}
		added = append(added, tokentest.Added{ID: n, Content: content})
	}
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), tokentest.ByteLevel(added...), 0o666))
}

// cmdMkTestModel writes one of the engine's generated test models
// (shared/engine/testmodel) into a folder: mktestmodel name dir.
func cmdMkTestModel(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mktestmodel name dir")
	}
	spec, ok := testmodel.Lookup(args[0])
	if !ok {
		ts.Fatalf("no test model %q", args[0])
	}
	dir := ts.MkAbs(args[1])
	ts.Check(os.MkdirAll(dir, 0o777))
	ts.Check(testmodel.Write(dir, spec))
}
