package chattemplate

import "strings"

// rewriteFilters renames filters in the template's expressions and
// statements: an identifier that follows a "|" (spaces allowed between) and
// is a key of names becomes names[identifier]. Text, comments and string literals are left alone. Tags
// are delimited as ardanlabs/jinja's scanner does ({{ }}, {% %}, {# #};
// quotes inside {{ }} and {% %} hide closers), so the rewrite sees the same
// tags the engine will.
func rewriteFilters(src string, names map[string]string) string {
	if !strings.Contains(src, "|") {
		return src
	}
	var sb strings.Builder
	sb.Grow(len(src) + 64)
	i := 0
	for i < len(src) {
		if src[i] != '{' || i+1 >= len(src) {
			sb.WriteByte(src[i])
			i++
			continue
		}
		var closer string
		switch src[i+1] {
		case '{':
			closer = "}}"
		case '%':
			closer = "%}"
		case '#':
			closer = "#}"
		default:
			sb.WriteByte(src[i])
			i++
			continue
		}
		if closer == "#}" {
			end := strings.Index(src[i+2:], "#}")
			if end < 0 {
				sb.WriteString(src[i:])
				return sb.String()
			}
			sb.WriteString(src[i : i+2+end+2])
			i += 2 + end + 2
			continue
		}
		sb.WriteString(src[i : i+2])
		i += 2
		afterPipe := false
		for i < len(src) {
			ch := src[i]
			if ch == '\'' || ch == '"' {
				j := i + 1
				for j < len(src) && src[j] != ch {
					if src[j] == '\\' && j+1 < len(src) {
						j++
					}
					j++
				}
				if j < len(src) {
					j++
				}
				sb.WriteString(src[i:j])
				i = j
				afterPipe = false
				continue
			}
			if i+1 < len(src) && ch == closer[0] && src[i+1] == closer[1] {
				sb.WriteString(closer)
				i += 2
				break
			}
			if isIdentStart(ch) {
				j := i + 1
				for j < len(src) && isIdentPart(src[j]) {
					j++
				}
				word := src[i:j]
				if to, ok := names[word]; ok && afterPipe {
					sb.WriteString(to)
				} else {
					sb.WriteString(word)
				}
				i = j
				afterPipe = false
				continue
			}
			switch ch {
			case ' ', '\t', '\n', '\r':
			case '|':
				afterPipe = true
			default:
				afterPipe = false
			}
			sb.WriteByte(ch)
			i++
		}
	}
	return sb.String()
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }
