// Package modelinfo describes a cached model the way list and show report
// it: framework, model type and capabilities detected from the README
// front-matter, config.json, the tokenizer's chat template and the name,
// plus the integrity and runtime verdicts of package health.
package modelinfo

import (
	"bufio"
	"bytes"
	"strings"

	"github.com/mlxk/mlxk/shared/snapfiles"
)

// FrontMatter is the part of a model card's YAML header detection uses.
type FrontMatter struct {
	Tags        []string
	LibraryName string
}

// readmeLimit bounds how much of README.md is read: the front-matter sits
// at the top and model cards can be large.
const readmeLimit = 64 << 10

// ReadFrontMatter reads README.md of a snapshot. It returns nil when there
// is no README or no front-matter.
func ReadFrontMatter(l snapfiles.Listing) *FrontMatter {
	f, found := l.Get("README.md")
	if !found || f.Broken {
		return nil
	}
	return ParseFrontMatter(l.Head(f, readmeLimit))
}

// ParseFrontMatter extracts library_name and tags from a "---" delimited
// header without a YAML library, with mlx-knife's rules: inline
// "tags: [a, b]" lists and block lists of "- item" lines, quotes stripped.
func ParseFrontMatter(b []byte) *FrontMatter {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), readmeLimit)
	if !sc.Scan() || strings.TrimSpace(sc.Text()) != "---" {
		return nil
	}
	var lines []string
	closed := false
	for sc.Scan() {
		t := strings.TrimSpace(sc.Text())
		if t == "---" {
			closed = true
			break
		}
		lines = append(lines, t)
	}
	if !closed || len(lines) == 0 {
		return nil
	}
	unquote := func(s string) string { return strings.Trim(strings.TrimSpace(s), `"'`) }
	fm := &FrontMatter{}
	inTags := false
	for _, t := range lines {
		if t == "" {
			continue
		}
		low := strings.ToLower(t)
		if inTags {
			if strings.HasPrefix(t, "-") {
				fm.Tags = append(fm.Tags, unquote(strings.TrimLeft(t, "-")))
				continue
			}
			inTags = false
		}
		switch {
		case strings.HasPrefix(low, "library_name:"):
			_, v, _ := strings.Cut(t, ":")
			fm.LibraryName = unquote(v)
		case strings.HasPrefix(low, "tags:"):
			_, v, _ := strings.Cut(t, ":")
			v = strings.TrimSpace(v)
			if strings.HasPrefix(v, "[") && strings.HasSuffix(v, "]") {
				for _, item := range strings.Split(v[1:len(v)-1], ",") {
					if item = unquote(item); item != "" {
						fm.Tags = append(fm.Tags, item)
					}
				}
			} else if v == "" {
				inTags = true
			}
		}
	}
	return fm
}

// SaysMLX reports whether the card declares an MLX model.
func (fm *FrontMatter) SaysMLX() bool {
	if fm == nil {
		return false
	}
	if strings.EqualFold(fm.LibraryName, "mlx") {
		return true
	}
	for _, t := range fm.Tags {
		if strings.EqualFold(t, "mlx") {
			return true
		}
	}
	return false
}
