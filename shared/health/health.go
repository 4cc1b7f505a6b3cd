// Package health decides whether a cached model's files are complete
// (integrity) and whether the mlxk engine can run it (runtime
// compatibility), with the rules and reason strings of mlx-knife 2.0.3 and
// the fixes recorded in docs/json-api.md.
package health

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/mlxk/mlxk/shared/modeltypes"
	"github.com/mlxk/mlxk/shared/snapfiles"
)

// Result is an integrity verdict with its reason.
type Result struct {
	Healthy bool
	Reason  string
}

func ok(reason string) Result { return Result{true, reason} }
func bad(format string, args ...any) Result {
	return Result{false, fmt.Sprintf(format, args...)}
}

var shardPattern = regexp.MustCompile(`model-(\d{5})-of-(\d{5})\.safetensors$`)

// Config is config.json as read from a snapshot, so that callers that
// need its values and the health check read and parse it once.
type Config struct {
	Values map[string]any // nil unless Status is JSONOK
	Status snapfiles.JSONStatus
	Err    error
}

// ReadConfig reads the snapshot's config.json.
func ReadConfig(l snapfiles.Listing) Config {
	v, st, err := l.ReadJSONObject("config.json")
	return Config{Values: v, Status: st, Err: err}
}

// Check applies the integrity policy to a snapshot listing.
func Check(l snapfiles.Listing) Result { return CheckConfig(l, ReadConfig(l)) }

// CheckConfig is Check with config.json already read. The order of the
// checks, and so which reason wins, follows mlx-knife 2.0.3 §4.2; dangling
// symlinks are reported as missing files instead of crashing, and are also
// caught when they are not weights.
func CheckConfig(l snapfiles.Listing, cfg Config) Result {
	if !l.Exists {
		return bad("Model path does not exist")
	}
	if slices.Contains(l.Unreadable, ".") {
		return bad("Model folder is unreadable")
	}
	if !l.Present("config.json") {
		return bad("config.json missing")
	}
	switch {
	case errors.Is(cfg.Err, snapfiles.ErrTooLarge):
		return bad("config.json is too large")
	case errors.Is(cfg.Err, snapfiles.ErrIrregular):
		return bad("config.json is not a regular file")
	case cfg.Status == snapfiles.JSONNotObject:
		return bad("config.json is empty or invalid")
	case cfg.Status == snapfiles.JSONInvalid:
		return bad("config.json contains invalid JSON")
	}

	r := checkWeights(l)
	if !r.Healthy {
		return r
	}
	var broken []string
	for _, f := range l.Files {
		if f.Broken {
			broken = append(broken, f.Rel)
		}
	}
	if len(broken) > 0 {
		return bad("Missing files (dangling symlinks): %s", strings.Join(broken, ", "))
	}
	if len(l.Unreadable) > 0 {
		return bad("Unreadable folders: %s", strings.Join(l.Unreadable, ", "))
	}
	return r
}

func checkWeights(l snapfiles.Listing) Result {
	hasSft, hasBin := false, false
	for _, f := range l.Files {
		hasSft = hasSft || strings.HasSuffix(f.Rel, ".safetensors")
		hasBin = hasBin || strings.HasSuffix(f.Rel, ".bin")
	}
	switch {
	case hasSft && l.Present("model.safetensors.index.json"):
		return checkIndex(l, "model.safetensors.index.json")
	case hasBin && l.Present("pytorch_model.bin.index.json"):
		return checkIndex(l, "pytorch_model.bin.index.json")
	}
	return checkNoIndex(l)
}

// checkIndex verifies that every file the index references is present,
// non-empty and not an LFS pointer. References are looked up in the listing,
// so a hostile index cannot point outside the snapshot.
func checkIndex(l snapfiles.Listing, name string) Result {
	b, err := l.ReadFile(name, snapfiles.ConfigLimit)
	if err != nil {
		return bad("Invalid index file")
	}
	set, err := weightMapFiles(b)
	switch {
	case errors.Is(err, errWeightMap):
		return bad("Empty or invalid weight_map in index")
	case err != nil:
		return bad("Invalid index file")
	}
	refs := make([]string, 0, len(set))
	for s := range set {
		refs = append(refs, s)
	}
	slices.Sort(refs)
	dir := path.Dir(name)
	var missing, empty, lfs []string
	for _, ref := range refs {
		f, found := l.Get(path.Join(dir, ref))
		switch {
		case !found || f.Broken:
			missing = append(missing, ref)
		case f.Size == 0:
			empty = append(empty, ref)
		case l.IsLFSPointer(f):
			lfs = append(lfs, ref)
		}
	}
	switch {
	case len(missing) > 0:
		return bad("Missing weight shards: %s", strings.Join(missing, ", "))
	case len(empty) > 0:
		return bad("Empty weight shards: %s", strings.Join(empty, ", "))
	case len(lfs) > 0:
		return bad("LFS pointers instead of files: %s", strings.Join(lfs, ", "))
	}
	return ok("Multi-file model complete")
}

