package openai

import (
	"encoding/json"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/mlxk/mlxk/shared/engine/sample"
)

// Default sampling of mlx-knife's server (mlxk-spec §8.3), kept so that
// answers do not change character when users move over.
const (
	DefaultTemperature       = 0.7
	DefaultTopP              = 0.9
	DefaultRepetitionPenalty = 1.1
)

// MaxStops bounds the stop strings of one request.
const MaxStops = 16

// MaxChoices bounds n, the choices of one request.
const MaxChoices = 16

// Request is a decoded, validated chat or text completion request.
type Request struct {
	Model string
	// Chat is true for /v1/chat/completions.
	Chat bool
	// Messages is the conversation, normalized for chat templates: text
	// parts joined into a string, "developer" turned into "system".
	Messages json.RawMessage
	// Prompt or PromptIDs is the text completion prompt.
	Prompt    string
	PromptIDs []int32
	// Echo puts the prompt in front of the completion.
	Echo bool
	// Suffix is the text after the completion (fill-in-the-middle): the
	// model writes what goes between Prompt and Suffix.
	Suffix string

	Stream       bool
	IncludeUsage bool
	// N is the number of choices to generate for the prompt (1 to
	// MaxChoices); they run together in the model's batch.
	N int
	// MaxTokens is the generation limit; 0 leaves it to the server.
	MaxTokens int
	Params    sample.Params
	Stop      []string

	// Logprobs asks for the chosen tokens' log-probabilities, with
	// TopLogprobs alternatives each.
	Logprobs    bool
	TopLogprobs int

	Format     ResponseFormat
	Tools      []Tool
	ToolsJSON  json.RawMessage // the tools array as sent, for the template
	ToolChoice ToolChoice
	// ParallelToolCalls false keeps only the first tool call.
	ParallelToolCalls bool

	// KeepAlive overrides how long the model stays loaded after this
	// request (an extension, as in ollama); nil keeps the server's.
	KeepAlive *time.Duration
	// TemplateKwargs are extra chat template variables
	// (chat_template_kwargs, plus reasoning_effort).
	TemplateKwargs map[string]json.RawMessage
}

// ResponseFormat is response_format.
type ResponseFormat struct {
	Type string // "text" (also when absent), "json_object", "json_schema"
	// Schema is json_schema.schema; Name its name.
	Schema json.RawMessage
	Name   string
}

// Tool is one function the model may call.
type Tool struct {
	Name        string
	Description string
	Parameters  json.RawMessage
}

// ToolChoice is tool_choice: "auto" (the default with tools), "none",
// "required", or a named function.
type ToolChoice struct {
	Mode     string // "auto", "none", "required", "function"
	Function string
}

var toolName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// DecodeChat decodes a /v1/chat/completions body.
func DecodeChat(body []byte) (*Request, *Error) {
	f, e := parseObject(body)
	if e != nil {
		return nil, e
	}
	r := &Request{Chat: true}
	if e := r.common(f); e != nil {
		return nil, e
	}
	if e := r.messages(f); e != nil {
		return nil, e
	}
	// max_completion_tokens replaces max_tokens; both are accepted.
	if n, ok, e := f.integer("max_completion_tokens", 1, math.MaxInt32); e != nil {
		return nil, e
	} else if ok {
		r.MaxTokens = int(n)
	}
	if r.Logprobs, _, e = f.boolean("logprobs"); e != nil {
		return nil, e
	}
	if n, ok, e := f.integer("top_logprobs", 0, 20); e != nil {
		return nil, e
	} else if ok {
		if !r.Logprobs && n > 0 {
			return nil, invalid("top_logprobs", "top_logprobs needs logprobs: true")
		}
		r.TopLogprobs = int(n)
	}
	if e := r.responseFormat(f); e != nil {
		return nil, e
	}
	if e := r.tools(f); e != nil {
		return nil, e
	}
	if o, ok, e := f.object("chat_template_kwargs"); e != nil {
		return nil, e
	} else if ok {
		r.TemplateKwargs = map[string]json.RawMessage(o)
	}
	if s, ok, e := f.str("reasoning_effort"); e != nil {
		return nil, e
	} else if ok {
		r.setTemplateKwarg("reasoning_effort", s)
	}
	if raw, ok := f.take("modalities"); ok {
		var m []string
		if json.Unmarshal(raw, &m) != nil || len(m) != 1 || m[0] != "text" {
			return nil, unsupported("modalities", `only "modalities": ["text"] is supported`)
		}
	}
	if e := f.rest(""); e != nil {
		return nil, e
	}
	return r, nil
}

// DecodeCompletion decodes a /v1/completions body.
func DecodeCompletion(body []byte) (*Request, *Error) {
	f, e := parseObject(body)
	if e != nil {
		return nil, e
	}
	r := &Request{}
	if e := r.common(f); e != nil {
		return nil, e
	}
	raw, ok := f.take("prompt")
	if !ok {
		return nil, Errorf(http.StatusBadRequest, CodeMissingField, "prompt", "prompt is required")
	}
	if e := r.prompt(raw); e != nil {
		return nil, e
	}
	if r.Echo, _, e = f.boolean("echo"); e != nil {
		return nil, e
	}
	if r.Suffix, _, e = f.str("suffix"); e != nil {
		return nil, e
	} else if r.Suffix != "" && r.PromptIDs != nil {
		return nil, unsupported("suffix", "suffix needs a text prompt, not token ids")
	}
	if n, _, e := f.integer("best_of", 1, math.MaxInt32); e != nil {
		return nil, e
	} else if n > 1 {
		return nil, unsupported("best_of", "best_of must be 1")
	}
	// Completions' logprobs is the number of alternatives (0-5).
	if n, ok, e := f.integer("logprobs", 0, 5); e != nil {
		return nil, e
	} else if ok {
		r.Logprobs, r.TopLogprobs = true, int(n)
	}
	if e := f.rest(""); e != nil {
		return nil, e
	}
	return r, nil
}

// common decodes the fields both endpoints share.
func (r *Request) common(f fields) *Error {
	var e *Error
	if r.Model, e = f.model(); e != nil {
		return e
	}
	if r.Stream, _, e = f.boolean("stream"); e != nil {
		return e
	}
	if o, ok, e := f.object("stream_options"); e != nil {
		return e
	} else if ok {
		if r.IncludeUsage, _, e = o.boolean("include_usage"); e != nil {
			e.Param = "stream_options.include_usage"
			return e
		}
		if e := o.rest("stream_options."); e != nil {
			return e
		}
	}
	if n, ok, e := f.integer("max_tokens", 1, math.MaxInt32); e != nil {
		return e
	} else if ok {
		r.MaxTokens = int(n)
	}
	r.N = 1
	if n, ok, e := f.integer("n", 1, MaxChoices); e != nil {
		return e
	} else if ok {
		r.N = int(n)
	}
	if e := r.sampling(f, maxTemperature); e != nil {
		return e
	}
	if e := r.takeStops(f, "stop", "stop"); e != nil {
		return e
	}
	if raw, ok := f.take("keep_alive"); ok {
		d, err := ParseKeepAlive(raw)
		if err != nil {
			return invalid("keep_alive", "keep_alive must be a duration (\"5m\", \"1h\"), seconds, 0 to unload or -1 to keep loaded: %v", err)
		}
		r.KeepAlive = &d
	}
	// Informational fields: they change nothing about the answer.
	if _, _, e := f.str("user"); e != nil {
		return e
	}
	f.take("metadata")
	if store, _, e := f.boolean("store"); e != nil {
		return e
	} else if store {
		return unsupported("store", "this server does not store completions")
	}
	return nil
}

// maxTemperature bounds temperature on the OpenAI routes (Anthropic's
// API takes 0-1).
const maxTemperature = 100

