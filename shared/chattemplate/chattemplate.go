// Package chattemplate renders Hugging Face chat templates (Jinja) the way
// transformers' apply_chat_template does, as called by mlx-lm's server.
//
// The engine is github.com/ardanlabs/jinja (v1.8.0, the newest that builds
// with Go 1.26). This package supplies what transformers adds on top of plain
// Jinja (engine.md §4.1):
//
//   - request JSON is decoded into ordered Jinja values (object key order
//     kept, integers stay integers), never through map[string]any, whose keys
//     the engine would sort;
//   - mlx-lm's server massaging (mlx_lm/server.py:process_message_content):
//     content arrays of {"type":"text"} parts are joined into one string,
//     null or missing content becomes "", and tool_calls[].function.arguments
//     given as a JSON string is parsed into an object;
//   - the variables messages, tools (None when absent), documents (None),
//     add_generation_prompt, bos_token/eos_token/unk_token/pad_token (left
//     undefined when empty, as transformers' special_tokens_map omits unset
//     tokens), and the chat_template_kwargs on top;
//   - the globals raise_exception and strftime_now (Python strftime codes,
//     with a settable clock);
//   - tojson exactly as transformers defines it: Python json.dumps with
//     ensure_ascii=False, insertion order kept, no HTML escaping, Python's
//     float repr and, with indent, Python's layout and "," item separator.
//     ardanlabs/jinja v1.8.0 routes tojson(indent=…) through
//     encoding/json.MarshalIndent (sorted keys, \u003c escapes) and escapes
//     U+2028/U+2029, and it gives built-in filters precedence over user
//     ones, so Parse rewrites the filter name tojson to a private name
//     served by this package;
//   - likewise the string filter as Python's str() (None → "None",
//     1.0 → "1.0", Python list/dict repr) and the format filter (printf-style
//     "fmt % args", missing from the engine).
//
// The engine already provides trim_blocks/lstrip_blocks whitespace handling,
// loop controls ({% break %}, {% continue %}) and a no-op {% generation %}
// block.
//
// Golden files in testdata/golden, made with an independent renderer
// (@huggingface/jinja, testdata/gen/goldens.mjs) and cross-checked with
// Python Jinja2 (testdata/gen/check_python.py), pin the output byte for byte.
package chattemplate

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/ardanlabs/jinja"
)

// ErrNoTemplate is returned by Find when a model folder has no chat template.
var ErrNoTemplate = errors.New("chattemplate: no chat template")

