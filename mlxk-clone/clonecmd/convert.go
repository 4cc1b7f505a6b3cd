package clonecmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mlxk/mlxk/shared/buildinfo"
	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/human"
	"github.com/mlxk/mlxk/shared/mlxconvert"
	"github.com/mlxk/mlxk/shared/mlxkerr"
	"github.com/mlxk/mlxk/shared/modelref"
	"github.com/mlxk/mlxk/shared/quant"
	"github.com/mlxk/mlxk/shared/safetensors"
	"github.com/mlxk/mlxk/shared/workspace"
)

const convertUsage = "convert <model[@rev] | ./dir> <target_dir> [--quantize N] [--group-size G] [--dtype bfloat16|float16|float32] [--json] [--log-json]"

// Error types of convert.
const (
	errAlreadyQuantized = "already_quantized"
	errConvertFailed    = "convert_failed"
)

// ConvertData is the data of the convert envelope.
type ConvertData struct {
	Model            string   `json:"model"`
	SourceDir        string   `json:"source_dir"`
	TargetDir        string   `json:"target_dir"`
	Bits             *int     `json:"bits"`       // null: not quantized (cast only)
	GroupSize        *int     `json:"group_size"` // null with bits
	DType            *string  `json:"dtype"`      // null: every tensor kept its type
	QuantizedModules int      `json:"quantized_modules"`
	Unquantized      []string `json:"unquantized"` // "module (reason)"
	Files            []string `json:"files"`
	TotalSize        int64    `json:"total_size"`
	TotalParameters  int64    `json:"total_parameters"`
	Message          string   `json:"message"`
}

func runConvert(ctx context.Context, env cli.Env, verb string, args []string) error {
	fs := cli.NewFlags(verb, convertUsage)
	bits := fs.Int("quantize", 0, "quantize Linear and Embedding weights to N bits (2, 3, 4, 5, 6, 8)")
	group := fs.Int("group-size", 64, "quantization group size (32, 64, 128)")
	dtype := fs.String("dtype", "", "float type of the other tensors and of scales: bfloat16, float16 or float32 (default: the config's torch_dtype)")
	out := fs.OutputFlags("")
	pos, err := fs.Parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return mlxkerr.Usagef("convert takes a model and a target folder (usage: %s)", convertUsage)
	}
	quantizing := *bits != 0
	if quantizing && !quant.ValidBits(*bits) {
		return mlxkerr.Usagef("--quantize %d: bits must be 2, 3, 4, 5, 6 or 8", *bits)
	}
	if !quant.ValidGroupSize(*group) {
		return mlxkerr.Usagef("--group-size %d: must be 32, 64 or 128", *group)
	}
	if !quantizing && isFlagSet(fs, "group-size") {
		return mlxkerr.Usagef("--group-size needs --quantize")
	}
	if _, ok := mlxconvert.DTypeOf(*dtype); *dtype != "" && !ok {
		return mlxkerr.Usagef("--dtype %s: must be bfloat16, float16 or float32", *dtype)
	}

	src, sentinel, err := locateSource(env, pos[0])
	if err != nil {
		return err
	}
	target, err := filepath.Abs(pos[1])
	if err != nil {
		return mlxkerr.Wrap(errInvalidTarget, err, "target %s", pos[1])
	}
	if e := checkTarget(target); e != nil {
		return e
	}
	if st, err := os.Stat(filepath.Dir(target)); err != nil || !st.IsDir() {
		return mlxkerr.New(errInvalidTarget, "Parent folder of '%s' does not exist", pos[1])
	}
	if ctx.Err() != nil {
		return mlxkerr.Wrap(errConvertFailed, ctx.Err(), "convert")
	}

	opts := mlxconvert.Options{DType: *dtype}
	if quantizing {
		opts.Bits, opts.GroupSize = *bits, *group
	}
	res, err := mlxconvert.Convert(src, target, opts)
	if err != nil {
		return convertError(err)
	}
	// Record the provenance: the result is a workspace like a clone's.
	hash, index, err := workspace.ContentHash(target)
	if err == nil || errors.Is(err, workspace.ErrUnhashable) {
		sentinel.CreatedAt = workspace.Now(env.Now())
		sentinel.ContentHash, sentinel.FileIndex = hash, index
		if err := workspace.WriteSentinel(target, sentinel); err != nil {
			return mlxkerr.Wrap(errConvertFailed, err, "sentinel")
		}
	}

	data := ConvertData{
		Model: pos[0], SourceDir: src, TargetDir: target,
		QuantizedModules: len(res.Quantized), Unquantized: res.Unquantized, Files: res.Files,
		TotalSize: res.TotalSize, TotalParameters: res.TotalParameters,
	}
	if data.Unquantized == nil {
		data.Unquantized = []string{}
	}
	if quantizing {
		data.Bits, data.GroupSize = bits, group
	}
	if res.DType != "" {
		data.DType = &res.DType
	}
	data.Message = convertMessage(pos[1], data)
	return cli.Emit(env, out.Mode(), "convert", data, func(w io.Writer) {
		fmt.Fprintf(w, "convert: %s → %s — %s\n", pos[0], pos[1], data.Message)
		for _, u := range data.Unquantized {
			fmt.Fprintf(w, "  kept in float: %s\n", u)
		}
	})
}

