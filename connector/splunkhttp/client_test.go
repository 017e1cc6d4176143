package splunkhttp

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fluxhunt/fluxhunt/config"
)

func TestScrub(t *testing.T) {
	for in, want := range map[string]string{
		"https://admin:pw@sh.example.com:8089/services/auth/login?password=x": "https://sh.example.com:8089/services/auth/login",
		"http://h/services/collector?channel=abc&token=secret":                "http://h/services/collector",
	} {
		if got := Scrub(in); got != want {
			t.Errorf("Scrub(%q) = %q, want %q", in, got, want)
		}
	}
	err := &url.Error{Op: "Post", URL: "http://h/x?token=secret", Err: errors.New("boom")}
	if s := ScrubError(err); strings.Contains(s, "secret") || !strings.Contains(s, "boom") {
		t.Errorf("ScrubError = %q", s)
	}
}

func TestClientRetriesAndNeverLogsQuery(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if n < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ok"))
	}))
	defer srv.Close()
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := New(Options{RetryMax: 3, RetryWaitMin: time.Millisecond, RetryWaitMax: 2 * time.Millisecond, Logger: log, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Get(srv.URL + "/x?token=supersecret")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || n != 3 {
		t.Fatalf("status %d after %d requests", resp.StatusCode, n)
	}
	if strings.Contains(buf.String(), "supersecret") {
		t.Errorf("log leaked the query: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "/x") {
		t.Errorf("log should still name the path: %s", buf.String())
	}
}

func TestTLSConfigErrors(t *testing.T) {
	if _, err := TLSConfig(config.TLS{CAFile: "/nonexistent/ca.pem"}); err == nil || !strings.Contains(err.Error(), "ca_file") {
		t.Errorf("err = %v", err)
	}
	tc, err := TLSConfig(config.TLS{})
	if err != nil || tc.InsecureSkipVerify {
		t.Errorf("default must verify: %v %v", tc, err)
	}
}
