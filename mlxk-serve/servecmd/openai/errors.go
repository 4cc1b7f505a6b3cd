// Package openai is the wire format of mlxk-serve's OpenAI-compatible API:
// request decoding with typed validation errors, the response and stream
// chunk shapes, and OpenAI-shaped error bodies. Anthropic's Messages API
// (anthropic.go) decodes into the same Request and has its own answer and
// error shapes here too, so both dialects share one validation style.
//
// Decoding is strict on purpose: a field the server does not implement is
// a 400 that names it, never silently ignored, so a client learns at once
// that, say, n=2 or an image part will not be honoured.
package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
)

// Error codes: the "code" of an error body. They are stable; clients and
// tests match on them.
const (
	CodeInvalidJSON       = "invalid_json"
	CodeInvalidValue      = "invalid_value"
	CodeMissingField      = "missing_field"
	CodeUnsupportedField  = "unsupported_field"
	CodeUnsupportedValue  = "unsupported_value"
	CodeContextExceeded   = "context_length_exceeded"
	CodeModelNotFound     = "model_not_found"
	CodeAmbiguousModel    = "ambiguous_match"
	CodeModelUnhealthy    = "model_unhealthy"
	CodeModelIncompatible = "model_incompatible"
	CodeModelTooLarge     = "insufficient_memory"
	CodeModelLoadFailed   = "model_load_failed"
	CodeRequestTooLarge   = "request_too_large"
	CodeInvalidAPIKey     = "invalid_api_key"
	CodeQueueFull         = "queue_full"
	CodeServerShutdown    = "server_shutdown"
	CodeNotFound          = "not_found"
	CodeMethodNotAllowed  = "method_not_allowed"
	CodeInternal          = "internal_error"
)

// Error is an API error; it renders as OpenAI's {"error":{...}} body.
type Error struct {
	Status  int
	Code    string
	Message string
	// Param names the request field at fault, when there is one.
	Param string
	// RetryAfter, in seconds, becomes a Retry-After header (0: none).
	RetryAfter int
}

func (e *Error) Error() string { return e.Message }

// Type is OpenAI's error type for the status: clients branch on it.
func (e *Error) Type() string {
	switch {
	case e.Status == http.StatusUnauthorized:
		return "authentication_error"
	case e.Status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case e.Status >= 500:
		return "server_error"
	}
	return "invalid_request_error"
}

// Errorf builds an error with a formatted message.
func Errorf(status int, code, param, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Param: param, Message: fmt.Sprintf(format, args...)}
}

// errorBody is the JSON of an error response. request_id is an extension
// that repeats the X-Request-ID header, so a pasted body can be traced.
type errorBody struct {
	Error struct {
		Message   string  `json:"message"`
		Type      string  `json:"type"`
		Param     *string `json:"param"`
		Code      string  `json:"code"`
		RequestID string  `json:"request_id,omitempty"`
	} `json:"error"`
}

// Body is the JSON response body of e.
func (e *Error) Body(requestID string) []byte {
	var b errorBody
	b.Error.Message, b.Error.Type, b.Error.Code, b.Error.RequestID = e.Message, e.Type(), e.Code, requestID
	if e.Param != "" {
		b.Error.Param = &e.Param
	}
	out, err := Marshal(b)
	if err != nil { // only strings: cannot happen, but never panic
		return []byte(`{"error":{"message":"internal error","type":"server_error","param":null,"code":"internal_error"}}`)
	}
	return out
}

// Marshal is compact JSON without HTML escaping (model text often holds
// < and >, which clients should see as they are).
func Marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("openai: encode %T: %w", v, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte{'\n'}), nil
}
