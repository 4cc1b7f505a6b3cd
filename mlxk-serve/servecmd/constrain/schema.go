// Package constrain makes a model's output valid JSON, and valid against a
// JSON Schema, by masking at every step the tokens that would break it
// (response_format json_object and json_schema). A byte-level pushdown
// automaton follows the text; a trie over the vocabulary's token bytes
// finds every token it accepts in one walk.
//
// Schemas are compiled into a small node graph. Supported keywords: type
// (one or a list), properties, required, additionalProperties (boolean or
// schema; absent means allowed), items, minItems, maxItems, enum, const,
// anyOf/oneOf whose alternatives start differently (an object and a
// string, not two objects), $ref into $defs/definitions (recursion
// allowed), and the annotations title, description, default, examples,
// $schema, $id, $comment. Anything else (pattern, format, minimum,
// maxLength, allOf, ...) is refused with an *UnsupportedError naming it,
// rather than being silently not enforced.
package constrain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

type kind uint8

const (
	kAny kind = iota
	kObject
	kArray
	kString
	kNumber
	kInteger
	kBoolean
	kNull
	kEnum
	kUnion
)

// maxCandidates bounds enum values and object properties: candidate sets
// are 64-bit masks.
const maxCandidates = 64

// node is one compiled schema.
type node struct {
	kind kind
	// object
	props      []*node  // property value schemas
	keyLits    []string // the properties' JSON-encoded names ("name")
	required   uint64
	additional *node // nil: no other keys
	// array
	items              *node
	minItems, maxItems int // maxItems < 0: no limit
	// enum
	lits []string
	// union
	alts []*node
	// a $ref not resolved yet
	ref string
}

var (
	anyNode    = &node{kind: kAny}
	anyObject  = &node{kind: kObject, additional: anyNode}
	anyArray   = &node{kind: kArray, items: anyNode, maxItems: -1}
	boolLits   = []string{"true", "false"}
	nullLits   = []string{"null"}
	annotation = map[string]bool{"title": true, "description": true, "default": true, "examples": true,
		"$schema": true, "$id": true, "$comment": true, "$defs": true, "definitions": true, "strict": true}
)

// UnsupportedError names a schema feature this package cannot enforce.
type UnsupportedError struct {
	Path, Feature string
}

func (e *UnsupportedError) Error() string {
	at := e.Path
	if at == "" {
		at = "the schema root"
	}
	return fmt.Sprintf("json_schema: %s at %s is not supported", e.Feature, at)
}

// Grammar is a compiled constraint: the root value to generate, between
// fixed texts (a tool call's markup) when wrapped.
type Grammar struct {
	root           *node
	prefix, suffix string
}

// Wrap returns a grammar for prefix, then a value of g, then suffix:
// <tool_call>{…}</tool_call> for a call the model must make.
func (g *Grammar) Wrap(prefix, suffix string) *Grammar {
	return &Grammar{root: g.root, prefix: prefix, suffix: suffix}
}

// JSONObject is the grammar of response_format json_object: any JSON
// object.
func JSONObject() *Grammar { return &Grammar{root: anyObject} }

// Compile compiles a JSON Schema.
func Compile(schema json.RawMessage) (*Grammar, error) {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(schema, &doc); err != nil || doc == nil {
		return nil, &UnsupportedError{Feature: "a schema that is not a JSON object"}
	}
	c := &compiler{defs: map[string]json.RawMessage{}, done: map[string]*node{}}
	for _, key := range []string{"$defs", "definitions"} {
		var defs map[string]json.RawMessage
		if raw, ok := doc[key]; ok {
			if err := json.Unmarshal(raw, &defs); err != nil {
				return nil, &UnsupportedError{Path: key, Feature: "a definitions block that is not an object"}
			}
			for name, d := range defs {
				c.defs["#/"+key+"/"+name] = d
			}
		}
	}
	root, err := c.compile(schema, "")
	if err != nil {
		return nil, err
	}
	if err := c.resolve(); err != nil {
		return nil, err
	}
	return &Grammar{root: root}, nil
}

type compiler struct {
	defs    map[string]json.RawMessage
	done    map[string]*node
	pending []*node
}

