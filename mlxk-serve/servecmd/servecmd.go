// Package servecmd implements the mlxk-serve binary: `serve` (alias
// `server`) runs the OpenAI-compatible HTTP server over the models in the
// hub cache, in one process, until SIGINT or SIGTERM.
package servecmd

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/httpapi"
	"github.com/mlxk/mlxk/mlxk-serve/servecmd/models"
	"github.com/mlxk/mlxk/shared/buildinfo"
	"github.com/mlxk/mlxk/shared/cli"
	"github.com/mlxk/mlxk/shared/engine"
	"github.com/mlxk/mlxk/shared/envelope"
	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/mlxkerr"
)

// Program is the mlxk-serve binary.
var Program = cli.Program{
	Name:  "mlxk-serve",
	Verbs: []cli.Verb{{Name: "serve", Aliases: []string{"server"}, Usage: usage, Run: server{backend: engine.Native{}}.serve}},
}

// server is the serve verb with the engine it runs models on.
type server struct {
	backend engine.Backend
}

// Main runs mlxk-serve with the process environment.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	engine.LimitGarbage()
	return Program.Main(ctx, cli.OSEnv(stdin, stdout, stderr), args)
}

// Error types of serve.
const (
	errBind = "bind_failed"
)

// Started is the data of the --json startup record, printed once the
// port is bound (so port 0 reports the port the system chose).
type Started struct {
	Host      string  `json:"host"`
	Port      int     `json:"port"`
	URL       string  `json:"url"`
	Model     *string `json:"model"`
	MaxTokens *int    `json:"max_tokens"`
	PID       int     `json:"pid"`
	Version   string  `json:"version"`
}

func (sv server) serve(ctx context.Context, env cli.Env, verb string, args []string) error {
	c, err := parseConfig(env, verb, args)
	if err != nil {
		return err
	}
	logger := env.Logger(c.logJSON)
	memLimit := c.memoryLimit
	if memLimit < 0 {
		memLimit = models.DefaultMemoryLimit()
	}
	var srv *httpapi.Server
	reg := models.New(models.Config{
		Cache:       hubcache.Cache{Dir: hubcache.Locate(env.Getenv, env.Home)},
		Backend:     sv.backend,
		Batch:       engine.BatcherOptions{MaxBatch: c.parallel, MaxQueue: max(c.maxQueue, 1)},
		Threads:     c.threads,
		KeepAlive:   c.keepAlive,
		MaxLoaded:   c.maxModels,
		MemoryLimit: memLimit,
		Log:         logger,
		Now:         env.Now,
		OnLoad:      func(id string, took time.Duration, err error) { srv.OnLoad(id, took, err) },
	})
	srv = httpapi.New(httpapi.Config{Registry: reg, Log: logger, Now: env.Now, APIKeys: c.apiKeys,
		CORSOrigins: c.corsOrigins, MaxTokens: c.maxTokens, Lookahead: c.lookahead, Version: buildinfo.CLIVersion})

	// A bad --model fails before the port is taken: resolution and the
	// memory check are quick, only the weights load in the background.
	if c.model != "" {
		if err := reg.Preflight(c.model); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(c.host, strconv.Itoa(c.port)))
	if err != nil {
		return mlxkerr.Wrap(errBind, err, "listen on %s:%d", c.host, c.port)
	}
	addr := ln.Addr().(*net.TCPAddr)
	url := "http://" + net.JoinHostPort(displayHost(c.host), strconv.Itoa(addr.Port))
	if err := announce(env, c, addr.Port, url); err != nil {
		ln.Close()
		return err
	}
	logger.Info("mlxk-serve listening", "url", url, "version", buildinfo.CLIVersion, "parallel", c.parallel,
		"keep_alive", c.keepAlive.String(), "auth", len(c.apiKeys) > 0)

	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(slogWriter{logger}, "", 0),
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()

	preloadErr := make(chan error, 1)
	if c.model != "" {
		srv.SetLoading(c.model)
		go func() {
			_, err := reg.Preload(ctx, c.model, -1)
			if err == nil {
				srv.SetReady()
			}
			preloadErr <- err
		}()
	}

	// Serve until a signal (or ctx) says stop, the server fails, or the
	// preload fails; a preload that succeeds just keeps serving.
	runErr := func() error {
		for {
			select {
			case sig := <-sigs:
				logger.Info("shutting down", "signal", sig.String(), "grace", c.shutdownTimeout.String())
				return nil
			case <-ctx.Done():
				logger.Info("shutting down", "reason", ctx.Err().Error(), "grace", c.shutdownTimeout.String())
				return nil
			case err := <-served:
				served = nil
				return mlxkerr.Wrap(mlxkerr.InternalError, err, "serve")
			case err := <-preloadErr:
				if err != nil {
					logger.Error("preload failed; shutting down", "model", c.model, "error", err)
					return err
				}
				preloadErr = nil // a nil channel never fires again
			}
		}
	}()
	shutdown(hs, srv, reg, c.shutdownTimeout, sigs, logger)
	if served != nil {
		// Serve closes the listener when it returns; wait for it, so the
		// port is free when serve returns even if Serve had not started.
		<-served
	}
	if runErr != nil {
		return runErr
	}
	logger.Info("mlxk-serve stopped")
	return nil
}

// shutdown stops accepting connections (the port is free at once), lets
// running requests finish for grace, then ends the remaining generations
// (their streams get an error event and [DONE]), and unloads the models.
// A second signal skips the wait.
func shutdown(hs *http.Server, srv *httpapi.Server, reg *models.Registry, grace time.Duration, sigs <-chan os.Signal, logger *slog.Logger) {
	srv.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	go func() {
		select {
		case <-sigs:
			logger.Warn("second signal: ending running requests now")
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := hs.Shutdown(ctx); err != nil {
		// Grace is over: end the generations, let their handlers write
		// the last event and return, then cut what is left.
		srv.Abort()
		ctx2, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
		if hs.Shutdown(ctx2) != nil {
			hs.Close()
		}
		cancel2()
	}
	srv.Abort()
	reg.Close()
}

// announce prints the startup record with --json; in human mode the log
// line on stderr says where the server listens.
func announce(env cli.Env, c *config, port int, url string) error {
	if c.mode == cli.Human {
		return nil
	}
	d := Started{Host: c.host, Port: port, URL: url, PID: os.Getpid(), Version: buildinfo.CLIVersion}
	if c.model != "" {
		d.Model = &c.model
	}
	if c.maxTokens > 0 {
		d.MaxTokens = &c.maxTokens
	}
	return envelope.Write(env.Stdout, envelope.Success("server", d))
}

// displayHost is the host clients should use: a wildcard bind is
// reachable on loopback.
func displayHost(h string) string {
	switch h {
	case "", "0.0.0.0":
		return "127.0.0.1"
	case "::":
		return "::1"
	}
	return h
}

// slogWriter routes net/http's internal error log into the logger.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	msg := string(p)
	if n := len(msg); n > 0 && msg[n-1] == '\n' {
		msg = msg[:n-1]
	}
	w.l.Debug("http server", "detail", msg)
	return len(p), nil
}
