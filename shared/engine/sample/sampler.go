package sample

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
)

// ErrEmptyLogits is returned by Sample for a zero-length logits vector.
var ErrEmptyLogits = errors.New("sample: empty logits")

// ErrNoCandidates is returned by Sample when no token has a finite logit
// after the processors (every logit NaN or -Inf, e.g. all banned by
// LogitBias).
var ErrNoCandidates = errors.New("sample: no token has a finite logit")

// TokenLogprob is one entry of a top-logprobs list.
type TokenLogprob struct {
	Token   int32
	Logprob float32
}

// Sampler draws tokens from logits the way mlx-lm's generate_step does
// with make_logits_processors and make_sampler. It keeps its buffers
// between calls, so one Sampler serves one generation at a time: it is
// not safe for concurrent use.
type Sampler struct {
	p      Params
	invT   float32
	logMin float32 // ln(MinP), when min-p is on
	rng    *rand.Rand

	lp      []float32 // processed logits, then logprobs of the last Sample
	weights []float32 // exp(logit - max), then sampling weights
	keys    []uint64
	cand    []int32
	topBuf  []int32
	ids     []int32 // scratch for distinct history ids
	counts  [numBuckets + 1]int32
	mass    [numBuckets + 1]float64
	n       int // vocabulary size of the last successful Sample
	maxLP   float32
	sampled bool
}

// NewSampler validates p and returns a sampler for it. A nil p.Seed seeds
// from a random source.
func NewSampler(p Params) (*Sampler, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	p = p.normalized()
	var s1, s2 uint64
	if p.Seed != nil {
		s1, s2 = *p.Seed, 0x9e3779b97f4a7c15
	} else {
		s1, s2 = rand.Uint64(), rand.Uint64()
	}
	s := &Sampler{p: p, rng: rand.New(rand.NewPCG(s1, s2))}
	if p.Temperature > 0 {
		s.invT = float32(1 / float64(p.Temperature))
	}
	if p.MinP != 0 {
		s.logMin = float32(math.Log(float64(p.MinP)))
	}
	return s, nil
}

// Params returns the sampler's parameters with defaults filled in.
func (s *Sampler) Params() Params { return s.p }

// Sample picks the next token from logits (one row, the last position).
//
// history is the token sequence mlx-lm's logits processors see: the last
// prompt token followed by every token generated so far (not the token
// being chosen now). mlx-lm feeds all but the last prompt token through
// prefill, which bypasses the processors, so the rest of the prompt never
// counts towards the penalties. The processors look only at the last
// context-size entries; ids outside the vocabulary are ignored.
//
// The returned logprob is the chosen token's entry of the processed,
// normalized distribution: log-softmax of the logits after logit bias and
// penalties, before top-p/min-p/top-k and temperature. That is the value
// mlx-lm's server reports in "logprobs" (generate_step yields those
// logprobs); TopLogprobs and Logprobs read the same distribution.
//
// logits is not modified.
func (s *Sampler) Sample(logits []float32, history []int32) (token int32, logprob float32, err error) {
	arg, sum, err := s.prepare(logits, history)
	if err != nil {
		return 0, 0, err
	}
	lp := s.lp[:s.n]
	if s.p.Temperature == 0 {
		return int32(arg), lp[arg], nil
	}
	cand, all := s.filter(lp, sum)
	tok := s.draw(lp, sum, cand, all)
	return tok, lp[tok], nil
}

// prepare runs the logits processors and the log-softmax into s.lp and
// leaves exp(logit - max) in s.weights; it returns the first argmax and
// the sum of s.weights.
func (s *Sampler) prepare(logits []float32, history []int32) (arg int, sum float64, err error) {
	s.sampled = false
	n := len(logits)
	if n == 0 {
		return 0, 0, ErrEmptyLogits
	}
	if cap(s.lp) < n {
		s.lp = make([]float32, n)
		s.weights = make([]float32, n)
	}
	lp, w := s.lp[:n], s.weights[:n]
	copy(lp, logits)
	s.process(lp, history)

	// Sanitize, find the maximum and the first argmax (mx.argmax picks the
	// first maximum).
	maxV, arg := maxSanitized(lp)
	if arg < 0 {
		return 0, 0, ErrNoCandidates
	}

	// log-softmax; w keeps exp(x - max), the unnormalized probabilities.
	sum = sumExpShifted(lp, w, maxV)
	lse := float32(float64(maxV) + math.Log(sum))
	subtract(lp, lse)
	s.maxLP = lp[arg]
	s.n = n
	s.sampled = true
	return arg, sum, nil
}

