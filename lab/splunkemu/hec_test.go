package splunkemu

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

const (
	hecTok    = "11111111-aaaa-bbbb-cccc-000000000001"
	hecAckTok = "11111111-aaaa-bbbb-cccc-000000000002"
	hecChan   = "22222222-aaaa-bbbb-cccc-000000000001"
)

func hecTestServer(t *testing.T) *Server {
	t.Helper()
	s := New(Options{HECListen: "127.0.0.1:0", HECTokens: map[string]HECToken{
		hecTok:    {Indexes: []string{"fluxhunt", "main"}, DefaultIndex: "fluxhunt"},
		hecAckTok: {Indexes: []string{"fluxhunt"}, DefaultIndex: "fluxhunt", UseACK: true},
		"off":     {Disabled: true},
	}})
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}

type hecAnswer struct {
	Status     int
	Text       string         `json:"text"`
	Code       *int           `json:"code"`
	AckID      *int64         `json:"ackId"`
	Invalid    *int           `json:"invalid-event-number"`
	Acks       map[string]any `json:"acks"`
	RetryAfter string
}

func hecDo(t *testing.T, method, url string, hdr map[string]string, body []byte) hecAnswer {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a hecAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("answer %q is not Splunk's JSON: %v", raw, err)
	}
	a.Status = resp.StatusCode
	a.RetryAfter = resp.Header.Get("Retry-After")
	return a
}

func gz(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.Bytes()
}

