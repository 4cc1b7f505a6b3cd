package live

import (
	"cmp"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
)

// Entry is one model of the portfolio with the decision about it.
type Entry struct {
	Model
	// Need is the memory the model is expected to take (RequiredMemory).
	Need uint64
	// Run is true when the suite tests the model; otherwise Reason says
	// why not.
	Run    bool
	Reason string
}

// Selection narrows the portfolio beyond the built-in rules.
type Selection struct {
	// Match, when set, keeps only models whose name it matches
	// (MLXK_LIVE_MODELS).
	Match *regexp.Regexp
	// Max, when positive, tests at most that many models, smallest
	// first; the others are skipped with a reason (MLXK_LIVE_MAX_MODELS).
	Max int
}

// Plan decides for every listed model whether the suite runs it: MLX
// framework, healthy, runtime compatible, chat capable, and within the
// RAM budget, in that order of reasons. Models are returned in the order
// the suite runs them (smallest first, so a problem shows up early and
// cheaply), then the skipped ones in listing order.
func Plan(models []Model, b Budget, sel Selection) []Entry {
	var run, skip []Entry
	for _, m := range models {
		e := Entry{Model: m, Need: RequiredMemory(m.SizeBytes)}
		switch {
		case sel.Match != nil && !sel.Match.MatchString(m.Name):
			e.Reason = fmt.Sprintf("not selected by MLXK_LIVE_MODELS=%s", sel.Match)
		case !strings.EqualFold(m.Framework, "MLX"):
			e.Reason = fmt.Sprintf("framework %s, not MLX", orUnknown(m.Framework))
		case m.Health != "healthy":
			e.Reason = "unhealthy: " + reasonOf(m)
		case !m.RuntimeCompatible:
			e.Reason = "not runnable: " + reasonOf(m)
		case !m.HasCapability("chat"):
			e.Reason = fmt.Sprintf("not a chat model (capabilities: %s)", strings.Join(m.Capabilities, ", "))
		case e.Need > b.Limit:
			e.Reason = fmt.Sprintf("needs %s of RAM, budget is %s", FormatBytes(e.Need), b)
		default:
			e.Run = true
		}
		if e.Run {
			run = append(run, e)
		} else {
			skip = append(skip, e)
		}
	}
	sortBySize(run)
	if sel.Max > 0 && len(run) > sel.Max {
		for i := sel.Max; i < len(run); i++ {
			run[i].Run = false
			run[i].Reason = fmt.Sprintf("beyond MLXK_LIVE_MAX_MODELS=%d", sel.Max)
		}
		skip = append(run[sel.Max:len(run):len(run)], skip...)
		run = run[:sel.Max]
	}
	return append(run, skip...)
}

func sortBySize(es []Entry) {
	slices.SortStableFunc(es, func(a, b Entry) int {
		return cmp.Or(cmp.Compare(a.SizeBytes, b.SizeBytes), strings.Compare(a.Name, b.Name))
	})
}

func reasonOf(m Model) string {
	if m.Reason != nil && *m.Reason != "" {
		return *m.Reason
	}
	return "no reason given"
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// Counts returns how many entries run and how many are skipped.
func Counts(es []Entry) (run, skipped int) {
	for _, e := range es {
		if e.Run {
			run++
		} else {
			skipped++
		}
	}
	return run, skipped
}

// WritePortfolio prints the plan as a table: what would run and what would
// be skipped with why, without running anything.
func WritePortfolio(w io.Writer, es []Entry, b Budget, cache string) error {
	run, skipped := Counts(es)
	fmt.Fprintf(w, "Cache:  %s\nBudget: %s per model\nModels: %d to test, %d skipped\n\n", cache, b, run, skipped)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tMODEL\tSIZE\tRAM NEEDED\tDECISION")
	n := 0
	for _, e := range es {
		decision := "run"
		idx := "-"
		if e.Run {
			n++
			idx = fmt.Sprint(n)
		} else {
			decision = "skip: " + e.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", idx, e.Name, FormatBytes(uint64(max(e.SizeBytes, 0))), FormatBytes(e.Need), decision)
	}
	return tw.Flush()
}