// sumExpShifted writes exp(x - maxV) into w and returns the sum.
func sumExpShifted(lp, w []float32, maxV float32) float64 {
	w = w[:len(lp)]
	expInto(w, lp, maxV, 1, false)
	return sum64(w)
}

// process applies mlx-lm's logits processors in their order: logit bias,
// repetition penalty, presence penalty, frequency penalty.
func (s *Sampler) process(lp []float32, history []int32) {
	n := int32(len(lp))
	for id, b := range s.p.LogitBias {
		if id < n {
			lp[id] += b
		}
	}
	if len(history) == 0 {
		return
	}
	if p := s.p.RepetitionPenalty; p != 0 && p != 1 { // 1 changes nothing: skip the pass
		for _, id := range s.distinct(history, s.p.RepetitionContextSize, n) {
			if v := lp[id]; v < 0 {
				lp[id] = v * p
			} else {
				lp[id] = v / p
			}
		}
	}
	if p := s.p.PresencePenalty; p != 0 {
		for _, id := range s.distinct(history, s.p.PresenceContextSize, n) {
			lp[id] -= p
		}
	}
	if p := s.p.FrequencyPenalty; p != 0 {
		for _, id := range lastN(history, s.p.FrequencyContextSize) {
			if id >= 0 && id < n {
				lp[id] -= p
			}
		}
	}
}

func lastN(h []int32, size int) []int32 {
	if len(h) > size {
		return h[len(h)-size:]
	}
	return h
}

// distinct returns the distinct in-vocabulary ids among the last size
// entries of history. mlx-lm's scatter (logits[:, tokens] = f(...)) writes
// each duplicate the same value, so a token is penalized once.
func (s *Sampler) distinct(history []int32, size int, n int32) []int32 {
	h := s.ids[:0]
	for _, id := range lastN(history, size) {
		if id >= 0 && id < n {
			h = append(h, id)
		}
	}
	slices.Sort(h)
	h = slices.Compact(h)
	s.ids = h
	return h
}

// filter applies the filters of make_sampler (top-p, min-p, top-k, in
// that order, on the untempered logprobs). It returns the surviving ids,
// or all=true when every token survives.
func (s *Sampler) filter(lp []float32, sum float64) (cand []int32, all bool) {
	n := len(lp)
	w := s.weights[:n]
	all = true
	cand = s.cand[:0]

	if tp := s.p.TopP; tp > 0 && tp < 1 {
		cand = s.topP(lp, w, sum, float64(tp), cand)
		all = false
	}
	if s.p.MinP != 0 {
		cand, all = s.minP(lp, cand, all)
	}
	if k := s.p.TopK; k > 0 && (!all || k < n) {
		if all {
			cand = s.topOfAll(lp, s.maxLP, k, tieLowID, cand)
			all = false
		} else if len(cand) > k {
			cand = s.topOfList(lp, cand, k, tieLowID)
		}
	}
	s.cand = cand
	return cand, all
}

// draw samples the survivors of filter with weights
// exp((lp - maxLP)/temperature); on entry s.weights holds exp(logit - max)
// and sum its total.
func (s *Sampler) draw(lp []float32, sum float64, cand []int32, all bool) int32 {
	w := s.weights[:len(lp)]
	// Categorical draw by inverse CDF over the survivors. The weights are
	// relative to the best logprob, which always survives, so the largest
	// weight is 1 and nothing overflows.
	maxLP, invT := s.maxLP, s.invT
	var total float64
	if all {
		if invT != 1 {
			expInto(w, lp, maxLP, invT, true)
			total = sum64(w)
		} else {
			total = sum
		}
		u := s.rng.Float64() * total
		var acc float64
		last := -1
		for i, e := range w {
			if e > 0 {
				acc += float64(e)
				last = i
				if acc > u {
					return int32(i)
				}
			}
		}
		return int32(last) // rounding left u at the very top
	}
	if len(cand) == 0 { // cannot happen: every filter keeps the best token
		return int32(slices.Index(lp, maxLP))
	}
	if len(cand) > len(lp)/16 {
		// Many survivors (top-p over a flat distribution): one vector
		// pass over the vocabulary beats a scalar exponential per
		// survivor, and gives the same values.
		expInto(w, lp, maxLP, invT, true)
		for _, id := range cand {
			total += float64(w[id])
		}
	} else {
		for _, id := range cand {
			e := expf((lp[id] - maxLP) * invT)
			w[id] = e
			total += float64(e)
		}
	}
	u := s.rng.Float64() * total
	var acc float64
	last := cand[0]
	for _, id := range cand {
		if e := w[id]; e > 0 {
			acc += float64(e)
			last = id
			if acc > u {
				return id
			}
		}
	}
	return last
}

