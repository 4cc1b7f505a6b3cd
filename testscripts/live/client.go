package live

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client speaks the OpenAI-compatible API of `mlxk serve`.
type Client struct {
	BaseURL string
	HTTP    *http.Client
}

// ErrAPI is an answer the API contract does not allow (a status other
// than 200, a body that is not the documented shape).
var ErrAPI = errors.New("unexpected API answer")

// Usage is the token accounting of an answer.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Answer is one generation through the server, batch or streamed.
type Answer struct {
	Content      string
	Reasoning    string
	FinishReason string
	Usage        *Usage
	// Chunks is the number of events of a stream (0 for a batch answer).
	Chunks int
	// TTFT is the time from sending the request to the first generated
	// text (for a batch answer: the whole answer).
	TTFT time.Duration
	// Decode is the time from the first to the last generated text of a
	// stream.
	Decode time.Duration
	Wall   time.Duration
}

// GenParams are the generation settings of every request of the suite.
type GenParams struct {
	Temperature float64
	MaxTokens   int
}

func (c Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// Get fetches a path and decodes its JSON body into v.
func (c Client) Get(ctx context.Context, path string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+path, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.http().Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return resp.StatusCode, err
	}
	if v != nil {
		if err := json.Unmarshal(b, v); err != nil {
			return resp.StatusCode, fmt.Errorf("%w: GET %s: %v: %s", ErrAPI, path, err, clip(string(b), 300))
		}
	}
	return resp.StatusCode, nil
}

// Chat sends one user message to /v1/chat/completions.
func (c Client) Chat(ctx context.Context, model, prompt string, p GenParams, stream bool) (Answer, error) {
	body := map[string]any{"model": model, "messages": []map[string]string{{"role": "user", "content": prompt}}}
	return c.generate(ctx, "/v1/chat/completions", body, p, stream, true)
}

// Complete sends a raw prompt to /v1/completions.
func (c Client) Complete(ctx context.Context, model, prompt string, p GenParams, stream bool) (Answer, error) {
	body := map[string]any{"model": model, "prompt": prompt}
	return c.generate(ctx, "/v1/completions", body, p, stream, false)
}

// wire is the union of the chat and completion shapes (answers and
// chunks) the suite reads.
type wire struct {
	Object  string `json:"object"`
	Choices []struct {
		Text    *string `json:"text"`
		Message *struct {
			Content          *string `json:"content"`
			ReasoningContent *string `json:"reasoning_content"`
		} `json:"message"`
		Delta *struct {
			Content          *string `json:"content"`
			ReasoningContent *string `json:"reasoning_content"`
		} `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *Usage `json:"usage"`
	Error *struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	} `json:"error"`
}

// generate posts body with the sampling settings p and stream added, and
// reads the answer, whole or streamed.
func (c Client) generate(ctx context.Context, path string, body map[string]any, p GenParams, stream, chat bool) (Answer, error) {
	body["temperature"], body["max_tokens"], body["stream"] = p.Temperature, p.MaxTokens, stream
	if stream {
		body["stream_options"] = map[string]any{"include_usage": true}
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, bytes.NewReader(b))
	if err != nil {
		return Answer{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	start := time.Now()
	resp, err := c.http().Do(req)
	if err != nil {
		return Answer{}, fmt.Errorf("POST %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return Answer{}, fmt.Errorf("%w: POST %s: status %d: %s", ErrAPI, path, resp.StatusCode, msg)
	}
	var a Answer
	if !stream {
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err != nil {
			return Answer{}, fmt.Errorf("POST %s: %w", path, err)
		}
		a.Wall = time.Since(start)
		a.TTFT = a.Wall
		var w wire
		if err := json.Unmarshal(raw, &w); err != nil || len(w.Choices) != 1 {
			return Answer{}, fmt.Errorf("%w: POST %s: want one choice: %s", ErrAPI, path, clip(string(raw), 300))
		}
		ch := w.Choices[0]
		switch {
		case chat && ch.Message != nil:
			a.Content = deref(ch.Message.Content)
			a.Reasoning = deref(ch.Message.ReasoningContent)
		case !chat && ch.Text != nil:
			a.Content = *ch.Text
		default:
			return Answer{}, fmt.Errorf("%w: POST %s: no %s in the choice", ErrAPI, path, map[bool]string{true: "message", false: "text"}[chat])
		}
		a.FinishReason = deref(ch.FinishReason)
		a.Usage = w.Usage
		return a, nil
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		return Answer{}, fmt.Errorf("%w: POST %s: stream with Content-Type %q", ErrAPI, path, ct)
	}
	var content, reasoning strings.Builder
	var first, last time.Time
	err = ReadSSE(resp.Body, func(data []byte) error {
		a.Chunks++
		var w wire
		if err := json.Unmarshal(data, &w); err != nil {
			return fmt.Errorf("%w: event %d is not JSON: %s", ErrAPI, a.Chunks, clip(string(data), 200))
		}
		if w.Error != nil {
			return fmt.Errorf("%w: error event: %s (%s)", ErrAPI, w.Error.Message, w.Error.Code)
		}
		if w.Usage != nil {
			a.Usage = w.Usage
		}
		for _, ch := range w.Choices {
			text := ""
			if chat && ch.Delta != nil {
				text = deref(ch.Delta.Content)
				content.WriteString(text)
				r := deref(ch.Delta.ReasoningContent)
				reasoning.WriteString(r)
				text += r
			} else if !chat && ch.Text != nil {
				text = *ch.Text
				content.WriteString(text)
			}
			if text != "" {
				now := time.Now()
				if first.IsZero() {
					first = now
				}
				last = now
			}
			if ch.FinishReason != nil {
				a.FinishReason = *ch.FinishReason
			}
		}
		return nil
	})
	a.Wall = time.Since(start)
	if err != nil {
		return a, fmt.Errorf("POST %s (stream): %w", path, err)
	}
	a.Content, a.Reasoning = content.String(), reasoning.String()
	if !first.IsZero() {
		a.TTFT = first.Sub(start)
		a.Decode = last.Sub(first)
	}
	return a, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
