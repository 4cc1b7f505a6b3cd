package testscripts

import (
	"testing"

	"github.com/mlxk/mlxk/mlxk-clone/clonecmd"
	"github.com/mlxk/mlxk/mlxk-health/healthcmd"
	"github.com/mlxk/mlxk/mlxk-list/listcmd"
	"github.com/mlxk/mlxk/mlxk-pull/pullcmd"
	"github.com/mlxk/mlxk/mlxk-push/pushcmd"
	"github.com/mlxk/mlxk/mlxk-run/runcmd"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd"
	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/dispatch"
)

// TestOwnersMatchPrograms keeps the dispatcher's verb table and the verbs
// the binaries declare in step: every verb (and alias) a binary answers is
// routed to it, and every routed verb exists.
func TestOwnersMatchPrograms(t *testing.T) {
	t.Parallel()
	declared := map[string]string{}
	for _, p := range []cli.Program{listcmd.Program, healthcmd.Program, pullcmd.Program, pushcmd.Program, clonecmd.Program, runcmd.Program, servecmd.Program} {
		for _, v := range p.Verbs {
			for _, name := range append([]string{v.Name}, v.Aliases...) {
				declared[name] = p.Name
				if got := dispatch.Owners[name]; got != p.Name {
					t.Errorf("%s declares %q but the dispatcher routes it to %q", p.Name, name, got)
				}
			}
		}
	}
	for verb, bin := range dispatch.Owners {
		if declared[verb] != bin {
			t.Errorf("the dispatcher routes %q to %s, which does not declare it", verb, bin)
		}
	}
}
