package sample

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func seed(v uint64) *uint64 { return &v }

func mustSampler(t testing.TB, p Params) *Sampler {
	t.Helper()
	s, err := NewSampler(p)
	if err != nil {
		t.Fatalf("NewSampler(%+v): %v", p, err)
	}
	return s
}

// kept runs the processors and filters and returns the surviving ids in
// ascending order.
func kept(t testing.TB, p Params, logits []float32, history []int32) []int32 {
	t.Helper()
	if p.Temperature == 0 {
		p.Temperature = 1
	}
	s := mustSampler(t, p)
	_, sum, err := s.prepare(logits, history)
	if err != nil {
		t.Fatal(err)
	}
	cand, all := s.filter(s.lp[:s.n], sum)
	var out []int32
	if all {
		for i := range logits {
			out = append(out, int32(i))
		}
		return out
	}
	out = slices.Clone(cand)
	slices.Sort(out)
	return out
}

func logOf(ps ...float64) []float32 {
	out := make([]float32, len(ps))
	for i, p := range ps {
		out[i] = float32(math.Log(p))
	}
	return out
}

func TestValidate(t *testing.T) {
	nan := float32(math.NaN())
	bad := []struct {
		field string
		p     Params
	}{
		{"Temperature", Params{Temperature: -0.1}},
		{"Temperature", Params{Temperature: nan}},
		{"TopP", Params{TopP: -0.1}},
		{"TopP", Params{TopP: 1.5}},
		{"TopP", Params{TopP: nan}},
		{"MinP", Params{MinP: 1.01}},
		{"MinP", Params{MinP: -1}},
		{"MinTokensToKeep", Params{MinTokensToKeep: -1}},
		{"TopK", Params{TopK: -1}},
		{"RepetitionPenalty", Params{RepetitionPenalty: -1}},
		{"RepetitionPenalty", Params{RepetitionPenalty: float32(math.Inf(1))}},
		{"RepetitionContextSize", Params{RepetitionContextSize: -1}},
		{"PresencePenalty", Params{PresencePenalty: nan}},
		{"PresenceContextSize", Params{PresenceContextSize: -5}},
		{"FrequencyPenalty", Params{FrequencyPenalty: float32(math.Inf(-1))}},
		{"FrequencyContextSize", Params{FrequencyContextSize: -5}},
		{"LogitBias", Params{LogitBias: map[int32]float32{-1: 1}}},
		{"LogitBias", Params{LogitBias: map[int32]float32{3: float32(math.Inf(1))}}},
	}
	for _, c := range bad {
		_, err := NewSampler(c.p)
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Field != c.field {
			t.Errorf("%+v: got %v, want ParamError on %s", c.p, err, c.field)
		}
	}
	good := []Params{
		{},
		{Temperature: 0.7, TopP: 0.9, RepetitionPenalty: 1.1},
		{Temperature: 1, TopP: 1, MinP: 1, TopK: 1000000, MinTokensToKeep: 3},
		{PresencePenalty: -2, FrequencyPenalty: 2, LogitBias: map[int32]float32{5: float32(math.Inf(-1))}},
	}
	for _, p := range good {
		if _, err := NewSampler(p); err != nil {
			t.Errorf("%+v: %v", p, err)
		}
	}
	s := mustSampler(t, Params{})
	if got := s.Params(); got.RepetitionContextSize != 20 || got.PresenceContextSize != 20 ||
		got.FrequencyContextSize != 20 || got.MinTokensToKeep != 1 {
		t.Errorf("defaults not filled in: %+v", got)
	}
}

