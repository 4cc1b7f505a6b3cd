package openai

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
)

// MaxEmbeddingInputs bounds the inputs of one embeddings request (as
// OpenAI's API does).
const MaxEmbeddingInputs = 2048

// EmbeddingRequest is a decoded /v1/embeddings request: Texts or IDs.
type EmbeddingRequest struct {
	Model string
	Texts []string
	IDs   [][]int32
	// Base64 asks for each vector as base64 of little-endian float32s
	// (encoding_format "base64", what OpenAI's clients request).
	Base64 bool
	// Dimensions keeps each vector's first values (0: all).
	Dimensions int
}

// DecodeEmbeddings decodes a /v1/embeddings body.
func DecodeEmbeddings(body []byte) (*EmbeddingRequest, *Error) {
	f, e := parseObject(body)
	if e != nil {
		return nil, e
	}
	return decodeEmbeddings(f)
}

// decodeEmbeddings decodes the fields of an embeddings request.
func decodeEmbeddings(f fields) (*EmbeddingRequest, *Error) {
	var e *Error
	r := &EmbeddingRequest{}
	if r.Model, e = f.model(); e != nil {
		return nil, e
	}
	raw, ok := f.take("input")
	if !ok {
		return nil, Errorf(http.StatusBadRequest, CodeMissingField, "input", "input is required")
	}
	if e := r.input(raw); e != nil {
		return nil, e
	}
	if format, ok, e := f.str("encoding_format"); e != nil {
		return nil, e
	} else if ok {
		switch format {
		case "float":
		case "base64":
			r.Base64 = true
		default:
			return nil, invalid("encoding_format", `encoding_format must be "float" or "base64"`)
		}
	}
	if n, ok, e := f.integer("dimensions", 1, math.MaxInt32); e != nil {
		return nil, e
	} else if ok {
		r.Dimensions = int(n)
	}
	if _, _, e := f.str("user"); e != nil {
		return nil, e
	}
	if e := f.rest(""); e != nil {
		return nil, e
	}
	return r, nil
}

// input reads a string, strings, token ids or lists of token ids.
func (r *EmbeddingRequest) input(raw json.RawMessage) *Error {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		r.Texts = []string{one}
	} else if ids, ok := tokenIDs(raw); ok {
		r.IDs = [][]int32{ids}
	} else {
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil || len(list) == 0 {
			return invalid("input", "input must be a string, an array of strings, token ids or arrays of token ids")
		}
		for _, item := range list {
			var s string
			if json.Unmarshal(item, &s) == nil && r.IDs == nil {
				r.Texts = append(r.Texts, s)
			} else if ids, ok := tokenIDs(item); ok && r.Texts == nil {
				r.IDs = append(r.IDs, ids)
			} else {
				return invalid("input", "input arrays must hold only strings or only arrays of token ids")
			}
		}
	}
	if n := len(r.Texts) + len(r.IDs); n > MaxEmbeddingInputs {
		return invalid("input", "at most %d inputs per request, got %d", MaxEmbeddingInputs, n)
	}
	for _, s := range r.Texts {
		if s == "" {
			return invalid("input", "inputs must not be empty strings")
		}
	}
	return nil
}

// Embedding is one vector of an embeddings answer: []float32, or a base64
// string of little-endian float32s.
type Embedding struct {
	Object    string `json:"object"` // "embedding"
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"`
}

// EmbeddingList is the answer of /v1/embeddings.
type EmbeddingList struct {
	Object string          `json:"object"` // "list"
	Data   []Embedding     `json:"data"`
	Model  string          `json:"model"`
	Usage  EmbeddingsUsage `json:"usage"`
}

// EmbeddingsUsage counts the inputs' tokens.
type EmbeddingsUsage struct {
	PromptTokens int `json:"prompt_tokens"`
	TotalTokens  int `json:"total_tokens"`
}

// EncodeFloats is v as base64 of little-endian float32s.
func EncodeFloats(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}
