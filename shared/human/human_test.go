package human_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mlxk/mlxk/shared/human"
)

func TestSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0B"},
		{1, "1B"},
		{999, "999B"},
		{1000, "1.0KB"},
		{1049, "1.0KB"},
		{1051, "1.1KB"},
		{999_949, "999.9KB"},
		{1_000_000, "1.0MB"},
		{1_234_567, "1.2MB"},
		{4_500_000_000, "4.5GB"},
		{1_000_000_000_000, "1.0TB"},
		{999_000_000_000_000, "999.0TB"},
		{1_000_000_000_000_000, "1.0PB"},
		{2_500_000_000_000_000_000, "2500.0PB"},
	}
	for _, tc := range tests {
		if got := human.Size(tc.n); got != tc.want {
			t.Errorf("Size(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestFileSize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0B"},
		{512, "512B"},
		{999, "999B"},
		{1000, "1.0KB"},
		{3400, "3.4KB"},
		{999_999, "1000.0KB"},
		{1_000_000, "1.0MB"},
		{12_000_000, "12.0MB"},
		{1_500_000_000, "1.5GB"},
		{2_000_000_000_000, "2000.0GB"},
	}
	for _, tc := range tests {
		if got := human.FileSize(tc.n); got != tc.want {
			t.Errorf("FileSize(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}

func TestHash7(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":        "-",
		"abc":     "abc",
		"abcdefg": "abcdefg",
		"e9675aa3def456789abcdef0123456789abcdef0": "e9675aa",
	}
	for in, want := range tests {
		if got := human.Hash7(in); got != want {
			t.Errorf("Hash7(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAge(t *testing.T) {
	t.Parallel()
	// now is 900ms past a whole second: ages are truncated to whole
	// seconds before the thresholds apply.
	now := time.Date(2025, 6, 15, 12, 0, 0, 900_000_000, time.UTC)
	ago := func(d time.Duration) string {
		return now.Truncate(time.Second).Add(-d).UTC().Format("2006-01-02T15:04:05Z")
	}
	const (
		s = time.Second
		m = time.Minute
		h = time.Hour
	)
	tests := []struct {
		name string
		iso  string
		want string
	}{
		{"now", ago(0), "just now"},
		{"44.9s", ago(44 * s), "just now"},
		{"45.9s", ago(45 * s), "1m ago"},
		{"89.9s", ago(89 * s), "1m ago"},
		{"90s rounds 1.5 to 2", ago(90 * s), "2m ago"},
		{"150s rounds 2.5 to 2", ago(150 * s), "2m ago"},
		{"151s", ago(151 * s), "3m ago"},
		{"210s rounds 3.5 to 4", ago(210 * s), "4m ago"},
		{"44m29s", ago(44*m + 29*s), "44m ago"},
		{"44m30s rounds 44.5 to 44", ago(44*m + 30*s), "44m ago"},
		{"44m31s", ago(44*m + 31*s), "1h ago"},
		{"45m30s rounds 45.5 to 46", ago(45*m + 30*s), "1h ago"},
		{"89m29s", ago(89*m + 29*s), "1h ago"},
		{"89m30s rounds to 90m, 1.5h to 2h", ago(89*m + 30*s), "2h ago"},
		{"150m rounds 2.5h to 2h", ago(150 * m), "2h ago"},
		{"210m rounds 3.5h to 4h", ago(210 * m), "4h ago"},
		{"23h29m", ago(23*h + 29*m), "23h ago"},
		{"23h30m rounds 23.5 to 24", ago(23*h + 30*m), "1d ago"},
		{"35h", ago(35 * h), "1d ago"},
		{"36h rounds 1.5d to 2d", ago(36 * h), "2d ago"},
		{"60h rounds 2.5d to 2d", ago(60 * h), "2d ago"},
		{"84h rounds 3.5d to 4d", ago(84 * h), "4d ago"},
		{"707h", ago(707 * h), "29d ago"},
		{"708h rounds 29.5d to 30d", ago(708 * h), "2025-05-17"},
		{"a year", ago(365 * 24 * h), "2024-06-15"},
		{"future", ago(-time.Hour), "just now"},
		{"far future", "2999-01-01T00:00:00Z", "just now"},
		{"empty", "", "-"},
		{"unparseable", "yesterday", "yesterday"},
		{"offset instead of Z", "2025-06-15T11:00:00+00:00", "2025-06-15T11:00:00+00:00"},
		{"space separator", "2025-06-15 11:00:00", "2025-06-15 11:00:00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := human.Age(tc.iso, now); got != tc.want {
				t.Errorf("Age(%q) = %q, want %q", tc.iso, got, tc.want)
			}
		})
	}
}

func TestTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		headers []string
		rows    [][]string
		lastMax int
		want    string
	}{
		{"padding", []string{"Name", "Size"}, [][]string{{"a", "1B"}, {"longer-name", "10KB"}}, 0,
			"Name        | Size\n" +
				"------------+-----\n" +
				"a           | 1B\n" +
				"longer-name | 10KB\n"},
		{"empty table", []string{"Name", "Hash"}, nil, 0,
			"Name | Hash\n" +
				"-----+-----\n"},
		{"empty last cell", []string{"A", "B"}, [][]string{{"x", ""}}, 0,
			"A | B\n" +
				"--+--\n" +
				"x |\n"},
		{"runes, not bytes", []string{"N", "R"}, [][]string{{"äöü", "—"}, {"a", "b"}}, 0,
			"N   | R\n" +
				"----+--\n" +
				"äöü | —\n" +
				"a   | b\n"},
		{"wrap last column", []string{"Name", "Reason"}, [][]string{{"m", "one two three four"}, {"n", "ok"}}, 10,
			"Name | Reason\n" +
				"-----+-----------\n" +
				"m    | one two\n" +
				"     | three four\n" +
				"n    | ok\n"},
		{"long word stays whole", []string{"N", "Reason"}, [][]string{{"m", "a supercalifragilistic b"}}, 10,
			"N | Reason\n" +
				"--+-----------\n" +
				"m | a\n" +
				"  | supercalifragilistic\n" +
				"  | b\n"},
		{"no wrap without lastMax", []string{"N", "R"}, [][]string{{"m", "one two three four"}}, 0,
			"N | R\n" +
				"--+-------------------\n" +
				"m | one two three four\n"},
		{"short cells are not wrapped", []string{"N", "Reason"}, [][]string{{"m", "short"}}, 10,
			"N | Reason\n" +
				"--+-------\n" +
				"m | short\n"},
		{"three columns", []string{"Name", "Hash", "Health"}, [][]string{{"org/x", "-", "healthy"}, {"y", "abcdef1", "unhealthy"}}, 0,
			"Name  | Hash    | Health\n" +
				"------+---------+----------\n" +
				"org/x | -       | healthy\n" +
				"y     | abcdef1 | unhealthy\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := human.Table(tc.headers, tc.rows, tc.lastMax)
			if got != tc.want {
				t.Errorf("Table =\n%s\nwant\n%s", got, tc.want)
			}
			for _, line := range strings.Split(got, "\n") {
				if strings.HasSuffix(line, " ") {
					t.Errorf("line %q has trailing spaces", line)
				}
			}
		})
	}
}

func TestTableWrapsAt26(t *testing.T) {
	t.Parallel()
	reason := "Missing weight shards: model-00002-of-00003.safetensors, model-00003"
	out := human.Table([]string{"Name", "Reason"}, [][]string{{"org/m", human.Truncate(reason, 60)}}, 26)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	var joined []string
	for _, l := range lines[2:] {
		_, cell, ok := strings.Cut(l, " | ")
		if !ok {
			t.Fatalf("line %q has no separator", l)
		}
		if len([]rune(cell)) > 26 && strings.Contains(cell, " ") {
			t.Errorf("wrapped cell %q is wider than 26", cell)
		}
		joined = append(joined, cell)
	}
	if got, want := strings.Join(joined, " "), human.Truncate(reason, 60); got != want {
		t.Errorf("wrapped cells rejoin to %q, want %q", got, want)
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 60, "short"},
		{strings.Repeat("x", 60), 60, strings.Repeat("x", 60)},
		{strings.Repeat("x", 61), 60, strings.Repeat("x", 57) + "..."},
		{"äöüäöü", 5, "äö..."},
		{"", 3, ""},
	}
	for _, tc := range tests {
		if got := human.Truncate(tc.s, tc.n); got != tc.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tc.s, tc.n, got, tc.want)
		}
	}
}
