package chattemplate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ardanlabs/jinja"
)

// decodeJSON converts one JSON value into a Jinja value, keeping object key
// order (a duplicate key keeps its first position and its last value, like
// Python's json.loads) and integers as integers. Integers beyond int64
// become floats (Python would keep them exact).
func decodeJSON(data []byte) (jinja.Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return jinja.Undefined(), err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("trailing data after the JSON value")
		}
		return jinja.Undefined(), err
	}
	return v, nil
}

func decodeValue(dec *json.Decoder) (jinja.Value, error) {
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return jinja.Undefined(), err
	}
	switch t := tok.(type) {
	case nil:
		return jinja.None(), nil
	case bool:
		return jinja.NewBool(t), nil
	case string:
		return jinja.NewString(t), nil
	case json.Number:
		return numberValue(string(t))
	case json.Delim:
		switch t {
		case '[':
			var items []jinja.Value
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return jinja.Undefined(), err
				}
				items = append(items, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return jinja.Undefined(), err
			}
			if items == nil {
				items = []jinja.Value{}
			}
			return jinja.NewList(items), nil
		case '{':
			d := jinja.NewDict()
			dict := d.AsDict()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return jinja.Undefined(), err
				}
				key, ok := kt.(string)
				if !ok {
					return jinja.Undefined(), fmt.Errorf("object key %v is not a string", kt)
				}
				v, err := decodeValue(dec)
				if err != nil {
					return jinja.Undefined(), err
				}
				dict.Set(key, v)
			}
			if _, err := dec.Token(); err != nil { // '}'
				return jinja.Undefined(), err
			}
			return d, nil
		}
	}
	return jinja.Undefined(), fmt.Errorf("unexpected JSON token %v", tok)
}

func numberValue(s string) (jinja.Value, error) {
	if !strings.ContainsAny(s, ".eE") {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return jinja.NewInt(i), nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return jinja.Undefined(), fmt.Errorf("bad number %q", s)
	}
	return jinja.NewFloat(f), nil
}

// massageMessages applies mlx-lm's server preprocessing
// (mlx_lm/server.py:process_message_content) in place:
//
//   - content that is a list of parts becomes the concatenation of their
//     "text"; a part whose type is not "text" is an error ("Only 'text'
//     content type is supported.");
//   - null or missing content becomes "";
//   - a non-empty tool_calls[].function.arguments string is parsed as JSON
//     (invalid JSON is an error). Arguments that are already an object are
//     kept (mlx-lm would fail on them).
func massageMessages(messages jinja.Value) error {
	for i, m := range messages.AsList().Items {
		if !m.IsDict() {
			return fmt.Errorf("chattemplate: message %d is not an object", i)
		}
		msg := m.AsDict()
		content, _ := msg.Get("content")
		switch {
		case content.IsList():
			var sb strings.Builder
			for j, part := range content.AsList().Items {
				if !part.IsDict() {
					return fmt.Errorf("chattemplate: message %d content part %d is not an object", i, j)
				}
				typ, _ := part.AsDict().Get("type")
				if !typ.IsString() || typ.AsString() != "text" {
					return fmt.Errorf("chattemplate: message %d content part %d: only 'text' content type is supported", i, j)
				}
				text, _ := part.AsDict().Get("text")
				if !text.IsString() {
					return fmt.Errorf("chattemplate: message %d content part %d has no text string", i, j)
				}
				sb.WriteString(text.AsString())
			}
			msg.Set("content", jinja.NewString(sb.String()))
		case content.IsNone() || content.IsUndefined():
			msg.Set("content", jinja.NewString(""))
		}

		calls, _ := msg.Get("tool_calls")
		if !calls.IsList() {
			continue
		}
		for j, c := range calls.AsList().Items {
			if !c.IsDict() {
				continue
			}
			fn, _ := c.AsDict().Get("function")
			if !fn.IsDict() {
				continue
			}
			args, _ := fn.AsDict().Get("arguments")
			if !args.IsString() || args.AsString() == "" {
				continue
			}
			parsed, err := decodeJSON([]byte(args.AsString()))
			if err != nil {
				return fmt.Errorf("chattemplate: message %d tool_calls[%d].function.arguments: %w", i, j, err)
			}
			fn.AsDict().Set("arguments", parsed)
		}
	}
	return nil
}
