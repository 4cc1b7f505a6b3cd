package metrics

import (
	"strings"
	"testing"
)

func TestTextFormat(t *testing.T) {
	var r Registry
	c := r.NewCounter("req_total", "Requests.\nBy route.", "route", "status")
	r.NewGaugeFunc("temp", `A "gauge" \ with escapes.`, nil, func() []Sample { return []Sample{{Value: 1.25}} })
	h := r.NewHistogram("lat_seconds", "Latency.", []float64{1, 0.1, 0.5}, "model")
	r.NewGaugeFunc("loaded", "Loaded models.", []string{"model"}, func() []Sample {
		return []Sample{{Labels: []string{"b"}, Value: 2}, {Labels: []string{"a"}, Value: 1}, {Labels: nil, Value: 9}}
	})
	c.Inc("/v1/chat", "200")
	c.Add(2, "/v1/chat", "200")
	c.Inc(`/we"ird\path`+"\n", "404")
	c.Add(-5, "/v1/chat", "200") // counters never go down
	for _, v := range []float64{0.05, 0.1, 0.7, 3} {
		h.Observe(v, "m")
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `# HELP req_total Requests.\nBy route.
# TYPE req_total counter
req_total{route="/v1/chat",status="200"} 3
req_total{route="/we\"ird\\path\n",status="404"} 1
# HELP temp A "gauge" \\ with escapes.
# TYPE temp gauge
temp 1.25
# HELP lat_seconds Latency.
# TYPE lat_seconds histogram
lat_seconds_bucket{model="m",le="0.1"} 2
lat_seconds_bucket{model="m",le="0.5"} 2
lat_seconds_bucket{model="m",le="1"} 3
lat_seconds_bucket{model="m",le="+Inf"} 4
lat_seconds_sum{model="m"} 3.85
lat_seconds_count{model="m"} 4
# HELP loaded Loaded models.
# TYPE loaded gauge
loaded{model="a"} 1
loaded{model="b"} 2
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}
