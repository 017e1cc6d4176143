package allowlist

import (
	"errors"
	"strings"
	"testing"
)

const sample = `# mail and AV noise
zen.spamhaus.org
suffix *.avqs.mcafee.com   # explicit
  .sophosxl.net
host 10.1.2.3
host 10.9.0.0/16
host Mail01.Corp.Example.
192.0.2.7
2001:db8::/32
`

func TestParseAndMatch(t *testing.T) {
	l, err := Parse(strings.NewReader(sample), "allow.txt")
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	names := []struct {
		name string
		want bool
	}{
		{"zen.spamhaus.org", true},
		{"4.3.2.1.zen.spamhaus.org", true},
		{"xzen.spamhaus.org", false},
		{"spamhaus.org", false},
		{"abcdef0123.avqs.mcafee.com", true},
		{"mcafee.com", false},
		{"x.sophosxl.net", true},
		{"example.com", false},
	}
	for _, c := range names {
		if got := l.MatchName(c.name); got != c.want {
			t.Errorf("MatchName(%q) = %v, want %v", c.name, got, c.want)
		}
	}
	hosts := []struct {
		src  string
		want bool
	}{
		{"10.1.2.3", true}, {"10.1.2.4", false}, {"10.9.200.1", true}, {"10.10.0.1", false},
		{"mail01.corp.example", true}, {"MAIL01.corp.example.", true}, {"mail02.corp.example", false},
		{"192.0.2.7", true}, {"::ffff:192.0.2.7", true}, {"2001:db8::1", true}, {"2001:db9::1", false},
	}
	for _, c := range hosts {
		if got := l.MatchHost(c.src); got != c.want {
			t.Errorf("MatchHost(%q) = %v, want %v", c.src, got, c.want)
		}
	}
	if s, h := l.Len(); s != 3 || h != 5 {
		t.Errorf("Len = %d suffixes, %d hosts; want 3, 5", s, h)
	}
}

func TestParseErrors(t *testing.T) {
	in := "good.example.com\nbad..name\nhost\tnot/an/addr/x\nfrob example.com\na b c\n" + "host " + strings.Repeat("a", 70) + ".com\nok.example.net\n"
	l, err := Parse(strings.NewReader(in), "list.txt")
	if err == nil {
		t.Fatal("want errors")
	}
	var lines []int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var le *LineError
		if !errors.As(e, &le) {
			t.Fatalf("error %v is not a *LineError", e)
		}
		if le.File != "list.txt" {
			t.Errorf("file %q", le.File)
		}
		lines = append(lines, le.Line)
	}
	if got, want := fmtInts(lines), "2,3,4,5,6"; got != want {
		t.Errorf("bad lines %s, want %s (err: %v)", got, want, err)
	}
	if !strings.Contains(err.Error(), "list.txt:4: unknown entry kind \"frob\"") {
		t.Errorf("error text: %v", err)
	}
	if !l.MatchName("good.example.com") || !l.MatchName("x.ok.example.net") {
		t.Error("good lines around bad ones were lost")
	}
}

func fmtInts(v []int) string {
	var b strings.Builder
	for i, x := range v {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(itoa(x))
	}
	return b.String()
}

func itoa(x int) string {
	if x == 0 {
		return "0"
	}
	var d []byte
	for x > 0 {
		d = append([]byte{byte('0' + x%10)}, d...)
		x /= 10
	}
	return string(d)
}

func TestLongLine(t *testing.T) {
	in := "a.example.com\n" + strings.Repeat("x", MaxLineBytes+10) + "\n"
	_, err := Parse(strings.NewReader(in), "f")
	if err == nil || !strings.Contains(err.Error(), "f:2: line longer") {
		t.Fatalf("got %v", err)
	}
}

func TestNilList(t *testing.T) {
	var l *List
	if l.MatchName("x.com") || l.MatchHost("10.0.0.1") {
		t.Fatal("nil list matched")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Add("host 10.0.0.0/8\n#c\n\nsuffix a.b\n")
	f.Add("\xff\xfe\n*.\n.\nhost ::1%eth0\n")
	f.Fuzz(func(t *testing.T, s string) {
		l, err := Parse(strings.NewReader(s), "fuzz")
		if l == nil {
			t.Fatal("nil list")
		}
		if err != nil && !strings.Contains(err.Error(), "fuzz:") {
			t.Fatalf("error without file:line: %v", err)
		}
		// Every suffix entry matches itself.
		for sfx := range l.suffixes {
			if !l.MatchName(sfx) || !l.MatchName("x."+sfx) {
				t.Fatalf("suffix %q does not match itself", sfx)
			}
		}
		_ = l.MatchHost(s)
	})
}
