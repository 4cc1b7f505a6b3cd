// Package sample chooses the next token from a row of logits the way
// mlx-lm does (make_logits_processors + make_sampler in sample_utils.py,
// driven by generate_step), so that mlxk run/serve behave like the Python
// tools for the same settings.
//
// Per token, in order:
//  1. logits processors: logit bias (added), repetition penalty (on the
//     distinct ids of the last N history tokens, logit<0 ? logit·p :
//     logit/p), presence penalty (−p once per distinct id), frequency
//     penalty (−p per occurrence), each with its own context size;
//  2. logprobs = logits − logsumexp(logits);
//  3. temperature 0: argmax, the first maximum on ties;
//  4. otherwise filters on the untempered logprobs: top-p when
//     0 < top_p < 1, min-p when min_p ≠ 0 (keeping min_tokens_to_keep),
//     top-k when k > 0;
//  5. a categorical draw over the survivors with weights
//     exp(logprob/temperature), from a math/rand/v2 PCG stream seeded per
//     request. MLX's random stream cannot be reproduced, so only the
//     distribution matches mlx-lm, not the individual draws.
//
// Ties inside the filters are broken as MLX's CPU sort kernels break them
// (see rank.go). XTC sampling (an mlx-lm server extension outside the
// OpenAI API, unused by mlx-knife) is not implemented.
//
// The filters avoid sorting the vocabulary: a histogram of distances below
// the best logprob finds the few buckets that must contain the kept set,
// and only those tokens are sorted (exact, not an approximation).
package sample
