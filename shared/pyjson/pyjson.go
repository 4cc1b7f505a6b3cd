// Package pyjson writes JSON text the way Python's json module does, so
// files mlxk writes for the Python ecosystem (config.json, safetensors
// indexes) are byte-identical to what mlx-lm and huggingface_hub write.
package pyjson

import "unicode/utf16"

// AppendString appends s quoted as json.dumps does with its default
// ensure_ascii=True: everything outside printable ASCII becomes \uXXXX
// (astral runes as surrogate pairs; invalid UTF-8 as \ufffd).
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	u4 := func(b []byte, r rune) []byte {
		return append(b, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
	}
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r >= 0x20 && r < 0x7F:
			b = append(b, byte(r))
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			b = u4(u4(b, r1), r2)
		default:
			b = u4(b, r)
		}
	}
	return append(b, '"')
}
