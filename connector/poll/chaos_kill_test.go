package poll_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/connector/poll"
	"github.com/fluxhunt/fluxhunt/connector/search"
	"github.com/fluxhunt/fluxhunt/lab/splunkemu"
)

// TestChaosChild is the poller process of TestExactnessSIGKILL: one RunOnce
// at the time the parent gives, against the parent's emulator, on the
// parent's state file. It does nothing unless the parent started it.
func TestChaosChild(t *testing.T) {
	if os.Getenv("FLUXHUNT_POLL_CHILD") != "1" {
		t.Skip("helper process of TestExactnessSIGKILL")
	}
	env := func(k string) int64 { n, _ := strconv.ParseInt(os.Getenv(k), 10, 64); return n }
	db, err := bolt.Open(os.Getenv("FH_DB"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := config.Search{URL: os.Getenv("FH_URL"), Token: config.NewSecret(token)}
	if env("FH_RUN")%2 == 0 {
		cfg.Token = config.Secret{}
		cfg.Username, cfg.Password = "fh", config.NewSecret("fh-pass-secret")
	}
	c, err := search.New(cfg, search.Options{RetryMax: 2, RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond, JobPoll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pc := pollConfig()
	pc.MaxWindow = config.Duration(15 * time.Minute)
	var since time.Time
	if v := env("FH_SINCE"); v != 0 {
		since = time.Unix(v, 0)
	}
	p, err := poll.New(poll.Options{Searcher: c, DB: db, Poll: pc, Clock: &fakeClock{now: time.Unix(env("FH_NOW"), 0)}, Since: since,
		Consumer: &boltConsumer{rng: rand.New(rand.NewPCG(uint64(env("FH_SEED")), uint64(env("FH_RUN")))), cancel: cancel, failRate: 0.02}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestExactnessSIGKILL: the poller runs as a separate process that is
// killed with SIGKILL at random moments (mid-stream, mid-commit, between
// windows) while the emulator injects faults; restarted each time on the
// same state file, it still counts every event in exactly one window.
// Bounded: at most 300 processes and 3 minutes.
func TestExactnessSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: TestExactnessUnderChaos covers kills in-process")
	}
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("FLUXHUNT_CHAOS_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (FLUXHUNT_CHAOS_SEED reproduces the data and faults; kill times vary)", seed)
	rng := rand.New(rand.NewPCG(seed, 11))
	s := startEmu(t)
	const nDNS, nFlow = 15000, 3000
	truth, maxIndex := chaosWorld(t, rng, s, nDNS, nFlow)
	s.SetSearchSettings(splunkemu.SearchSettings{PreviewSets: true, MaxResultRows: 500})

	dbPath := filepath.Join(t.TempDir(), "state.db")
	start := t0.Add(-time.Minute)
	final := maxIndex.Add(2 * time.Minute)
	lag := pollConfig().Lag.D()
	now := t0
	deadline := time.Now().Add(3 * time.Minute)
	runs, killed, failed := 0, 0, 0
	checkpoint := func() (int64, bool) {
		db, err := bolt.Open(dbPath, 0o600, &bolt.Options{Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var cp int64
		var ok bool
		_ = db.View(func(tx *bolt.Tx) error {
			if b := tx.Bucket([]byte("poll")); b != nil {
				if v := b.Get([]byte("checkpoint/0/1")); v != nil {
					cp, _ = strconv.ParseInt(string(v), 10, 64)
					ok = true
				}
			}
			return nil
		})
		return cp, ok
	}
	for {
		if runs >= 300 || time.Now().After(deadline) {
			t.Fatalf("not caught up after %d processes (bound reached)", runs)
		}
		runs++
		if now.Before(final) {
			now = now.Add(time.Duration(1+rng.IntN(30)) * time.Minute)
			if now.After(final) {
				now = final
			}
		}
		s.SetSearchFaults(splunkemu.SearchFaults{
			Latency: 2 * time.Millisecond, Status5xxRate: 0.05, SessionExpiryRate: 0.05, CutStreamRate: 0.1,
			MalformedRowRate: 0.1, ErrorMessageRate: 0.05, Seed: seed + uint64(runs), RefuseExport: runs%5 == 0,
		})
		since := int64(0)
		if _, ok := checkpoint(); !ok {
			since = start.Unix()
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestChaosChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "FLUXHUNT_POLL_CHILD=1", "FH_URL="+s.SearchURL(), "FH_DB="+dbPath,
			"FH_NOW="+strconv.FormatInt(now.Unix(), 10), "FH_SINCE="+strconv.FormatInt(since, 10),
			"FH_SEED="+strconv.FormatUint(seed, 10), "FH_RUN="+strconv.Itoa(runs))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Most processes are killed at a random moment of their run.
		var killer *time.Timer
		if rng.IntN(3) != 0 {
			killer = time.AfterFunc(time.Duration(rng.IntN(400))*time.Millisecond, func() { _ = cmd.Process.Kill() })
		}
		err := cmd.Wait()
		if killer != nil {
			killer.Stop()
		}
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee) && !ee.Exited():
			killed++
		default:
			failed++
		}
		if cp, ok := checkpoint(); err == nil && ok && now.Equal(final) && cp == final.Add(-lag).Unix() {
			break
		}
	}
	windows := verifyTotals(t, dbPath, truth, start, nDNS)
	st := s.SearchStats()
	t.Logf("%d poller processes, %d SIGKILLed, %d failed on faults; %d windows; emulator %+v", runs, killed, failed, len(windows), st)
	if killed == 0 {
		t.Fatal("no process was killed")
	}
}
