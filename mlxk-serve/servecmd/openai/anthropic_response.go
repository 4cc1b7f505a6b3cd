package openai

import (
	"encoding/json"
	"net/http"
)

// The shapes of Anthropic's Messages API answers.

// Anthropic stop reasons.
const (
	StopEndTurn       = "end_turn"
	StopMaxTokens     = "max_tokens"
	StopSequence      = "stop_sequence"
	StopToolUse       = "tool_use"
	StopContextWindow = "model_context_window_exceeded"
)

// AnthropicMessage is a whole answer (and, empty, the message of a
// stream's message_start event).
type AnthropicMessage struct {
	ID           string           `json:"id"`
	Type         string           `json:"type"` // "message"
	Role         string           `json:"role"`
	Model        string           `json:"model"`
	Content      []AnthropicBlock `json:"content"`
	StopReason   *string          `json:"stop_reason"`
	StopSequence *string          `json:"stop_sequence"`
	Usage        AnthropicUsage   `json:"usage"`
}

// AnthropicBlock is a content block: text, thinking or tool_use.
type AnthropicBlock struct {
	Type      string          `json:"type"`
	Text      *string         `json:"text,omitempty"`
	Thinking  *string         `json:"thinking,omitempty"`
	Signature *string         `json:"signature,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
}

// TextBlock, ThinkingBlock and ToolUseBlock build blocks. A thinking
// block's signature is empty: it signs Anthropic models' reasoning, and
// clients only echo it back.
func TextBlock(s string) AnthropicBlock { return AnthropicBlock{Type: "text", Text: &s} }
func ThinkingBlock(s string) AnthropicBlock {
	sig := ""
	return AnthropicBlock{Type: "thinking", Thinking: &s, Signature: &sig}
}
func ToolUseBlock(id, name string, input json.RawMessage) AnthropicBlock {
	return AnthropicBlock{Type: "tool_use", ID: id, Name: name, Input: input}
}

// AnthropicUsage counts tokens the Anthropic way: input_tokens are the
// prompt tokens not read from the prefix cache, cache_read_input_tokens
// those that were.
type AnthropicUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
}

// AnthropicEvent is one event of a stream; Type names it.
type AnthropicEvent struct {
	Type         string            `json:"type"`
	Message      *AnthropicMessage `json:"message,omitempty"`
	Index        *int              `json:"index,omitempty"`
	ContentBlock *AnthropicBlock   `json:"content_block,omitempty"`
	Delta        any               `json:"delta,omitempty"`
	Usage        *AnthropicUsage   `json:"usage,omitempty"`
}

// AnthropicDelta is a content_block_delta's delta.
type AnthropicDelta struct {
	Type        string  `json:"type"` // text_delta, thinking_delta, input_json_delta
	Text        *string `json:"text,omitempty"`
	Thinking    *string `json:"thinking,omitempty"`
	PartialJSON *string `json:"partial_json,omitempty"`
}

// AnthropicMessageDelta is a message_delta's delta.
type AnthropicMessageDelta struct {
	StopReason   string  `json:"stop_reason"`
	StopSequence *string `json:"stop_sequence"`
}

// AnthropicCount is the answer of /v1/messages/count_tokens.
type AnthropicCount struct {
	InputTokens int `json:"input_tokens"`
}

// AnthropicType is Anthropic's error type for the error's status.
func (e *Error) AnthropicType() string {
	switch e.Status {
	case http.StatusUnauthorized:
		return "authentication_error"
	case http.StatusForbidden:
		return "permission_error"
	case http.StatusNotFound:
		return "not_found_error"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusTooManyRequests:
		return "rate_limit_error"
	case http.StatusServiceUnavailable:
		return "overloaded_error"
	}
	if e.Status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

// anthropicError is Anthropic's error body; code and param are this
// server's additions, as in the OpenAI-shaped body.
type anthropicError struct {
	Type  string `json:"type"` // "error"
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
		Code    string `json:"code,omitempty"`
		Param   string `json:"param,omitempty"`
	} `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

// AnthropicBody is the JSON of e in Anthropic's error shape (also the
// data of a stream's error event).
func (e *Error) AnthropicBody(requestID string) []byte {
	b := anthropicError{Type: "error", RequestID: requestID}
	b.Error.Type, b.Error.Message, b.Error.Code, b.Error.Param = e.AnthropicType(), e.Message, e.Code, e.Param
	out, err := Marshal(b)
	if err != nil {
		return []byte(`{"type":"error","error":{"type":"api_error","message":"internal error"}}`)
	}
	return out
}

// AnthropicModel is a model in Anthropic's models API, which GET
// /v1/models answers when the request carries an anthropic-version header
// (Anthropic's clients send one).
type AnthropicModel struct {
	Type        string `json:"type"` // "model"
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"` // RFC 3339
}

// AnthropicModelList is Anthropic's list of models (one page: has_more is
// always false).
type AnthropicModelList struct {
	Data    []AnthropicModel `json:"data"`
	HasMore bool             `json:"has_more"`
	FirstID *string          `json:"first_id"`
	LastID  *string          `json:"last_id"`
}
