package live

import (
	"errors"
	"strings"
	"testing"
)

func readAll(in string) ([]string, error) {
	var got []string
	err := ReadSSE(strings.NewReader(in), func(d []byte) error { got = append(got, string(d)); return nil })
	return got, err
}

func TestReadSSE(t *testing.T) {
	for name, c := range map[string]struct {
		in   string
		want []string
	}{
		"plain":                  {"data: {\"a\":1}\n\ndata: {\"b\":2}\n\ndata: [DONE]\n\n", []string{`{"a":1}`, `{"b":2}`}},
		"crlf, comments, ids":    {": keep-alive\r\nid: 7\r\nevent: x\r\ndata:{}\r\n\r\ndata: [DONE]\r\n\r\n", []string{`{}`}},
		"multi-line data":        {"data: a\ndata: b\n\ndata: [DONE]\n\n", []string{"a\nb"}},
		"done without blank":     {"data: x\n\ndata: [DONE]", []string{"x"}},
		"extra blank lines":      {"\n\n\ndata: x\n\n\n\ndata: [DONE]\n\n", []string{"x"}},
		"nothing after [DONE]":   {"data: [DONE]\n\ndata: late\n\n", nil},
		"one space only cut off": {"data:  two spaces\n\ndata: [DONE]\n\n", []string{" two spaces"}},
	} {
		got, err := readAll(c.in)
		if err != nil || strings.Join(got, "|") != strings.Join(c.want, "|") {
			t.Errorf("%s: got %q, %v; want %q", name, got, err, c.want)
		}
	}
	for name, in := range map[string]string{
		"no [DONE]":         "data: x\n\n",
		"cut mid-event":     "data: x\n\ndata: {\"par",
		"empty stream":      "",
		"[DONE] in a field": "event: [DONE]\n\n",
	} {
		if _, err := readAll(in); !errors.Is(err, ErrSSE) {
			t.Errorf("%s: err = %v, want ErrSSE", name, err)
		}
	}
	stop := errors.New("stop")
	err := ReadSSE(strings.NewReader("data: x\n\ndata: [DONE]\n\n"), func([]byte) error { return stop })
	if !errors.Is(err, stop) {
		t.Errorf("the callback's error was not returned: %v", err)
	}
}

func FuzzReadSSE(f *testing.F) {
	f.Add("data: {\"a\":1}\n\ndata: [DONE]\n\n")
	f.Add(": c\r\ndata:x\r\ndata:y\r\n\r\n")
	f.Add(strings.Repeat("data: ", 1000))
	f.Fuzz(func(t *testing.T, in string) {
		n := 0
		err := ReadSSE(strings.NewReader(in), func(d []byte) error {
			n++
			if string(d) == "[DONE]" {
				t.Fatal("[DONE] was passed on")
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrSSE) {
			t.Fatalf("untyped error %v", err)
		}
	})
}
