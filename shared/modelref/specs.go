package modelref

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// ReadSpecs reads model references from a stream, as commands given "-"
// do: plain names one per line, model objects or health records (JSON
// lines with "name" and an optional "hash", which becomes name@hash), or a
// whole list envelope. Blank lines and # comments are skipped.
func ReadSpecs(r io.Reader) ([]string, error) {
	var specs []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.HasPrefix(line, "{") {
			specs = append(specs, line)
			continue
		}
		var rec struct {
			Name *string `json:"name"`
			Hash *string `json:"hash"`
			Data *struct {
				Models []struct {
					Name string  `json:"name"`
					Hash *string `json:"hash"`
				} `json:"models"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			return nil, fmt.Errorf("line %q: %w", truncate(line, 60), err)
		}
		add := func(name string, hash *string) {
			if hash != nil && *hash != "" {
				name += "@" + *hash
			}
			specs = append(specs, name)
		}
		switch {
		case rec.Name != nil:
			add(*rec.Name, rec.Hash)
		case rec.Data != nil:
			for _, m := range rec.Data.Models {
				add(m.Name, m.Hash)
			}
		default:
			return nil, fmt.Errorf("line %q: no \"name\" field", truncate(line, 60))
		}
	}
	return specs, sc.Err()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
