// Package modelref parses the model references users type (org/name,
// short names, name@rev) and converts between Hub repo ids and the folder
// names of the Hugging Face cache.
package modelref

import (
	"fmt"
	"regexp"
	"strings"
)

// CachePrefix starts every model folder in the hub cache.
const CachePrefix = "models--"

// DefaultOrg is the organisation a bare short name expands to when the cache
// holds that model, as mlx-knife does.
const DefaultOrg = "mlx-community"

// MaxRepoIDLength is the Hub's limit on a repo id.
const MaxRepoIDLength = 96

// Ref is a parsed reference: a model name or pattern and an optional
// revision (branch, tag, full commit or commit prefix).
type Ref struct {
	Name string
	Rev  string
}

// Parse splits spec at its last "@", as mlx-knife does: "m@h@x" is name
// "m@h" at revision "x"; "m@" has an empty revision, which means none.
func Parse(spec string) Ref {
	if i := strings.LastIndexByte(spec, '@'); i >= 0 {
		return Ref{Name: spec[:i], Rev: spec[i+1:]}
	}
	return Ref{Name: spec}
}

// String formats the reference back into name[@rev].
func (r Ref) String() string {
	if r.Rev == "" {
		return r.Name
	}
	return r.Name + "@" + r.Rev
}

// CacheDirName maps a repo id onto its cache folder name: "org/name" →
// "models--org--name". A name that already starts with "models--" is
// returned unchanged (mlx-knife accepts both forms).
func CacheDirName(repoID string) string {
	if strings.HasPrefix(repoID, CachePrefix) {
		return repoID
	}
	return CachePrefix + strings.ReplaceAll(repoID, "/", "--")
}

// RepoIDFromCacheDir maps a cache folder name back onto a repo id:
// "models--org--name" → "org/name". Replacement runs left to right without
// overlap, so a corrupted "models--org--model---x" gives "org/model/-x",
// which keeps the corruption visible. Names without the prefix are returned
// unchanged.
func RepoIDFromCacheDir(dir string) string {
	if !strings.HasPrefix(dir, CachePrefix) {
		return dir
	}
	return strings.ReplaceAll(dir[len(CachePrefix):], "--", "/")
}

var repoIDPattern = regexp.MustCompile(`^(?:[A-Za-z0-9_.\-]+/)*[A-Za-z0-9_.\-]+$`)

// InvalidNameError says why a string is not a valid repo id.
type InvalidNameError struct {
	Name   string
	Reason string
}

func (e *InvalidNameError) Error() string {
	return fmt.Sprintf("invalid model name %q: %s", e.Name, e.Reason)
}

// ValidateRepoID checks that id is a well-formed repo id that maps onto
// exactly one cache folder: letters, digits, "-", "_", "." in "/"-separated
// parts, no "--" or ".." anywhere, no part starting or ending with "-" or
// ".", at most 96 characters. Multi-level names (org/sub/model) are accepted
// because mlx-knife's cache naming supports them.
func ValidateRepoID(id string) error {
	bad := func(reason string) error { return &InvalidNameError{Name: id, Reason: reason} }
	switch {
	case id == "":
		return bad("empty")
	case len(id) > MaxRepoIDLength:
		return bad(fmt.Sprintf("longer than %d characters", MaxRepoIDLength))
	case !repoIDPattern.MatchString(id):
		return bad("only letters, digits, '-', '_', '.' and '/' between parts are allowed")
	case strings.Contains(id, "--"):
		return bad("'--' is reserved by the cache folder naming")
	case strings.Contains(id, ".."):
		return bad("'..' is not allowed")
	}
	for _, part := range strings.Split(id, "/") {
		if strings.HasPrefix(part, "-") || strings.HasPrefix(part, ".") ||
			strings.HasSuffix(part, "-") || strings.HasSuffix(part, ".") {
			return bad(fmt.Sprintf("part %q may not start or end with '-' or '.'", part))
		}
	}
	return nil
}

// ShortName returns the part after the first "/" ("Phi-3" for
// "mlx-community/Phi-3"), or the whole id when it has no org.
func ShortName(id string) string {
	if _, after, ok := strings.Cut(id, "/"); ok {
		return after
	}
	return id
}

// IsCommitHash reports whether s is a full 40-character lowercase hex
// commit id.
func IsCommitHash(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// HubRepoID turns a name typed for pull or clone into a Hub repo id: a
// bare name (no "/") means an MLX community model, and the result must be
// a valid repo id (*InvalidNameError otherwise).
func HubRepoID(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name != "" && !strings.Contains(name, "/") {
		name = DefaultOrg + "/" + name
	}
	return name, ValidateRepoID(name)
}
