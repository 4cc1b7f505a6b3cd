package sample

import (
	"math"
	"slices"
)

// Filters keep "the top tokens", so they need an order on the vocabulary.
// A full sort of 150k-260k logprobs per token costs milliseconds; instead
// a histogram of each token's distance below the best logprob (1/16 nat
// buckets) finds the bucket where the wanted top set ends: the buckets
// before it are kept whole and only the tokens of that one bucket are
// sorted. The result is exact, not an approximation.
//
// Ties are broken the way MLX's CPU kernels break them, which is what
// mlx-lm's filters see: argsort is stable (ascending value, then ascending
// index) and argpartition orders by (value, index). That makes
//   - top-p (argsort ascending, keep the high cumulative end) prefer the
//     higher token id among equal logprobs: tieHighID;
//   - top-k (argpartition of -logprobs, keep the first k) prefer the lower
//     id: tieLowID;
//   - min_tokens_to_keep (argpartition of logprobs, keep the last m)
//     prefer the higher id: tieHighID.

type tieOrder bool

const (
	tieLowID  tieOrder = false
	tieHighID tieOrder = true
)

const (
	bucketsPerNat = 16
	numBuckets    = 32 * bucketsPerNat // distances beyond 32 nats share the overflow bucket
)

// orderedBits maps a float32 to a uint32 whose unsigned order is the
// float order (with -0 folded onto +0 so that they tie, as they compare).
func orderedBits(f float32) uint32 {
	b := math.Float32bits(f)
	if b == 0x80000000 {
		b = 0
	}
	if b&0x80000000 != 0 {
		return ^b
	}
	return b | 0x80000000
}

// rankKey packs a token so that ascending uint64 order is the filter's
// descending rank: best logprob first, ties by token id as tie says.
func rankKey(lp float32, id int32, tie tieOrder) uint64 {
	k := uint64(orderedBits(lp))<<32 | uint64(uint32(id))
	if tie == tieHighID {
		return ^k // higher value first, higher id first
	}
	return uint64(^orderedBits(lp))<<32 | uint64(uint32(id)) // higher value first, lower id first
}

func keyID(k uint64, tie tieOrder) int32 {
	if tie == tieHighID {
		k = ^k
	}
	return int32(uint32(k))
}

// bucketOf is the histogram bucket of a logprob lp given the best one.
// -Inf (masked or banned tokens) lands in the overflow bucket.
func bucketOf(maxLP, lp float32) int {
	d := (maxLP - lp) * bucketsPerNat
	if !(d < numBuckets) {
		return numBuckets
	}
	return int(d)
}

// gatherSplit appends to dst the ids of every token in a bucket before
// boundary (they outrank everything else and are kept whole) and puts the
// rank keys of the tokens in the boundary bucket into s.keys, sorted, for
// the caller to take the best of. The tokens before the boundary come out
// in id order, not rank order.
func (s *Sampler) gatherSplit(lps []float32, maxLP float32, boundary int, tie tieOrder, dst []int32) ([]int32, []uint64) {
	keys := s.keys[:0]
	for i, lp := range lps {
		switch b := bucketOf(maxLP, lp); {
		case b < boundary:
			dst = append(dst, int32(i))
		case b == boundary:
			keys = append(keys, rankKey(lp, int32(i), tie))
		}
	}
	slices.Sort(keys)
	s.keys = keys
	return dst, keys
}

// topOfAll appends the ids of the k best tokens of the whole vocabulary to
// dst, in no particular order. k must be in [1, len(lps)].
func (s *Sampler) topOfAll(lps []float32, maxLP float32, k int, tie tieOrder, dst []int32) []int32 {
	clear(s.counts[:])
	for _, lp := range lps {
		s.counts[bucketOf(maxLP, lp)]++
	}
	boundary, before := 0, 0
	for ; boundary < numBuckets; boundary++ {
		if before+int(s.counts[boundary]) >= k {
			break
		}
		before += int(s.counts[boundary])
	}
	dst, keys := s.gatherSplit(lps, maxLP, boundary, tie, dst)
	for _, key := range keys[:min(k-before, len(keys))] {
		dst = append(dst, keyID(key, tie))
	}
	return dst
}

// topOfList keeps the k best of ids (reordering ids, result in no
// particular order).
func (s *Sampler) topOfList(lps []float32, ids []int32, k int, tie tieOrder) []int32 {
	if k >= len(ids) {
		return ids
	}
	keys := s.keys[:0]
	for _, id := range ids {
		keys = append(keys, rankKey(lps[id], id, tie))
	}
	s.keys = keys
	selectSmallest(keys, k)
	ids = ids[:0]
	for _, key := range keys[:k] {
		ids = append(ids, keyID(key, tie))
	}
	return ids
}

// sortByRank orders ids best first.
func (s *Sampler) sortByRank(lps []float32, ids []int32, tie tieOrder) {
	keys := s.keys[:0]
	for _, id := range ids {
		keys = append(keys, rankKey(lps[id], id, tie))
	}
	s.keys = keys
	slices.Sort(keys)
	for i, key := range keys {
		ids[i] = keyID(key, tie)
	}
}

// selectSmallest reorders keys so that keys[:k] hold its k smallest
// values (in no particular order), in expected linear time.
func selectSmallest(keys []uint64, k int) {
	lo, hi := 0, len(keys)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		// Median of three as the pivot keeps sorted input linear.
		a, b, c := keys[lo], keys[mid], keys[hi]
		pivot := max(min(a, b), min(max(a, b), c))
		i, j := lo, hi
		for i <= j {
			for keys[i] < pivot {
				i++
			}
			for keys[j] > pivot {
				j--
			}
			if i <= j {
				keys[i], keys[j] = keys[j], keys[i]
				i++
				j--
			}
		}
		switch {
		case k-1 <= j:
			hi = j
		case k-1 >= i:
			lo = i
		default:
			return
		}
	}
}
