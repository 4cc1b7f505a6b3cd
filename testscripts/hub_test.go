package testscripts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/mlxk/mlxk/shared/hubtest"
)

// scriptHubs holds the fake Hub each script started, keyed by its
// *testscript.TestScript (Env.Values can only be filled in Setup, before a
// script says whether it wants a hub). Entries go when the script ends.
var scriptHubs sync.Map

const hubUsage = `usage:
  hub start [dir]                       serve dir (default _hub) via LoadDir; sets $HF_ENDPOINT, $HUB_CDN
  hub load dir                          add or replace repos from another folder
  hub fault KIND ROUTE [PATH [N [ARG...]]]
                                        KIND status|truncate|stall|ignore-range|wrong-length|corrupt|drop-header
                                        ROUTE resolve|cdn|info|tree|refs|paths|create|branch|preupload|
                                        batch|upload|verify|commit|any; PATH * for any; N -1 forever
  hub token TOKEN USER [read]           accept a bearer token (read: read-only, refused every write)
  hub org USER ORG                      make USER a member of ORG (writes to ORG/*, reads its private repos)
  hub uploaded [N]                      without N print the LFS bytes the CDN accepted; with it assert
                                        that number (! asserts it differs); hub reset sets it to 0
  hub requests [-n N] [REGEXP]          without REGEXP print the recorded lines; with it assert a match
  hub reset                             forget recorded requests, pending faults and the uploaded count
  hub commit ORG/NAME [REV]             set $HUB_COMMIT to the commit REV (default main) resolves to
  hub pagesize N                        tree API page size
  hub throttle BYTES_PER_SEC            slow file bodies (0: off)
  hub redirects relative|direct         regular files via a relative redirect to /api/resolve-cache (or not)
  hub stop                              close the hub (connections are refused from now on)`

// cmdHub runs a fake Hugging Face Hub inside the test process for the
// script; the binaries the script execs reach it through $HF_ENDPOINT.
// See hubUsage for the subcommands; shared/hubtest documents the repo
// layout of the served folder and the meaning of each fault.
func cmdHub(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) == 0 {
		ts.Fatalf("%s", hubUsage)
	}
	if neg && args[0] != "requests" && args[0] != "uploaded" {
		ts.Fatalf("unsupported: ! hub %s", args[0])
	}
	if args[0] == "start" {
		hubStart(ts, args[1:])
		return
	}
	v, ok := scriptHubs.Load(ts)
	if !ok {
		ts.Fatalf("hub %s: no hub running; use hub start first", args[0])
	}
	h := v.(*hubtest.Hub)
	switch sub, rest := args[0], args[1:]; sub {
	case "load":
		if len(rest) != 1 {
			ts.Fatalf("usage: hub load dir")
		}
		ts.Check(h.LoadDir(ts.MkAbs(rest[0])))
	case "fault":
		f, err := parseFault(rest)
		if err != nil {
			ts.Fatalf("hub fault: %v\n%s", err, hubUsage)
		}
		ts.Check(h.Fault(f))
	case "token":
		if len(rest) != 2 && (len(rest) != 3 || rest[2] != "read") {
			ts.Fatalf("usage: hub token TOKEN USER [read]")
		}
		h.AddToken(rest[0], rest[1])
		h.SetReadOnly(rest[0], len(rest) == 3)
	case "org":
		if len(rest) != 2 {
			ts.Fatalf("usage: hub org USER ORG")
		}
		h.AddOrg(rest[0], rest[1])
	case "uploaded":
		hubUploaded(ts, h, neg, rest)
	case "requests":
		hubRequests(ts, h, neg, rest)
	case "reset":
		h.ResetRequests()
		h.ClearFaults()
	case "commit":
		if len(rest) < 1 || len(rest) > 2 {
			ts.Fatalf("usage: hub commit ORG/NAME [REV]")
		}
		rev := "main"
		if len(rest) == 2 {
			rev = rest[1]
		}
		c, err := h.CommitID(rest[0], rev)
		ts.Check(err)
		ts.Setenv("HUB_COMMIT", c)
	case "pagesize":
		n := hubInt(ts, rest, "usage: hub pagesize N")
		h.SetTreePageSize(int(n))
	case "throttle":
		h.Throttle(hubInt(ts, rest, "usage: hub throttle BYTES_PER_SEC"))
	case "redirects":
		if len(rest) != 1 || rest[0] != "relative" && rest[0] != "direct" {
			ts.Fatalf("usage: hub redirects relative|direct")
		}
		h.RelativeRedirects(rest[0] == "relative")
	case "stop":
		ts.Check(h.Close())
	default:
		ts.Fatalf("unknown subcommand hub %s\n%s", sub, hubUsage)
	}
}

func hubStart(ts *testscript.TestScript, args []string) {
	if len(args) > 1 {
		ts.Fatalf("usage: hub start [dir]")
	}
	if _, running := scriptHubs.Load(ts); running {
		ts.Fatalf("hub start: a hub is already running in this script")
	}
	dir, explicit := "_hub", len(args) == 1
	if explicit {
		dir = args[0]
	}
	dir = ts.MkAbs(dir)
	h, err := hubtest.New(hubtest.Options{})
	ts.Check(err)
	scriptHubs.Store(ts, h)
	ts.Defer(func() {
		h.Close()
		scriptHubs.Delete(ts)
	})
	// A missing default folder is an empty hub, for scripts that only
	// need a Hub that answers RepoNotFound.
	if _, err := os.Stat(dir); explicit || !errors.Is(err, fs.ErrNotExist) {
		ts.Check(h.LoadDir(dir))
	}
	ts.Setenv("HF_ENDPOINT", h.URL)
	ts.Setenv("HUB_CDN", h.CDNURL)
}

// parseFault reads KIND ROUTE [PATH [N [ARG...]]]; the ARGs depend on the
// kind: status CODE [RETRY_AFTER], truncate BYTES, stall DURATION
// [AFTER_BYTES], wrong-length [BYTES], corrupt [OFFSET], drop-header
// HEADER, ignore-range none.
func parseFault(args []string) (hubtest.FaultSpec, error) {
	if len(args) < 2 {
		return hubtest.FaultSpec{}, errors.New("want at least KIND and ROUTE")
	}
	f := hubtest.FaultSpec{Kind: hubtest.FaultKind(args[0]), Route: args[1]}
	if len(args) > 2 && args[2] != "*" {
		f.Path = args[2]
	}
	if len(args) > 3 {
		n, err := strconv.Atoi(args[3])
		if err != nil {
			return f, fmt.Errorf("count %q: %v", args[3], err)
		}
		f.Count = n
	}
	extra := []string{}
	if len(args) > 4 {
		extra = args[4:]
	}
	need := func(min, max int) error {
		if len(extra) < min || len(extra) > max {
			return fmt.Errorf("%s takes %d to %d arguments after the count, got %q", f.Kind, min, max, extra)
		}
		return nil
	}
	bytesArg := func(i int) (int64, error) {
		if len(extra) <= i {
			return 0, nil
		}
		return strconv.ParseInt(extra[i], 10, 64)
	}
	var err error
	switch f.Kind {
	case hubtest.FaultStatus:
		if err = need(1, 2); err == nil {
			f.Status, err = strconv.Atoi(extra[0])
			if len(extra) == 2 {
				f.RetryAfter = extra[1]
			}
		}
	case hubtest.FaultTruncate:
		if err = need(1, 1); err == nil {
			f.Bytes, err = bytesArg(0)
		}
	case hubtest.FaultStall:
		if err = need(1, 2); err == nil {
			if f.Delay, err = time.ParseDuration(extra[0]); err == nil {
				f.Bytes, err = bytesArg(1)
			}
		}
	case hubtest.FaultWrongLength, hubtest.FaultCorrupt:
		if err = need(0, 1); err == nil {
			f.Bytes, err = bytesArg(0)
		}
	case hubtest.FaultDropHeader:
		if err = need(1, 1); err == nil {
			f.Header = extra[0]
		}
	case hubtest.FaultIgnoreRange:
		err = need(0, 0)
	}
	return f, err
}