func (c *compiler) compile(raw json.RawMessage, path string) (*node, error) {
	t := bytes.TrimSpace(raw)
	switch string(t) {
	case "true", "{}":
		return anyNode, nil
	case "false":
		return nil, &UnsupportedError{Path: path, Feature: "the schema false"}
	}
	var s map[string]json.RawMessage
	if err := json.Unmarshal(t, &s); err != nil || s == nil {
		return nil, &UnsupportedError{Path: path, Feature: "a schema that is not an object"}
	}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch k {
		case "type", "properties", "required", "additionalProperties", "items", "minItems", "maxItems",
			"enum", "const", "anyOf", "oneOf", "$ref":
		default:
			if !annotation[k] {
				return nil, &UnsupportedError{Path: path, Feature: "keyword " + k}
			}
		}
	}
	if ref, ok := s["$ref"]; ok {
		var r string
		if json.Unmarshal(ref, &r) != nil {
			return nil, &UnsupportedError{Path: path, Feature: "a $ref that is not a string"}
		}
		if len(s) > 1 && !onlyAnnotations(s, "$ref") {
			return nil, &UnsupportedError{Path: path, Feature: "$ref next to other keywords"}
		}
		return c.ref(r, path)
	}
	if raw, ok := s["const"]; ok {
		lit, err := canonical(raw)
		if err != nil {
			return nil, &UnsupportedError{Path: path, Feature: "const"}
		}
		return &node{kind: kEnum, lits: []string{lit}}, nil
	}
	if raw, ok := s["enum"]; ok {
		var vals []json.RawMessage
		if json.Unmarshal(raw, &vals) != nil || len(vals) == 0 || len(vals) > maxCandidates {
			return nil, &UnsupportedError{Path: path, Feature: fmt.Sprintf("an enum that is not an array of 1-%d values", maxCandidates)}
		}
		n := &node{kind: kEnum}
		for _, v := range vals {
			lit, err := canonical(v)
			if err != nil {
				return nil, &UnsupportedError{Path: path, Feature: "enum"}
			}
			n.lits = append(n.lits, lit)
		}
		return n, nil
	}
	for _, k := range []string{"anyOf", "oneOf"} {
		if raw, ok := s[k]; ok {
			var alts []json.RawMessage
			if json.Unmarshal(raw, &alts) != nil || len(alts) == 0 {
				return nil, &UnsupportedError{Path: path, Feature: k + " that is not a non-empty array"}
			}
			u := &node{kind: kUnion}
			for i, a := range alts {
				n, err := c.compile(a, fmt.Sprintf("%s/%s/%d", path, k, i))
				if err != nil {
					return nil, err
				}
				u.alts = append(u.alts, n)
			}
			c.pending = append(c.pending, u)
			return u, nil
		}
	}
	var types []string
	if raw, ok := s["type"]; ok {
		var one string
		if json.Unmarshal(raw, &one) == nil {
			types = []string{one}
		} else if json.Unmarshal(raw, &types) != nil || len(types) == 0 {
			return nil, &UnsupportedError{Path: path, Feature: "a type that is not a string or a list of strings"}
		}
	}
	if len(types) == 0 {
		// No type: infer from the keywords, else any value.
		switch {
		case s["properties"] != nil || s["additionalProperties"] != nil || s["required"] != nil:
			types = []string{"object"}
		case s["items"] != nil:
			types = []string{"array"}
		default:
			return anyNode, nil
		}
	}
	var alts []*node
	for _, t := range types {
		n, err := c.typed(t, s, path)
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
	}
	if len(alts) == 1 {
		return alts[0], nil
	}
	u := &node{kind: kUnion, alts: alts}
	c.pending = append(c.pending, u)
	return u, nil
}

func onlyAnnotations(s map[string]json.RawMessage, except string) bool {
	for k := range s {
		if k != except && !annotation[k] {
			return false
		}
	}
	return true
}

func (c *compiler) typed(t string, s map[string]json.RawMessage, path string) (*node, error) {
	switch t {
	case "string":
		return &node{kind: kString}, nil
	case "number":
		return &node{kind: kNumber}, nil
	case "integer":
		return &node{kind: kInteger}, nil
	case "boolean":
		return &node{kind: kEnum, lits: boolLits}, nil
	case "null":
		return &node{kind: kEnum, lits: nullLits}, nil
	case "object":
		return c.object(s, path)
	case "array":
		return c.array(s, path)
	}
	return nil, &UnsupportedError{Path: path, Feature: fmt.Sprintf("type %q", t)}
}