// Find returns the chat template of the model folder dir, in the order
// transformers loads it:
//
//  1. chat_template.jinja, if present (it replaces a template in
//     tokenizer_config.json);
//  2. else tokenizer_config.json "chat_template": a string, or a list of
//     {"name", "template"} objects;
//  3. additional_chat_templates/<name>.jinja files add named templates.
//
// With named templates, "tool_use" is chosen when withTools is set and it
// exists, else "default". A missing, null or blank template, or named
// templates without a usable one, give an error wrapping ErrNoTemplate.
// Unreadable files and invalid JSON are other errors.
func Find(dir string, withTools bool) (string, error) {
	named := map[string]string{}
	var base string
	haveBase := false

	b, err := os.ReadFile(filepath.Join(dir, "chat_template.jinja"))
	switch {
	case err == nil:
		base, haveBase = string(b), true
	case !errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("chattemplate: %w", err)
	default:
		cfg, err := os.ReadFile(filepath.Join(dir, "tokenizer_config.json"))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("chattemplate: %w", err)
		}
		if err == nil {
			var tc struct {
				ChatTemplate json.RawMessage `json:"chat_template"`
			}
			if err := json.Unmarshal(cfg, &tc); err != nil {
				return "", fmt.Errorf("chattemplate: tokenizer_config.json: %w", err)
			}
			raw := strings.TrimSpace(string(tc.ChatTemplate))
			switch {
			case raw == "" || raw == "null":
			case raw[0] == '"':
				if err := json.Unmarshal(tc.ChatTemplate, &base); err != nil {
					return "", fmt.Errorf("chattemplate: tokenizer_config.json chat_template: %w", err)
				}
				haveBase = true
			case raw[0] == '[':
				var list []struct {
					Name     string `json:"name"`
					Template string `json:"template"`
				}
				if err := json.Unmarshal(tc.ChatTemplate, &list); err != nil {
					return "", fmt.Errorf("chattemplate: tokenizer_config.json chat_template: %w", err)
				}
				for _, t := range list {
					named[t.Name] = t.Template
				}
			default:
				return "", fmt.Errorf("chattemplate: tokenizer_config.json chat_template is neither a string nor a list")
			}
		}
	}

	extra, err := filepath.Glob(filepath.Join(dir, "additional_chat_templates", "*.jinja"))
	if err != nil {
		return "", fmt.Errorf("chattemplate: %w", err)
	}
	for _, p := range extra {
		b, err := os.ReadFile(p)
		if err != nil {
			return "", fmt.Errorf("chattemplate: %w", err)
		}
		named[strings.TrimSuffix(filepath.Base(p), ".jinja")] = string(b)
	}

	if len(named) == 0 {
		if !haveBase || strings.TrimSpace(base) == "" {
			return "", ErrNoTemplate
		}
		return base, nil
	}
	if haveBase {
		named["default"] = base
	}
	if withTools {
		if t, ok := named["tool_use"]; ok && strings.TrimSpace(t) != "" {
			return t, nil
		}
	}
	if t, ok := named["default"]; ok && strings.TrimSpace(t) != "" {
		return t, nil
	}
	names := make([]string, 0, len(named))
	for n := range named {
		names = append(names, n)
	}
	sort.Strings(names)
	return "", fmt.Errorf("%w: named templates %q have no \"default\"", ErrNoTemplate, names)
}

// Template is a parsed chat template. It is safe for concurrent use.
type Template struct {
	src string
	tpl *jinja.Template
}

// Parse compiles a chat template source.
func Parse(src string) (*Template, error) {
	tpl, err := jinja.Compile(rewriteFilters(src, privateFilters))
	if err != nil {
		return nil, fmt.Errorf("chattemplate: %w", err)
	}
	return &Template{src: src, tpl: tpl}, nil
}

// privateFilters maps the filters this package implements itself to the
// private names Parse gives them: ardanlabs/jinja looks its built-in filters
// up first and only falls back to template variables for unknown names.
var privateFilters = map[string]string{
	"tojson": tojsonName,
	"string": stringName,
	"format": formatName,
}

// Source returns the template text given to Parse.
func (t *Template) Source() string { return t.src }

// Request is what a template is rendered with.
type Request struct {
	// Messages is the OpenAI-style messages array (order-preserving). It is
	// massaged as mlx-lm's server does before rendering (see the package
	// documentation).
	Messages json.RawMessage
	// Tools is the tools array; nil (or JSON null) when absent: the template
	// then sees None.
	Tools json.RawMessage
	// AddGenerationPrompt asks the template to open the assistant turn.
	AddGenerationPrompt bool
	// Special tokens from tokenizer_config.json; an empty one is left
	// undefined in the template, as transformers does for unset tokens.
	BOSToken, EOSToken, UnkToken, PadToken string
	// Kwargs are chat_template_kwargs (enable_thinking, reasoning_effort,
	// builtin_tools, date_string, …), set as template variables on top of
	// the special tokens. Callers wanting mlx-lm's default set
	// enable_thinking=true themselves when the vocabulary has <think>.
	Kwargs map[string]json.RawMessage
	// Now is the clock of strftime_now; time.Now when nil. The time is
	// formatted in its own location.
	Now func() time.Time
}

// errEnginePanic marks a panic inside the template engine, turned into an
// error by Render (FuzzRender fails on it).
var errEnginePanic = errors.New("chattemplate: template engine panicked")

