// Command tokbench times the Go tokenizer encoding a text file, one
// paragraph at a time: tokbench -dir TOKENIZER_DIR -text FILE [-runs N].
// bench/tokenizer.sh runs it beside the reference implementations.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/mlxk/mlxk/shared/tokenizer"
)

func main() {
	dir := flag.String("dir", "", "folder with tokenizer.json")
	textPath := flag.String("text", "", "text file")
	runs := flag.Int("runs", 5, "timed runs (the median is reported)")
	flag.Parse()
	tk, err := tokenizer.Load(*dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tokbench:", err)
		os.Exit(1)
	}
	b, err := os.ReadFile(*textPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tokbench:", err)
		os.Exit(1)
	}
	paras := strings.Split(string(b), "\n\n")
	tokens := 0
	for _, p := range paras { // warm-up, and the token count
		tokens += len(tk.Encode(p, false))
	}
	var times []time.Duration
	for range *runs {
		start := time.Now()
		for _, p := range paras {
			tk.Encode(p, false)
		}
		times = append(times, time.Since(start))
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	med := times[len(times)/2].Seconds()
	fmt.Printf("go\t%d\t%d\t%.6f\n", len(b), tokens, med)
}
