package httpapi

import (
	"net/http"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/openai"
)

// sse writes a server-sent event stream: "data: <json>\n\n" per event,
// flushed at once, ending with "data: [DONE]\n\n". Headers go out with
// the first event, so an error found before any (a full queue) can still
// be a plain JSON error with its status.
type sse struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

func newSSE(w http.ResponseWriter) *sse {
	return &sse{w: w, rc: http.NewResponseController(w)}
}

func (s *sse) start() {
	if s.started {
		return
	}
	s.started = true
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	s.w.WriteHeader(http.StatusOK)
}

// event writes one JSON event.
func (s *sse) event(v any) error {
	b, err := openai.Marshal(v)
	if err != nil {
		return err
	}
	return s.raw(b)
}

func (s *sse) raw(b []byte) error {
	s.start()
	buf := make([]byte, 0, len(b)+8)
	buf = append(buf, "data: "...)
	buf = append(buf, b...)
	buf = append(buf, "\n\n"...)
	if _, err := s.w.Write(buf); err != nil {
		return err
	}
	return s.rc.Flush()
}

// done ends the stream.
func (s *sse) done() error { return s.raw([]byte("[DONE]")) }

// fail ends a started stream with an error event and [DONE], so clients
// raise an error instead of waiting; before the stream started it is an
// ordinary error response.
func (s *sse) fail(srv *Server, r *http.Request, e *openai.Error) {
	if !s.started {
		srv.fail(s.w, r, e)
		return
	}
	if s.event(openai.NewStreamError(e)) == nil {
		_ = s.done()
	}
}
