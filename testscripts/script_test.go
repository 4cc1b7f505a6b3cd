package testscripts

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

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

// asCommand adapts a binary's Main to testscript's command table.
func asCommand(m func(context.Context, []string, io.Reader, io.Writer, io.Writer) int) func() {
	return func() { os.Exit(m(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
}

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"mlxk":        dispatcherMain,
		"mlxk-list":   asCommand(listcmd.Main),
		"mlxk-health": asCommand(healthcmd.Main),
		"mlxk-pull":   asCommand(pullcmd.Main),
		"mlxk-push":   asCommand(pushcmd.Main),
		"mlxk-clone":  asCommand(clonecmd.Main),
		"mlxk-run":    asCommand(runcmd.Main),
		"mlxk-serve":  asCommand(servecmd.Main),
	})
}

// dispatcherMain is cmd/mlxk's main: in the harness the binaries live in
// testscript's bin folder on PATH, not beside the test executable.
func dispatcherMain() {
	self, _ := os.Executable()
	d := dispatch.Dispatcher{
		Env:      cli.OSEnv(os.Stdin, os.Stdout, os.Stderr),
		Self:     self,
		LookPath: exec.LookPath,
		Exec:     syscall.Exec,
		Environ:  os.Environ(),
	}
	os.Exit(d.Main(context.Background(), os.Args[1:]))
}

func TestScripts(t *testing.T) {
	t.Parallel()
	schema := loadSchema(t, filepath.Join("..", "docs", "json-api-schema.json"))
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		// UPDATE_SCRIPTS=1 rewrites the expected files of failing cmp lines;
		// review the diff before committing.
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") == "1",
		Setup: func(env *testscript.Env) error {
			home := isolateEnv(env)
			// The official JS client for interop scripts (npm ci in
			// testscripts/interop; .ci/run does it and sets
			// MLXK_REQUIRE_INTEROP=1 so that a missing install fails).
			interop, _ := filepath.Abs("interop")
			env.Setenv("INTEROP", interop)
			env.Setenv("MLXK_REQUIRE_INTEROP", os.Getenv("MLXK_REQUIRE_INTEROP"))
			return os.MkdirAll(home, 0o777)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mkcache":       cmdMkcache,
			"blobof":        cmdBlobof,
			"touch":         cmdTouch,
			"schema":        schema.cmd,
			"jsonget":       cmdJSONGet,
			"sparse":        cmdSparse,
			"mkfifo":        cmdMkfifo,
			"holdlock":      cmdHoldLock,
			"cachetree":     cmdCacheTree,
			"randfile":      cmdRandFile,
			"sleep":         cmdSleep,
			"increasing":    cmdIncreasing,
			"mksafetensors": cmdMkSafetensors,
			"shortsha":      cmdShortSHA,
			"hub":           cmdHub,
			"mktestmodel":   cmdMkTestModel,
			"mktokenizer":   cmdMkTokenizer,
			"serve":         cmdServe,
			"http":          cmdHTTP,
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			case "interop":
				// node and the npm install of @huggingface/hub are there.
				_, errNode := exec.LookPath("node")
				_, errMod := os.Stat(filepath.Join("interop", "node_modules", "@huggingface", "hub", "package.json"))
				if (errNode != nil || errMod != nil) && os.Getenv("MLXK_REQUIRE_INTEROP") == "1" {
					return false, fmt.Errorf("MLXK_REQUIRE_INTEROP=1 but node or testscripts/interop/node_modules is missing (run npm ci there)")
				}
				return errNode == nil && errMod == nil, nil
			}
			return false, nil
		},
	})
}

// isolateEnv gives a script its own HOME and HF_HOME under its work
// directory, clears the variables that would point mlxk elsewhere, keeps
// it off the real Hub (a port nothing listens on, unless a script starts
// the fake Hub, which sets HF_ENDPOINT) and names the bundled demo model
// (a trained tiny llama with its own tokenizer and chat template;
// MLXK_TEST_DEMO_MODEL points at another build of it) as DEMO_MODEL. It
// returns HOME, which the caller creates.
func isolateEnv(env *testscript.Env) string {
	home := filepath.Join(env.WorkDir, "home")
	env.Setenv("HOME", home)
	env.Setenv("HF_HOME", filepath.Join(env.WorkDir, "hf"))
	for _, v := range []string{"HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME", "HF_TOKEN", "MLXK_LOG_JSON", "MLXK2_LOG_JSON", "MLXK_LOG_LEVEL"} {
		env.Setenv(v, "")
	}
	env.Setenv("HF_ENDPOINT", "http://127.0.0.1:9")
	env.Setenv("DEMO_MODEL", demoModel())
	return home
}

// demoModel is the bundled demo model's folder, or MLXK_TEST_DEMO_MODEL.
func demoModel() string {
	if d := os.Getenv("MLXK_TEST_DEMO_MODEL"); d != "" {
		return d
	}
	demo, _ := filepath.Abs(filepath.Join("..", "demo", "model"))
	return demo
}
