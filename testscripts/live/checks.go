package live

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/mlxk/mlxk/shared/engine/reasoning"
)

// ParseStopTokens reads the "Stop tokens: [id "text", …]" line that
// `mlxk run --verbose` prints on stderr: the production set of tokens
// that end a turn for the model, as text.
func ParseStopTokens(stderr []byte) ([]string, bool) {
	sc := bufio.NewScanner(bytes.NewReader(stderr))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), "Stop tokens: [")
		if !ok {
			continue
		}
		rest = strings.TrimSuffix(rest, "]")
		var out []string
		for rest != "" {
			i := strings.IndexByte(rest, '"')
			if i < 0 {
				break
			}
			q, err := strconv.QuotedPrefix(rest[i:])
			if err != nil {
				return out, false
			}
			s, _ := strconv.Unquote(q)
			if s != "" {
				out = append(out, s)
			}
			rest = rest[i+len(q):]
		}
		return out, true
	}
	return nil, false
}

// VisibleStopTokens returns the stop tokens that appear in any of texts,
// each once, in the order of stops.
func VisibleStopTokens(stops []string, texts ...string) []string {
	var out []string
	for _, s := range stops {
		for _, t := range texts {
			if s != "" && strings.Contains(t, s) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// reasoningMarkers are the tags reasoning models wrap their thinking in,
// as the production parser knows them (every kind's start and end, and
// harmony's header tokens on their own); the answer must never show them
// (the parser takes them out).
var reasoningMarkers = func() []string {
	var out []string
	for k := reasoning.None + 1; k < reasoning.Harmony; k++ { // Harmony is the last kind
		start, end := k.Markers()
		out = append(out, start, end)
	}
	return append(out, "<|channel|>", "<|message|>")
}()

// LeakedReasoningMarkers returns the reasoning tags found in an answer.
func LeakedReasoningMarkers(answer string) []string {
	var out []string
	for _, m := range reasoningMarkers {
		if strings.Contains(answer, m) {
			out = append(out, m)
		}
	}
	return out
}

// Mismatch describes where two texts that should be equal part: empty
// when equal, else the byte offset and a short excerpt of each side.
func Mismatch(what, a, b string) string {
	if a == b {
		return ""
	}
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	// Back up to a rune boundary so the excerpt prints cleanly.
	for i > 0 && !utf8.RuneStart(a[min(i, len(a)-1)]) {
		i--
	}
	ex := func(s string) string {
		end := min(len(s), i+40)
		return strconv.Quote(s[i:end])
	}
	return fmt.Sprintf("%s differ at byte %d (lengths %d and %d): %s vs %s", what, i, len(a), len(b), ex(a), ex(b))
}
