package live

import (
	"fmt"
	"strconv"
	"strings"
)

// GB is the gigabyte the budget table speaks in (2^30 bytes, as machines
// are sold: a "16 GB" Mac has 16 GiB).
const GB = 1 << 30

// Budget is how much memory one model under test may take.
type Budget struct {
	// RAM is the machine's memory in bytes.
	RAM uint64
	// Fraction of RAM models may use, from the machine size.
	Fraction float64
	// Limit is RAM × Fraction.
	Limit uint64
}

// BudgetFraction is MLX Knife's progressive table: the operating system
// and everything else take a roughly constant few GB, so bigger machines
// can give a larger share to the model. 40% up to 32 GB, 50% from 32 GB,
// 60% from 64 GB, 70% from 96 GB.
func BudgetFraction(ram uint64) float64 {
	switch gb := float64(ram) / GB; {
	case gb >= 96:
		return 0.7
	case gb >= 64:
		return 0.6
	case gb >= 32:
		return 0.5
	}
	return 0.4
}

// NewBudget is the budget of a machine with ram bytes of memory.
func NewBudget(ram uint64) Budget {
	f := BudgetFraction(ram)
	return Budget{RAM: ram, Fraction: f, Limit: uint64(float64(ram) * f)}
}

// String is "6.4 GB (40% of 16 GB)".
func (b Budget) String() string {
	return fmt.Sprintf("%s (%.0f%% of %s)", FormatBytes(b.Limit), b.Fraction*100, FormatBytes(b.RAM))
}

// MemoryOverhead is the factor from a model's size on disk to the memory
// it needs to run: the weights (mapped, so they count once), plus the KV
// cache, activations and the runtime, which for a short live-test
// generation stay well under a fifth of the weights.
const MemoryOverhead = 1.2

// RequiredMemory is the memory a model of sizeBytes on disk is expected to
// need while it generates.
func RequiredMemory(sizeBytes int64) uint64 {
	if sizeBytes <= 0 {
		return 0
	}
	return uint64(float64(sizeBytes) * MemoryOverhead)
}

// ParseBytes reads a size such as "16GB", "16G", "512MB", "1.5GiB" or a
// plain number of bytes (the MLXK_LIVE_RAM override).
func ParseBytes(s string) (uint64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	mult := 1.0
	for _, u := range []struct {
		suffix string
		mult   float64
	}{{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
		{"TB", 1 << 40}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10},
		{"T", 1 << 40}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v >= 0) || v*mult > 1<<62 {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional K, M, G or T suffix", s)
	}
	return uint64(v * mult), nil
}

// FormatBytes prints a size in binary units with one decimal: "6.4 GB".
func FormatBytes(n uint64) string {
	switch {
	case n >= GB:
		return fmt.Sprintf("%.1f GB", float64(n)/GB)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
