package openai

import (
	"bytes"
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// fields is a JSON object being decoded: each reader removes the key it
// reads, so what is left at the end is what the server does not know.
// A JSON null counts as absent, as OpenAI's API treats optional fields.
type fields map[string]json.RawMessage

// parseObject reads the request body as one JSON object.
func parseObject(body []byte) (fields, *Error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, Errorf(http.StatusBadRequest, CodeInvalidJSON, "", "the request body is empty; send a JSON object")
	}
	if body[0] != '{' {
		return nil, Errorf(http.StatusBadRequest, CodeInvalidJSON, "", "the request body must be a JSON object")
	}
	var f fields
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&f); err != nil {
		return nil, Errorf(http.StatusBadRequest, CodeInvalidJSON, "", "malformed JSON: %v", err)
	}
	if dec.More() {
		return nil, Errorf(http.StatusBadRequest, CodeInvalidJSON, "", "malformed JSON: data after the object")
	}
	return f, nil
}

// take removes and returns a field; ok is false when it is absent or null.
func (f fields) take(name string) (json.RawMessage, bool) {
	raw, ok := f[name]
	delete(f, name)
	if !ok || isNull(raw) {
		return nil, false
	}
	return raw, true
}

func isNull(raw json.RawMessage) bool { return string(bytes.TrimSpace(raw)) == "null" }

// rest reports the first field left over (in name order, so the error is
// stable), as unsupported.
func (f fields) rest(prefix string) *Error {
	if len(f) == 0 {
		return nil
	}
	names := make([]string, 0, len(f))
	for k := range f {
		names = append(names, k)
	}
	slices.Sort(names)
	return Errorf(http.StatusBadRequest, CodeUnsupportedField, prefix+names[0],
		"field %q is not supported by this server", prefix+names[0])
}

func invalid(param, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, CodeInvalidValue, param, format, args...)
}

func unsupported(param, format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, CodeUnsupportedValue, param, format, args...)
}

func (f fields) str(name string) (string, bool, *Error) {
	raw, ok := f.take(name)
	if !ok {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false, invalid(name, "%s must be a string", name)
	}
	return s, true, nil
}

func (f fields) boolean(name string) (bool, bool, *Error) {
	raw, ok := f.take(name)
	if !ok {
		return false, false, nil
	}
	switch string(bytes.TrimSpace(raw)) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, false, invalid(name, "%s must be true or false", name)
}

// number reads a finite number in [lo, hi].
func (f fields) number(name string, lo, hi float64) (float64, bool, *Error) {
	raw, ok := f.take(name)
	if !ok {
		return 0, false, nil
	}
	v, err := parseNumber(raw)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false, invalid(name, "%s must be a number", name)
	}
	if v < lo || v > hi {
		return 0, false, invalid(name, "%s must be between %s and %s, got %s", name, fmtNum(lo), fmtNum(hi), fmtNum(v))
	}
	return v, true, nil
}

// integer reads an integer in [lo, hi] (a number with no fraction, so
// 5.0 is 5, as Python clients may send it).
func (f fields) integer(name string, lo, hi int64) (int64, bool, *Error) {
	raw, ok := f.take(name)
	if !ok {
		return 0, false, nil
	}
	n, err := parseInteger(raw)
	if err != nil {
		return 0, false, invalid(name, "%s must be an integer", name)
	}
	if n < lo || n > hi {
		return 0, false, invalid(name, "%s must be between %d and %d, got %d", name, lo, hi, n)
	}
	return n, true, nil
}

func parseNumber(raw json.RawMessage) (float64, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, err
	}
	return strconv.ParseFloat(n.String(), 64)
}

func parseInteger(raw json.RawMessage) (int64, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, err
	}
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return i, nil
	}
	v, err := strconv.ParseFloat(n.String(), 64)
	if err != nil || v != math.Trunc(v) || math.Abs(v) > 1<<53 {
		return 0, strconv.ErrSyntax
	}
	return int64(v), nil
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// object reads a nested JSON object.
func (f fields) object(name string) (fields, bool, *Error) {
	raw, ok := f.take(name)
	if !ok {
		return nil, false, nil
	}
	var o fields
	if err := json.Unmarshal(raw, &o); err != nil || o == nil {
		return nil, false, invalid(name, "%s must be an object", name)
	}
	return o, true, nil
}

// stringOrList reads a string or an array of strings (stop).
func stringOrList(raw json.RawMessage, param string) ([]string, *Error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, invalid(param, "%s must be a string or an array of strings", param)
	}
	return many, nil
}

// joinParam names a nested field the way OpenAI does ("messages[0].content").
func joinParam(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// joinedText reads a string, or an array of parts joined into one string
// with part reading each (p names the value in errors, each part p[i]).
func joinedText(raw json.RawMessage, p, what string, part func(fields, string) (string, *Error)) (string, *Error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []fields
	if json.Unmarshal(raw, &parts) != nil {
		return "", invalid(p, "%s must be a string or an array of %s", p, what)
	}
	var b strings.Builder
	for i, pt := range parts {
		pp := p + "[" + strconv.Itoa(i) + "]"
		if pt == nil {
			return "", invalid(pp, "%s must be an object", pp)
		}
		t, e := part(pt, pp)
		if e != nil {
			return "", e
		}
		b.WriteString(t)
	}
	return b.String(), nil
}

// readTools reads the tools array, if one was sent, with read turning
// each tool object into a Tool (p names it in errors; read checks that
// nothing is left over), and sets tool_choice's default: "auto" with
// tools, "none" without. It returns the array as sent.
func (r *Request) readTools(f fields, read func(t fields, p string) (Tool, *Error)) (json.RawMessage, *Error) {
	raw, ok := f.take("tools")
	if ok {
		var list []fields
		if err := json.Unmarshal(raw, &list); err != nil {
			return nil, invalid("tools", "tools must be an array of tool objects")
		}
		for i, t := range list {
			p := "tools[" + strconv.Itoa(i) + "]"
			if t == nil {
				return nil, invalid(p, "%s must be an object", p)
			}
			tool, e := read(t, p)
			if e != nil {
				return nil, e
			}
			r.Tools = append(r.Tools, tool)
		}
	}
	r.ToolChoice = ToolChoice{Mode: "auto"}
	if len(r.Tools) == 0 {
		r.ToolChoice.Mode = "none"
	}
	return raw, nil
}

// model takes the required "model": a name that is not blank.
func (f fields) model() (string, *Error) {
	m, ok, e := f.str("model")
	if e != nil {
		return "", e
	}
	if !ok || strings.TrimSpace(m) == "" {
		return "", Errorf(http.StatusBadRequest, CodeMissingField, "model", "model is required")
	}
	return m, nil
}
