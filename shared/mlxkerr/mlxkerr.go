// Package mlxkerr is the error taxonomy of mlxk: every failure a user can see
// carries a stable type string (the mlx-knife 2.0.3 names where they exist)
// and a human message, and maps to one exit code.
package mlxkerr

import (
	"errors"
	"fmt"
)

// Type strings. The mlx-knife 2.0.3 names are kept as they are, including
// their mixed casing, because scripts match on them.
const (
	CommandError      = "CommandError"  // usage: bad flags, missing arguments, unknown verb
	InternalError     = "InternalError" // a bug or an unexpected condition
	NotImplemented    = "not_implemented"
	AmbiguousMatch    = "ambiguous_match"
	ModelNotFound     = "model_not_found"
	HashNotFound      = "hash_not_found"
	HealthCheckFailed = "health_check_failed"
)

// Error is a typed, user-facing error. It marshals to the "error" object of
// the JSON envelope.
type Error struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	// Matches lists candidate names when a reference is ambiguous.
	Matches []string `json:"matches,omitempty"`
	// AvailableHashes lists the cached snapshots when a revision is unknown.
	AvailableHashes []string `json:"available_hashes,omitempty"`
	// Detail carries optional context that is not part of the message.
	Detail string `json:"detail,omitempty"`

	// Usage marks errors that come from how the command was called; they
	// exit with status 2 instead of 1.
	Usage bool  `json:"-"`
	Err   error `json:"-"`
}

func (e *Error) Error() string { return e.Message }

// Unwrap exposes the cause for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// New returns a typed error with a formatted message.
func New(typ, format string, args ...any) *Error {
	return &Error{Type: typ, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns a typed error whose message is the cause's message prefixed
// with context.
func Wrap(typ string, err error, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	if err != nil {
		msg += ": " + err.Error()
	}
	return &Error{Type: typ, Message: msg, Err: err}
}

// Usagef returns a CommandError that exits with status 2.
func Usagef(format string, args ...any) *Error {
	e := New(CommandError, format, args...)
	e.Usage = true
	return e
}

// From converts any error into a typed error: typed errors anywhere in the
// chain are returned as they are, everything else becomes fallbackType.
func From(err error, fallbackType string) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Type: fallbackType, Message: err.Error(), Err: err}
}

// ExitCode is the process exit status for err: 0 for nil, 2 for usage
// errors, 1 otherwise.
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var e *Error
	if errors.As(err, &e) && e.Usage {
		return 2
	}
	return 1
}
