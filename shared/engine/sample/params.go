package sample

import (
	"fmt"
	"math"
)

// DefaultContextSize is the number of most recent history tokens the
// repetition, presence and frequency penalties look at when their context
// size is left at zero (mlx-lm's default of 20).
const DefaultContextSize = 20

// Params are the sampling settings of one generation request. The zero
// value is greedy decoding with every processor off, which is mlx-lm
// server's default (temperature 0).
//
// Fields that mean "off" at zero do so because mlx-lm treats the same
// values as "not given": TopP of 0 or 1, MinP 0, TopK 0, and a penalty of
// 0. Context sizes of 0 mean DefaultContextSize (mlx-lm's tokens[-0:]
// would take the whole history; a zero value that silently means
// "everything" is a trap, so it is not copied).
type Params struct {
	// Temperature scales the filtered log-probabilities before the draw;
	// 0 means argmax (the first maximum on ties). Must be >= 0.
	Temperature float32
	// TopP keeps the smallest top set of tokens whose probability mass
	// reaches TopP; applied only when 0 < TopP < 1. Must be in [0, 1].
	TopP float32
	// MinP drops tokens whose probability is below MinP times the top
	// token's probability; 0 turns it off. Must be in [0, 1].
	MinP float32
	// MinTokensToKeep is how many top tokens min-p never drops; 0 means 1.
	MinTokensToKeep int
	// TopK keeps the K most probable tokens; 0 turns it off, K at or above
	// the vocabulary size keeps everything.
	TopK int

	// RepetitionPenalty divides positive (multiplies negative) logits of
	// the distinct tokens in the last RepetitionContextSize history tokens;
	// 0 turns it off, 1 is a no-op. Must be >= 0.
	RepetitionPenalty     float32
	RepetitionContextSize int
	// PresencePenalty is subtracted once from the logit of each distinct
	// token in the last PresenceContextSize history tokens; 0 is off.
	PresencePenalty     float32
	PresenceContextSize int
	// FrequencyPenalty is subtracted from a token's logit once per
	// occurrence in the last FrequencyContextSize history tokens; 0 is off.
	FrequencyPenalty     float32
	FrequencyContextSize int
	// LogitBias is added to the logits of the given token ids first. Ids
	// outside the vocabulary are ignored at sampling time; -Inf bans a
	// token.
	LogitBias map[int32]float32

	// Seed makes the draws reproducible: the same seed, params, logits and
	// history give the same tokens. Nil seeds from a random source.
	Seed *uint64
}

// ParamError reports a sampling parameter outside its valid range. Field
// is the Params field name, so a server can point at the request field.
type ParamError struct {
	Field  string
	Value  string
	Reason string
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("sample: invalid %s %s: %s", e.Field, e.Value, e.Reason)
}

func badParam(field string, value any, reason string) *ParamError {
	return &ParamError{Field: field, Value: fmt.Sprint(value), Reason: reason}
}

func finite32(f float32) bool {
	return !math.IsNaN(float64(f)) && !math.IsInf(float64(f), 0)
}

// Validate checks every field's range and returns the first problem as a
// *ParamError.
func (p Params) Validate() error {
	switch {
	case !finite32(p.Temperature) || p.Temperature < 0:
		return badParam("Temperature", p.Temperature, "must be a finite number >= 0")
	case !(p.TopP >= 0 && p.TopP <= 1):
		return badParam("TopP", p.TopP, "must be in [0, 1]")
	case !(p.MinP >= 0 && p.MinP <= 1):
		return badParam("MinP", p.MinP, "must be in [0, 1]")
	case p.MinTokensToKeep < 0:
		return badParam("MinTokensToKeep", p.MinTokensToKeep, "must be >= 0")
	case p.TopK < 0:
		return badParam("TopK", p.TopK, "must be >= 0")
	case !finite32(p.RepetitionPenalty) || p.RepetitionPenalty < 0:
		return badParam("RepetitionPenalty", p.RepetitionPenalty, "must be a finite number >= 0")
	case p.RepetitionContextSize < 0:
		return badParam("RepetitionContextSize", p.RepetitionContextSize, "must be >= 0")
	case !finite32(p.PresencePenalty):
		return badParam("PresencePenalty", p.PresencePenalty, "must be finite")
	case p.PresenceContextSize < 0:
		return badParam("PresenceContextSize", p.PresenceContextSize, "must be >= 0")
	case !finite32(p.FrequencyPenalty):
		return badParam("FrequencyPenalty", p.FrequencyPenalty, "must be finite")
	case p.FrequencyContextSize < 0:
		return badParam("FrequencyContextSize", p.FrequencyContextSize, "must be >= 0")
	}
	for id, v := range p.LogitBias {
		if id < 0 {
			return badParam("LogitBias", id, "token id must be >= 0")
		}
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 1) {
			return badParam("LogitBias", v, fmt.Sprintf("bias of token %d must be a number below +Inf", id))
		}
	}
	return nil
}

// normalized returns p with defaults filled in: context sizes of 0 become
// DefaultContextSize and MinTokensToKeep 0 becomes 1.
func (p Params) normalized() Params {
	if p.RepetitionContextSize == 0 {
		p.RepetitionContextSize = DefaultContextSize
	}
	if p.PresenceContextSize == 0 {
		p.PresenceContextSize = DefaultContextSize
	}
	if p.FrequencyContextSize == 0 {
		p.FrequencyContextSize = DefaultContextSize
	}
	if p.MinTokensToKeep == 0 {
		p.MinTokensToKeep = 1
	}
	return p
}