// sampling decodes the sampler settings, temperature up to maxTemp; absent
// ones get mlx-knife's defaults.
func (r *Request) sampling(f fields, maxTemp float64) *Error {
	p := sample.Params{Temperature: DefaultTemperature, TopP: DefaultTopP, RepetitionPenalty: DefaultRepetitionPenalty}
	if v, ok, e := f.number("temperature", 0, maxTemp); e != nil {
		return e
	} else if ok {
		p.Temperature = float32(v)
	}
	if v, ok, e := f.number("top_p", 0, 1); e != nil {
		return e
	} else if ok {
		p.TopP = float32(v)
	}
	if v, ok, e := f.integer("top_k", 0, math.MaxInt32); e != nil {
		return e
	} else if ok {
		p.TopK = int(v)
	}
	if v, ok, e := f.number("min_p", 0, 1); e != nil {
		return e
	} else if ok {
		p.MinP = float32(v)
	}
	if v, ok, e := f.number("repetition_penalty", 0, 100); e != nil {
		return e
	} else if ok {
		p.RepetitionPenalty = float32(v)
	}
	if v, ok, e := f.number("presence_penalty", -2, 2); e != nil {
		return e
	} else if ok {
		p.PresencePenalty = float32(v)
	}
	if v, ok, e := f.number("frequency_penalty", -2, 2); e != nil {
		return e
	} else if ok {
		p.FrequencyPenalty = float32(v)
	}
	if v, ok, e := f.integer("seed", math.MinInt64, math.MaxInt64); e != nil {
		return e
	} else if ok {
		s := uint64(v)
		p.Seed = &s
	}
	if o, ok, e := f.object("logit_bias"); e != nil {
		return e
	} else if ok {
		p.LogitBias = map[int32]float32{}
		for k, raw := range o {
			id, err := strconv.ParseInt(k, 10, 32)
			if err != nil || id < 0 {
				return invalid("logit_bias", "logit_bias keys must be token ids, got %q", k)
			}
			v, err := parseNumber(raw)
			if err != nil || !(v >= -100 && v <= 100) {
				return invalid("logit_bias", "logit_bias values must be numbers between -100 and 100")
			}
			p.LogitBias[int32(id)] = float32(v)
		}
	}
	r.Params = p
	return nil
}

// ParseKeepAlive reads a keep_alive value: a Go duration string ("5m"),
// a number of seconds, 0 (unload when idle) or a negative value (stay
// loaded); negative durations all become -1.
func ParseKeepAlive(raw json.RawMessage) (time.Duration, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if n, err := strconv.ParseFloat(s, 64); err == nil {
			return secondsDuration(n)
		}
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, err
		}
		if d < 0 {
			d = -1
		}
		return d, nil
	}
	n, err := parseNumber(raw)
	if err != nil {
		return 0, err
	}
	return secondsDuration(n)
}

func secondsDuration(n float64) (time.Duration, error) {
	switch {
	case math.IsNaN(n) || math.IsInf(n, 0):
		return 0, strconv.ErrRange
	case n < 0:
		return -1, nil
	case n > math.MaxInt64/float64(time.Second):
		return -1, nil
	}
	return time.Duration(n * float64(time.Second)), nil
}

// prompt reads a completions prompt: a string, a one-string array, token
// ids, or a one-element array of token ids.
func (r *Request) prompt(raw json.RawMessage) *Error {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		r.Prompt = s
		return r.nonEmptyPrompt()
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return invalid("prompt", "prompt must be a string, an array of strings or an array of token ids")
	}
	if len(list) == 0 {
		return invalid("prompt", "prompt is empty")
	}
	if ids, ok := tokenIDs(raw); ok {
		r.PromptIDs = ids
		return nil
	}
	if len(list) > 1 {
		return unsupported("prompt", "one prompt per request: prompt arrays must have one element")
	}
	if json.Unmarshal(list[0], &s) == nil {
		r.Prompt = s
		return r.nonEmptyPrompt()
	}
	if ids, ok := tokenIDs(list[0]); ok {
		r.PromptIDs = ids
		return nil
	}
	return invalid("prompt", "prompt must be a string, an array of strings or an array of token ids")
}