// reserved are the variables transformers passes itself; Python would raise
// "got multiple values for keyword argument" if kwargs repeated them.
var reserved = map[string]bool{"messages": true, "tools": true, "documents": true, "add_generation_prompt": true}

// Render renders the template for req with transformers' environment
// (trim_blocks, lstrip_blocks, loopcontrols, raise_exception, strftime_now,
// tojson as Python json.dumps with ensure_ascii=False, insertion order kept).
// A template's raise_exception(msg) comes back as an error wrapping a
// *TemplateError whose Message is msg. Request errors (invalid JSON,
// messages not an array, a non-text content part, tool-call arguments that
// are not JSON) are returned before rendering.
func (t *Template) Render(req Request) (out string, err error) {
	defer func() {
		// A bug in the engine must not take a server down: report it.
		if r := recover(); r != nil {
			out, err = "", fmt.Errorf("%w: %v", errEnginePanic, r)
		}
	}()
	data, err := buildData(req)
	if err != nil {
		return "", err
	}
	out, err = t.tpl.RenderValues(data)
	if err != nil {
		return "", fmt.Errorf("chattemplate: render: %w", err)
	}
	return out, nil
}

func buildData(req Request) (map[string]jinja.Value, error) {
	messages, err := decodeJSON(req.Messages)
	if err != nil {
		return nil, fmt.Errorf("chattemplate: messages: %w", err)
	}
	if !messages.IsList() {
		return nil, fmt.Errorf("chattemplate: messages must be a JSON array")
	}
	if err := massageMessages(messages); err != nil {
		return nil, err
	}
	tools := jinja.None()
	if len(strings.TrimSpace(string(req.Tools))) > 0 {
		tools, err = decodeJSON(req.Tools)
		if err != nil {
			return nil, fmt.Errorf("chattemplate: tools: %w", err)
		}
	}

	data := map[string]jinja.Value{
		"messages":              messages,
		"tools":                 tools,
		"documents":             jinja.None(),
		"add_generation_prompt": jinja.NewBool(req.AddGenerationPrompt),
	}
	for name, tok := range map[string]string{
		"bos_token": req.BOSToken, "eos_token": req.EOSToken,
		"unk_token": req.UnkToken, "pad_token": req.PadToken,
	} {
		if tok != "" {
			data[name] = jinja.NewString(tok)
		}
	}
	for k, raw := range req.Kwargs {
		if reserved[k] {
			return nil, fmt.Errorf("chattemplate: chat_template_kwargs may not set %q", k)
		}
		v, err := decodeJSON(raw)
		if err != nil {
			return nil, fmt.Errorf("chattemplate: chat_template_kwargs %q: %w", k, err)
		}
		data[k] = v
	}

	now := req.Now
	if now == nil {
		now = time.Now
	}
	data["strftime_now"] = jinja.NewCallable("strftime_now", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
		if len(args) != 1 || !args[0].IsString() {
			return jinja.Undefined(), fmt.Errorf("strftime_now expects one format string")
		}
		return jinja.NewString(strftime(now(), args[0].AsString())), nil
	})
	data["raise_exception"] = jinja.NewCallable("raise_exception", func(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
		if len(args) == 0 {
			return jinja.Undefined(), errors.New("raise_exception called without a message")
		}
		msg := args[0].String()
		if args[0].IsString() {
			msg = args[0].AsString()
		}
		return jinja.Undefined(), &TemplateError{Message: msg}
	})
	data[tojsonName] = jinja.NewCallable("tojson", filterTojson)
	data[stringName] = jinja.NewCallable("string", filterString)
	data[formatName] = jinja.NewCallable("format", filterFormat)
	return data, nil
}

// TemplateError is the error of a template's raise_exception call (Python's
// jinja2.TemplateError); Render returns it wrapped.
type TemplateError struct {
	Message string
}

func (e *TemplateError) Error() string { return e.Message }