func isWeight(rel string) bool {
	return strings.HasSuffix(rel, ".safetensors") || strings.HasSuffix(rel, ".bin") || strings.HasSuffix(rel, ".gguf")
}

func checkNoIndex(l snapfiles.Listing) Result {
	var weights []snapfiles.File
	for _, f := range l.Files {
		if !strings.Contains(f.Rel, "/") && isWeight(f.Rel) {
			weights = append(weights, f)
		}
	}
	if len(weights) == 0 {
		for _, f := range l.Files {
			if isWeight(f.Rel) {
				weights = append(weights, f)
			}
		}
	}
	if r, sharded := checkShardPattern(weights); !r.Healthy {
		return r
	} else if len(weights) == 0 {
		return bad("No model weights found")
	} else {
		var dangling []string
		for _, f := range weights {
			if f.Broken {
				dangling = append(dangling, f.Base())
			}
		}
		if len(dangling) > 0 {
			return bad("Missing weight files (dangling symlinks): %s", strings.Join(dangling, ", "))
		}
		for _, f := range l.Files {
			n := strings.ToLower(f.Base())
			if strings.HasSuffix(n, ".partial") || strings.HasSuffix(n, ".tmp") || strings.Contains(n, "partial") {
				return bad("Partial download marker detected")
			}
		}
		var empty []string
		for _, f := range weights {
			if f.Size == 0 {
				empty = append(empty, f.Base())
			}
		}
		if len(empty) > 0 {
			return bad("Empty weight files: %s", strings.Join(empty, ", "))
		}
		if sharded {
			return bad("Safetensors index missing for sharded model")
		}
	}
	var lfs []string
	for _, f := range l.Files {
		if l.IsLFSPointer(f) {
			lfs = append(lfs, f.Rel)
		}
	}
	if len(lfs) > 0 {
		return bad("LFS pointers instead of files: %s", strings.Join(lfs, ", "))
	}
	return ok("Model is healthy")
}

// checkShardPattern applies the model-NNNNN-of-NNNNN rules; sharded reports
// whether any weight follows the pattern.
func checkShardPattern(weights []snapfiles.File) (r Result, sharded bool) {
	totals := map[int]bool{}
	present := map[int]bool{}
	var empty []string
	for _, f := range weights {
		m := shardPattern.FindStringSubmatch(f.Base())
		if m == nil {
			continue
		}
		i, _ := strconv.Atoi(m[1])
		t, _ := strconv.Atoi(m[2])
		totals[t] = true
		present[i] = true
		if f.Size == 0 && !f.Broken {
			empty = append(empty, f.Base())
		}
	}
	if len(totals) == 0 {
		return ok(""), false
	}
	if len(totals) > 1 {
		return bad("Inconsistent shard totals detected"), true
	}
	var total int
	for t := range totals {
		total = t
	}
	n := 0
	for i := 1; i <= total; i++ {
		if present[i] {
			n++
		}
	}
	if n < total {
		return bad("Missing shards by pattern: %d/%d present", n, total), true
	}
	if len(empty) > 0 {
		return bad("Empty shards: %s", strings.Join(empty, ", ")), true
	}
	return ok(""), true
}

var (
	validWeight  = regexp.MustCompile(`^model(-\d{5}-of-\d{5})?\.safetensors$`)
	legacyWeight = regexp.MustCompile(`^(weights\.\d+|pytorch_model-\d+)\.safetensors$`)
)

// Runtime decides whether the mlxk engine can run a healthy snapshot:
// the framework must be MLX, the weights must not use the legacy names
// mlx-lm dropped, config.json must name a model_type the engine supports
// (modeltypes), and tokenizer.json must be there because the engine's
// tokenizer reads it. The reason is "" when compatible.
func Runtime(l snapfiles.Listing, config map[string]any, framework string) (bool, string) {
	if framework != "MLX" {
		return false, "Incompatible: " + framework
	}
	legacy, valid := false, false
	for _, f := range l.Files {
		if strings.Contains(f.Rel, "/") {
			continue
		}
		valid = valid || validWeight.MatchString(f.Rel)
		legacy = legacy || legacyWeight.MatchString(f.Rel)
	}
	if legacy && !valid {
		return false, "Legacy format not supported by mlx-lm"
	}
	if config == nil {
		return false, "config.json missing (required for model_type detection)"
	}
	mt, isStr := config["model_type"].(string)
	if !isStr || mt == "" {
		return false, "config.json missing model_type field"
	}
	if !modeltypes.Supported(mt) {
		return false, fmt.Sprintf("model_type '%s' not supported by the mlxk engine (supported: %s)", mt, strings.Join(modeltypes.All(), ", "))
	}
	if !l.Present("tokenizer.json") {
		return false, "tokenizer.json missing (required by the mlxk engine)"
	}
	return true, ""
}