func convertMessage(target string, d ConvertData) string {
	var what []string
	if d.Bits != nil {
		what = append(what, fmt.Sprintf("%d modules quantized to %d bits (group %d)", d.QuantizedModules, *d.Bits, *d.GroupSize))
	}
	if d.DType != nil {
		what = append(what, *d.DType)
	}
	what = append(what, human.Size(d.TotalSize)+" of weights")
	return fmt.Sprintf("Converted to %s: %s", target, strings.Join(what, ", "))
}

// locateSource finds the source folder: an explicit path, or a cached model.
// It also returns the sentinel the result will carry (the source repo and
// commit when known: a cached model, or a workspace whose sentinel says).
func locateSource(env cli.Env, spec string) (string, workspace.Sentinel, error) {
	base := workspace.Sentinel{
		MLXKVersion: buildinfo.CLIVersion, Managed: true, Operation: "convert", HashAlgorithm: "v2",
	}
	if workspace.IsExplicitPath(spec) {
		abs, err := filepath.Abs(spec)
		if err != nil {
			return "", base, mlxkerr.Wrap(mlxkerr.ModelNotFound, err, "%s", spec)
		}
		if !workspace.IsWorkspace(abs) {
			return "", base, mlxkerr.New(mlxkerr.ModelNotFound, "%s is not a model folder (no config.json)", spec)
		}
		if s, err := workspace.ReadSentinel(abs); err == nil && s.SourceRepo != "" {
			base.SourceRepo, base.SourceRevision, base.SourceCommit = s.SourceRepo, s.SourceRevision, s.SourceCommit
		}
		return abs, base, nil
	}
	cache := hubcache.Cache{Dir: hubcache.Locate(env.Getenv, env.Home)}
	res, err := cache.Resolve(spec)
	if err != nil {
		return "", base, err
	}
	if !res.HasSnapshot {
		return "", base, mlxkerr.New(mlxkerr.ModelNotFound, "model %s has no snapshot in the cache; try: mlxk pull %s", res.Repo.ID, res.Repo.ID)
	}
	rev := modelref.Parse(spec).Rev
	if rev == "" {
		rev = "main"
	}
	base.SourceRepo, base.SourceRevision, base.SourceCommit = res.Repo.ID, rev, res.Snapshot.Hash()
	return res.Path(), base, nil
}

// convertError maps conversion failures to typed errors.
func convertError(err error) error {
	switch {
	case errors.Is(err, mlxconvert.ErrAlreadyQuantized):
		return mlxkerr.Wrap(errAlreadyQuantized, err, "cannot quantize")
	case errors.Is(err, mlxconvert.ErrTargetExists):
		return mlxkerr.Wrap(errInvalidTarget, err, "target")
	case errors.Is(err, mlxconvert.ErrInvalidOptions):
		e := mlxkerr.Wrap(mlxkerr.CommandError, err, "convert")
		e.Usage = true
		return e
	case errors.Is(err, safetensors.ErrInvalid), errors.Is(err, fs.ErrNotExist):
		return mlxkerr.Wrap(errConvertFailed, err, "source weights")
	}
	return mlxkerr.Wrap(errConvertFailed, err, "convert")
}

func isFlagSet(f *cli.Flags, name string) bool {
	set := false
	f.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	return set
}
