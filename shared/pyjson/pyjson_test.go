package pyjson

import "testing"

// The expectations are what Python 3's json.dumps prints for these strings.
func TestAppendString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":             `"plain"`,
		"a\"é\x7f😀\n":       `"a\"\u00e9\u007f\ud83d\ude00\n"`,
		"tab\there\\\b\f\r": `"tab\there\\\b\f\r"`,
		"\x01\x1f ~":        `"\u0001\u001f ~"`,
		"bad\xffbyte":       `"bad\ufffdbyte"`,
	} {
		if got := string(AppendString(nil, in)); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", in, got, want)
		}
	}
}
