package splunkapp

import (
	"errors"
	"strings"
	"testing"
)

func TestParseConf(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[string]map[string]string // stanza -> key -> value
		errs     []string                     // substrings, each in the error
	}{
		{name: "empty", in: "", want: map[string]map[string]string{}},
		{name: "comments and blanks", in: "# c\n\n  # indented\n[a]\nk = v\n", want: map[string]map[string]string{"a": {"k": "v"}}},
		{name: "keys before a stanza go to default", in: "k=v\n[a]\nx = 1\n", want: map[string]map[string]string{"default": {"k": "v"}, "a": {"x": "1"}}},
		{name: "value with = and spaces", in: "[s]\nsearch = a=b  c = d \n", want: map[string]map[string]string{"s": {"search": "a=b  c = d"}}},
		{name: "empty value", in: "[r]\nimportRoles =\n", want: map[string]map[string]string{"r": {"importRoles": ""}}},
		{name: "continuation", in: "[s]\nsearch = a \\\n| b \\\n| c\nnext = 1\n", want: map[string]map[string]string{"s": {"search": "a \n| b \n| c", "next": "1"}}},
		{name: "CRLF and BOM", in: "\ufeff[s]\r\nk = v\r\n", want: map[string]map[string]string{"s": {"k": "v"}}},
		{name: "stanza name with spaces and dashes", in: "[Network - x - Rule]\nk = v\n", want: map[string]map[string]string{"Network - x - Rule": {"k": "v"}}},
		{name: "backslash inside a value", in: "[s]\nk = a\\d b\n", want: map[string]map[string]string{"s": {"k": `a\d b`}}},
		{name: "duplicate key", in: "[s]\nk = 1\nk = 2\n", errs: []string{"x.conf:3:", `key "k" repeated in [s] (first at line 2)`}},
		{name: "duplicate stanza", in: "[s]\n[t]\n[s]\n", errs: []string{"x.conf:3:", "stanza [s] repeated"}},
		{name: "unclosed header", in: "[s\nk=v\n", errs: []string{"x.conf:1:", "no closing ]"}},
		{name: "garbage line", in: "[s]\njust words\n", errs: []string{"x.conf:2:", "expected [stanza]"}},
		{name: "continuation at EOF", in: "[s]\nk = a \\\n", errs: []string{"x.conf:2:", "past the end"}},
		{name: "keeps going after errors", in: "oops\n[s]\nk = 1\nbad line\n", errs: []string{"x.conf:1:", "x.conf:4:"}, want: map[string]map[string]string{"s": {"k": "1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseConf("x.conf", strings.NewReader(tc.in))
			if len(tc.errs) == 0 && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			for _, e := range tc.errs {
				if err == nil || !strings.Contains(err.Error(), e) {
					t.Errorf("error %v, want it to contain %q", err, e)
				}
			}
			if err != nil {
				var ce *ConfError
				if !errors.As(err, &ce) || ce.File != "x.conf" || ce.Line == 0 {
					t.Errorf("error %v is not a *ConfError with file and line", err)
				}
			}
			for stanza, kv := range tc.want {
				s := c.Stanza(stanza)
				if s == nil {
					t.Errorf("no stanza [%s]", stanza)
					continue
				}
				for k, v := range kv {
					if got, ok := s.Get(k); !ok || got != v {
						t.Errorf("[%s] %s = %q (set %v), want %q", stanza, k, got, ok, v)
					}
				}
				if len(s.Keys) != len(kv) {
					t.Errorf("[%s] has keys %v, want %d", stanza, s.Keys, len(kv))
				}
			}
			if tc.want != nil && len(c.Stanzas) != len(tc.want) {
				t.Errorf("%d stanzas, want %d", len(c.Stanzas), len(tc.want))
			}
		})
	}
}

func TestParseConfLineNumbers(t *testing.T) {
	c, err := ParseConf("x.conf", strings.NewReader("# head\n\n[a]\nk = 1 \\\n  more\nj = 2\n"))
	if err != nil {
		t.Fatal(err)
	}
	s := c.Stanza("a")
	if s.Line != 3 {
		t.Errorf("[a] at line %d, want 3", s.Line)
	}
	if v, _ := s.Value("k"); v.Line != 4 {
		t.Errorf("k at line %d, want 4", v.Line)
	}
	if v, _ := s.Value("j"); v.Line != 6 {
		t.Errorf("j at line %d, want 6", v.Line)
	}
}

func FuzzParseConf(f *testing.F) {
	for _, s := range []string{"[a]\nk = v\n", "k=v\n[b]\nx = 1 \\\n2\n", "[\n", "[a]\n[a]\n", "\ufeff# c\r\n[x]\r\n=\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c, err := ParseConf("f.conf", strings.NewReader(in))
		if c == nil {
			t.Fatal("nil Conf")
		}
		for _, s := range c.Stanzas {
			if c.Stanza(s.Name) != s {
				t.Fatalf("stanza %q not found by name", s.Name)
			}
			for _, k := range s.Keys {
				if _, ok := s.Get(k); !ok {
					t.Fatalf("key %q listed but not set", k)
				}
			}
		}
		if err != nil {
			var ce *ConfError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a *ConfError", err)
			}
		}
	})
}