// hubRequests prints the recorded request lines, or asserts on them:
// some line matches REGEXP, none does (with !), or exactly N do (-n N).
func hubRequests(ts *testscript.TestScript, h *hubtest.Hub, neg bool, args []string) {
	fl := flag.NewFlagSet("hub requests", flag.ContinueOnError)
	count := fl.Int("n", -1, "exact number of matching lines")
	ts.Check(fl.Parse(args))
	if fl.NArg() > 1 || fl.NArg() == 0 && (neg || *count >= 0) || neg && *count >= 0 {
		ts.Fatalf("usage: hub requests [-n N] [REGEXP]; ! only without -n")
	}
	// The client may have its answer a moment before the handler has
	// recorded it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.Check(h.WaitIdle(ctx))
	var lines []string
	for _, r := range h.Requests() {
		lines = append(lines, r.String())
	}
	if fl.NArg() == 0 {
		for _, l := range lines {
			fmt.Fprintln(ts.Stdout(), l)
		}
		return
	}
	re, err := regexp.Compile(fl.Arg(0))
	ts.Check(err)
	matched := 0
	for _, l := range lines {
		if re.MatchString(l) {
			matched++
		}
	}
	all := strings.Join(lines, "\n")
	switch {
	case *count >= 0 && matched != *count:
		ts.Fatalf("%d recorded requests match %q, want %d; recorded:\n%s", matched, re, *count, all)
	case *count < 0 && neg && matched > 0:
		ts.Fatalf("%d recorded requests unexpectedly match %q; recorded:\n%s", matched, re, all)
	case *count < 0 && !neg && matched == 0:
		ts.Fatalf("no recorded request matches %q; recorded:\n%s", re, all)
	}
}

// hubUploaded prints BytesUploaded, or asserts it is N (with !, is not).
func hubUploaded(ts *testscript.TestScript, h *hubtest.Hub, neg bool, args []string) {
	if len(args) > 1 || len(args) == 0 && neg {
		ts.Fatalf("usage: hub uploaded [N]; ! only with N")
	}
	// The client may have its answer before the CDN handler returns.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts.Check(h.WaitIdle(ctx))
	got := h.BytesUploaded()
	if len(args) == 0 {
		fmt.Fprintln(ts.Stdout(), got)
		return
	}
	want, err := strconv.ParseInt(args[0], 10, 64)
	ts.Check(err)
	switch {
	case !neg && got != want:
		ts.Fatalf("the CDN accepted %d uploaded bytes, want %d", got, want)
	case neg && got == want:
		ts.Fatalf("the CDN accepted %d uploaded bytes, want another number", got)
	}
}

func hubInt(ts *testscript.TestScript, args []string, usage string) int64 {
	if len(args) != 1 {
		ts.Fatalf("%s", usage)
	}
	n, err := strconv.ParseInt(args[0], 10, 64)
	ts.Check(err)
	return n
}

// TestHubCommand runs the hub command in a script of its own; hubget and
// hubpush stand in for clients so the test needs no curl.
func TestHubCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hub_cmd.txtar"), []byte(hubCommandScript), 0o666); err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: dir,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"hub":     cmdHub,
			"hubget":  cmdHubGet,
			"hubpush": cmdHubPush,
		},
	})
}