func TestGreedyIsFirstArgmax(t *testing.T) {
	s := mustSampler(t, Params{})
	logits := []float32{0.5, 3, -1, 3, 2}
	tok, lp, err := s.Sample(logits, nil)
	if err != nil || tok != 1 {
		t.Fatalf("Sample = %d, %v; want 1 (first maximum)", tok, err)
	}
	want := 3 - logSumExp(logits)
	if math.Abs(float64(lp-want)) > 1e-5 {
		t.Errorf("logprob %v, want %v", lp, want)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 50 {
		l := randomLogits(r, 1000, 4)
		tok, _, _ := s.Sample(l, nil)
		if want := firstArgmax(l); tok != want {
			t.Fatalf("greedy %d, argmax %d", tok, want)
		}
	}
}

func TestTopK1IsArgmax(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 100 {
		s := mustSampler(t, Params{Temperature: 1.5, TopK: 1, Seed: seed(uint64(i))})
		// Quantized logits make ties common: top-k prefers the lower id,
		// as mx.argmax does.
		l := randomLogits(r, 500, 2)
		for j := range l {
			l[j] = float32(math.Round(float64(l[j])))
		}
		tok, _, err := s.Sample(l, nil)
		if err != nil || tok != firstArgmax(l) {
			t.Fatalf("top_k=1 gave %d (%v), argmax %d", tok, err, firstArgmax(l))
		}
	}
}

func TestSeedReproducible(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	logits := randomLogits(r, 2000, 1)
	run := func(p Params) []int32 {
		s := mustSampler(t, p)
		var toks []int32
		for range 200 {
			tok, _, err := s.Sample(logits, toks)
			if err != nil {
				t.Fatal(err)
			}
			toks = append(toks, tok)
		}
		return toks
	}
	for _, p := range []Params{
		{Temperature: 1, Seed: seed(42)},
		{Temperature: 0.8, TopP: 0.95, RepetitionPenalty: 1.1, Seed: seed(42)},
		{Temperature: 1.2, TopK: 50, MinP: 0.01, Seed: seed(42)},
	} {
		a, b := run(p), run(p)
		if !slices.Equal(a, b) {
			t.Errorf("%+v: same seed gave different sequences", p)
		}
		q := p
		q.Seed = seed(43)
		if slices.Equal(a, run(q)) {
			t.Errorf("%+v: seeds 42 and 43 gave the same 200 tokens", p)
		}
	}
}

func TestTopPSets(t *testing.T) {
	probs := logOf(0.4, 0.3, 0.2, 0.1)
	cases := []struct {
		topP float32
		want []int32
	}{
		{0.35, []int32{0}},
		{0.45, []int32{0, 1}},
		{0.65, []int32{0, 1}},
		{0.75, []int32{0, 1, 2}},
		{0.95, []int32{0, 1, 2, 3}},
		{1, []int32{0, 1, 2, 3}}, // 1 turns top-p off
		{0, []int32{0, 1, 2, 3}}, // so does 0
	}
	for _, c := range cases {
		if got := kept(t, Params{TopP: c.topP}, probs, nil); !slices.Equal(got, c.want) {
			t.Errorf("top_p %v: kept %v, want %v", c.topP, got, c.want)
		}
	}
	// Ties: mlx-lm sorts ascending with a stable sort and keeps the high
	// cumulative end, so among equal tokens the higher ids stay.
	flat := []float32{0, 0, 0, 0}
	if got := kept(t, Params{TopP: 0.5}, flat, nil); !slices.Equal(got, []int32{2, 3}) {
		t.Errorf("flat top_p 0.5: kept %v, want [2 3]", got)
	}
	if got := kept(t, Params{TopP: 0.6}, flat, nil); !slices.Equal(got, []int32{1, 2, 3}) {
		t.Errorf("flat top_p 0.6: kept %v, want [1 2 3]", got)
	}
	// A tie across the border: [0.4, 0.2, 0.2, 0.2] with top_p 0.5 keeps
	// the top token and the last of the three equal ones.
	if got := kept(t, Params{TopP: 0.5}, logOf(0.4, 0.2, 0.2, 0.2), nil); !slices.Equal(got, []int32{0, 3}) {
		t.Errorf("tie top_p 0.5: kept %v, want [0 3]", got)
	}
}

func TestMinPSets(t *testing.T) {
	probs := logOf(0.5, 0.3, 0.15, 0.05)
	cases := []struct {
		p    Params
		want []int32
	}{
		{Params{MinP: 0.25}, []int32{0, 1, 2}}, // threshold 0.125
		{Params{MinP: 0.5}, []int32{0, 1}},     // threshold 0.25
		{Params{MinP: 0.5, MinTokensToKeep: 3}, []int32{0, 1, 2}},
		{Params{MinP: 1}, []int32{0}},
		{Params{MinP: 1, MinTokensToKeep: 9}, []int32{0, 1, 2, 3}},
		{Params{MinP: 0.01}, []int32{0, 1, 2, 3}},
	}
	for _, c := range cases {
		if got := kept(t, c.p, probs, nil); !slices.Equal(got, c.want) {
			t.Errorf("%+v: kept %v, want %v", c.p, got, c.want)
		}
	}
	// min_tokens_to_keep takes the last m of MLX's (value, id) partition:
	// among equal tokens the higher ids.
	tied := []float32{2, 1, 1, 1, 0}
	if got := kept(t, Params{MinP: 0.9, MinTokensToKeep: 2}, tied, nil); !slices.Equal(got, []int32{0, 3}) {
		t.Errorf("tied min_tokens_to_keep 2: kept %v, want [0 3]", got)
	}
	// Equal logprobs are never below the threshold.
	if got := kept(t, Params{MinP: 1}, []float32{1, 3, 3, 0}, nil); !slices.Equal(got, []int32{1, 2}) {
		t.Errorf("min_p 1 with tied maxima: kept %v, want [1 2]", got)
	}
}

func TestTopKSets(t *testing.T) {
	logits := []float32{1, 3, 3, 2, 3}
	cases := []struct {
		k    int
		want []int32
	}{
		{1, []int32{1}},
		{2, []int32{1, 2}}, // lower ids win ties
		{3, []int32{1, 2, 4}},
		{4, []int32{1, 2, 3, 4}},
		{5, []int32{0, 1, 2, 3, 4}},
		{50, []int32{0, 1, 2, 3, 4}},
	}
	for _, c := range cases {
		if got := kept(t, Params{TopK: c.k}, logits, nil); !slices.Equal(got, c.want) {
			t.Errorf("top_k %d: kept %v, want %v", c.k, got, c.want)
		}
	}
}

func TestFilterChainOrder(t *testing.T) {
	probs := logOf(0.35, 0.25, 0.2, 0.1, 0.06, 0.04)
	// top_p 0.85 keeps 0..3 (above: 0, .35, .6, .8); min_p 0.5 then drops
	// below 0.175 (token 3); top_k 2 keeps 0, 1.
	cases := []struct {
		p    Params
		want []int32
	}{
		{Params{TopP: 0.85}, []int32{0, 1, 2, 3}},
		{Params{TopP: 0.85, MinP: 0.5}, []int32{0, 1, 2}},
		{Params{TopP: 0.85, MinP: 0.5, TopK: 2}, []int32{0, 1}},
		{Params{TopP: 0.5, TopK: 4}, []int32{0, 1}},
		{Params{MinP: 0.1, TopK: 5}, []int32{0, 1, 2, 3, 4}},
		// min_tokens_to_keep cannot bring back what top-p removed.
		{Params{TopP: 0.5, MinP: 1, MinTokensToKeep: 4}, []int32{0, 1}},
	}
	for _, c := range cases {
		if got := kept(t, c.p, probs, nil); !slices.Equal(got, c.want) {
			t.Errorf("%+v: kept %v, want %v", c.p, got, c.want)
		}
	}
}

func TestProcessors(t *testing.T) {
	type tc struct {
		name    string
		p       Params
		logits  []float32
		history []int32
		want    []float32 // processed logits
	}
	cases := []tc{
		{"repetition on positive and negative logits",
			Params{RepetitionPenalty: 2}, []float32{2, -2, 1, 0.5}, []int32{0, 1, 1},
			[]float32{1, -4, 1, 0.5}},
		{"repetition context size",
			Params{RepetitionPenalty: 2, RepetitionContextSize: 1}, []float32{2, -2, 1, 0.5}, []int32{0, 1, 2},
			[]float32{2, -2, 0.5, 0.5}},
		{"default context is 20 tokens",
			Params{RepetitionPenalty: 2}, []float32{2, 2, 2}, append([]int32{1}, make([]int32, 20)...),
			[]float32{1, 2, 2}},
		{"presence once per distinct token",
			Params{PresencePenalty: 0.5}, []float32{1, 1, 1}, []int32{1, 1, 1, 2},
			[]float32{1, 0.5, 0.5}},
		{"frequency per occurrence",
			Params{FrequencyPenalty: 0.5}, []float32{1, 1, 1}, []int32{1, 1, 1, 2},
			[]float32{1, -0.5, 0.5}},
		{"bias before repetition: the sign after the bias decides",
			Params{RepetitionPenalty: 2, LogitBias: map[int32]float32{0: -3, 7: 100}}, []float32{1, 1, 1}, []int32{0},
			[]float32{-4, 1, 1}},
		{"all four in order",
			Params{RepetitionPenalty: 2, PresencePenalty: 1, FrequencyPenalty: 0.25, LogitBias: map[int32]float32{2: 1}},
			[]float32{4, -1, 1, 0}, []int32{0, 0, 1, 2, 99, -3},
			[]float32{4.0/2 - 1 - 0.5, -1*2 - 1 - 0.25, (1+1)/2.0 - 1 - 0.25, 0}},
		{"no history, no penalties",
			Params{RepetitionPenalty: 2, PresencePenalty: 1, FrequencyPenalty: 1}, []float32{1, 2}, nil,
			[]float32{1, 2}},
	}
	for _, c := range cases {
		s := mustSampler(t, c.p)
		orig := slices.Clone(c.logits)
		if _, _, err := s.Sample(c.logits, c.history); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !slices.Equal(orig, c.logits) {
			t.Errorf("%s: Sample modified its input", c.name)
		}
		got := s.Logprobs()
		wantLSE := logSumExp(c.want)
		for i := range c.want {
			if d := math.Abs(float64(got[i] - (c.want[i] - wantLSE))); d > 1e-5 {
				t.Errorf("%s: logprob[%d] = %v, want %v", c.name, i, got[i], c.want[i]-wantLSE)
			}
		}
	}
}

// TestDistribution checks with a chi-square test that the draws follow
// softmax(logits/temperature) over the survivors.
func TestDistribution(t *testing.T) {
	logits := []float32{1.2, 0.3, -0.5, 2.0, 0.9, -1.5}
	cases := []struct {
		p    Params
		keep []int
	}{
		{Params{Temperature: 0.7, Seed: seed(11)}, []int{0, 1, 2, 3, 4, 5}},
		{Params{Temperature: 1, Seed: seed(12)}, []int{0, 1, 2, 3, 4, 5}},
		{Params{Temperature: 1.6, TopK: 3, Seed: seed(13)}, []int{0, 3, 4}},
		{Params{Temperature: 0.9, TopP: 0.8, Seed: seed(14)}, nil},
	}
	for _, c := range cases {
		keep := c.keep
		if keep == nil {
			for _, id := range kept(t, c.p, logits, nil) {
				keep = append(keep, int(id))
			}
		}
		want := make([]float64, len(logits))
		var z float64
		for _, i := range keep {
			want[i] = math.Exp(float64(logits[i]) / float64(c.p.Temperature))
			z += want[i]
		}
		s := mustSampler(t, c.p)
		const draws = 20000
		got := make([]int, len(logits))
		for range draws {
			tok, _, err := s.Sample(logits, nil)
			if err != nil {
				t.Fatal(err)
			}
			got[tok]++
		}
		chi2 := 0.0
		for i := range logits {
			e := want[i] / z * draws
			if e == 0 {
				if got[i] != 0 {
					t.Errorf("%+v: filtered token %d drawn %d times", c.p, i, got[i])
				}
				continue
			}
			chi2 += (float64(got[i]) - e) * (float64(got[i]) - e) / e
		}
		// 20.5 is the 0.999 quantile of chi-square with 5 degrees of
		// freedom (fewer categories have smaller quantiles, so this is
		// lenient there); the seed is fixed, so the test is deterministic.
		if chi2 > 20.5 {
			t.Errorf("%+v: chi-square %.1f; counts %v", c.p, chi2, got)
		}
	}
}

func TestBadLogits(t *testing.T) {
	s := mustSampler(t, Params{Temperature: 1, Seed: seed(1)})
	if _, _, err := s.Sample(nil, nil); !errors.Is(err, ErrEmptyLogits) {
		t.Errorf("empty: %v", err)
	}
	if s.Logprobs() != nil || len(s.TopLogprobs(nil, 3)) != 0 {
		t.Error("Logprobs/TopLogprobs after a failed Sample should be empty")
	}
	inf := float32(math.Inf(-1))
	nan := float32(math.NaN())
	if _, _, err := s.Sample([]float32{inf, nan, inf}, nil); !errors.Is(err, ErrNoCandidates) {
		t.Errorf("all -Inf/NaN: %v", err)
	}
	for range 100 {
		tok, lp, err := s.Sample([]float32{nan, 0, inf, nan, 0}, nil)
		if err != nil || (tok != 1 && tok != 4) || math.Abs(float64(lp)-math.Log(0.5)) > 1e-6 {
			t.Fatalf("NaN/-Inf logits: got %d %v %v", tok, lp, err)
		}
	}
	tok, _, err := s.Sample([]float32{0, float32(math.Inf(1)), 5}, nil)
	if err != nil || tok != 1 {
		t.Errorf("+Inf logit: got %d %v", tok, err)
	}
	ban := mustSampler(t, Params{Temperature: 1, LogitBias: map[int32]float32{0: inf, 1: inf}})
	if _, _, err := ban.Sample([]float32{1, 2}, nil); !errors.Is(err, ErrNoCandidates) {
		t.Errorf("all banned: %v", err)
	}
}

func TestTopLogprobs(t *testing.T) {
	s := mustSampler(t, Params{Temperature: 0.5, TopK: 2, Seed: seed(2), LogitBias: map[int32]float32{4: 10}})
	logits := []float32{1, 3, 3, 0, -8, 2}
	if _, _, err := s.Sample(logits, nil); err != nil {
		t.Fatal(err)
	}
	got := s.TopLogprobs(nil, 4)
	// The processed distribution (bias applied, no top-k, no temperature).
	proc := []float32{1, 3, 3, 0, 2, 2}
	lse := logSumExp(proc)
	want := []int32{1, 2, 4, 5} // ties: lower id first
	if len(got) != 4 {
		t.Fatalf("got %v", got)
	}
	for i, g := range got {
		if g.Token != want[i] || math.Abs(float64(g.Logprob-(proc[g.Token]-lse))) > 1e-5 {
			t.Errorf("entry %d = %+v, want token %d logprob %v", i, g, want[i], proc[want[i]]-lse)
		}
	}
	if all := s.TopLogprobs(nil, 100); len(all) != len(logits) {
		t.Errorf("n beyond vocabulary: %d entries", len(all))
	}
}

// TestFastFiltersMatchReference compares the histogram-based filters with
// a straightforward implementation of mlx-lm's masked-array filters over
// full sorts, on random vocabularies with many ties.
func TestFastFiltersMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for iter := range 400 {
		n := 1 + r.IntN(3000)
		if iter%50 == 0 {
			n = 151936
		}
		logits := randomLogits(r, n, 1+r.Float64()*6)
		if r.IntN(2) == 0 {
			for i := range logits {
				logits[i] = float32(math.Round(float64(logits[i])*2) / 2)
			}
		}
		p := Params{Temperature: 1}
		if r.IntN(3) > 0 {
			p.TopP = float32(r.Float64())
		}
		if r.IntN(3) == 0 {
			p.MinP = float32(r.Float64() * r.Float64())
			p.MinTokensToKeep = r.IntN(5)
		}
		if r.IntN(3) == 0 {
			p.TopK = 1 + r.IntN(n+5)
		}
		s := mustSampler(t, p)
		_, sum, err := s.prepare(logits, nil)
		if err != nil {
			t.Fatal(err)
		}
		lp := s.lp[:n]
		cand, all := s.filter(lp, sum)
		got := slices.Clone(cand)
		if all {
			got = got[:0]
			for i := range n {
				got = append(got, int32(i))
			}
		}
		slices.Sort(got)
		want := referenceKept(lp, s.weights[:n], sum, s.Params())
		if !slices.Equal(got, want) {
			t.Fatalf("iter %d n=%d %+v: fast kept %d tokens, reference %d", iter, n, p, len(got), len(want))
		}
	}
}

