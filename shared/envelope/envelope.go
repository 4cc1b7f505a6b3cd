// Package envelope writes the mlx-knife JSON envelope
// {"status","command","data","error"} and JSON-lines records.
//
// Output is one line per document, with no HTML escaping and keys in the
// order mlx-knife 2.0.3 emits them (health, pull, rm, push and clone put
// "error" before "data"; the others put "data" first).
package envelope

import (
	"bytes"
	"encoding/json"
	"io"

	"github.com/mlxk/mlxk/shared/mlxkerr"
)

// Envelope is one command result.
type Envelope struct {
	Status  string // "success" or "error"
	Command string // empty marshals as null (CLI-level errors)
	Data    any
	Error   *mlxkerr.Error
	// ErrorFirst selects the key order of the commands that emit "error"
	// before "data".
	ErrorFirst bool
}

// Success builds a success envelope.
func Success(command string, data any) Envelope {
	return Envelope{Status: "success", Command: command, Data: data}
}

// Failure builds an error envelope; data may be nil.
func Failure(command string, err *mlxkerr.Error, data any) Envelope {
	return Envelope{Status: "error", Command: command, Data: data, Error: err}
}

// ErrorFirstCommands are the commands whose envelope puts "error" before
// "data" in mlx-knife 2.0.3.
var errorFirst = map[string]bool{"health": true, "pull": true, "rm": true, "push": true, "clone": true}

// MarshalJSON writes the keys in envelope order.
func (e Envelope) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"status":`)
	if err := encodeTo(&b, e.Status); err != nil {
		return nil, err
	}
	b.WriteString(`,"command":`)
	if e.Command == "" {
		b.WriteString("null")
	} else if err := encodeTo(&b, e.Command); err != nil {
		return nil, err
	}
	writeData := func() error {
		b.WriteString(`,"data":`)
		return encodeTo(&b, e.Data)
	}
	writeErr := func() error {
		b.WriteString(`,"error":`)
		if e.Error == nil {
			b.WriteString("null")
			return nil
		}
		return encodeTo(&b, e.Error)
	}
	first, second := writeData, writeErr
	if e.ErrorFirst || errorFirst[e.Command] {
		first, second = writeErr, writeData
	}
	if err := first(); err != nil {
		return nil, err
	}
	if err := second(); err != nil {
		return nil, err
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// Write prints v as one JSON line.
func Write(w io.Writer, v any) error {
	var b bytes.Buffer
	if err := encodeTo(&b, v); err != nil {
		return err
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}

// encodeTo appends the compact JSON of v without a trailing newline and
// without escaping <, > and &.
func encodeTo(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode always ends with '\n'
	return nil
}
