package live

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrSSE marks a server-sent event stream that breaks the format the
// OpenAI API uses: "data: <json>" events separated by blank lines, ending
// with "data: [DONE]".
var ErrSSE = errors.New("malformed event stream")

// maxEvent bounds one event; chunks are a few hundred bytes.
const maxEvent = 4 << 20

// ReadSSE calls fn with the data of each event of r, in order, until the
// "[DONE]" event (which it does not pass on). Comment lines and fields
// other than data are ignored; several data lines of one event are
// joined with newlines, as the SSE specification says. A stream that ends
// without [DONE] is an error: the client cannot tell a finished answer
// from a cut connection.
func ReadSSE(r io.Reader, fn func(data []byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEvent)
	var data []byte
	have := false
	for sc.Scan() {
		line := bytes.TrimSuffix(sc.Bytes(), []byte("\r"))
		if len(line) == 0 {
			if !have {
				continue
			}
			if bytes.Equal(data, []byte("[DONE]")) {
				return nil
			}
			if err := fn(data); err != nil {
				return err
			}
			data, have = data[:0], false
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		if string(field) != "data" {
			continue
		}
		if have {
			data = append(data, '\n')
		}
		data = append(data, value...)
		have = true
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%w: %v", ErrSSE, err)
	}
	if have && bytes.Equal(data, []byte("[DONE]")) {
		return nil // [DONE] without the final blank line
	}
	return fmt.Errorf("%w: the stream ended without data: [DONE]", ErrSSE)
}
