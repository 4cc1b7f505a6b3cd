package openai

import "encoding/json"

// The shapes of the Responses API's answers.

// ObjectResponse is a response's object name.
const ObjectResponse = "response"

// Response is a whole answer, and the snapshot stream events carry.
type Response struct {
	ID                 string             `json:"id"`
	Object             string             `json:"object"`
	CreatedAt          int64              `json:"created_at"`
	CompletedAt        *int64             `json:"completed_at"`
	Status             string             `json:"status"` // in_progress, completed, incomplete
	Error              *json.RawMessage   `json:"error"`
	IncompleteDetails  *IncompleteDetails `json:"incomplete_details"`
	Instructions       *string            `json:"instructions"`
	MaxOutputTokens    *int               `json:"max_output_tokens"`
	Model              string             `json:"model"`
	Output             []any              `json:"output"`
	ParallelToolCalls  bool               `json:"parallel_tool_calls"`
	PreviousResponseID *string            `json:"previous_response_id"`
	Reasoning          ResponseReasoning  `json:"reasoning"`
	Store              bool               `json:"store"`
	Temperature        float32            `json:"temperature"`
	Text               ResponseText       `json:"text"`
	ToolChoice         any                `json:"tool_choice"`
	Tools              []any              `json:"tools"`
	TopP               float32            `json:"top_p"`
	Truncation         string             `json:"truncation"`
	Usage              *ResponseUsage     `json:"usage"`
	Metadata           map[string]string  `json:"metadata"`
}

// IncompleteDetails says why a response stopped early.
type IncompleteDetails struct {
	Reason string `json:"reason"` // max_output_tokens
}

// ResponseReasoning echoes the reasoning settings.
type ResponseReasoning struct {
	Effort  *string `json:"effort"`
	Summary *string `json:"summary"`
}

// ResponseText echoes the text format.
type ResponseText struct {
	Format ResponseTextFormat `json:"format"`
}

// ResponseTextFormat is text.format.
type ResponseTextFormat struct {
	Type   string          `json:"type"`
	Name   string          `json:"name,omitempty"`
	Schema json.RawMessage `json:"schema,omitempty"`
}

// ResponseUsage counts tokens; cached_tokens are prompt tokens the prefix
// cache supplied.
type ResponseUsage struct {
	InputTokens        int `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int `json:"total_tokens"`
}

// ResponseMessage is an output message item.
type ResponseMessage struct {
	Type    string               `json:"type"` // "message"
	ID      string               `json:"id"`
	Status  string               `json:"status"`
	Role    string               `json:"role"`
	Content []ResponseOutputText `json:"content"`
}

// ResponseOutputText is a message's text part.
type ResponseOutputText struct {
	Type        string `json:"type"` // "output_text"
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
	Logprobs    []any  `json:"logprobs"`
}

// NewOutputText is a text part with empty annotations and logprobs.
func NewOutputText(s string) ResponseOutputText {
	return ResponseOutputText{Type: "output_text", Text: s, Annotations: []any{}, Logprobs: []any{}}
}

// ResponseFunctionCall is an output function call item.
type ResponseFunctionCall struct {
	Type      string `json:"type"` // "function_call"
	ID        string `json:"id"`
	CallID    string `json:"call_id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
	Status    string `json:"status"`
}

// ResponseReasoningItem is an output reasoning item: the model's reasoning
// as reasoning_text content (no summary is made).
type ResponseReasoningItem struct {
	Type    string                  `json:"type"` // "reasoning"
	ID      string                  `json:"id"`
	Summary []any                   `json:"summary"`
	Content []ResponseReasoningText `json:"content"`
	Status  string                  `json:"status"`
}

// ResponseReasoningText is a reasoning item's text part.
type ResponseReasoningText struct {
	Type string `json:"type"` // "reasoning_text"
	Text string `json:"text"`
}

// ResponseErrorEvent is a stream's error event.
type ResponseErrorEvent struct {
	Type           string  `json:"type"` // "error"
	Code           string  `json:"code"`
	Message        string  `json:"message"`
	Param          *string `json:"param"`
	SequenceNumber int     `json:"sequence_number"`
}
