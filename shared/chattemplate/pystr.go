package chattemplate

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ardanlabs/jinja"
)

// Private names Parse gives the string and format filters.
const (
	stringName = "mlxk_string"
	formatName = "mlxk_format"
)

// filterString is Jinja2's string filter, Python's str(): None → "None",
// floats as repr (1.0 → "1.0"), lists and dicts as their Python repr with
// Python's quoting. ardanlabs/jinja v1.8.0's own filter prints None as ""
// and 1.0 as "1".
func filterString(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	if len(args) == 0 {
		return jinja.NewString(""), nil
	}
	return jinja.NewString(pyStr(args[0])), nil
}

// pyStr is Python's str() of a template value (Undefined → "").
func pyStr(v jinja.Value) string {
	switch {
	case v.IsUndefined():
		return ""
	case v.IsString():
		return v.AsString()
	default:
		return pyRepr(v)
	}
}

// pyRepr is Python's repr() of a template value.
func pyRepr(v jinja.Value) string {
	var sb strings.Builder
	writeRepr(&sb, v)
	return sb.String()
}

func writeRepr(sb *strings.Builder, v jinja.Value) {
	switch {
	case v.IsUndefined():
		sb.WriteString("Undefined")
	case v.IsNone():
		sb.WriteString("None")
	case v.IsBool():
		if v.AsBool() {
			sb.WriteString("True")
		} else {
			sb.WriteString("False")
		}
	case v.IsInt():
		sb.WriteString(strconv.FormatInt(v.AsInt(), 10))
	case v.IsFloat():
		s := pyFloatRepr(v.AsFloat())
		switch s { // repr differs from json.dumps only here
		case "NaN":
			s = "nan"
		case "Infinity":
			s = "inf"
		case "-Infinity":
			s = "-inf"
		}
		sb.WriteString(s)
	case v.IsString():
		writeStrRepr(sb, v.AsString())
	case v.IsList():
		sb.WriteByte('[')
		for i, item := range v.AsList().Items {
			if i > 0 {
				sb.WriteString(", ")
			}
			writeRepr(sb, item)
		}
		sb.WriteByte(']')
	case v.IsDict():
		d := v.AsDict()
		sb.WriteByte('{')
		for i, k := range d.Keys {
			if i > 0 {
				sb.WriteString(", ")
			}
			writeStrRepr(sb, k)
			sb.WriteString(": ")
			writeRepr(sb, d.Data[k])
		}
		sb.WriteByte('}')
	default:
		sb.WriteString(v.String())
	}
}

// writeStrRepr writes Python's repr() of a string: single quotes unless the
// text has a single quote and no double quote; \\, the quote, \n, \r, \t
// escaped; other non-printable characters as \xNN, \uNNNN or \UNNNNNNNN.
func writeStrRepr(sb *strings.Builder, s string) {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	sb.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == rune(quote) || r == '\\':
			sb.WriteByte('\\')
			sb.WriteRune(r)
		case r == '\n':
			sb.WriteString(`\n`)
		case r == '\r':
			sb.WriteString(`\r`)
		case r == '\t':
			sb.WriteString(`\t`)
		case r == utf8.RuneError && size == 1:
			sb.WriteString(`\ufffd`)
		case r == ' ' || unicode.IsPrint(r):
			sb.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(sb, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(sb, `\u%04x`, r)
		default:
			fmt.Fprintf(sb, `\U%08x`, r)
		}
	}
	sb.WriteByte(quote)
}