// cmdHubGet fetches a URL without following redirects and prints the
// status, then the body: hubget [-token T] URL. With ! the request must
// fail to connect.
func cmdHubGet(ts *testscript.TestScript, neg bool, args []string) {
	fl := flag.NewFlagSet("hubget", flag.ContinueOnError)
	token := fl.String("token", "", "bearer token")
	ts.Check(fl.Parse(args))
	req, err := http.NewRequest("GET", fl.Arg(0), nil)
	ts.Check(err)
	if *token != "" {
		req.Header.Set("Authorization", "Bearer "+*token)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if neg {
		if err == nil {
			resp.Body.Close()
			ts.Fatalf("hubget %s: got %s, want a connection error", fl.Arg(0), resp.Status)
		}
		return
	}
	ts.Check(err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	ts.Check(err)
	fmt.Fprintf(ts.Stdout(), "%d %s\n%s", resp.StatusCode, resp.Header.Get("X-Error-Code"), b)
}

// cmdHubPush uploads one LFS file the way huggingface_hub does (create
// the repo, batch, PUT to the CDN, commit) and prints the status of each
// step: hubpush -token T ORG/NAME PATH CONTENT.
func cmdHubPush(ts *testscript.TestScript, neg bool, args []string) {
	fl := flag.NewFlagSet("hubpush", flag.ContinueOnError)
	token := fl.String("token", "", "bearer token")
	ts.Check(fl.Parse(args))
	if neg || fl.NArg() != 3 {
		ts.Fatalf("usage: hubpush -token T ORG/NAME PATH CONTENT")
	}
	repo, path, content := fl.Arg(0), fl.Arg(1), []byte(fl.Arg(2))
	endpoint := ts.Getenv("HF_ENDPOINT")
	call := func(method, url, ctype string, auth bool, body []byte) []byte {
		req, err := http.NewRequest(method, url, bytes.NewReader(body))
		ts.Check(err)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if auth && *token != "" {
			req.Header.Set("Authorization", "Bearer "+*token)
		}
		resp, err := http.DefaultClient.Do(req)
		ts.Check(err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		ts.Check(err)
		u, _ := neturl.Parse(url)
		fmt.Fprintf(ts.Stdout(), "%s %s %d\n", method, u.Path, resp.StatusCode)
		return b
	}
	mustJSON := func(v any) []byte {
		b, err := json.Marshal(v)
		ts.Check(err)
		return b
	}
	org, name, _ := strings.Cut(repo, "/")
	call("POST", endpoint+"/api/repos/create", "application/json", true, mustJSON(map[string]any{"name": name, "organization": org}))
	sum := sha256.Sum256(content)
	oid := hex.EncodeToString(sum[:])
	var batch struct {
		Objects []struct {
			Actions map[string]struct{ Href string }
		}
	}
	b := call("POST", endpoint+"/"+repo+".git/info/lfs/objects/batch", "application/vnd.git-lfs+json", true,
		mustJSON(map[string]any{"operation": "upload", "transfers": []string{"basic"}, "hash_algo": "sha256",
			"objects": []any{map[string]any{"oid": oid, "size": len(content)}}}))
	if json.Unmarshal(b, &batch) == nil && len(batch.Objects) == 1 {
		if up, ok := batch.Objects[0].Actions["upload"]; ok {
			call("PUT", up.Href, "", false, content)
		}
	}
	var ndjson bytes.Buffer
	enc := json.NewEncoder(&ndjson)
	enc.Encode(map[string]any{"key": "header", "value": map[string]any{"summary": "Upload " + path}})
	enc.Encode(map[string]any{"key": "lfsFile", "value": map[string]any{"path": path, "algo": "sha256", "oid": oid, "size": len(content)}})
	call("POST", endpoint+"/api/models/"+repo+"/commit/main", "application/x-ndjson", true, ndjson.Bytes())
}

const hubCommandScript = `
# The hub serves _hub and tells clients where it is.
hub start
hubget $HF_ENDPOINT/org/model/resolve/main/config.json
stdout '^200 \n\{"model_type": "llama"\}$'
hub requests '^GET /org/model/resolve/main/config.json auth=false range=none status=200$'
! hub requests 'status=500'
hub requests -n 1 'config.json'

# Faults: two 503s, then the file.
hub fault status resolve config.json 2 503
hubget $HF_ENDPOINT/org/model/resolve/main/config.json
stdout '^503'
hubget $HF_ENDPOINT/org/model/resolve/main/config.json
stdout '^503'
hubget $HF_ENDPOINT/org/model/resolve/main/config.json
stdout '^200'
hub requests -n 2 'status=503'

# LFS files redirect to the CDN.
hubget $HF_ENDPOINT/org/model/resolve/main/model.safetensors
stdout '^302'

# Private repos need a token with access.
hubget $HF_ENDPOINT/org/secret/resolve/main/config.json
stdout '^401 RepoNotFound'
hub token hf_ok carol
hubget -token hf_ok $HF_ENDPOINT/org/secret/resolve/main/config.json
stdout '^200'
hub requests 'auth=true'
hub commit org/model
hubget $HF_ENDPOINT/org/model/resolve/$HUB_COMMIT/config.json
stdout '^200'

# reset forgets requests; print lists them.
hub reset
! hub requests .
hubget $HF_ENDPOINT/api/models/org/model/tree/main?recursive=true
hub requests
stdout '^GET /api/models/org/model/tree/main\?recursive=true auth=false range=none status=200$'

# Uploads: a token writes to its user's namespace and its orgs'.
hub uploaded 0
hub uploaded
stdout '^0$'
hub token hf_w dave
hub token hf_r dave read
hubpush -token hf_r team/new w.bin weights
stdout '^POST /api/repos/create 403$'
hubpush -token hf_w team/new w.bin weights
stdout '^POST /api/repos/create 403$'
hub org dave team
hubpush -token hf_w team/new w.bin weights
stdout '^POST /api/repos/create 200$'
stdout '^PUT /upload/[0-9a-f]{64} 200$'
stdout '^POST /api/models/team/new/commit/main 200$'
hub uploaded 7
! hub uploaded 0
hub requests 'PUT /upload/[0-9a-f]{64}\?X-Amz-Signature=\S+ auth=false range=none status=200'
hubget $HF_ENDPOINT/team/new/resolve/main/w.bin
stdout '^302'

# The same content again: the Hub has it, no bytes move.
hub reset
hubpush -token hf_w team/new w2.bin weights
stdout '^POST /api/repos/create 409$'
! stdout 'PUT'
stdout '^POST /api/models/team/new/commit/main 200$'
hub uploaded 0
hub fault status commit * 1 503
hubpush -token hf_w team/new w3.bin weights
stdout '^POST /api/models/team/new/commit/main 503$'

# A stopped hub refuses connections.
hub stop
! hubget $HF_ENDPOINT/org/model/resolve/main/config.json

-- _hub/org/model/config.json --
{"model_type": "llama"}
-- _hub/org/model/model.safetensors --
weights
-- _hub/org/secret/config.json --
{}
-- _hub/org/secret.hub.json --
{"private": true, "approved_tokens": ["hf_ok"]}
`

func TestParseFault(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args string
		want hubtest.FaultSpec
	}{
		{"status resolve model.safetensors 2 503", hubtest.FaultSpec{Kind: "status", Route: "resolve", Path: "model.safetensors", Count: 2, Status: 503}},
		{"status any * -1 429 3", hubtest.FaultSpec{Kind: "status", Route: "any", Count: -1, Status: 429, RetryAfter: "3"}},
		{"truncate cdn model.safetensors 1 1000", hubtest.FaultSpec{Kind: "truncate", Route: "cdn", Path: "model.safetensors", Count: 1, Bytes: 1000}},
		{"stall resolve config.json 1 2s", hubtest.FaultSpec{Kind: "stall", Route: "resolve", Path: "config.json", Count: 1, Delay: 2 * time.Second}},
		{"stall cdn * 1 1m 4096", hubtest.FaultSpec{Kind: "stall", Route: "cdn", Count: 1, Delay: time.Minute, Bytes: 4096}},
		{"ignore-range cdn", hubtest.FaultSpec{Kind: "ignore-range", Route: "cdn"}},
		{"wrong-length cdn x 1", hubtest.FaultSpec{Kind: "wrong-length", Route: "cdn", Path: "x", Count: 1}},
		{"corrupt cdn x 1 7", hubtest.FaultSpec{Kind: "corrupt", Route: "cdn", Path: "x", Count: 1, Bytes: 7}},
		{"drop-header resolve * 1 X-Repo-Commit", hubtest.FaultSpec{Kind: "drop-header", Route: "resolve", Count: 1, Header: "X-Repo-Commit"}},
	} {
		got, err := parseFault(strings.Fields(tc.args))
		if err != nil || got != tc.want {
			t.Errorf("parseFault(%s) = %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
	for _, bad := range []string{"status", "status resolve x 1", "status resolve x two 503", "truncate cdn x 1", "stall cdn x 1 soon", "ignore-range cdn x 1 5"} {
		if _, err := parseFault(strings.Fields(bad)); err == nil {
			t.Errorf("parseFault(%s) accepted", bad)
		}
	}
}
