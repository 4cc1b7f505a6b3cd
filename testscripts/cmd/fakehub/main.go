// Command fakehub runs the fake Hugging Face Hub of package hubtest by
// hand, to try a client against it or to watch what a client sends:
//
//	fakehub -dir DIR [-addr 127.0.0.1:0] [-cdn-addr 127.0.0.1:0] [-token T=user]... [-page-size N] [-v]
//	eval "$(fakehub -dir testdata/_hub &)"   # or copy the printed line
//
// DIR holds repos as <org>/<name>/ folders (see the hubtest package doc
// for branches and options). It prints HF_ENDPOINT=<url> on stdout, logs
// to stderr (every request with -v) and serves until interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mlxk/mlxk/shared/hubtest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "fakehub:", err)
		os.Exit(1)
	}
}

// tokens collects repeated -token T=user flags.
type tokens map[string]string

func (t tokens) String() string { return fmt.Sprint(map[string]string(t)) }

func (t tokens) Set(v string) error {
	tok, user, ok := strings.Cut(v, "=")
	if !ok || tok == "" || user == "" {
		return fmt.Errorf("want TOKEN=user, got %q", v)
	}
	t[tok] = user
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fl := flag.NewFlagSet("fakehub", flag.ContinueOnError)
	fl.SetOutput(stderr)
	dir := fl.String("dir", "", "folder of <org>/<name>/ repos to serve (required)")
	addr := fl.String("addr", "127.0.0.1:0", "hub listen address")
	cdnAddr := fl.String("cdn-addr", "127.0.0.1:0", "CDN listen address (advertised as localhost:<port>)")
	pageSize := fl.Int("page-size", 1000, "tree API page size")
	verbose := fl.Bool("v", false, "log every request to stderr")
	toks := tokens{}
	fl.Var(toks, "token", "accept bearer token T as user (T=user, repeatable)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *dir == "" || fl.NArg() > 0 {
		fl.Usage()
		return flag.ErrHelp
	}
	opts := hubtest.Options{Tokens: toks, Addr: *addr, CDNAddr: *cdnAddr, TreePageSize: *pageSize}
	if *verbose {
		opts.OnRequest = func(r hubtest.Request) { fmt.Fprintf(stderr, "fakehub: %s %s\n", r.Server, r) }
	}
	h, err := hubtest.New(opts)
	if err != nil {
		return err
	}
	defer h.Close()
	if err := h.LoadDir(*dir); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "HF_ENDPOINT=%s\n", h.URL)
	fmt.Fprintf(stderr, "fakehub: serving %d repos from %s (CDN %s); interrupt to stop\n", len(h.Repos()), *dir, h.CDNURL)
	for _, id := range h.Repos() {
		fmt.Fprintf(stderr, "fakehub:   %s\n", id)
	}
	<-ctx.Done()
	return nil
}
