package models

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlxk/mlxk/mlxk-serve/servecmd/internal/servetest"
	"github.com/mlxk/mlxk/shared/hubcache"
	"github.com/mlxk/mlxk/shared/mlxkerr"
)

// newRegistry caches the named test models and returns a registry over
// them.
func newRegistry(t *testing.T, cfg Config, repos ...string) *Registry {
	t.Helper()
	hub := filepath.Join(t.TempDir(), "hub")
	for _, repo := range repos {
		src := filepath.Join(t.TempDir(), "src")
		if err := servetest.WriteModel(src, "llama-q4", servetest.ChatTemplate); err != nil {
			t.Fatal(err)
		}
		if _, err := servetest.AddToCache(hub, repo, src); err != nil {
			t.Fatal(err)
		}
	}
	cfg.Cache = hubcache.Cache{Dir: hub}
	if cfg.Backend == nil {
		cfg.Backend = servetest.ScriptBackend{Reply: "ok"}
	}
	r := New(cfg)
	t.Cleanup(r.Close)
	return r
}

func ids(st []Status) string {
	var out []string
	for _, s := range st {
		out = append(out, s.ID)
	}
	return strings.Join(out, ",")
}

func TestAcquireSharesOneLoad(t *testing.T) {
	loads := 0
	r := newRegistry(t, Config{KeepAlive: -1, OnLoad: func(string, time.Duration, error) { loads++ }}, "org/A")
	a1, err := r.Acquire(context.Background(), "org/A", Generate)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := r.Acquire(context.Background(), "A", Generate) // a fuzzy name of the same model
	if err != nil {
		t.Fatal(err)
	}
	if a1 != a2 || loads != 1 {
		t.Errorf("two loads (%d) or two models for one name", loads)
	}
	if st := r.Loaded(); len(st) != 1 || st[0].Active != 2 || st[0].ID != "org/A" {
		t.Errorf("loaded %+v", st)
	}
	r.Release(a1, nil)
	r.Release(a2, nil)
	if st := r.Loaded(); st[0].Active != 0 {
		t.Errorf("active after release: %d", st[0].Active)
	}
}

func TestKeepAliveUnloadsIdleModels(t *testing.T) {
	r := newRegistry(t, Config{KeepAlive: 50 * time.Millisecond}, "org/A")
	m, err := r.Acquire(context.Background(), "org/A", Generate)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if len(r.Loaded()) != 1 {
		t.Fatal("a busy model was unloaded")
	}
	r.Release(m, nil)
	if st := r.Loaded(); st[0].ExpiresAt.IsZero() {
		t.Error("idle model has no expiry")
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(r.Loaded()) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("idle model not unloaded after its keep-alive")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A request's keep_alive of 0 unloads at once.
	m, _ = r.Acquire(context.Background(), "org/A", Generate)
	zero := time.Duration(0)
	r.Release(m, &zero)
	if len(r.Loaded()) != 0 {
		t.Error("keep_alive 0 did not unload")
	}
}

func TestSwitchingModelsEvictsLeastRecentlyUsed(t *testing.T) {
	r := newRegistry(t, Config{KeepAlive: -1, MaxLoaded: 2}, "org/A", "org/B", "org/C")
	use := func(name string) {
		t.Helper()
		m, err := r.Acquire(context.Background(), name, Generate)
		if err != nil {
			t.Fatal(err)
		}
		r.Release(m, nil)
	}
	use("org/A")
	use("org/B")
	use("org/A") // B is now the least recently used
	use("org/C")
	if got := ids(r.Loaded()); got != "org/A,org/C" {
		t.Errorf("loaded %s, want org/A,org/C", got)
	}
}

func TestBusyModelsAreNotEvicted(t *testing.T) {
	r := newRegistry(t, Config{KeepAlive: -1, MaxLoaded: 1}, "org/A", "org/B")
	a, err := r.Acquire(context.Background(), "org/A", Generate)
	if err != nil {
		t.Fatal(err)
	}
	// B waits while A is busy, and loads once A is released.
	got := make(chan error, 1)
	go func() {
		b, err := r.Acquire(context.Background(), "org/B", Generate)
		if err == nil {
			r.Release(b, nil)
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("B loaded while A was busy (%v)", err)
	case <-time.After(50 * time.Millisecond):
	}
	r.Release(a, nil)
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if ids(r.Loaded()) != "org/B" {
		t.Errorf("loaded %s", ids(r.Loaded()))
	}
	// A caller that gives up while waiting gets its context error.
	b, _ := r.Acquire(context.Background(), "org/B", Generate)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := r.Acquire(ctx, "org/A", Generate); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting acquire: %v", err)
	}
	r.Release(b, nil)
}

func TestMemoryLimit(t *testing.T) {
	r := newRegistry(t, Config{KeepAlive: -1, MaxLoaded: 4, MemoryLimit: 1000}, "org/A")
	_, err := r.Acquire(context.Background(), "org/A", Generate)
	var e *mlxkerr.Error
	if !errors.As(err, &e) || e.Type != ErrTooLarge || !strings.Contains(e.Message, "memory limit") {
		t.Fatalf("err %v", err)
	}
	if len(r.Loaded()) != 0 {
		t.Error("a model over the limit was loaded")
	}
	// Two models that fit one at a time: the second evicts the first.
	probe := newRegistry(t, Config{}, "org/A")
	tg, err := probe.Resolve("org/A", false)
	if err != nil {
		t.Fatal(err)
	}
	need := estimate(probe.cfg.Backend, tg.dir)
	r = newRegistry(t, Config{KeepAlive: -1, MaxLoaded: 4, MemoryLimit: need * 3 / 2}, "org/A", "org/B")
	for _, name := range []string{"org/A", "org/B"} {
		m, err := r.Acquire(context.Background(), name, Generate)
		if err != nil {
			t.Fatal(err)
		}
		r.Release(m, nil)
	}
	if got := ids(r.Loaded()); got != "org/B" {
		t.Errorf("loaded %s, want org/B alone", got)
	}
}

func TestResolveErrors(t *testing.T) {
	r := newRegistry(t, Config{}, "org/A")
	for name, want := range map[string]string{
		"nobody/nothing": mlxkerr.ModelNotFound,
		"./some/folder":  mlxkerr.ModelNotFound, // folders only through --model
	} {
		_, err := r.Acquire(context.Background(), name, Generate)
		var e *mlxkerr.Error
		if !errors.As(err, &e) || e.Type != want {
			t.Errorf("%s: %v, want %s", name, err, want)
		}
	}
}

func TestUnloadAndList(t *testing.T) {
	r := newRegistry(t, Config{KeepAlive: -1, MaxLoaded: 2}, "org/B", "org/A")
	list, err := r.List()
	if err != nil || len(list) != 2 || list[0].ID != "org/A" || list[0].Loaded || list[0].ContextLength != servetest.ContextLength {
		t.Fatalf("list %+v, %v", list, err)
	}
	m, _ := r.Acquire(context.Background(), "org/B", Generate)
	if list, _ = r.List(); list[0].ID != "org/B" || !list[0].Loaded {
		t.Errorf("loaded model not first: %+v", list)
	}
	if _, now, ok := r.Unload("org/B"); !ok || now {
		t.Errorf("unload of a busy model: ok %v now %v", ok, now)
	}
	r.Release(m, nil) // its keep-alive is now 0
	if len(r.Loaded()) != 0 {
		t.Error("busy model not unloaded when released")
	}
	if _, _, ok := r.Unload("org/B"); ok {
		t.Error("unloaded twice")
	}
}
