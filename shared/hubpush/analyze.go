package hubpush

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Health is push --check-only's offline look at a workspace (mlx-knife's
// workspace_health): looser than `health`, it asks whether the folder is
// worth uploading.
type Health struct {
	FilesCount int64      `json:"files_count"`
	TotalBytes int64      `json:"total_bytes"`
	Config     ConfigInfo `json:"config"`
	Weights    Weights    `json:"weights"`
	Anomalies  []Anomaly  `json:"anomalies"`
	Healthy    bool       `json:"healthy"`
}

// ConfigInfo describes config.json.
type ConfigInfo struct {
	Exists    bool    `json:"exists"`
	ValidJSON bool    `json:"valid_json"`
	Path      *string `json:"path"` // relative to the workspace (mlx-knife printed an absolute path)
}

// Weights describes the weight files.
type Weights struct {
	Count           int       `json:"count"`
	Formats         []string  `json:"formats"`
	Index           IndexInfo `json:"index"`
	PatternComplete *bool     `json:"pattern_complete"`
}

// IndexInfo describes model.safetensors.index.json.
type IndexInfo struct {
	HasIndex   bool     `json:"has_index"`
	Missing    []string `json:"missing"`
	ParseError bool     `json:"parse_error,omitempty"`
}

// Anomaly is one finding; severity "error" makes the workspace unhealthy.
type Anomaly struct {
	Severity string   `json:"severity"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	Path     string   `json:"path,omitempty"`
	Missing  []string `json:"missing,omitempty"`
}

var lfsMarker = []byte("version https://git-lfs.github.com/spec/v1")

var shardName = regexp.MustCompile(`model-(\d{5})-of-(\d{5})\.safetensors$`)

// Analyze inspects a workspace offline.
func Analyze(dir string, files []LocalFile, total int) Health {
	h := Health{FilesCount: int64(total), Anomalies: []Anomaly{}, Weights: Weights{Formats: []string{}, Index: IndexInfo{Missing: []string{}}}}
	bad := func(code, msg, p string) {
		h.Anomalies = append(h.Anomalies, Anomaly{Severity: "error", Code: code, Message: msg, Path: p})
	}
	byPath := map[string]LocalFile{}
	for _, f := range files {
		byPath[f.Path] = f
		h.TotalBytes += f.Size
	}
	isPointer := func(f LocalFile) bool { return f.Size <= 200 && bytes.Contains(f.Sample, lfsMarker) }

	if f, ok := byPath["config.json"]; ok {
		p := "config.json"
		h.Config.Exists, h.Config.Path = true, &p
		var v map[string]any
		if b, err := os.ReadFile(f.Abs); err == nil && json.Unmarshal(b, &v) == nil && len(v) > 0 {
			h.Config.ValidJSON = true
		} else {
			bad("config_invalid_json", "config.json invalid or empty", "config.json")
		}
	} else {
		bad("config_missing", "config.json not found", "")
	}

	goodWeight := false
	formats := map[string]bool{}
	shards := map[int]bool{}
	shardTotal := 0
	var indexPath string
	for _, f := range files {
		base := path.Base(f.Path)
		if strings.HasSuffix(base, ".safetensors.index.json") && indexPath == "" {
			indexPath = f.Path
		}
		if strings.Contains(strings.ToLower(base), "partial") || strings.HasSuffix(base, ".tmp") {
			h.Anomalies = append(h.Anomalies, Anomaly{Severity: "warn", Code: "partial_marker", Message: "Partial/tmp marker: " + base, Path: f.Path})
		}
		ext := strings.TrimPrefix(path.Ext(base), ".")
		if ext != "gguf" && ext != "safetensors" && base != "pytorch_model.bin" {
			continue
		}
		h.Weights.Count++
		formats[ext] = true
		switch {
		case f.Size == 0:
			bad("empty_weight_file", "Empty file: "+base, f.Path)
		case isPointer(f):
			bad("lfs_pointer_detected", "LFS pointer: "+base, f.Path)
		default:
			goodWeight = true
		}
		if m := shardName.FindStringSubmatch(base); m != nil {
			i, _ := strconv.Atoi(m[1])
			shardTotal, _ = strconv.Atoi(m[2])
			shards[i] = true
		}
	}
	for f := range formats {
		h.Weights.Formats = append(h.Weights.Formats, f)
	}
	slices.Sort(h.Weights.Formats)
	if shardTotal > 0 {
		complete := len(shards) == shardTotal
		h.Weights.PatternComplete = &complete
	}
	if !goodWeight && h.Weights.Count == 0 {
		bad("no_weights_found", "No weights (*.gguf/*.safetensors/pytorch_model.bin)", "")
	} else if !goodWeight {
		bad("no_weights_found", "No usable weights (all empty or LFS pointers)", "")
	}
	if indexPath != "" {
		h.Weights.Index.HasIndex = true
		b, err := os.ReadFile(byPath[indexPath].Abs)
		var idx struct {
			WeightMap map[string]string `json:"weight_map"`
		}
		if err != nil || json.Unmarshal(b, &idx) != nil {
			h.Weights.Index.ParseError = true
			bad("index_parse_error", filepath.Base(indexPath)+" parse error", indexPath)
		} else {
			seen := map[string]bool{}
			for _, shard := range idx.WeightMap {
				rel := path.Join(path.Dir(indexPath), shard)
				f, ok := byPath[rel]
				if !seen[shard] && (!ok || f.Size == 0 || isPointer(f)) {
					h.Weights.Index.Missing = append(h.Weights.Index.Missing, shard)
				}
				seen[shard] = true
			}
			slices.Sort(h.Weights.Index.Missing)
			if n := len(h.Weights.Index.Missing); n > 0 {
				h.Anomalies = append(h.Anomalies, Anomaly{Severity: "error", Code: "index_missing_shard", Message: fmt.Sprintf("Missing/invalid shards: %d", n), Missing: h.Weights.Index.Missing})
			}
		}
	}
	h.Healthy = h.Config.ValidJSON && goodWeight
	for _, a := range h.Anomalies {
		if a.Severity == "error" {
			h.Healthy = false
		}
	}
	return h
}
