// Package listcmd implements the mlxk-list binary: `list` and `show` over the
// read-only hub cache.
package listcmd

import (
	"context"
	"io"
	"strings"

	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/envelope"
	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/mlxkerr"
	"github.com/mlxk/mlxk/shared/modelinfo"
)

// Program is the mlxk-list binary.
var Program = cli.Program{
	Name: "mlxk-list",
	Verbs: []cli.Verb{
		{Name: "list", Usage: listUsage, Run: runList},
		{Name: "show", Usage: showUsage, Run: runShow},
	},
}

// Main runs mlxk-list with the process environment.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return Program.Main(ctx, cli.OSEnv(stdin, stdout, stderr), args)
}

const listUsage = "list [pattern] [--all] [--health] [--verbose] [--json | --jsonl] [--log-json]"

// ListData is the data of the list envelope.
type ListData struct {
	Models []modelinfo.Model `json:"models"`
	Count  int               `json:"count"`
}

func runList(ctx context.Context, env cli.Env, verb string, args []string) error {
	fs := cli.NewFlags(verb, listUsage)
	all := fs.Bool("all", false, "show every model, whatever its framework or health (human output)")
	withHealth := fs.Bool("health", false, "add health columns (human output)")
	verbose := fs.Bool("verbose", false, "full names, framework column, all MLX models (human output)")
	out := fs.OutputFlags("print one model object per line")
	pos, err := fs.Parse(env, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return mlxkerr.Usagef("list takes at most one pattern, got %d (usage: %s)", len(pos), listUsage)
	}
	pattern := ""
	if len(pos) == 1 {
		pattern = pos[0]
	}
	log := env.Logger(out.LogJSON())
	cache := hubcache.Cache{Dir: hubcache.Locate(env.Getenv, env.Home)}
	models, err := listModels(cache, pattern)
	if err != nil {
		return err
	}
	log.Debug("listed cache", "dir", cache.Dir, "pattern", pattern, "models", len(models))
	switch out.Mode() {
	case cli.JSONL:
		for _, m := range models {
			if err := envelope.Write(env.Stdout, m); err != nil {
				return err
			}
		}
		return nil
	case cli.JSON:
		return envelope.Write(env.Stdout, envelope.Success("list", ListData{Models: models, Count: len(models)}))
	}
	io.WriteString(env.Stdout, renderList(models, listView{health: *withHealth, all: *all, verbose: *verbose}, env.Now()))
	return nil
}

// listModels describes every visible model whose repo id contains pattern
// (case-insensitively; a blank pattern matches all), sorted by name.
func listModels(cache hubcache.Cache, pattern string) ([]modelinfo.Model, error) {
	repos, err := cache.Repos()
	if err != nil {
		return nil, mlxkerr.Wrap(mlxkerr.InternalError, err, "list %s", cache.Dir)
	}
	pat := strings.ToLower(strings.TrimSpace(pattern))
	var picked []hubcache.Repo
	for _, r := range repos {
		if r.Hidden() || pat != "" && !strings.Contains(strings.ToLower(r.ID), pat) {
			continue
		}
		picked = append(picked, r)
	}
	models := make([]modelinfo.Model, len(picked))
	modelinfo.ForEach(len(picked), func(i int) {
		res := hubcache.Resolved{Repo: picked[i]}
		// An unreadable snapshots folder is described as a model without
		// snapshots (and so reported unhealthy) rather than failing the list.
		res.Snapshot, res.HasSnapshot, _ = picked[i].Current()
		models[i], _ = modelinfo.Describe(res)
	})
	return models, nil
}