func (c *compiler) object(s map[string]json.RawMessage, path string) (*node, error) {
	n := &node{kind: kObject, additional: anyNode}
	var props map[string]json.RawMessage
	if raw, ok := s["properties"]; ok {
		if json.Unmarshal(raw, &props) != nil {
			return nil, &UnsupportedError{Path: path, Feature: "properties that are not an object"}
		}
	}
	if len(props) > maxCandidates {
		return nil, &UnsupportedError{Path: path, Feature: fmt.Sprintf("more than %d properties", maxCandidates)}
	}
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	sort.Strings(names)
	index := map[string]int{}
	for i, name := range names {
		p, err := c.compile(props[name], path+"/properties/"+name)
		if err != nil {
			return nil, err
		}
		lit, _ := json.Marshal(name)
		n.props = append(n.props, p)
		n.keyLits = append(n.keyLits, string(lit))
		index[name] = i
	}
	if raw, ok := s["required"]; ok {
		var req []string
		if json.Unmarshal(raw, &req) != nil {
			return nil, &UnsupportedError{Path: path, Feature: "required that is not a list of names"}
		}
		for _, name := range req {
			i, ok := index[name]
			if !ok {
				return nil, &UnsupportedError{Path: path, Feature: fmt.Sprintf("required property %q without a schema in properties", name)}
			}
			n.required |= 1 << i
		}
	}
	if raw, ok := s["additionalProperties"]; ok {
		switch string(bytes.TrimSpace(raw)) {
		case "false":
			n.additional = nil
		case "true":
		default:
			a, err := c.compile(raw, path+"/additionalProperties")
			if err != nil {
				return nil, err
			}
			n.additional = a
		}
	}
	return n, nil
}

func (c *compiler) array(s map[string]json.RawMessage, path string) (*node, error) {
	n := &node{kind: kArray, items: anyNode, maxItems: -1}
	if raw, ok := s["items"]; ok {
		it, err := c.compile(raw, path+"/items")
		if err != nil {
			return nil, err
		}
		n.items = it
	}
	for _, k := range []string{"minItems", "maxItems"} {
		if raw, ok := s[k]; ok {
			var v int
			if json.Unmarshal(raw, &v) != nil || v < 0 {
				return nil, &UnsupportedError{Path: path, Feature: k + " that is not a non-negative integer"}
			}
			if k == "minItems" {
				n.minItems = v
			} else {
				n.maxItems = v
			}
		}
	}
	if n.maxItems >= 0 && n.maxItems < n.minItems {
		return nil, &UnsupportedError{Path: path, Feature: "maxItems below minItems"}
	}
	return n, nil
}

// ref returns the node of a local reference; definitions compile once,
// and a reference to one still being compiled (recursion) is patched
// when its compilation ends.
func (c *compiler) ref(r, path string) (*node, error) {
	if n, ok := c.done[r]; ok {
		return n, nil
	}
	raw, ok := c.defs[r]
	if !ok {
		if r == "#" {
			return nil, &UnsupportedError{Path: path, Feature: "a $ref to the root"}
		}
		return nil, &UnsupportedError{Path: path, Feature: fmt.Sprintf("$ref %q (only #/$defs/... and #/definitions/...)", r)}
	}
	placeholder := &node{ref: r}
	c.done[r] = placeholder
	n, err := c.compile(raw, r)
	if err != nil {
		return nil, err
	}
	*placeholder = *n
	return placeholder, nil
}

// resolve checks that every union's alternatives begin with different
// bytes, so the first byte of a value picks its alternative.
func (c *compiler) resolve() error {
	for _, u := range c.pending {
		var seen [256]int
		for i, a := range u.alts {
			for b := range 256 {
				if startsWith(a, byte(b), 0) {
					if seen[b] != 0 {
						return &UnsupportedError{Feature: fmt.Sprintf("anyOf/oneOf alternatives %d and %d that both start with %q", seen[b]-1, i, string(rune(b)))}
					}
					seen[b] = i + 1
				}
			}
		}
	}
	return nil
}

// startsWith reports whether a value of n can begin with b.
func startsWith(n *node, b byte, depth int) bool {
	if depth > 32 {
		return false
	}
	switch n.kind {
	case kAny:
		return strings.IndexByte(`{["-0123456789tfn`, b) >= 0
	case kObject:
		return b == '{'
	case kArray:
		return b == '['
	case kString:
		return b == '"'
	case kNumber, kInteger:
		return b == '-' || b >= '0' && b <= '9'
	case kEnum:
		for _, l := range n.lits {
			if l[0] == b {
				return true
			}
		}
	case kUnion:
		for _, a := range n.alts {
			if startsWith(a, b, depth+1) {
				return true
			}
		}
	}
	return false
}

// canonical is the compact JSON text of a value, as the model must write
// an enum member.
func canonical(raw json.RawMessage) (string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
