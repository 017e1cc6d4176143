package splunkemu

import (
	"net/http/httptest"
	"testing"
)

// FuzzHECDecodeEvents: HEC request bodies are untrusted. Decoding never
// panics; a success stores every envelope; an error names an event inside
// the body and keeps only the events before it.
func FuzzHECDecodeEvents(f *testing.F) {
	for _, s := range []string{
		`{"time":1764172800.5,"event":{"a":1}}`,
		`{"event":"x"}{"event":"y","index":"main"}`,
		`{"event":1,"fields":{"x":["a","b"]}}`,
		`{"time":"1764172800.250","host":"h","event":{"message":"m","severity":"info"}}`,
		`{"event":""}`, `{"index":"secret","event":1}`, `{"event":`, ``, `[]`, `{"event":null}`,
	} {
		f.Add([]byte(s))
	}
	a := newHECAPI(New(Options{}))
	tok := HECToken{Indexes: []string{"main", "fluxhunt"}, DefaultIndex: "fluxhunt"}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest("POST", "/services/collector/event", nil)
		evs, code, bad := a.decodeEvents(body, tok, "tok", r, false)
		if _, known := hecCodes[code]; !known {
			t.Fatalf("unknown code %d", code)
		}
		if code == HECSuccess && bad != -1 {
			t.Fatalf("success with invalid-event-number %d", bad)
		}
		if bad >= 0 && bad != len(evs) {
			t.Fatalf("invalid-event-number %d but %d events kept before it", bad, len(evs))
		}
		for _, ev := range evs {
			if ev.Index != "main" && ev.Index != "fluxhunt" {
				t.Fatalf("stored into index %q", ev.Index)
			}
			if len(ev.Raw) == 0 && ev.Fields == nil {
				t.Fatal("stored an empty event")
			}
		}
	})
}