func (r *Request) nonEmptyPrompt() *Error {
	if r.Prompt == "" {
		return invalid("prompt", "prompt is empty")
	}
	return nil
}

func tokenIDs(raw json.RawMessage) ([]int32, bool) {
	var ids []int64
	if json.Unmarshal(raw, &ids) != nil || len(ids) == 0 {
		return nil, false
	}
	out := make([]int32, len(ids))
	for i, id := range ids {
		if id < 0 || id > math.MaxInt32 {
			return nil, false
		}
		out[i] = int32(id)
	}
	return out, true
}

// responseFormat decodes response_format.
func (r *Request) responseFormat(f fields) *Error {
	o, ok, e := f.object("response_format")
	if e != nil || !ok {
		r.Format.Type = "text"
		return e
	}
	typ, _, e := o.str("type")
	if e != nil {
		e.Param = "response_format.type"
		return e
	}
	r.Format.Type = typ
	switch typ {
	case "text", "json_object":
	case "json_schema":
		js, ok, e := o.object("json_schema")
		if e != nil || !ok {
			return invalid("response_format.json_schema", "response_format json_schema needs a json_schema object")
		}
		if r.Format.Name, _, e = js.str("name"); e != nil {
			e.Param = "response_format.json_schema.name"
			return e
		}
		if r.Format.Schema, ok = js.take("schema"); !ok {
			return invalid("response_format.json_schema.schema", "response_format json_schema needs a schema")
		}
		js.take("description")
		if _, _, e := js.boolean("strict"); e != nil {
			e.Param = "response_format.json_schema.strict"
			return e
		}
		if e := js.rest("response_format.json_schema."); e != nil {
			return e
		}
	default:
		return invalid("response_format.type", `response_format type must be "text", "json_object" or "json_schema"`)
	}
	return o.rest("response_format.")
}

// tools decodes tools, tool_choice and parallel_tool_calls.
func (r *Request) tools(f fields) *Error {
	raw, e := r.readTools(f, func(t fields, p string) (Tool, *Error) {
		typ, _, e := t.str("type")
		if e != nil || typ != "function" {
			return Tool{}, unsupported(joinParam(p, "type"), `only tools of type "function" are supported`)
		}
		fn, ok, e := t.object("function")
		if e != nil || !ok {
			return Tool{}, invalid(joinParam(p, "function"), "%s needs a function object", p)
		}
		tool, e := functionTool(fn, joinParam(p, "function"), "parameters")
		if e != nil {
			return tool, e
		}
		if e := fn.rest(joinParam(p, "function") + "."); e != nil {
			return tool, e
		}
		return tool, t.rest(p + ".")
	})
	if e != nil {
		return e
	}
	if len(r.Tools) > 0 {
		r.ToolsJSON = raw // as sent: templates may read more than the function
	}
	if raw, ok := f.take("tool_choice"); ok {
		if e := r.openAIToolChoice(raw, false); e != nil {
			return e
		}
	}
	r.ParallelToolCalls = true
	if v, ok, e := f.boolean("parallel_tool_calls"); e != nil {
		return e
	} else if ok {
		r.ParallelToolCalls = v
	}
	return nil
}

// functionTool reads a function's name, description, parameter schema
// (under schemaKey) and strict flag from fn, leaving other keys to the
// caller; p names fn in errors.
func functionTool(fn fields, p, schemaKey string) (Tool, *Error) {
	var tool Tool
	var e *Error
	if tool.Name, _, e = fn.str("name"); e != nil || !toolName.MatchString(tool.Name) {
		return tool, invalid(joinParam(p, "name"), "function names are 1-64 letters, digits, '_', '.' or '-'")
	}
	if tool.Description, _, e = fn.str("description"); e != nil {
		e.Param = joinParam(p, "description")
		return tool, e
	}
	if params, ok := fn.take(schemaKey); ok {
		if !isObject(params) {
			return tool, invalid(joinParam(p, schemaKey), "%s must be a JSON Schema object", schemaKey)
		}
		tool.Parameters = params
	}
	if _, _, e := fn.boolean("strict"); e != nil {
		e.Param = joinParam(p, "strict")
		return tool, e
	}
	return tool, nil
}

