package hubtest

import (
	"path"
	"strconv"
	"strings"
)

// The Hub decides which files go to LFS from the revision's .gitattributes
// (hf-protocol §4.4) and which to skip from .gitignore. These are the
// parts of git's pattern rules that model repos use: comments, quoted
// patterns, basename patterns, anchored patterns with * ? [...] and **,
// directory patterns and negation in .gitignore. Not covered: macros,
// attributes files in subfolders, escaped leading '#' or '!', and git's
// rule that a file cannot be re-included when a folder above it is
// ignored.

// gitPattern is one pattern of a .gitattributes or .gitignore line.
type gitPattern struct {
	glob     string // without the leading / and the trailing /
	anchored bool   // matched against the whole path, not the basename
	dirOnly  bool   // the pattern ended in /: matches folders only
}

func parseGitPattern(p string) gitPattern {
	var g gitPattern
	if strings.HasSuffix(p, "/") {
		g.dirOnly = true
		p = strings.TrimRight(p, "/")
	}
	// A slash anywhere but at the end anchors the pattern at the root.
	if strings.Contains(p, "/") {
		g.anchored = true
		p = strings.TrimPrefix(p, "/")
	}
	g.glob = p
	return g
}

// match reports whether the pattern matches the path p, a file (or a
// folder, isDir) at the repo root's relative path.
func (g gitPattern) match(p string, isDir bool) bool {
	if g.glob == "" || g.dirOnly && !isDir {
		return false
	}
	if !g.anchored {
		ok, _ := path.Match(g.glob, path.Base(p))
		return ok
	}
	return matchSegments(strings.Split(g.glob, "/"), strings.Split(p, "/"))
}

// matchSegments matches a slash-separated glob segment by segment: * and
// ? never cross a slash, and a ** segment matches any number of folders.
func matchSegments(glob, p []string) bool {
	for len(glob) > 0 {
		if glob[0] == "**" {
			if len(glob) == 1 {
				return len(p) > 0 // "a/**" matches everything inside a
			}
			for i := 0; i <= len(p); i++ {
				if matchSegments(glob[1:], p[i:]) {
					return true
				}
			}
			return false
		}
		if len(p) == 0 {
			return false
		}
		if ok, _ := path.Match(glob[0], p[0]); !ok {
			return false
		}
		glob, p = glob[1:], p[1:]
	}
	return len(p) == 0
}

// splitGitLine splits a line into its pattern and the rest, unquoting a
// C-style quoted pattern ("a b.bin" filter=lfs); ok is false for blank
// lines and comments.
func splitGitLine(line string) (pattern, rest string, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") {
		return "", "", false
	}
	if strings.HasPrefix(line, `"`) {
		q, err := strconv.QuotedPrefix(line)
		if err == nil {
			if u, err := strconv.Unquote(q); err == nil {
				return u, strings.TrimSpace(line[len(q):]), true
			}
		}
	}
	if i := strings.IndexAny(line, " \t"); i >= 0 {
		return line[:i], strings.TrimSpace(line[i+1:]), true
	}
	return line, "", true
}

// lfsTracked reports whether .gitattributes content attrs sets filter=lfs
// for the file p: as in git, the last line that matches and mentions the
// filter attribute wins (-filter and !filter unset it).
func lfsTracked(attrs, p string) bool {
	filter := ""
	for line := range strings.Lines(attrs) {
		pat, rest, ok := splitGitLine(line)
		if !ok || !parseGitPattern(pat).match(p, false) {
			continue
		}
		for _, a := range strings.Fields(rest) {
			switch {
			case strings.HasPrefix(a, "filter="):
				filter = strings.TrimPrefix(a, "filter=")
			case a == "-filter" || a == "!filter" || a == "filter":
				filter = ""
			}
		}
	}
	return filter == "lfs"
}

// gitIgnored reports whether .gitignore content ignore excludes the file
// p: a pattern matches the file or any folder above it, the last matching
// pattern wins, and a leading ! re-includes.
func gitIgnored(ignore, p string) bool {
	ignored := false
	parts := strings.Split(p, "/")
	for line := range strings.Lines(ignore) {
		pat := strings.TrimSpace(line)
		if pat == "" || strings.HasPrefix(pat, "#") {
			continue
		}
		negate := strings.HasPrefix(pat, "!")
		g := parseGitPattern(strings.TrimPrefix(pat, "!"))
		for i := 1; i <= len(parts); i++ {
			if g.match(strings.Join(parts[:i], "/"), i < len(parts)) {
				ignored = !negate
				break
			}
		}
	}
	return ignored
}

// gitattributesLine is the rule the Hub appends to .gitattributes for an
// LFS file no pattern covers: the path itself, with glob characters
// escaped and quoted when it holds spaces.
func gitattributesLine(p string) string {
	var b strings.Builder
	for _, r := range p {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	pat := b.String()
	if strings.ContainsAny(pat, " \t\"") {
		pat = strconv.Quote(pat)
	}
	return pat + " filter=lfs diff=lfs merge=lfs -text\n"
}
