package live

import (
	"strings"
	"testing"
)

func TestBudgetFollowsTheMachineSizeTable(t *testing.T) {
	for _, c := range []struct {
		ram  uint64
		want float64
	}{
		{8 * GB, 0.4}, {16 * GB, 0.4}, {32*GB - 1, 0.4}, {32 * GB, 0.5}, {48 * GB, 0.5},
		{64 * GB, 0.6}, {96*GB - 1, 0.6}, {96 * GB, 0.7}, {192 * GB, 0.7},
	} {
		if got := BudgetFraction(c.ram); got != c.want {
			t.Errorf("BudgetFraction(%s) = %v, want %v", FormatBytes(c.ram), got, c.want)
		}
	}
	b := NewBudget(16 * GB)
	if b.Limit != 6871947673 || b.String() != "6.4 GB (40% of 16.0 GB)" {
		t.Errorf("16 GB budget = %d, %q", b.Limit, b.String())
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]uint64{
		"16GB": 16 * GB, "16G": 16 * GB, "16 GiB": 16 * GB, "512MB": 512 << 20, "1.5g": 3 * GB / 2,
		"2048": 2048, "4KB": 4096, "1T": 1 << 40,
	} {
		got, err := ParseBytes(in)
		if err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "GB", "-1G", "lots", "1e30T", "NaN"} {
		if _, err := ParseBytes(bad); err == nil || !strings.Contains(err.Error(), "size") {
			t.Errorf("ParseBytes(%q) = %v, want a size error", bad, err)
		}
	}
}

func TestSystemRAMIsPlausible(t *testing.T) {
	n, err := SystemRAM()
	if err != nil {
		t.Skip(err)
	}
	if n < 256<<20 || n > 1<<50 {
		t.Errorf("SystemRAM = %d", n)
	}
}
