// Package logx is the structured logger of the mlxk binaries (ADR-004 of
// mlx-knife): plain "[WARN] message" lines or one JSON object per line on
// stderr, with Hugging Face tokens and the home directory redacted from every
// message and string attribute.
package logx

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"
)

// tokenPattern matches Hugging Face access tokens (hf_ followed by at least
// 30 alphanumerics), case-insensitively as mlx-knife does.
var tokenPattern = regexp.MustCompile(`(?i)hf_[a-z0-9]{30,}`)

// Redactor removes secrets and machine paths from log text.
type Redactor struct {
	Home string // replaced by "~"; empty disables home redaction
}

// Redact returns s with tokens replaced by [REDACTED_TOKEN] and the home
// directory by "~".
func (r Redactor) Redact(s string) string {
	s = tokenPattern.ReplaceAllString(s, "[REDACTED_TOKEN]")
	if r.Home != "" && r.Home != "/" {
		s = strings.ReplaceAll(s, r.Home, "~")
	}
	return s
}

// Options configure New.
type Options struct {
	JSON  bool
	Level slog.Level
	Home  string
	Now   func() time.Time
}

// New returns a logger writing to w.
func New(w io.Writer, opts Options) *slog.Logger {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return slog.New(&handler{w: w, opts: opts, red: Redactor{Home: opts.Home}, mu: new(sync.Mutex)})
}

// Discard returns a logger that drops everything.
func Discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

type handler struct {
	w     io.Writer
	opts  Options
	red   Redactor
	mu    *sync.Mutex
	attrs []slog.Attr
	group string
}

func (h *handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.opts.Level }

// WithAttrs qualifies the attributes with the group open at this point,
// so that attributes added before WithGroup stay at the top level.
func (h *handler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range as {
		if h.group != "" {
			a.Key = h.group + "." + a.Key
		}
		c.attrs = append(c.attrs, a)
	}
	return &c
}

func (h *handler) WithGroup(name string) slog.Handler {
	c := *h
	if c.group != "" {
		name = c.group + "." + name
	}
	c.group = name
	return &c
}

// levelName uses mlx-knife's level labels.
func levelName(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "ERROR"
	case l >= slog.LevelWarn:
		return "WARN"
	case l >= slog.LevelInfo:
		return "INFO"
	default:
		return "DEBUG"
	}
}

func (h *handler) Handle(_ context.Context, r slog.Record) error {
	msg := h.red.Redact(r.Message)
	var line []byte
	if h.opts.JSON {
		obj := newOrdered()
		ts := r.Time
		if ts.IsZero() {
			ts = h.opts.Now()
		}
		obj.set("ts", float64(ts.UnixNano())/1e9)
		obj.set("level", levelName(r.Level))
		obj.set("msg", msg)
		for _, a := range h.attrs {
			obj.set(a.Key, h.value(a.Value))
		}
		r.Attrs(func(a slog.Attr) bool {
			key := a.Key
			if h.group != "" {
				key = h.group + "." + key
			}
			obj.set(key, h.value(a.Value))
			return true
		})
		b, err := obj.marshal()
		if err != nil {
			return err
		}
		line = append(b, '\n')
	} else {
		var sb strings.Builder
		if r.Level != slog.LevelInfo {
			sb.WriteString("[" + levelName(r.Level) + "] ")
		}
		sb.WriteString(msg)
		add := func(a slog.Attr) bool {
			fmt.Fprintf(&sb, " %s=%v", a.Key, h.value(a.Value))
			return true
		}
		for _, a := range h.attrs {
			add(a)
		}
		r.Attrs(add)
		sb.WriteByte('\n')
		line = []byte(sb.String())
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(line)
	return err
}

// value converts an attribute to a JSON-friendly value, redacting strings.
// Unlike mlx-knife, attributes are redacted too: a token passed as a field
// must not leak either.
func (h *handler) value(v slog.Value) any {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return h.red.Redact(v.String())
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return v.Uint64()
	case slog.KindFloat64:
		return v.Float64()
	case slog.KindBool:
		return v.Bool()
	case slog.KindDuration:
		return v.Duration().Seconds() * 1000 // milliseconds
	case slog.KindTime:
		return v.Time().UTC().Format(time.RFC3339Nano)
	default:
		if err, ok := v.Any().(error); ok {
			return h.red.Redact(err.Error())
		}
		return h.red.Redact(fmt.Sprint(v.Any()))
	}
}

// ordered is a JSON object that keeps insertion order.
type ordered struct {
	keys []string
	vals map[string]any
}

func newOrdered() *ordered { return &ordered{vals: map[string]any{}} }

func (o *ordered) set(k string, v any) {
	if _, ok := o.vals[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.vals[k] = v
}

func (o *ordered) marshal() ([]byte, error) {
	b := []byte{'{'}
	for i, k := range o.keys {
		if i > 0 {
			b = append(b, ',')
		}
		kb, _ := json.Marshal(k)
		vb, err := json.Marshal(o.vals[k])
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, kb...), ':'), vb...)
	}
	return append(b, '}'), nil
}
