package hubpull

import (
	"regexp"
	"strings"
)

// Pattern is an --include/--exclude glob with Python fnmatch semantics, as
// huggingface_hub's allow_patterns use them: "*" also matches "/", "?" is
// one character, [seq] and [!seq] are classes, and a pattern ending in "/"
// matches everything below that folder.
type Pattern struct {
	src string
	re  *regexp.Regexp
}

// CompilePattern translates a glob.
func CompilePattern(glob string) (Pattern, error) {
	g := strings.ReplaceAll(glob, `\`, "/")
	if strings.HasSuffix(g, "/") {
		g += "*"
	}
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(g); i++ {
		switch c := g[i]; c {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		case '[':
			j := i + 1
			if j < len(g) && g[j] == '!' {
				j++
			}
			if j < len(g) && g[j] == ']' {
				j++
			}
			for j < len(g) && g[j] != ']' {
				j++
			}
			if j >= len(g) {
				b.WriteString(`\[`)
				continue
			}
			class := g[i+1 : j]
			if strings.HasPrefix(class, "!") {
				class = "^" + class[1:]
			}
			b.WriteString("[" + strings.ReplaceAll(class, `\`, `\\`) + "]")
			i = j
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	re, err := regexp.Compile("(?s)" + b.String())
	if err != nil {
		return Pattern{}, err
	}
	return Pattern{src: glob, re: re}, nil
}

// Match reports whether a repo path matches.
func (p Pattern) Match(path string) bool { return p.re.MatchString(path) }

// String returns the glob as given.
func (p Pattern) String() string { return p.src }

// Filter keeps a path when it matches one of include (or include is
// empty) and none of exclude.
type Filter struct {
	Include, Exclude []Pattern
}

// Keep applies the filter.
func (f Filter) Keep(path string) bool {
	if len(f.Include) > 0 {
		ok := false
		for _, p := range f.Include {
			if p.Match(path) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	for _, p := range f.Exclude {
		if p.Match(path) {
			return false
		}
	}
	return true
}
