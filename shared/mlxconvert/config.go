package mlxconvert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/mlxk/mlxk/shared/pyjson"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Config is a JSON object that keeps its keys in order, so a converted
// model's config.json lists the source's keys as the source did. Nested
// objects are *Config too; numbers parsed from text stay json.Number so they
// are written back exactly as read.
type Config struct {
	keys []string
	vals map[string]any
}

// NewConfig returns an empty object.
func NewConfig() *Config { return &Config{vals: map[string]any{}} }

// maxConfigDepth bounds nesting so hostile input cannot exhaust the stack.
const maxConfigDepth = 64

// ParseConfig parses a JSON object, keeping key order. A repeated key keeps
// its first position and its last value (as Python's json does).
func ParseConfig(b []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("config: not a JSON object")
	}
	c, err := parseObject(dec, 1)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("config: data after the JSON object")
	}
	return c, nil
}

func parseObject(dec *json.Decoder, depth int) (*Config, error) {
	c := NewConfig()
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return c, nil
		}
		key, _ := tok.(string)
		v, err := parseValue(dec, depth)
		if err != nil {
			return nil, err
		}
		c.Append(key, v)
	}
}

func parseValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxConfigDepth {
		return nil, fmt.Errorf("nested deeper than %d", maxConfigDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return parseObject(dec, depth+1)
		}
		if t == '[' {
			arr := []any{}
			for dec.More() {
				v, err := parseValue(dec, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, err
			}
			return arr, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	default:
		return t, nil // string, json.Number, bool, nil
	}
}

// Keys lists the keys in order.
func (c *Config) Keys() []string { return slices.Clone(c.keys) }

// Get returns the value of key.
func (c *Config) Get(key string) (any, bool) {
	v, ok := c.vals[key]
	return v, ok
}

// Has reports whether key is present.
func (c *Config) Has(key string) bool { _, ok := c.vals[key]; return ok }

// Set replaces the value of an existing key in place; a new key goes before
// the first existing key that sorts after it, so a sorted object (as mlx-lm
// writes) stays sorted and an unsorted one keeps its order.
func (c *Config) Set(key string, v any) {
	if _, ok := c.vals[key]; ok {
		c.vals[key] = v
		return
	}
	i := slices.IndexFunc(c.keys, func(k string) bool { return k > key })
	if i < 0 {
		i = len(c.keys)
	}
	c.keys = slices.Insert(c.keys, i, key)
	c.vals[key] = v
}

// Append adds a new key at the end (or replaces an existing key's value in place).
func (c *Config) Append(key string, v any) {
	if _, ok := c.vals[key]; !ok {
		c.keys = append(c.keys, key)
	}
	c.vals[key] = v
}

// Delete removes key.
func (c *Config) Delete(key string) {
	if _, ok := c.vals[key]; !ok {
		return
	}
	delete(c.vals, key)
	c.keys = slices.DeleteFunc(c.keys, func(k string) bool { return k == key })
}

// String returns the string value of key, or "".
func (c *Config) String(key string) string {
	s, _ := c.vals[key].(string)
	return s
}

// Marshal renders the object as Python's json.dump(obj, f, indent=4) does
// (the format of mlx-lm's config.json): 4-space indent, ", " never used,
// ": " after keys, non-ASCII escaped, floats in Python's repr.
func (c *Config) Marshal() ([]byte, error) {
	var b bytes.Buffer
	if err := writeValue(&b, c, 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeValue(b *bytes.Buffer, v any, depth int) error {
	if depth > maxConfigDepth {
		return fmt.Errorf("config: nested deeper than %d", maxConfigDepth)
	}
	indent := func(d int) { b.WriteByte('\n'); b.WriteString(strings.Repeat("    ", d)) }
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case string:
		b.Write(pyjson.AppendString(nil, t))
	case json.Number:
		b.WriteString(string(t))
	case int:
		b.WriteString(strconv.Itoa(t))
	case int64:
		b.WriteString(strconv.FormatInt(t, 10))
	case float64:
		s, err := pyFloat(t)
		if err != nil {
			return err
		}
		b.WriteString(s)
	case []float64:
		return writeValue(b, toAny(t), depth)
	case []int:
		return writeValue(b, toAny(t), depth)
	case []string:
		return writeValue(b, toAny(t), depth)
	case []any:
		if len(t) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			indent(depth + 1)
			if err := writeValue(b, e, depth+1); err != nil {
				return err
			}
		}
		indent(depth)
		b.WriteByte(']')
	case map[string]any:
		c := NewConfig()
		for _, k := range slices.Sorted(maps.Keys(t)) {
			c.Append(k, t[k])
		}
		return writeValue(b, c, depth)
	case *Config:
		if len(t.keys) == 0 {
			b.WriteString("{}")
			return nil
		}
		b.WriteByte('{')
		for i, k := range t.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			indent(depth + 1)
			b.Write(pyjson.AppendString(nil, k))
			b.WriteString(": ")
			if err := writeValue(b, t.vals[k], depth+1); err != nil {
				return err
			}
		}
		indent(depth)
		b.WriteByte('}')
	default:
		return fmt.Errorf("config: cannot encode %T", v)
	}
	return nil
}

func toAny[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// pyFloat formats f as Python's repr(float): shortest round-trip digits,
// fixed notation for 1e-4 <= |f| < 1e16 (with ".0" when integral),
// otherwise exponent notation with at least two exponent digits.
func pyFloat(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("config: %v has no JSON form", f)
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0", nil
		}
		return "0.0", nil
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, exp, _ := strings.Cut(e, "e")
	x, _ := strconv.Atoi(exp)
	decpt := x + 1
	if decpt <= -4 || decpt > 16 {
		sign := "+"
		if x < 0 {
			sign, x = "-", -x
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, x), nil
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s, nil
}