// referenceKept mirrors mlx-lm: -Inf masking, full sorts with MLX's tie
// order. w are the unnormalized probabilities and sum their total; top-p
// uses the same accumulation (mass ranked above < top_p·sum) so that the
// comparison is about the selection, not float rounding.
func referenceKept(lp, w []float32, sum float64, p Params) []int32 {
	n := len(lp)
	x := slices.Clone(lp)
	neg := float32(math.Inf(-1))
	ids := make([]int32, n)
	for i := range ids {
		ids[i] = int32(i)
	}
	byDescHigh := func(a, b int32) int { // value desc, id desc
		if x[a] != x[b] {
			if x[a] > x[b] {
				return -1
			}
			return 1
		}
		return int(b - a)
	}
	byDescLow := func(a, b int32) int { // value desc, id asc
		if x[a] != x[b] {
			if x[a] > x[b] {
				return -1
			}
			return 1
		}
		return int(a - b)
	}
	if p.TopP > 0 && p.TopP < 1 {
		order := slices.Clone(ids)
		slices.SortFunc(order, byDescHigh)
		above, target := 0.0, float64(p.TopP)*sum
		for _, id := range order {
			if above >= target {
				x[id] = neg
				continue
			}
			above += float64(w[id])
		}
	}
	if p.MinP != 0 {
		maxV := slices.Max(x)
		thr := maxV + float32(math.Log(float64(p.MinP)))
		remove := make([]bool, n)
		for i := range x {
			remove[i] = x[i] < thr
		}
		if p.MinTokensToKeep > 1 {
			order := slices.Clone(ids)
			slices.SortFunc(order, byDescHigh)
			for _, id := range order[:min(p.MinTokensToKeep, n)] {
				remove[id] = false
			}
		}
		for i := range x {
			if remove[i] {
				x[i] = neg
			}
		}
	}
	if p.TopK > 0 && p.TopK < n {
		order := slices.Clone(ids)
		slices.SortFunc(order, byDescLow)
		for _, id := range order[p.TopK:] {
			x[id] = neg
		}
	}
	var out []int32
	for i := range x {
		if !math.IsInf(float64(x[i]), -1) {
			out = append(out, int32(i))
		}
	}
	return out
}

