// Package workspace handles model workspaces: plain folders holding a
// model's files (a clone, a conversion, a fine-tune), outside the hub
// cache. A workspace carries a .mlxk_workspace.json sentinel that records
// where it came from and a content hash of what it held then (mlx-knife's
// ADR-022 and ADR-025 v2), so tools can tell a pristine copy from an
// edited one.
package workspace

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// SentinelName is the sentinel's file name inside a workspace.
const SentinelName = ".mlxk_workspace.json"

// IsExplicitPath reports whether a model spec names a folder rather than
// a cached model: it starts with "./", "../" or "/", or is "." or "..".
func IsExplicitPath(spec string) bool {
	return spec == "." || spec == ".." || strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../") ||
		strings.HasPrefix(spec, "/")
}

// IsWorkspace reports whether dir is a folder holding a config.json.
func IsWorkspace(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "config.json"))
	return err == nil && !st.IsDir()
}

// Sentinel is the content of .mlxk_workspace.json.
type Sentinel struct {
	MLXKVersion    string       `json:"mlxk_version"`
	CreatedAt      string       `json:"created_at"`
	SourceRepo     string       `json:"source_repo"`
	SourceRevision string       `json:"source_revision"`
	SourceCommit   string       `json:"source_commit"`
	Managed        bool         `json:"managed"`
	Operation      string       `json:"operation"` // "clone"
	HashAlgorithm  string       `json:"hash_algorithm"`
	ContentHash    string       `json:"content_hash"`
	FileIndex      []IndexEntry `json:"file_index"`
}

// WriteSentinel writes the sentinel atomically (temporary file, rename).
func WriteSentinel(dir string, s Sentinel) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, SentinelName+".tmp")
	if err := os.WriteFile(tmp, append(b, '\n'), 0o666); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, SentinelName))
}

// ReadSentinel reads a workspace's sentinel.
func ReadSentinel(dir string) (Sentinel, error) {
	var s Sentinel
	b, err := os.ReadFile(filepath.Join(dir, SentinelName))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", SentinelName, err)
	}
	return s, nil
}

// Now formats a creation time for the sentinel.
func Now(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }
