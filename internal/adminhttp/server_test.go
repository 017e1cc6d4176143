package adminhttp

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestMetricsAndHealthz(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "fluxhunt_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	status := map[string]string{"search": "OK", "hec": "OK"}
	s := New("127.0.0.1:0", reg, func() map[string]string { return status }, nil)
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal("Shutdown before Start must be safe:", err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + s.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get("/metrics")
	if code != 200 || !strings.Contains(body, "fluxhunt_test_total 3") {
		t.Errorf("metrics %d: %s", code, body)
	}
	code, body = get("/healthz")
	var h struct{ Status string }
	json.Unmarshal([]byte(body), &h)
	if code != 200 || h.Status != "ok" {
		t.Errorf("healthz %d: %s", code, body)
	}
	status = map[string]string{"search": "OK", "hec": "Invalid token (code 4)"}
	code, body = get("/healthz")
	if code != 503 || !strings.Contains(body, "Invalid token") {
		t.Errorf("failing healthz %d: %s", code, body)
	}
}