func TestSelectSmallest(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 300 {
		n := 1 + r.IntN(2000)
		keys := make([]uint64, n)
		for i := range keys {
			keys[i] = r.Uint64N(uint64(1 + r.IntN(50)))
		}
		k := 1 + r.IntN(n)
		sorted := slices.Clone(keys)
		slices.Sort(sorted)
		selectSmallest(keys, k)
		head := slices.Clone(keys[:k])
		slices.Sort(head)
		if !slices.Equal(head, sorted[:k]) {
			t.Fatalf("n=%d k=%d: wrong selection", n, k)
		}
	}
}

func TestExpf(t *testing.T) {
	worst := 0.0
	for i := 0; i <= 1_000_000; i++ {
		x := -87 + float32(i)*(87+88)/1_000_000
		got, want := float64(expf(x)), math.Exp(float64(x))
		if e := math.Abs(got-want) / want; e > worst {
			worst = e
		}
	}
	if worst > 5e-7 {
		t.Errorf("expf worst relative error %g", worst)
	}
	if expf(float32(math.Inf(-1))) != 0 || expf(-100) != 0 || !math.IsInf(float64(expf(100)), 1) {
		t.Error("expf edge cases")
	}
}

func randomLogits(r *rand.Rand, n int, scale float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64() * scale)
	}
	return out
}