// TestHECCodes: every code of SPLUNK-REFERENCE.md the emulator produces,
// with Splunk's status, text and invalid-event-number.
func TestHECCodes(t *testing.T) {
	s := hecTestServer(t)
	auth := map[string]string{"Authorization": "Splunk " + hecTok}
	good := `{"time":1764172800.5,"event":{"a":1}}`
	for _, tc := range []struct {
		name    string
		path    string
		hdr     map[string]string
		body    string
		gzip    bool
		status  int
		code    int
		text    string
		invalid int // -1: absent
		stored  int // events stored by this request
	}{
		{"success", "/services/collector/event", auth, good, false, 200, 0, "Success", -1, 1},
		{"success legacy path", "/services/collector", auth, good, false, 200, 0, "Success", -1, 1},
		{"success gzip, concatenated", "/services/collector/event", auth, good + good + "\n" + good, true, 200, 0, "Success", -1, 3},
		{"token disabled", "/services/collector/event", map[string]string{"Authorization": "Splunk off"}, good, false, 403, 1, "Token disabled", -1, 0},
		{"token required", "/services/collector/event", nil, good, false, 401, 2, "Token is required", -1, 0},
		{"invalid authorization", "/services/collector/event", map[string]string{"Authorization": "Basic abc"}, good, false, 401, 3, "Invalid authorization", -1, 0},
		{"invalid token", "/services/collector/event", map[string]string{"Authorization": "Splunk nope"}, good, false, 403, 4, "Invalid token", -1, 0},
		{"no data", "/services/collector/event", auth, "  \n", false, 400, 5, "No data", -1, 0},
		{"invalid data format", "/services/collector/event", auth, `{"event":`, false, 400, 6, "Invalid data format", 0, 0},
		{"second event malformed", "/services/collector/event", auth, good + `{"event":1,`, false, 400, 6, "Invalid data format", 1, 1},
		{"bad time", "/services/collector/event", auth, `{"time":"yesterday","event":1}`, false, 400, 6, "Invalid data format", 0, 0},
		{"incorrect index", "/services/collector/event", auth, good + `{"index":"secret","event":1}`, false, 400, 7, "Incorrect index", 1, 1},
		{"channel missing", "/services/collector/event", map[string]string{"Authorization": "Splunk " + hecAckTok}, good, false, 400, 10, "Data channel is missing", -1, 0},
		{"invalid channel", "/services/collector/event", map[string]string{"Authorization": "Splunk " + hecAckTok, "X-Splunk-Request-Channel": "nope"}, good, false, 400, 11, "Invalid data channel", -1, 0},
		{"event required", "/services/collector/event", auth, good + good + `{"time":1}`, false, 400, 12, "Event field is required", 2, 2},
		{"event blank", "/services/collector/event", auth, `{"event":""}`, false, 400, 13, "Event field cannot be blank", 0, 0},
		{"indexed fields", "/services/collector/event", auth, `{"event":1,"fields":{"x":{"y":1}}}`, false, 400, 15, "Error in handling indexed fields", 0, 0},
		{"query string auth", "/services/collector/event?token=" + hecTok, nil, good, false, 400, 16, "Query string authorization is not enabled", -1, 0},
		{"health", "/services/collector/health", nil, "", false, 200, 17, "HEC is healthy", -1, 0},
		{"health bad token", "/services/collector/health", map[string]string{"Authorization": "Splunk nope"}, "", false, 400, 21, "Invalid token", -1, 0},
		{"health disabled token", "/services/collector/health", map[string]string{"Authorization": "Splunk off"}, "", false, 400, 22, "Token disabled", -1, 0},
		{"ack disabled", "/services/collector/ack", auth, `{"acks":[0]}`, false, 400, 14, "ACK is disabled", -1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := s.Store().Len()
			body := []byte(tc.body)
			hdr := map[string]string{}
			for k, v := range tc.hdr {
				hdr[k] = v
			}
			if tc.gzip {
				body = gz(tc.body)
				hdr["Content-Encoding"] = "gzip"
			}
			method := http.MethodPost
			if strings.HasSuffix(tc.path, "/health") {
				method = http.MethodGet
			}
			a := hecDo(t, method, s.HECURL()+tc.path, hdr, body)
			if a.Status != tc.status || a.Code == nil || *a.Code != tc.code || a.Text != tc.text {
				t.Fatalf("got %d code %v %q, want %d code %d %q", a.Status, a.Code, a.Text, tc.status, tc.code, tc.text)
			}
			if hecCodes[tc.code].Text != tc.text && tc.code != 21 && tc.code != 22 {
				t.Fatalf("hecCodes[%d] = %q", tc.code, hecCodes[tc.code].Text)
			}
			switch {
			case tc.invalid < 0 && a.Invalid != nil:
				t.Fatalf("unexpected invalid-event-number %d", *a.Invalid)
			case tc.invalid >= 0 && (a.Invalid == nil || *a.Invalid != tc.invalid):
				t.Fatalf("invalid-event-number %v, want %d", a.Invalid, tc.invalid)
			}
			if got := s.Store().Len() - before; got != tc.stored {
				t.Fatalf("stored %d events, want %d", got, tc.stored)
			}
		})
	}
	// Stored envelope: defaults from the token, decoded event, raw bytes.
	ev := s.Store().Select(func(*Event) bool { return true })[0]
	if ev.Index != "fluxhunt" || ev.Sourcetype != "httpevent" || ev.Host != "127.0.0.1" ||
		string(ev.Raw) != `{"a":1}` || ev.Fields["a"] != float64(1) || ev.Time.UnixMilli() != 1764172800500 {
		t.Fatalf("stored %+v", ev)
	}
}

