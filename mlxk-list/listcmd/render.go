package listcmd

import (
	"fmt"
	"strings"
	"time"

	"github.com/mlxk/mlxk/shared/human"
	"github.com/mlxk/mlxk/shared/modelinfo"
)

// listView selects the human list layout.
type listView struct {
	health, all, verbose bool
}

// renderList prints the human table. Rows shown:
//   - default: models that are healthy and runtime compatible (what
//     `mlxk run` can run), mlx-community/ prefix dropped;
//   - --verbose: every MLX model, full names, with a Framework column;
//   - --all: every model.
//
// mlx-knife 2.0.3 showed only MLX chat models by default; 2.0.4 moved to
// "healthy and runnable", which is what we follow (docs/json-api.md).
func renderList(models []modelinfo.Model, v listView, now time.Time) string {
	compact := !v.all && !v.verbose
	headers := []string{"Name", "Hash", "Size", "Modified"}
	if !compact {
		headers = append(headers, "Framework")
	}
	headers = append(headers, "Type")
	if v.health {
		if v.verbose {
			headers = append(headers, "Integrity", "Runtime", "Reason")
		} else {
			headers = append(headers, "Health")
		}
	}
	var rows [][]string
	for _, m := range models {
		switch {
		case v.all:
		case v.verbose:
			if !strings.EqualFold(m.Framework, modelinfo.MLX) {
				continue
			}
		default:
			if m.Health != "healthy" || !m.RuntimeCompatible {
				continue
			}
		}
		name := m.Name
		if !v.verbose {
			name = strings.TrimPrefix(name, "mlx-community/")
		}
		hash := ""
		if m.Hash != nil {
			hash = *m.Hash
		}
		row := []string{name, human.Hash7(hash), human.Size(m.SizeBytes), human.Age(m.LastModified, now)}
		if !compact {
			row = append(row, m.Framework)
		}
		row = append(row, m.ModelType)
		if v.health {
			row = append(row, healthCells(m, v.verbose)...)
		}
		rows = append(rows, row)
	}
	last := 0
	if v.health && v.verbose {
		last = 26
	}
	return human.Table(headers, rows, last)
}

func healthCells(m modelinfo.Model, verbose bool) []string {
	healthy := m.Health == "healthy"
	if !verbose {
		switch {
		case healthy && !m.RuntimeCompatible:
			return []string{"healthy*"}
		case healthy:
			return []string{"healthy"}
		}
		return []string{"unhealthy"}
	}
	integrity, runtime, reason := m.Health, "-", "-"
	if healthy {
		runtime = "no"
		if m.RuntimeCompatible {
			runtime = "yes"
		}
	}
	if m.Reason != nil {
		reason = human.Truncate(*m.Reason, 60)
	}
	return []string{integrity, runtime, reason}
}

// renderShow prints one model with its files, config or metadata.
func renderShow(d ShowData, now time.Time) string {
	m := d.Model
	var b strings.Builder
	name := m.Name
	if m.Hash != nil {
		name += "@" + human.Hash7(*m.Hash)
	}
	fmt.Fprintf(&b, "Model: %s\n", name)
	fmt.Fprintf(&b, "Framework: %s\n", m.Framework)
	fmt.Fprintf(&b, "Type: %s\n", m.ModelType)
	fmt.Fprintf(&b, "Capabilities: %s\n", strings.Join(m.Capabilities, ", "))
	fmt.Fprintf(&b, "Size: %s\n", human.Size(m.SizeBytes))
	fmt.Fprintf(&b, "Modified: %s\n", human.Age(m.LastModified, now))
	switch {
	case m.Health == "healthy" && m.RuntimeCompatible:
		b.WriteString("Health: healthy\n")
	case m.Health == "healthy":
		b.WriteString("Health: healthy (files OK, runtime incompatible)\n")
	default:
		b.WriteString("Health: unhealthy\n")
	}
	if m.Reason != nil {
		fmt.Fprintf(&b, "Reason: %s\n", *m.Reason)
	}
	switch {
	case d.Files != nil:
		b.WriteString("\nFiles:\n")
		for _, f := range d.Files {
			fmt.Fprintf(&b, "  - %s (%s, %s)\n", f.Name, f.Type, f.Size)
		}
	case d.Config != nil:
		b.WriteString("\nConfig:\n")
		for _, kv := range orderedTopLevel(d.Config) {
			fmt.Fprintf(&b, "  %s: %s\n", kv[0], kv[1])
		}
	case d.Metadata != nil:
		b.WriteString("\nMetadata:\n")
		for _, kv := range orderedTopLevel(mustJSON(d.Metadata)) {
			fmt.Fprintf(&b, "  %s: %s\n", kv[0], kv[1])
		}
	}
	return b.String()
}
