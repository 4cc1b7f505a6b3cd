// Package human formats values and tables for people, matching mlx-knife's
// human output: decimal sizes, relative ages and " | " separated tables.
package human

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// Size renders a byte count with decimal units: 1234567 → "1.2MB".
func Size(n int64) string {
	f := float64(n)
	for _, unit := range []string{"B", "KB", "MB", "GB", "TB"} {
		if f < 1000 {
			if unit == "B" {
				return fmt.Sprintf("%.0fB", f)
			}
			return fmt.Sprintf("%.1f%s", f, unit)
		}
		f /= 1000
	}
	return fmt.Sprintf("%.1fPB", f)
}

// FileSize renders the size of a single file the way mlx-knife's show
// --files does: "1.5GB", "12.0MB", "3.4KB", "512B".
func FileSize(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1fGB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1fMB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fKB", float64(n)/1e3)
	}
	return fmt.Sprintf("%dB", n)
}

// Hash7 shortens a commit hash for display; "" renders as "-".
func Hash7(h string) string {
	if h == "" {
		return "-"
	}
	if len(h) > 7 {
		return h[:7]
	}
	return h
}

// Age renders an ISO 8601 UTC timestamp relative to now: "just now",
// "5m ago", "3h ago", "2d ago", or the date when older than a month.
// Rounding is to even, as in mlx-knife. Unparseable input is returned as is.
func Age(iso string, now time.Time) string {
	if iso == "" {
		return "-"
	}
	t, err := time.Parse("2006-01-02T15:04:05Z", iso)
	if err != nil {
		return iso
	}
	s := math.Trunc(now.Sub(t).Seconds())
	switch {
	case s < 45:
		return "just now"
	case s < 90:
		return "1m ago"
	}
	m := math.RoundToEven(s / 60)
	switch {
	case m < 45:
		return fmt.Sprintf("%.0fm ago", m)
	case m < 90:
		return "1h ago"
	}
	h := math.RoundToEven(m / 60)
	switch {
	case h < 24:
		return fmt.Sprintf("%.0fh ago", h)
	case h < 36:
		return "1d ago"
	}
	d := math.RoundToEven(h / 24)
	if d < 30 {
		return fmt.Sprintf("%.0fd ago", d)
	}
	return t.Format("2006-01-02")
}

// Table renders rows under headers, columns padded to their widest cell and
// joined with " | ", a "-+-" rule under the header. When lastMax > 0 the
// last column is at most lastMax wide and longer cells wrap at spaces onto
// continuation rows. Trailing padding is trimmed (mlx-knife left it).
func Table(headers []string, rows [][]string, lastMax int) string {
	widths := make([]int, len(headers))
	for i, h := range headers {
		widths[i] = width(h)
	}
	for i, r := range rows {
		if len(r) != len(headers) {
			// A caller's mistake; pad or cut rather than panic mid-output.
			fixed := make([]string, len(headers))
			copy(fixed, r)
			rows[i], r = fixed, fixed
		}
		for i, c := range r {
			widths[i] = max(widths[i], width(c))
		}
	}
	last := len(headers) - 1
	if lastMax > 0 && widths[last] > lastMax {
		widths[last] = max(lastMax, width(headers[last]))
	}
	var b strings.Builder
	line := func(cells []string) {
		parts := make([]string, len(cells))
		for i, c := range cells {
			parts[i] = c + strings.Repeat(" ", max(0, widths[i]-width(c)))
		}
		b.WriteString(strings.TrimRight(strings.Join(parts, " | "), " "))
		b.WriteByte('\n')
	}
	line(headers)
	rule := make([]string, len(widths))
	for i, w := range widths {
		rule[i] = strings.Repeat("-", w)
	}
	b.WriteString(strings.Join(rule, "-+-"))
	b.WriteByte('\n')
	for _, r := range rows {
		chunks := []string{r[last]}
		if lastMax > 0 {
			chunks = wrap(r[last], widths[last])
		}
		for k, chunk := range chunks {
			cells := make([]string, len(r))
			if k == 0 {
				copy(cells, r)
			}
			cells[last] = chunk
			line(cells)
		}
	}
	return b.String()
}

func width(s string) int { return utf8.RuneCountInString(s) }

// wrap splits s at spaces into lines of at most w runes; a longer word
// stays whole.
func wrap(s string, w int) []string {
	words := strings.Fields(s)
	if width(s) <= w || len(words) == 0 {
		return []string{s}
	}
	var out []string
	cur := ""
	for _, word := range words {
		switch {
		case cur == "":
			cur = word
		case width(cur)+1+width(word) <= w:
			cur += " " + word
		default:
			out = append(out, cur)
			cur = word
		}
	}
	return append(out, cur)
}

// Truncate cuts s to n runes, ending in "..." when it was longer.
func Truncate(s string, n int) string {
	if width(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-3]) + "..."
}
