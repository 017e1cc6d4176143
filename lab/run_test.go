package lab

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestRunDemo runs the demo path (`fluxhunt lab`) in-process: banner,
// detection table, and a summary that must show every fast-flux domain, the
// DGA-infected hosts and their flux contacts found, and no false positive.
func TestRunDemo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	var sum *Summary
	err := Run(ctx, Options{Seed: 3, Hosts: 200, SearchListen: "127.0.0.1:0", HECListen: "127.0.0.1:0", Out: &out,
		SummaryAfter: 150 * time.Second, Summary: func(s Summary) { sum = &s; cancel() }})
	if err != nil {
		t.Fatal(err)
	}
	if sum == nil {
		t.Fatalf("no summary within the time allowed; output:\n%s", out.String())
	}
	t.Logf("summary: %+v", *sum)
	text := out.String()
	for _, want := range []string{"Splunk REST", "Splunk HEC", "DNS lab", "TYPE", "fast_flux", "summary after"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if len(sum.FalsePositives) > 0 {
		t.Errorf("false positives: %v", sum.FalsePositives)
	}
	if sum.FluxFound != sum.FluxDomains || sum.FluxDomains == 0 {
		t.Errorf("fast-flux domains found %d of %d", sum.FluxFound, sum.FluxDomains)
	}
	if sum.InfectedFound < sum.InfectedHosts*9/10 {
		t.Errorf("infected hosts found %d of %d", sum.InfectedFound, sum.InfectedHosts)
	}
	if sum.ContactsFound < sum.ContactHosts*9/10 {
		t.Errorf("flux contacts found %d of %d", sum.ContactsFound, sum.ContactHosts)
	}
}

func TestClipKeepsUTF8(t *testing.T) {
	for n := 4; n < 25; n++ {
		if got := clip("baseline 0.0 ± 0.1 and more text", n); !utf8.ValidString(got) || len([]rune(got)) != n {
			t.Fatalf("clip(%d) = %q", n, got)
		}
	}
	if got := clip("baseline 0.0 ± 0.1", 16); got != "baseline 0.0 ..." && got != "baseline 0.0 ±..." {
		t.Errorf("clip = %q", got)
	}
	if clip("short", 10) != "short" {
		t.Error("clip changed a short string")
	}
}
