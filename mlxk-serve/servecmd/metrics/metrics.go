// Package metrics keeps counters, gauges and histograms and writes them in
// the Prometheus text exposition format (version 0.0.4), which every
// scraper reads. It is a few hundred lines instead of a client library:
// the server needs labelled series and one writer, nothing more.
package metrics

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ContentType is the media type of WriteText's output.
const ContentType = "text/plain; version=0.0.4; charset=utf-8"

// Registry holds metric families in registration order.
type Registry struct {
	mu       sync.Mutex
	families []*family
}

type kind string

const (
	counter   kind = "counter"
	gauge     kind = "gauge"
	histogram kind = "histogram"
)

type family struct {
	name, help string
	kind       kind
	labels     []string
	buckets    []float64 // histograms

	mu     sync.Mutex
	series map[string]*series
	// collect, when set, supplies the values at scrape time (gauges that
	// mirror state owned elsewhere, such as queue depth).
	collect func() []Sample
}

type series struct {
	values  []string
	value   float64
	counts  []uint64 // per bucket, not cumulative
	sum     float64
	samples uint64
}

// Sample is one value of a collected gauge.
type Sample struct {
	Labels []string
	Value  float64
}

func (r *Registry) add(f *family) *family {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, g := range r.families {
		if g.name == f.name {
			panic("metrics: duplicate family " + f.name) // a programming error at startup
		}
	}
	f.series = map[string]*series{}
	r.families = append(r.families, f)
	return f
}

// Counter is a family of monotonic counters.
type Counter struct{ f *family }

// Histogram is a family of distributions over fixed buckets.
type Histogram struct{ f *family }

// NewCounter registers a counter family.
func (r *Registry) NewCounter(name, help string, labels ...string) Counter {
	return Counter{r.add(&family{name: name, help: help, kind: counter, labels: labels})}
}

// NewGaugeFunc registers a gauge family whose samples collect returns at
// each scrape.
func (r *Registry) NewGaugeFunc(name, help string, labels []string, collect func() []Sample) {
	r.add(&family{name: name, help: help, kind: gauge, labels: labels, collect: collect})
}

// NewHistogram registers a histogram family with the given upper bounds
// (sorted ascending; +Inf is implied).
func (r *Registry) NewHistogram(name, help string, buckets []float64, labels ...string) Histogram {
	b := slices.Clone(buckets)
	slices.Sort(b)
	return Histogram{r.add(&family{name: name, help: help, kind: histogram, labels: labels, buckets: b})}
}

// get returns the series for label values, creating it.
func (f *family) get(values []string) *series {
	if len(values) != len(f.labels) {
		panic(fmt.Sprintf("metrics: %s wants %d label values, got %d", f.name, len(f.labels), len(values)))
	}
	key := strings.Join(values, "\xff")
	s, ok := f.series[key]
	if !ok {
		s = &series{values: slices.Clone(values)}
		if f.kind == histogram {
			s.counts = make([]uint64, len(f.buckets)+1)
		}
		f.series[key] = s
	}
	return s
}

// Add adds v (>= 0) to the counter with the label values.
func (c Counter) Add(v float64, values ...string) {
	if v < 0 || math.IsNaN(v) {
		return
	}
	c.f.mu.Lock()
	c.f.get(values).value += v
	c.f.mu.Unlock()
}

// Inc adds one.
func (c Counter) Inc(values ...string) { c.Add(1, values...) }

// Observe records one value.
func (h Histogram) Observe(v float64, values ...string) {
	if math.IsNaN(v) {
		return
	}
	h.f.mu.Lock()
	s := h.f.get(values)
	i, _ := slices.BinarySearch(h.f.buckets, v) // first bucket with bound >= v
	s.counts[i]++
	s.sum += v
	s.samples++
	h.f.mu.Unlock()
}

// WriteText writes every family in the text exposition format.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	fams := slices.Clone(r.families)
	r.mu.Unlock()
	bw := bufio.NewWriter(w)
	for _, f := range fams {
		f.write(bw)
	}
	return bw.Flush()
}

func (f *family) write(w *bufio.Writer) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", f.name, escapeHelp(f.help), f.name, f.kind)
	if f.collect != nil {
		samples := f.collect()
		slices.SortFunc(samples, func(a, b Sample) int { return slices.Compare(a.Labels, b.Labels) })
		for _, s := range samples {
			if len(s.Labels) == len(f.labels) {
				writeSample(w, f.name, f.labels, s.Labels, "", "", s.Value)
			}
		}
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	all := make([]*series, 0, len(f.series))
	for _, s := range f.series {
		all = append(all, s)
	}
	slices.SortFunc(all, func(a, b *series) int { return slices.Compare(a.values, b.values) })
	for _, s := range all {
		if f.kind != histogram {
			writeSample(w, f.name, f.labels, s.values, "", "", s.value)
			continue
		}
		var cum uint64
		for i, b := range f.buckets {
			cum += s.counts[i]
			writeSample(w, f.name+"_bucket", f.labels, s.values, "le", formatFloat(b), float64(cum))
		}
		writeSample(w, f.name+"_bucket", f.labels, s.values, "le", "+Inf", float64(s.samples))
		writeSample(w, f.name+"_sum", f.labels, s.values, "", "", s.sum)
		writeSample(w, f.name+"_count", f.labels, s.values, "", "", float64(s.samples))
	}
}

func writeSample(w *bufio.Writer, name string, labels, values []string, extraName, extraValue string, v float64) {
	w.WriteString(name)
	if len(labels) > 0 || extraName != "" {
		w.WriteByte('{')
		for i, l := range labels {
			if i > 0 {
				w.WriteByte(',')
			}
			w.WriteString(l + `="` + escapeLabel(values[i]) + `"`)
		}
		if extraName != "" {
			if len(labels) > 0 {
				w.WriteByte(',')
			}
			w.WriteString(extraName + `="` + extraValue + `"`)
		}
		w.WriteByte('}')
	}
	w.WriteByte(' ')
	w.WriteString(formatFloat(v))
	w.WriteByte('\n')
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	labelEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
func escapeLabel(s string) string { return labelEscaper.Replace(s) }
