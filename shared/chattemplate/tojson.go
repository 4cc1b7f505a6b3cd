package chattemplate

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ardanlabs/jinja"
)

// tojsonName is the private filter name Parse gives tojson, so that the
// engine (which prefers its built-in filters) calls filterTojson instead.
const tojsonName = "mlxk_tojson"

// filterTojson is transformers' tojson filter:
//
//	json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
//
// Positional arguments follow that order after the value.
func filterTojson(args []jinja.Value, kwargs map[string]jinja.Value) (jinja.Value, error) {
	if len(args) == 0 {
		return jinja.Undefined(), fmt.Errorf("tojson: missing value")
	}
	var o jsonOpts
	get := func(pos int, name string) (jinja.Value, bool) {
		if v, ok := kwargs[name]; ok {
			return v, true
		}
		if pos < len(args) {
			return args[pos], true
		}
		return jinja.Undefined(), false
	}
	if v, ok := get(1, "ensure_ascii"); ok {
		o.ensureASCII = v.IsTruthy()
	}
	if v, ok := get(2, "indent"); ok && !v.IsNone() && !v.IsUndefined() {
		switch {
		case v.IsInt():
			o.indent = strings.Repeat(" ", int(max(0, min(v.AsInt(), 64))))
		case v.IsString():
			o.indent = v.AsString()
		default:
			return jinja.Undefined(), fmt.Errorf("tojson: indent must be an integer or a string")
		}
		o.hasIndent = true
	}
	o.itemSep, o.keySep = ", ", ": "
	if o.hasIndent {
		o.itemSep = ","
	}
	if v, ok := get(3, "separators"); ok && !v.IsNone() && !v.IsUndefined() {
		if !v.IsList() || v.AsList().Len() != 2 || !v.AsList().Get(0).IsString() || !v.AsList().Get(1).IsString() {
			return jinja.Undefined(), fmt.Errorf("tojson: separators must be two strings")
		}
		o.itemSep, o.keySep = v.AsList().Get(0).AsString(), v.AsList().Get(1).AsString()
	}
	if v, ok := get(4, "sort_keys"); ok {
		o.sortKeys = v.IsTruthy()
	}
	var sb strings.Builder
	if err := o.encode(&sb, args[0], 0); err != nil {
		return jinja.Undefined(), err
	}
	return jinja.NewString(sb.String()), nil
}

type jsonOpts struct {
	ensureASCII bool
	hasIndent   bool
	indent      string
	itemSep     string
	keySep      string
	sortKeys    bool
}

// pyJSON returns json.dumps(v, ensure_ascii=False) of a value.
func pyJSON(v jinja.Value) (string, error) {
	o := jsonOpts{itemSep: ", ", keySep: ": "}
	var sb strings.Builder
	err := o.encode(&sb, v, 0)
	return sb.String(), err
}

func (o *jsonOpts) newline(sb *strings.Builder, depth int) {
	sb.WriteByte('\n')
	for range depth {
		sb.WriteString(o.indent)
	}
}

func (o *jsonOpts) encode(sb *strings.Builder, v jinja.Value, depth int) error {
	switch {
	case v.IsNone():
		sb.WriteString("null")
	case v.IsBool():
		if v.AsBool() {
			sb.WriteString("true")
		} else {
			sb.WriteString("false")
		}
	case v.IsInt():
		sb.WriteString(strconv.FormatInt(v.AsInt(), 10))
	case v.IsFloat():
		sb.WriteString(pyFloatRepr(v.AsFloat()))
	case v.IsString():
		o.encodeString(sb, v.AsString())
	case v.IsList():
		items := v.AsList().Items
		if len(items) == 0 {
			sb.WriteString("[]")
			return nil
		}
		sb.WriteByte('[')
		for i, item := range items {
			if i > 0 {
				sb.WriteString(o.itemSep)
			}
			if o.hasIndent {
				o.newline(sb, depth+1)
			}
			if err := o.encode(sb, item, depth+1); err != nil {
				return err
			}
		}
		if o.hasIndent {
			o.newline(sb, depth)
		}
		sb.WriteByte(']')
	case v.IsDict():
		d := v.AsDict()
		if d.Len() == 0 {
			sb.WriteString("{}")
			return nil
		}
		keys := d.Keys
		if o.sortKeys {
			keys = append([]string(nil), keys...)
			sort.Strings(keys)
		}
		sb.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				sb.WriteString(o.itemSep)
			}
			if o.hasIndent {
				o.newline(sb, depth+1)
			}
			o.encodeString(sb, k)
			sb.WriteString(o.keySep)
			if err := o.encode(sb, d.Data[k], depth+1); err != nil {
				return err
			}
		}
		if o.hasIndent {
			o.newline(sb, depth)
		}
		sb.WriteByte('}')
	case v.IsUndefined():
		return fmt.Errorf("tojson: Object of type Undefined is not JSON serializable")
	default:
		return fmt.Errorf("tojson: %s is not JSON serializable", v.String())
	}
	return nil
}

const hexDigits = "0123456789abcdef"

// encodeString writes s as Python's json encoder does: only '"', '\\' and
// control characters below U+0020 are escaped (plus everything beyond ASCII
// as \uXXXX, with surrogate pairs, when ensure_ascii is set).
func (o *jsonOpts) encodeString(sb *strings.Builder, s string) {
	sb.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				sb.WriteString(`\"`)
			case '\\':
				sb.WriteString(`\\`)
			case '\n':
				sb.WriteString(`\n`)
			case '\r':
				sb.WriteString(`\r`)
			case '\t':
				sb.WriteString(`\t`)
			case '\b':
				sb.WriteString(`\b`)
			case '\f':
				sb.WriteString(`\f`)
			default:
				if c < 0x20 || (o.ensureASCII && c == 0x7f) {
					sb.WriteString(`\u00`)
					sb.WriteByte(hexDigits[c>>4])
					sb.WriteByte(hexDigits[c&0xf])
				} else {
					sb.WriteByte(c)
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !o.ensureASCII {
			sb.WriteString(s[i : i+size])
		} else {
			if r >= 0x10000 {
				r -= 0x10000
				writeU4(sb, 0xd800+(r>>10))
				writeU4(sb, 0xdc00+(r&0x3ff))
			} else {
				writeU4(sb, r)
			}
		}
		i += size
	}
	sb.WriteByte('"')
}

func writeU4(sb *strings.Builder, r rune) {
	sb.WriteString(`\u`)
	for shift := 12; shift >= 0; shift -= 4 {
		sb.WriteByte(hexDigits[(r>>shift)&0xf])
	}
}

// pyFloatRepr formats f as Python's repr(float) (which json.dumps uses):
// the shortest round-tripping digits, positional notation with at least one
// fractional digit for decimal exponents -4 ≤ e < 16, else d.ddde±XX.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	s := strconv.FormatFloat(f, 'e', -1, 64) // [-]d[.ddd]e±XX
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	mant, expStr, _ := strings.Cut(s, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	var out string
	if exp >= -4 && exp < 16 {
		switch {
		case exp < 0:
			out = "0." + strings.Repeat("0", -exp-1) + digits
		case exp+1 >= len(digits):
			out = digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
		default:
			out = digits[:exp+1] + "." + digits[exp+1:]
		}
	} else {
		out = digits[:1]
		if len(digits) > 1 {
			out += "." + digits[1:]
		}
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		out += fmt.Sprintf("e%s%02d", sign, exp)
	}
	if neg {
		out = "-" + out
	}
	return out
}
