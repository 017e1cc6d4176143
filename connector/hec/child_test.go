package hec

// The chaos test and the benchmark run the emulator and the writer in their
// own processes: this test binary, re-executed with FLUXHUNT_HEC_CHILD set.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/lab/splunkemu"
	"github.com/fluxhunt/fluxhunt/schema"
)

func TestMain(m *testing.M) {
	switch os.Getenv("FLUXHUNT_HEC_CHILD") {
	case "emu":
		os.Exit(emuChild())
	case "writer":
		os.Exit(writerChild())
	}
	os.Exit(m.Run())
}

// emuStats is what the emulator child's control endpoint reports.
type emuStats struct {
	Stored           int           `json:"stored"`
	Distinct         int           `json:"distinct"`
	Duplicates       int           `json:"duplicates"`
	Missing          []int         `json:"missing,omitempty"` // first few of [0, want) absent
	MissingCount     int           `json:"missing_count"`
	Accepted         int64         `json:"accepted"`
	Requests         int64         `json:"requests"`
	ResetAfterEvents int64         `json:"reset_after_events"`
	LostAckEvents    int64         `json:"lost_ack_events"`
	RSSKiB           int64         `json:"rss_kib"`
	CPU              time.Duration `json:"cpu_ns"` // user+system time of the emulator process
}

// emuChild serves HEC plus a control API; it exits when stdin closes.
func emuChild() int {
	s := splunkemu.New(splunkemu.Options{HECListen: "127.0.0.1:0", HECTokens: testTokens()})
	if err := s.Start(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if os.Getenv("FLUXHUNT_HEC_EMU_DISCARD") == "1" {
		s.SetHECDiscard(true)
	}
	if f := os.Getenv("FLUXHUNT_HEC_EMU_FAULTS"); f != "" {
		var hf splunkemu.HECFaults
		if err := json.Unmarshal([]byte(f), &hf); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		s.SetHECFaults(hf)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		want, _ := strconv.Atoi(r.URL.Query().Get("want"))
		counts := seqCounts(s)
		st := emuStats{Stored: s.Store().Len(), Distinct: len(counts)}
		for _, c := range counts {
			st.Duplicates += c - 1
		}
		m := missing(counts, want)
		st.MissingCount = len(m)
		st.Missing = m[:min(len(m), 20)]
		hs := s.HECStats()
		st.Accepted, st.Requests, st.ResetAfterEvents, st.LostAckEvents = hs.Accepted, hs.Requests, hs.ResetAfterEvents, hs.LostAckEvents
		st.RSSKiB = rssKiB()
		st.CPU = cpuTime()
		_ = json.NewEncoder(w).Encode(st)
	})
	mux.HandleFunc("/faults", func(w http.ResponseWriter, r *http.Request) {
		var hf splunkemu.HECFaults
		if err := json.NewDecoder(r.Body).Decode(&hf); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		s.SetHECFaults(hf)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	go func() { _ = http.Serve(ln, mux) }()
	fmt.Printf("{\"hec\":%q,\"control\":%q}\n", s.HECURL(), "http://"+ln.Addr().String())
	if p := os.Getenv("FLUXHUNT_HEC_EMU_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			_ = pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// cpuTime is this process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rssKiB reads this process's resident set size (Linux; 0 elsewhere).
func rssKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				return n
			}
		}
	}
	return 0
}

// writerChild sends events [FROM, TO) through a writer with ack on, printing
// "ok N" after each durable batch (N: next index), then flushes and prints
// "flushed".
func writerChild() int {
	env := func(k string) string { return os.Getenv(k) }
	from, _ := strconv.Atoi(env("FLUXHUNT_HEC_FROM"))
	to, _ := strconv.Atoi(env("FLUXHUNT_HEC_TO"))
	o := Options{
		HEC: config.HEC{
			URLs: strings.Split(env("FLUXHUNT_HEC_URLS"), ","), Token: config.NewSecret(ackToken), Index: "fluxhunt",
			Ack: true, AckTimeout: config.Duration(time.Second), AckPoll: config.Duration(100 * time.Millisecond),
			BatchBytes: 512 << 10, BatchEvents: 500, Linger: config.Duration(50 * time.Millisecond),
			GzipLevel: 1, MaxEventBytes: 64 << 10, Timeout: config.Duration(5 * time.Second),
		},
		Spool:        config.Spool{MaxBytes: 256 << 20, Overflow: "block"},
		StateDir:     env("FLUXHUNT_HEC_STATE"),
		Instance:     "chaos",
		RetryWaitMin: 10 * time.Millisecond,
		RetryWaitMax: 500 * time.Millisecond,
		ConfigRetry:  500 * time.Millisecond,
	}
	w, err := New(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx := context.Background()
	if err := w.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	const chunk = 250
	for i := from; i < to; i += chunk {
		envs := make([]schema.Envelope, 0, chunk)
		for j := i; j < min(i+chunk, to); j++ {
			envs = append(envs, testEvent(j))
		}
		if err := w.SendBatch(ctx, envs); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("ok %d\n", min(i+chunk, to))
	}
	fctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if err := w.Flush(fctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	st := w.Stats()
	b, _ := json.Marshal(st)
	fmt.Printf("flushed %s\n", b)
	_ = w.Shutdown(ctx)
	return 0
}

// child is a running child process with its stdout lines on a channel.
type child struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan struct{}
}

func startChild(t testing.TB, role string, extraEnv ...string) *child {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), "FLUXHUNT_HEC_CHILD="+role)
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, stdin: stdin, lines: make(chan string, 1024), done: make(chan struct{})}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
	}()
	var once sync.Once
	go func() { _ = cmd.Wait(); once.Do(func() { close(c.done) }) }()
	t.Cleanup(func() { c.stop() })
	return c
}

// stop closes stdin (the emulator exits on EOF), then kills after 3 s.
func (c *child) stop() {
	_ = c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(3 * time.Second):
		c.kill()
	}
}

// kill sends SIGKILL and waits for the process to end.
func (c *child) kill() {
	_ = c.stdin.Close()
	_ = c.cmd.Process.Kill() // SIGKILL
	<-c.done
}

// emuProc is an emulator child.
type emuProc struct {
	*child
	HEC, Control string
}

func startEmuChild(t testing.TB, faults *splunkemu.HECFaults, discard bool) *emuProc {
	t.Helper()
	var env []string
	if faults != nil {
		b, _ := json.Marshal(faults)
		env = append(env, "FLUXHUNT_HEC_EMU_FAULTS="+string(b))
	}
	if discard {
		// A load-test emulator: validate without storing, and spend less CPU on GC.
		env = append(env, "FLUXHUNT_HEC_EMU_DISCARD=1", "GOGC=400")
	}
	c := startChild(t, "emu", env...)
	select {
	case line, ok := <-c.lines:
		if !ok {
			t.Fatal("emulator child exited before it listened")
		}
		var addr struct{ HEC, Control string }
		if err := json.Unmarshal([]byte(line), &addr); err != nil {
			t.Fatalf("emulator child said %q: %v", line, err)
		}
		return &emuProc{child: c, HEC: addr.HEC, Control: addr.Control}
	case <-time.After(30 * time.Second):
		t.Fatal("emulator child did not start")
	}
	return nil
}

func (e *emuProc) stats(t testing.TB, want int) emuStats {
	t.Helper()
	resp, err := http.Get(e.Control + "/stats?want=" + strconv.Itoa(want))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st emuStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func (e *emuProc) setFaults(t testing.TB, f splunkemu.HECFaults) {
	t.Helper()
	b, _ := json.Marshal(f)
	resp, err := http.Post(e.Control+"/faults", "application/json", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