// filterFormat is Jinja2's format filter, Python's printf-style
// "fmt % args" (or "fmt % kwargs" with %(name)s). Supported conversions:
// s r a d i u c f F e E g G x X o %, with flags, width and precision.
// ardanlabs/jinja v1.8.0 has no format filter.
func filterFormat(args []jinja.Value, kwargs map[string]jinja.Value) (jinja.Value, error) {
	if len(args) == 0 || !args[0].IsString() {
		return jinja.Undefined(), fmt.Errorf("format: the value must be a string")
	}
	if len(args) > 1 && len(kwargs) > 0 {
		return jinja.Undefined(), fmt.Errorf("format: can't handle positional and keyword arguments at the same time")
	}
	format, rest := args[0].AsString(), args[1:]
	var sb strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			sb.WriteByte(format[i])
			continue
		}
		j := i + 1
		var arg jinja.Value
		named := false
		if j < len(format) && format[j] == '(' {
			end := strings.IndexByte(format[j:], ')')
			if end < 0 {
				return jinja.Undefined(), fmt.Errorf("format: incomplete format key")
			}
			v, ok := kwargs[format[j+1:j+end]]
			if !ok {
				return jinja.Undefined(), fmt.Errorf("format: missing key %q", format[j+1:j+end])
			}
			arg, named = v, true
			j += end + 1
		}
		flagStart := j
		for j < len(format) && strings.IndexByte("-+ #0", format[j]) >= 0 {
			j++
		}
		flags, sizeStart := format[flagStart:j], j
		for j < len(format) && (format[j] >= '0' && format[j] <= '9' || format[j] == '.') {
			j++
		}
		size := format[sizeStart:j]
		for j < len(format) && strings.IndexByte("hlL", format[j]) >= 0 {
			j++
		}
		if j >= len(format) {
			return jinja.Undefined(), fmt.Errorf("format: incomplete format")
		}
		conv := format[j]
		i = j
		if conv == '%' {
			sb.WriteByte('%')
			continue
		}
		if !named {
			if next >= len(rest) {
				return jinja.Undefined(), fmt.Errorf("format: not enough arguments for format string")
			}
			arg = rest[next]
			next++
		}
		s, err := formatOne(flags, size, conv, arg)
		if err != nil {
			return jinja.Undefined(), err
		}
		sb.WriteString(s)
	}
	if len(kwargs) == 0 && next < len(rest) {
		return jinja.Undefined(), fmt.Errorf("format: not all arguments converted during string formatting")
	}
	return jinja.NewString(sb.String()), nil
}

func formatOne(flags, size string, conv byte, arg jinja.Value) (string, error) {
	spec := flags + size
	number := func() (float64, bool, error) {
		switch {
		case arg.IsInt():
			return float64(arg.AsInt()), true, nil
		case arg.IsBool():
			if arg.AsBool() {
				return 1, true, nil
			}
			return 0, true, nil
		case arg.IsFloat():
			return arg.AsFloat(), false, nil
		}
		return 0, false, fmt.Errorf("format: %%%c requires a number, not %s", conv, pyRepr(arg))
	}
	switch conv {
	case 's', 'r', 'a':
		s := pyStr(arg)
		if conv != 's' {
			s = pyRepr(arg)
		}
		// Python ignores the 0 flag for strings; the precision truncates.
		return fmt.Sprintf("%"+strings.ReplaceAll(flags, "0", "")+size+"s", s), nil
	case 'c':
		switch {
		case arg.IsInt():
			return fmt.Sprintf("%"+spec+"c", rune(arg.AsInt())), nil
		case arg.IsString() && utf8.RuneCountInString(arg.AsString()) == 1:
			return fmt.Sprintf("%"+spec+"s", arg.AsString()), nil
		}
		return "", fmt.Errorf("format: %%c requires an int or a character")
	case 'd', 'i', 'u':
		f, isInt, err := number()
		if err != nil {
			return "", err
		}
		n := int64(f)
		if isInt && arg.IsInt() {
			n = arg.AsInt()
		}
		return fmt.Sprintf("%"+spec+"d", n), nil
	case 'x', 'X', 'o':
		if !arg.IsInt() && !arg.IsBool() {
			return "", fmt.Errorf("format: %%%c requires an integer", conv)
		}
		f, _, _ := number()
		return fmt.Sprintf("%"+spec+string(conv), int64(f)), nil
	case 'f', 'F', 'e', 'E', 'g', 'G':
		f, _, err := number()
		if err != nil {
			return "", err
		}
		c := conv
		if c == 'F' {
			c = 'f'
		}
		if !strings.Contains(spec, ".") {
			spec += ".6"
		}
		return fmt.Sprintf("%"+spec+string(c), f), nil
	}
	return "", fmt.Errorf("format: unsupported format character %q", conv)
}
