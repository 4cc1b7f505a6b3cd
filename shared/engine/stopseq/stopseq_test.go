package stopseq

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// reference is ADR-009 on the whole text: cut at the smallest index of
// any stop; the shortest stop among those at that index.
func reference(text string, stops []string) (cut string, found bool, stop string) {
	best := -1
	for _, s := range stops {
		if s == "" {
			continue
		}
		if i := strings.Index(text, s); i >= 0 && (best < 0 || i < best || (i == best && len(s) < len(stop))) {
			best, stop = i, s
		}
	}
	if best < 0 {
		return text, false, ""
	}
	return text[:best], true, stop
}

type run struct {
	emits      []string
	stopped    bool
	stop       string
	stoppedAt  int // index of the chunk whose Push reported the stop; -1 for Flush or none
	afterStop  string
	pushesDone int
}

// feed pushes chunks, then flushes, and records what came out.
func feed(m *Matcher, chunks []string) run {
	r := run{stoppedAt: -1}
	for i, c := range chunks {
		e, st, s := m.Push(c)
		if r.stopped {
			r.afterStop += e
			continue
		}
		r.emits = append(r.emits, e)
		r.pushesDone++
		if st {
			r.stopped, r.stop, r.stoppedAt = true, s, i
		}
	}
	e, st, s := m.Flush()
	if r.stopped {
		r.afterStop += e
		if !st || s != r.stop {
			r.stop = "flush forgot the stop"
		}
		return r
	}
	r.emits = append(r.emits, e)
	r.stopped, r.stop = st, s
	return r
}

func check(t *testing.T, text string, stops []string, chunks []string) run {
	t.Helper()
	r := feed(New(stops), chunks)
	want, found, stop := reference(text, stops)
	got := strings.Join(r.emits, "")
	if got != want || r.stopped != found || r.stop != stop || r.afterStop != "" {
		t.Fatalf("text %q stops %q chunks %q:\n got %q stopped=%v stop=%q after=%q\nwant %q stopped=%v stop=%q",
			text, stops, chunks, got, r.stopped, r.stop, r.afterStop, want, found, stop)
	}
	return r
}

