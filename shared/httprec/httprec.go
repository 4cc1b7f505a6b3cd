// Package httprec wraps an http.ResponseWriter to remember what a handler
// sent (status and body size), for access logs, metrics and the fake
// Hub's request log, without hiding the writer's optional interfaces.
package httprec

import "net/http"

// Writer records the first status and counts body bytes.
type Writer struct {
	http.ResponseWriter
	Status int // 0 until the handler writes
	Bytes  int64
}

// WriteHeader implements http.ResponseWriter.
func (w *Writer) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *Writer) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.Bytes += int64(n)
	return n, err
}

// Flush pushes what was written so far onto the wire (SSE, partial bodies).
func (w *Writer) Flush() {
	http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }
