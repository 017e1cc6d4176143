package hec

import (
	"net/http"
	"testing"
)

// FuzzParseAnswer: HEC answers are untrusted. Parsing never panics and
// always yields a classification; a 2xx without a code is delivery only
// when the status says success.
func FuzzParseAnswer(f *testing.F) {
	for _, s := range []struct {
		status int
		body   string
		ra     string
	}{
		{200, `{"text":"Success","code":0,"ackId":3}`, ""},
		{400, `{"text":"Invalid data format","code":6,"invalid-event-number":2}`, ""},
		{503, `{"text":"Server is busy","code":9}`, "5"},
		{429, `not json`, "Wed, 21 Oct 2015 07:28:00 GMT"},
		{413, ``, ""},
		{200, `{"acks":{"0":true}}`, ""},
	} {
		f.Add(s.status, []byte(s.body), s.ra)
	}
	f.Fuzz(func(t *testing.T, status int, body []byte, retryAfter string) {
		if status < 100 || status > 999 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{}}
		if retryAfter != "" {
			resp.Header.Set("Retry-After", retryAfter)
		}
		r := parseAnswer(resp, body)
		if r.retryAfter < 0 || r.retryAfter > 3600e9 {
			t.Fatalf("retry-after %v out of bounds", r.retryAfter)
		}
		o := classify(r)
		if o < outOK || o > outTooLarge {
			t.Fatalf("outcome %d", o)
		}
		if (o == outOK || o == outOKSlow) && (status < 200 || status > 299) {
			t.Fatalf("status %d body %q classified as delivered", status, body)
		}
		_ = r.describe(&endpoint{display: "https://x:8088"})
	})
}