// functionToolsJSON is tools in the OpenAI chat shape templates take.
func functionToolsJSON(tools []Tool) json.RawMessage {
	if len(tools) == 0 {
		return nil
	}
	out := make([]map[string]any, 0, len(tools))
	for _, t := range tools {
		fn := map[string]any{"name": t.Name, "description": t.Description}
		if t.Parameters != nil {
			fn["parameters"] = t.Parameters
		}
		out = append(out, map[string]any{"type": "function", "function": fn})
	}
	b, _ := json.Marshal(out) // strings and raw JSON: cannot fail
	return b
}

// checkToolChoice checks a decided tool_choice against the tools;
// nameParam names the field that names the function in errors.
func (r *Request) checkToolChoice(nameParam string) *Error {
	if r.ToolChoice.Mode != "none" && len(r.Tools) == 0 {
		return invalid("tool_choice", "tool_choice %q needs tools", r.ToolChoice.Mode)
	}
	if r.ToolChoice.Mode == "function" && !r.hasTool(r.ToolChoice.Function) {
		return invalid(nameParam, "tool_choice names %q, which is not among the tools", r.ToolChoice.Function)
	}
	return nil
}

// openAIToolChoice reads tool_choice: "none", "auto", "required", or a
// function, {"type":"function","function":{"name":...}} in chat
// completions or {"type":"function","name":...} (flat) in the Responses
// API.
func (r *Request) openAIToolChoice(raw json.RawMessage, flat bool) *Error {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		switch s {
		case "none", "auto", "required":
			r.ToolChoice = ToolChoice{Mode: s}
		default:
			return invalid("tool_choice", `tool_choice must be "none", "auto", "required" or a function`)
		}
		return r.checkToolChoice("tool_choice")
	}
	var c struct {
		Type     string `json:"type"`
		Name     string `json:"name"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	shape := `{"type":"function","function":{"name":...}}`
	if flat {
		shape = `{"type":"function","name":...}`
	}
	err := json.Unmarshal(raw, &c)
	name := c.Function.Name
	if flat {
		name = c.Name
	}
	if err != nil || c.Type != "function" || name == "" {
		return invalid("tool_choice", `tool_choice must be "none", "auto", "required" or %s`, shape)
	}
	r.ToolChoice = ToolChoice{Mode: "function", Function: name}
	return r.checkToolChoice("tool_choice")
}

func (r *Request) hasTool(name string) bool {
	for _, t := range r.Tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

func isObject(raw json.RawMessage) bool {
	var o map[string]json.RawMessage
	return json.Unmarshal(raw, &o) == nil && o != nil
}

// takeStops adds the stop strings under key (a string or a list; empty
// ones mean nothing) to r.Stop; param names the field in errors.
func (r *Request) takeStops(f fields, key, param string) *Error {
	raw, ok := f.take(key)
	if !ok {
		return nil
	}
	stops, e := stringOrList(raw, param)
	if e != nil {
		return e
	}
	for _, s := range stops {
		if s != "" {
			r.Stop = append(r.Stop, s)
		}
	}
	if len(r.Stop) > MaxStops {
		return invalid(param, "at most %d stop strings", MaxStops)
	}
	return nil
}

// setTemplateKwarg passes v to the chat template as the variable name.
func (r *Request) setTemplateKwarg(name string, v any) {
	if r.TemplateKwargs == nil {
		r.TemplateKwargs = map[string]json.RawMessage{}
	}
	r.TemplateKwargs[name], _ = json.Marshal(v)
}