// TestHECAck: ackIds count per channel, turn true once, and a lost ack
// never turns true.
func TestHECAck(t *testing.T) {
	s := hecTestServer(t)
	hdr := map[string]string{"Authorization": "Splunk " + hecAckTok, "X-Splunk-Request-Channel": hecChan}
	ev := []byte(`{"event":"x"}`)
	for want := int64(0); want < 3; want++ {
		a := hecDo(t, "POST", s.HECURL()+"/services/collector/event", hdr, ev)
		if a.AckID == nil || *a.AckID != want {
			t.Fatalf("ackId %v, want %d", a.AckID, want)
		}
	}
	// Another channel given as ?channel= starts at 0.
	other := "33333333-aaaa-bbbb-cccc-000000000001"
	a := hecDo(t, "POST", s.HECURL()+"/services/collector/event?channel="+other, map[string]string{"Authorization": "Splunk " + hecAckTok}, ev)
	if a.AckID == nil || *a.AckID != 0 {
		t.Fatalf("other channel ackId %v", a.AckID)
	}
	q := hecDo(t, "POST", s.HECURL()+"/services/collector/ack", hdr, []byte(`{"acks":[0,2,7]}`))
	if q.Acks["0"] != true || q.Acks["2"] != true || q.Acks["7"] != false {
		t.Fatalf("acks %v", q.Acks)
	}
	q = hecDo(t, "POST", s.HECURL()+"/services/collector/ack", hdr, []byte(`{"acks":[0,1]}`))
	if q.Acks["0"] != false || q.Acks["1"] != true {
		t.Fatalf("acks are reported true once: %v", q.Acks)
	}
	// Lost acks.
	s.SetHECFaults(HECFaults{LoseAckEvery: 1})
	a = hecDo(t, "POST", s.HECURL()+"/services/collector/event", hdr, ev)
	q = hecDo(t, "POST", s.HECURL()+"/services/collector/ack", hdr, []byte(`{"acks":[`+jsonInt(*a.AckID)+`]}`))
	if q.Acks[jsonInt(*a.AckID)] != false {
		t.Fatalf("lost ack turned true: %v", q.Acks)
	}
	if st := s.HECStats(); st.LostAckEvents != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

// TestHECFaults: bursts answer 503 with Retry-After and store nothing;
// near-capacity answers store; shutting down answers 23; resets drop the
// connection (after storing, for ResetAfterEvery).
func TestHECFaults(t *testing.T) {
	s := hecTestServer(t)
	hdr := map[string]string{"Authorization": "Splunk " + hecTok}
	url := s.HECURL() + "/services/collector/event"
	ev := []byte(`{"event":"x"}`)
	s.SetHECFaults(HECFaults{BurstEvery: 1, BurstLen: 2, RetryAfter: 3})
	for i := 0; i < 2; i++ {
		a := hecDo(t, "POST", url, hdr, ev)
		if a.Status != 503 || *a.Code != 9 || a.Text != "Server is busy" || a.RetryAfter != "3" {
			t.Fatalf("burst answer %+v", a)
		}
	}
	if s.Store().Len() != 0 {
		t.Fatal("a busy answer stored events")
	}
	for _, tc := range []struct {
		code, status int
		stores       bool
	}{{8, 500, false}, {26, 429, false}, {18, 503, false}, {24, 200, true}, {25, 200, true}} {
		s.SetHECFaults(HECFaults{BurstEvery: 1, BurstLen: 1, BurstCode: tc.code})
		before := s.Store().Len()
		a := hecDo(t, "POST", url, hdr, ev)
		if a.Status != tc.status || *a.Code != tc.code || a.Text != hecCodes[tc.code].Text {
			t.Fatalf("code %d: answer %+v", tc.code, a)
		}
		if stored := s.Store().Len() > before; stored != tc.stores {
			t.Fatalf("code %d: stored %v, want %v", tc.code, stored, tc.stores)
		}
	}
	s.SetHECFaults(HECFaults{ShuttingDown: true})
	if a := hecDo(t, "POST", url, hdr, ev); a.Status != 503 || *a.Code != 23 {
		t.Fatalf("shutting down: %+v", a)
	}
	if a := hecDo(t, "GET", s.HECURL()+"/services/collector/health", nil, nil); a.Status != 503 || *a.Code != 23 {
		t.Fatalf("health while shutting down: %+v", a)
	}
	for _, tc := range []struct {
		f      HECFaults
		stores bool
	}{{HECFaults{ResetBeforeEvery: 1}, false}, {HECFaults{ResetAfterEvery: 1}, true}} {
		s.SetHECFaults(tc.f)
		before := s.Store().Len()
		req, _ := http.NewRequest("POST", url, bytes.NewReader(ev))
		req.Header.Set("Authorization", "Splunk "+hecTok)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("%+v: got an answer (%d), want a reset", tc.f, resp.StatusCode)
		}
		if stored := s.Store().Len() > before; stored != tc.stores {
			t.Fatalf("%+v: stored %v, want %v", tc.f, stored, tc.stores)
		}
	}
}
