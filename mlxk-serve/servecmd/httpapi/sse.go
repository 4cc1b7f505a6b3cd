package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/openai"
)

// sse writes a streamed answer, each event flushed at once: server-sent
// events ("data: <json>\n\n", ending with "data: [DONE]\n\n", or named
// events) or JSON lines, as its framing says. Headers go out with
// the first event, so an error found before any (a full queue) can still
// be a plain JSON error with its status. While nothing is written for a
// while (a queue, a long prompt) keep-alive comments go out, so proxies
// and clients with read timeouts do not drop the connection.
type sse struct {
	w  http.ResponseWriter
	rc *http.ResponseController
	// framing is how events are written. An error after the start goes
	// out as errorEvent renders it, when set, else as the API's error
	// body (errorBody).
	framing    framing
	errorEvent func(e *openai.Error) []byte

	mu      sync.Mutex // the keep-alive goroutine writes too
	started bool
	ended   bool      // [DONE] went out: no more keep-alives
	last    time.Time // of the latest write
}

// framing is a stream's wire format.
type framing uint8

const (
	// framingData is OpenAI's chat and text completions: "data: <json>"
	// events ending with "data: [DONE]", an error as a data event.
	framingData framing = iota
	// framingNamed (Anthropic's Messages, OpenAI's Responses) names every
	// event ("event: <type>"), ends with the dialect's own last event and
	// sends an error as an "error" event.
	framingNamed
	// framingLines is ollama's: one JSON object per line, no keep-alive
	// comments, an error as a line of its own.
	framingLines
)

// DefaultSSEKeepAlive is how long a stream stays silent before a
// keep-alive comment (Config.SSEKeepAlive).
const DefaultSSEKeepAlive = 15 * time.Second

// keepAlive writes ": keep-alive" comments whenever the stream has been
// silent for every; the first one also sends the headers. It returns the
// function that stops it, which the handler calls before returning.
func (s *sse) keepAlive(every time.Duration) (stop func()) {
	if every <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every / 4)
		defer t.Stop()
		s.mu.Lock()
		s.last = time.Now()
		s.mu.Unlock()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				s.mu.Lock()
				if !s.ended && s.framing != framingLines && now.Sub(s.last) >= every {
					_ = s.writeLocked([]byte(": keep-alive\n\n"))
				}
				s.mu.Unlock()
			}
		}
	}()
	return func() {
		close(done)
		wg.Wait()
	}
}

func newSSE(w http.ResponseWriter) *sse {
	return &sse{w: w, rc: http.NewResponseController(w)}
}

// start sends the headers once; s.mu is held.
func (s *sse) start() {
	if s.started {
		return
	}
	s.started = true
	h := s.w.Header()
	if s.framing == framingLines {
		h.Set("Content-Type", "application/x-ndjson")
	} else {
		h.Set("Content-Type", "text/event-stream")
	}
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	s.w.WriteHeader(http.StatusOK)
}

// event writes one JSON event.
func (s *sse) event(v any) error { return s.named("", v) }

// named writes one JSON event under an event name (named streams name
// every event after its type).
func (s *sse) named(name string, v any) error {
	// Framed and encoded in one buffer: this runs for every token.
	var buf bytes.Buffer
	if s.framing != framingLines {
		if name != "" {
			buf.WriteString("event: " + name + "\n")
		}
		buf.WriteString("data: ")
	}
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)              // as openai.Marshal
	if err := enc.Encode(v); err != nil { // ends the line
		return fmt.Errorf("encode %T: %w", v, err)
	}
	if s.framing != framingLines {
		buf.WriteByte('\n')
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeLocked(buf.Bytes())
}

// write sends one event: "event: <name>" when named, then "data: <b>";
// in JSON lines, b and a newline.
func (s *sse) write(name string, b []byte) error {
	buf := make([]byte, 0, len(name)+len(b)+16)
	if s.framing == framingLines {
		buf = append(append(buf, b...), '\n')
	} else {
		buf = s.frame(buf, name, b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeLocked(buf)
}

// frame appends one server-sent event to buf.
func (s *sse) frame(buf []byte, name string, b []byte) []byte {
	if name != "" {
		buf = append(buf, "event: "...)
		buf = append(buf, name...)
		buf = append(buf, '\n')
	}
	buf = append(buf, "data: "...)
	buf = append(buf, b...)
	return append(buf, "\n\n"...)
}

// writeLocked writes and flushes b, starting the stream; s.mu is held.
func (s *sse) writeLocked(b []byte) error {
	s.start()
	s.last = time.Now()
	if _, err := s.w.Write(b); err != nil {
		return err
	}
	return s.rc.Flush()
}

// isStarted reports whether the headers went out.
func (s *sse) isStarted() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// done ends the stream: [DONE] for chat and text completions; the other
// framings end with their own last event, which the handler sent.
func (s *sse) done() error {
	var err error
	if s.framing == framingData {
		err = s.write("", []byte("[DONE]"))
	}
	s.mu.Lock()
	s.ended = true
	s.mu.Unlock()
	return err
}

// fail ends a started stream with an error event and [DONE], so clients
// raise an error instead of waiting; before the stream started it is an
// ordinary error response.
func (s *sse) fail(srv *Server, r *http.Request, e *openai.Error) {
	if !s.isStarted() {
		srv.fail(s.w, r, e)
		return
	}
	if s.framing != framingData {
		body := errorBody(info(r), e)
		if s.errorEvent != nil {
			body = s.errorEvent(e)
		}
		if s.write("error", body) == nil {
			_ = s.done()
		}
		return
	}
	if s.event(openai.NewStreamError(e)) == nil {
		_ = s.done()
	}
}

// sseKeepAlive is the silence before a keep-alive comment, 0 for none.
func (s *Server) sseKeepAlive() time.Duration {
	switch d := s.cfg.SSEKeepAlive; {
	case d == 0:
		return DefaultSSEKeepAlive
	case d < 0:
		return 0
	default:
		return d
	}
}