// topP keeps the tokens whose probability mass ranked strictly above them
// is below tp (in units of sum): mlx-lm's apply_top_p keeps cumulative
// (ascending) > 1 - tp, which is the same set.
func (s *Sampler) topP(lp, w []float32, sum, tp float64, dst []int32) []int32 {
	maxLP := s.maxLP
	clear(s.mass[:])
	for i, x := range lp {
		s.mass[bucketOf(maxLP, x)] += float64(w[i])
	}
	// Buckets before the boundary hold less than the target mass and are
	// kept whole; the boundary bucket is walked in rank order.
	target := tp * sum
	boundary, above := 0, 0.0
	for ; boundary < numBuckets; boundary++ {
		if above+s.mass[boundary] >= target {
			break
		}
		above += s.mass[boundary]
	}
	dst, keys := s.gatherSplit(lp, maxLP, boundary, tieHighID, dst)
	for _, key := range keys {
		if above >= target {
			break
		}
		id := keyID(key, tieHighID)
		dst = append(dst, id)
		above += float64(w[id])
	}
	return dst
}

// minP drops tokens with logprob < maxLP + ln(MinP) (computed in float32
// as mlx-lm does) unless fewer than MinTokensToKeep survive, in which case
// the MinTokensToKeep best of the current candidates stay.
func (s *Sampler) minP(lp []float32, cand []int32, all bool) ([]int32, bool) {
	thr := s.maxLP + s.logMin
	keep := s.p.MinTokensToKeep
	if all {
		out := cand[:0]
		for i, x := range lp {
			if !(x < thr) {
				out = append(out, int32(i))
			}
		}
		if len(out) < keep {
			if keep >= len(lp) {
				return out[:0], true
			}
			out = s.topOfAll(lp, s.maxLP, keep, tieHighID, out[:0])
		}
		return out, false
	}
	if len(cand) <= keep {
		return cand, false
	}
	survivors := 0
	for _, id := range cand {
		if !(lp[id] < thr) {
			survivors++
		}
	}
	if survivors < keep {
		return s.topOfList(lp, cand, keep, tieHighID), false
	}
	out := cand[:0]
	for _, id := range cand {
		if !(lp[id] < thr) {
			out = append(out, id)
		}
	}
	return out, false
}

// Logprobs returns the processed, normalized log-probabilities of the
// last successful Sample (see Sample), indexed by token id. The slice is
// the sampler's buffer: it is valid until the next Sample and must not be
// modified. It is nil before the first successful Sample.
func (s *Sampler) Logprobs() []float32 {
	if !s.sampled {
		return nil
	}
	return s.lp[:s.n]
}

// TopLogprobs appends the n most probable tokens of the last successful
// Sample's processed distribution to dst, best first (ties: lower id
// first), and returns it. This is what mlx-lm's server reports as
// top_logprobs; its argpartition leaves them unsorted, sorting them is
// the friendlier order for the same set.
func (s *Sampler) TopLogprobs(dst []TokenLogprob, n int) []TokenLogprob {
	if !s.sampled || n <= 0 {
		return dst
	}
	lp := s.lp[:s.n]
	n = min(n, len(lp))
	s.topBuf = s.topOfAll(lp, s.maxLP, n, tieLowID, s.topBuf[:0])
	s.sortByRank(lp, s.topBuf, tieLowID)
	for _, id := range s.topBuf {
		dst = append(dst, TokenLogprob{Token: id, Logprob: lp[id]})
	}
	return dst
}
