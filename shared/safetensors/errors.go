package safetensors

import (
	"errors"
	"fmt"
)

// ErrInvalid is matched (errors.Is) by every error about malformed
// safetensors content: truncated files, hostile or inconsistent headers,
// bad index files. I/O errors (missing file, permission) do not match it.
var ErrInvalid = errors.New("invalid safetensors data")

// FormatError says why a file's content was rejected. Path is empty when the
// bytes did not come from a named file.
type FormatError struct {
	Path   string
	Reason string
}

func (e *FormatError) Error() string {
	if e.Path == "" {
		return "safetensors: " + e.Reason
	}
	return "safetensors: " + e.Path + ": " + e.Reason
}

// Is makes errors.Is(err, ErrInvalid) true for every *FormatError.
func (e *FormatError) Is(target error) bool { return target == ErrInvalid }

func formatErr(format string, args ...any) *FormatError {
	return &FormatError{Reason: fmt.Sprintf(format, args...)}
}

// withPath returns err with Path set when it is a *FormatError, else err.
func withPath(err error, path string) error {
	var fe *FormatError
	if errors.As(err, &fe) && fe.Path == "" {
		return &FormatError{Path: path, Reason: fe.Reason}
	}
	return err
}