func firstArgmax(l []float32) int32 {
	best := 0
	for i, v := range l {
		if v > l[best] {
			best = i
		}
	}
	return int32(best)
}

func logSumExp(l []float32) float32 {
	m := float64(slices.Max(l))
	s := 0.0
	for _, v := range l {
		s += math.Exp(float64(v) - m)
	}
	return float32(m + math.Log(s))
}

// TestExpIntoMatchesExpf: the vector exponential gives exactly expf's
// values (so a seeded draw's weights do not depend on the build), over the range a
// sampler sees and the edges: -87, 88, below and above, NaN, ±Inf.
func TestExpIntoMatchesExpf(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	lp := make([]float32, 4099)
	for i := range lp {
		lp[i] = float32(r.NormFloat64() * 30)
	}
	copy(lp, []float32{-87, -87.00001, 88, 88.0001, float32(math.NaN()), float32(math.Inf(-1)), float32(math.Inf(1)), 0, -0.0, 1e-30})
	w := make([]float32, len(lp))
	for _, c := range []struct {
		shift, scale float32
		scaled       bool
	}{{0, 1, false}, {3.5, 1, false}, {-2, 1 / 0.7, true}, {10, 0.25, true}} {
		expInto(w, lp, c.shift, c.scale, c.scaled)
		for i, x := range lp {
			x -= c.shift
			if c.scaled {
				x *= c.scale
			}
			if want := expf(x); math.Float32bits(w[i]) != math.Float32bits(want) {
				t.Fatalf("%+v: exp(%v) = %v, expf gives %v", c, x, w[i], want)
			}
		}
	}
}