func chunksOf(text string, sizes ...int) []string {
	var out []string
	for _, n := range sizes {
		n = min(n, len(text))
		out = append(out, text[:n])
		text = text[n:]
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}

func TestBasics(t *testing.T) {
	stops := []string{"<|end|>", "<|endoftext|>"}
	text := "Hello world<|end|><|endoftext|>"
	for _, chunks := range [][]string{
		{text},
		chunksOf(text, 5, 6, 2, 3, 4),
		chunksOf(text, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1),
	} {
		r := check(t, text, stops, chunks)
		if r.stop != "<|end|>" {
			t.Errorf("stop %q", r.stop)
		}
	}
	check(t, "no stop here", stops, chunksOf("no stop here", 3, 3))
	check(t, "ends with a partial <|en", stops, chunksOf("ends with a partial <|en", 20))
}

func TestHoldBackNeverRetracts(t *testing.T) {
	m := New([]string{"\nHuman:"})
	if e, st, _ := m.Push("Sure.\n"); e != "Sure." || st {
		t.Fatalf("got %q %v; the newline could start the stop", e, st)
	}
	if e, st, _ := m.Push("Hum"); e != "" || st {
		t.Fatalf("got %q %v", e, st)
	}
	if e, st, _ := m.Push("ble pie"); e != "\nHumble pie" || st {
		t.Fatalf("got %q %v", e, st)
	}
	if e, st, s := m.Push("\nHuman: hi"); e != "" || !st || s != "\nHuman:" {
		t.Fatalf("got %q %v %q", e, st, s)
	}
	if e, st, _ := m.Push("more"); e != "" || !st {
		t.Fatalf("after the stop: %q %v", e, st)
	}
}

func TestEarliestPositionWins(t *testing.T) {
	// List order does not matter (the Phi-3 case of ADR-009).
	for _, stops := range [][]string{{"<|endoftext|>", "<|end|>"}, {"<|end|>", "<|endoftext|>"}} {
		check(t, "a<|end|>b<|endoftext|>", stops, chunksOf("a<|end|>b<|endoftext|>", 2, 3))
		check(t, "a<|endoftext|>b<|end|>", stops, chunksOf("a<|endoftext|>b<|end|>", 4, 4))
	}
	// A later, shorter stop must wait while a longer one that started
	// earlier may still complete.
	m := New([]string{"abcd", "bc"})
	if e, st, _ := m.Push("xabc"); e != "x" || st {
		t.Fatalf("got %q %v; must wait: abcd at 1 would win over bc at 2", e, st)
	}
	if e, st, s := m.Push("d"); e != "" || !st || s != "abcd" {
		t.Fatalf("got %q %v %q", e, st, s)
	}
	m = New([]string{"abcd", "bc"})
	m.Push("xabc")
	if e, st, s := m.Push("e"); e != "a" || !st || s != "bc" {
		t.Fatalf("got %q %v %q", e, st, s)
	}
	m = New([]string{"abcd", "bc"})
	m.Push("xabc")
	if e, st, s := m.Flush(); e != "a" || !st || s != "bc" {
		t.Fatalf("flush: got %q %v %q", e, st, s)
	}
}

func TestSamePositionReportsShortestImmediately(t *testing.T) {
	m := New([]string{"STOPPING", "STOP"})
	if e, st, s := m.Push("go STOP"); e != "go " || !st || s != "STOP" {
		t.Fatalf("got %q %v %q", e, st, s)
	}
	check(t, "go STOPPING", []string{"STOPPING", "STOP"}, []string{"go STOPPING"})
}

func TestEmptyAndDuplicateStops(t *testing.T) {
	m := New([]string{"", "x", "x", ""})
	if got := m.Stops(); len(got) != 1 || got[0] != "x" {
		t.Fatalf("Stops() = %q", got)
	}
	check(t, "abc", []string{""}, []string{"a", "bc"})
	none := New(nil)
	if e, st, _ := none.Push("anything"); e != "anything" || st {
		t.Fatalf("no stops: %q %v", e, st)
	}
	check(t, "aaxaa", []string{"x", "x", ""}, chunksOf("aaxaa", 1, 1, 1))
}

func TestUTF8HeldWhole(t *testing.T) {
	// "é" is C3 A9; "€" is E2 82 AC; "😀" is F0 9F 98 80.
	m := New(nil)
	for _, c := range []struct{ in, out string }{
		{"caf\xc3", "caf"},
		{"\xa9 ", "é "},
		{"\xe2\x82", ""},
		{"\xac\xf0\x9f", "€"},
		{"\x98", ""},
		{"\x80!", "😀!"},
	} {
		if e, _, _ := m.Push(c.in); e != c.out {
			t.Fatalf("Push(%q) = %q, want %q", c.in, e, c.out)
		}
	}
	// An incomplete sequence at the very end is released by Flush.
	m = New([]string{"zz"})
	if e, _, _ := m.Push("ab\xe2\x82"); e != "ab" {
		t.Fatalf("got %q", e)
	}
	if e, _, _ := m.Flush(); e != "\xe2\x82" {
		t.Fatalf("flush %q", e)
	}
	// Invalid bytes are not held forever.
	m = New(nil)
	if e, _, _ := m.Push("a\xff\xfe"); e != "a\xff\xfe" {
		t.Fatalf("invalid bytes: %q", e)
	}
	// Stops with multi-byte characters.
	check(t, "日本語のテキスト。終わり", []string{"。終"}, chunksOf("日本語のテキスト。終わり", 4, 7, 13, 1, 2, 3))
}

func TestRandomChunkings(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "c", "<", "|", ">", "\n", "é", "€", "😀"}
	for range 3000 {
		var sb strings.Builder
		for range r.IntN(40) {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		text := sb.String()
		var stops []string
		for range r.IntN(4) {
			var s strings.Builder
			for range 1 + r.IntN(4) {
				s.WriteString(alphabet[r.IntN(len(alphabet))])
			}
			stops = append(stops, s.String())
		}
		if r.IntN(3) == 0 && len(text) > 2 { // make a hit likely
			i := r.IntN(len(text))
			j := i + r.IntN(len(text)-i)
			for i > 0 && !utf8.RuneStart(text[i]) {
				i--
			}
			for j < len(text) && !utf8.RuneStart(text[j]) {
				j++
			}
			if j > i {
				stops = append(stops, text[i:j])
			}
		}
		var chunks []string
		for rest := text; rest != ""; {
			n := min(len(rest), 1+r.IntN(6))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		res := check(t, text, stops, chunks)
		for _, e := range res.emits {
			if !utf8.ValidString(e) {
				t.Fatalf("emit %q splits a character (text %q, chunks %q)", e, text, chunks)
			}
		}
	}
}

// FuzzMatcher compares the streaming matcher with strings.Index over the
// whole text for arbitrary texts, stop lists and chunkings.
func FuzzMatcher(f *testing.F) {
	f.Add("Hello<|end|><|endoftext|>", "<|endoftext|>\x00<|end|>", []byte{3, 1, 4, 1, 5})
	f.Add("xabcd", "abcd\x00bc", []byte{2, 2})
	f.Add("a\nHuman: b", "\nHuman:\x00\n\nHuman:", []byte{1})
	f.Add("caf\xc3\xa9 STOP", "STOP\x00\xc3\xa9 S", []byte{4, 1})
	f.Fuzz(func(t *testing.T, text, stopList string, cuts []byte) {
		stops := strings.Split(stopList, "\x00")
		var chunks []string
		rest := text
		for _, c := range cuts {
			n := min(len(rest), int(c%16))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		chunks = append(chunks, rest)
		r := check(t, text, stops, chunks)
		validStops := true
		for _, s := range stops {
			validStops = validStops && utf8.ValidString(s)
		}
		if utf8.ValidString(text) && validStops {
			for _, e := range r.emits {
				if !utf8.ValidString(e) {
					t.Fatalf("emit %q splits a character", e)
				}
			}
		}
	})
}

func BenchmarkPushTokens(b *testing.B) {
	m := New([]string{"\nHuman:", "\nAssistant:", "\nYou:", "\n\nHuman:", "\n\nAssistant:", "\n\nYou:", "<|im_end|>"})
	words := strings.Fields("The quick brown fox jumps over the lazy dog and then < writes a\nlong answer")
	b.ReportAllocs()
	for b.Loop() {
		m.Reset()
		for _, w := range words {
			m.Push(w + " ")
		}
		m.Flush()
	}
}

// TestLongStopIsLinear guards against quadratic work on long stop strings
// (they come from untrusted requests).
func TestLongStopIsLinear(t *testing.T) {
	const n = 200_000
	stop := strings.Repeat("a", n) + "b"
	m := New([]string{stop, "zz"})
	total := 0
	for range 2 * n {
		e, st, _ := m.Push("a")
		if st {
			t.Fatal("no stop expected")
		}
		total += len(e)
	}
	e, _, _ := m.Flush()
	if total+len(e) != 2*n {
		t.Fatalf("emitted %d bytes, want %d", total+len(e), 2*n)
	}
}

func TestManyStops(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	letters := "abcdefgh"
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = letters[r.IntN(len(letters))]
		}
		return string(b)
	}
	var stops []string
	for range 2000 {
		stops = append(stops, word(6+r.IntN(6)))
	}
	for range 5 {
		text := word(20000)
		check(t, text, stops, chunksOf(text, 7, 300, 1, 1, 5000, 2, 3))
	}
}
