package listcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"

	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/envelope"
	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/human"
	"github.com/mlxk/mlxk/shared/mlxkerr"
	"github.com/mlxk/mlxk/shared/modelinfo"
	"github.com/mlxk/mlxk/shared/snapfiles"
	"github.com/mlxk/mlxk/shared/workspace"
)

const showUsage = "show <model>[@rev] [--files | --config] [--json] [--log-json]"

// FileEntry is one file of show --files.
type FileEntry struct {
	Name      string `json:"name"` // path relative to the snapshot
	Size      string `json:"size"` // human size, as mlx-knife
	Type      string `json:"type"` // config, weights, tokenizer, readme, other
	SizeBytes int64  `json:"size_bytes"`
}

// ShowData is the data of the show envelope: the model object plus exactly
// one of files (--files), config (--config) or metadata.
type ShowData struct {
	Model    modelinfo.Model
	Files    []FileEntry         // set with --files
	Config   json.RawMessage     // set with --config ("null" when unreadable)
	Metadata *modelinfo.Metadata // default view
	view     string
}

// MarshalJSON emits the keys in mlx-knife's order: model, then files or
// config, then metadata (null unless it is the default view).
func (d ShowData) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"model":`)
	mb, err := json.Marshal(d.Model)
	if err != nil {
		return nil, err
	}
	b.Write(mb)
	switch d.view {
	case "files":
		files := d.Files
		if files == nil {
			files = []FileEntry{}
		}
		fb, err := json.Marshal(files)
		if err != nil {
			return nil, err
		}
		b.WriteString(`,"files":`)
		b.Write(fb)
		b.WriteString(`,"metadata":null`)
	case "config":
		b.WriteString(`,"config":`)
		if len(d.Config) == 0 {
			b.WriteString("null")
		} else {
			b.Write(d.Config)
		}
		b.WriteString(`,"metadata":null`)
	default:
		mdb, err := json.Marshal(d.Metadata)
		if err != nil {
			return nil, err
		}
		b.WriteString(`,"metadata":`)
		b.Write(mdb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func runShow(ctx context.Context, env cli.Env, verb string, args []string) error {
	fs := cli.NewFlags(verb, showUsage)
	files := fs.Bool("files", false, "list the snapshot's files")
	config := fs.Bool("config", false, "print config.json")
	out := fs.OutputFlags("")
	pos, err := fs.Parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return mlxkerr.Usagef("show takes exactly one model (usage: %s)", showUsage)
	}
	var model modelinfo.Model
	var in modelinfo.Inspection
	if workspace.IsExplicitPath(pos[0]) && workspace.IsWorkspace(pos[0]) {
		model, in = modelinfo.DescribeWorkspace(pos[0])
	} else {
		cache := hubcache.Cache{Dir: hubcache.Locate(env.Getenv, env.Home)}
		res, err := cache.Resolve(pos[0])
		if err != nil {
			return err
		}
		model, in = modelinfo.Describe(res)
	}
	d := ShowData{Model: model}
	switch {
	case *files:
		d.view = "files"
		for _, f := range in.Files.Files {
			d.Files = append(d.Files, FileEntry{Name: f.Rel, Size: human.FileSize(f.Size), Type: fileType(f.Base()), SizeBytes: f.Size})
		}
	case *config:
		d.view = "config"
		if raw, err := in.Files.ReadFile("config.json", snapfiles.ConfigLimit); err == nil && json.Valid(raw) {
			var c bytes.Buffer
			if json.Compact(&c, raw) == nil {
				d.Config = c.Bytes()
			}
		}
	default:
		d.Metadata = modelinfo.ExtractMetadata(in.Config)
	}
	if out.Mode() == cli.JSON {
		return envelope.Write(env.Stdout, envelope.Success("show", d))
	}
	_, err = io.WriteString(env.Stdout, renderShow(d, env.Now()))
	return err
}

// fileType classifies a file name as mlx-knife's show --files does.
func fileType(name string) string {
	low := strings.ToLower(name)
	switch {
	case name == "config.json":
		return "config"
	case strings.HasSuffix(name, ".safetensors"), strings.HasSuffix(name, ".bin"), strings.HasSuffix(name, ".gguf"):
		return "weights"
	case strings.Contains(low, "tokenizer"):
		return "tokenizer"
	case strings.HasSuffix(name, ".json"):
		return "config"
	case name == "README.md":
		return "readme"
	}
	return "other"
}

// orderedTopLevel returns the top-level members of a JSON object in file
// order, scalars printed bare and nested values as compact JSON.
func orderedTopLevel(raw []byte) [][2]string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out [][2]string
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return out
		}
		var v json.RawMessage
		if dec.Decode(&v) != nil {
			return out
		}
		val := string(v)
		var s string
		if json.Unmarshal(v, &s) == nil {
			val = s
		}
		out = append(out, [2]string{kt.(string), val})
	}
	return out
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