// TestMaxSanitized: the vector maximum agrees with the scalar one on
// NaN, ±Inf, all -Inf, ties (the first index wins) and short tails.
func TestMaxSanitized(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for it := 0; it < 500; it++ {
		n := 1 + r.IntN(40)
		a := make([]float32, n)
		for i := range a {
			switch r.IntN(8) {
			case 0:
				a[i] = nan
			case 1:
				a[i] = inf
			case 2:
				a[i] = -inf
			case 3:
				a[i] = 2 // ties
			default:
				a[i] = float32(r.NormFloat64())
			}
		}
		if it%50 == 0 {
			for i := range a {
				a[i] = -inf
			}
		}
		b := slices.Clone(a)
		gm, ga := maxSanitized(a)
		wm, wa := maxSanitizedGeneric(b)
		if ga != wa || (ga >= 0 && gm != wm) || !slices.Equal(a, b) {
			t.Fatalf("maxSanitized = %v,%d, want %v,%d", gm, ga, wm, wa)
		}
	}
}

// TestRepetitionPenaltyOneIsNoOp: a penalty of 1 samples exactly as no
// penalty (the sampler skips its pass, so the decoders need not map 1
// to 0).
func TestRepetitionPenaltyOneIsNoOp(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	logits := randomLogits(r, 500, 2)
	history := []int32{1, 2, 3, 100, 200}
	for _, temp := range []float32{0, 0.8} {
		a := mustSampler(t, Params{Temperature: temp, Seed: seed(9), RepetitionPenalty: 1})
		b := mustSampler(t, Params{Temperature: temp, Seed: seed(9)})
		for i := 0; i < 20; i++ {
			ta, la, errA := a.Sample(logits, history)
			tb, lb, errB := b.Sample(logits, history)
			if ta != tb || la != lb || errA != nil || errB != nil {
				t.Fatalf("temperature %v, draw %d: %d %v vs %d %v (%v %v)", temp, i, ta, la, tb, lb, errA, errB)
			}
		}
	}
}
