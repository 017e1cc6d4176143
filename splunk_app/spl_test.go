package splunkapp

import (
	"strings"
	"testing"
)

// testEnv is a small world for the analyser's own tests.
func testEnv() *Env {
	return &Env{
		Sourcetypes: map[string]FieldSet{
			"fluxhunt:detection": NewFieldSet("detection_id", "revision", "src", "domain", "severity", "reasons{}", "reasons"),
			"fluxhunt:probe":     NewFieldSet("domain", "answer", "ttl"),
		},
		TagSources: []TagSource{{Name: "dns", Tags: []string{"network", "resolution", "dns"}, Fields: NewFieldSet("src", "query", "answer")}},
		Datamodels: map[string]FieldSet{"Risk.All_Risk": NewFieldSet("All_Risk.risk_object", "All_Risk.calculated_risk_score")},
		Macros: map[string]string{
			"det":   `index=fluxhunt sourcetype="fluxhunt:detection"`,
			"probe": `index=fluxhunt sourcetype="fluxhunt:probe"`,
			"loop":  "`loop`",
			"dns":   `index=* tag=network tag=resolution tag=dns NOT sourcetype="fluxhunt:probe"`,
			"limit": "300",
		},
		Lookups:    map[string][]string{"allow": {"pattern", "kind"}, "intel": {"domain", "ip"}},
		Eventtypes: map[string]string{"fh_det": `sourcetype="fluxhunt:detection"`},
	}
}

func TestAnalyze(t *testing.T) {
	for _, tc := range []struct {
		name, spl string
		problem   string // substring of the expected problem; "" for none
		out       []string
	}{
		{"plain fields", "`det` severity=high | table src domain", "", []string{"src", "domain"}},
		{"typo in table", "`det` | table src domian", `field "domian" is not available`, nil},
		{"typo in base search", "`det` severty=high", `field "severty"`, nil},
		{"field from the other sourcetype", "`det` | table answer", `field "answer"`, nil},
		{"union of sourcetypes", "(`det`) OR (`probe`) | stats values(answer) AS ip by domain", "", []string{"ip", "domain"}},
		{"eval defines", "`det` | eval sev=upper(severity), msg=\"x \".sev | table msg", "", []string{"msg"}},
		{"eval reads unknown", "`det` | eval x=if(isnull(nope), 1, 0)", `field "nope"`, nil},
		{"quoted field in eval", "`det` | eval r=mvjoin('reasons{}', \"; \")", "", nil},
		{"stats replaces fields", "`det` | stats count by src | table domain", `field "domain"`, nil},
		{"stats default names", "`det` | stats count dc(domain) by src | table count src", "", []string{"count", "src"}},
		{"eventstats keeps fields", "`det` | eventstats count AS n by src | table domain n", "", []string{"domain", "n"}},
		{"timechart by opens", "`det` | timechart count BY severity", "", nil},
		{"where", "`det` | where revision > 1 AND severity!=\"low\"", "", nil},
		{"where unknown", "`det` | where revisions > 1", `field "revisions"`, nil},
		{"rename", "`det` | rename src AS host_addr | table host_addr", "", []string{"host_addr"}},
		{"rename removes old", "`det` | rename src AS a | table src", `field "src"`, nil},
		{"undefined macro", "`nosuch` | table x", "macro `nosuch` is not defined", nil},
		{"macro loop", "`loop`", "nest deeper", nil},
		{"lookup", "`det` | lookup allow pattern AS domain OUTPUT kind AS allow_kind | table allow_kind", "", []string{"allow_kind"}},
		{"undefined lookup", "`det` | lookup nosuch pattern AS domain", `lookup "nosuch" is not defined`, nil},
		{"lookup bad column", "`det` | lookup allow patern AS domain OUTPUT kind", `"patern" is not a column`, nil},
		{"inputlookup", "| inputlookup allow | where kind==\"suffix\" | table pattern", "", []string{"pattern"}},
		{"outputlookup matches", "`det` | eval ip=\"1.2.3.4\" | table domain ip | outputlookup intel", "", nil},
		{"outputlookup mismatch", "`det` | table domain src | outputlookup intel", "do not match the lookup's columns", nil},
		{"eventtype", "eventtype=fh_det | table detection_id", "", nil},
		{"undefined eventtype", "eventtype=nosuch | table x", `eventtype "nosuch" is not defined`, nil},
		{"tags pick CIM data", "`dns` query=\"x\" | stats count by src", "", []string{"count", "src"}},
		{"NOT sourcetype adds nothing", "`dns` | table ttl", `field "ttl"`, nil},
		{"unknown events", "index=main | table x", "selects no events", nil},
		{"unknown command", "`det` | iplocation src", `"iplocation" is a command this checker does not know`, nil},
		{"subsearch refused", "`det` [search `probe` | fields domain]", "subsearches", nil},
		{"tstats", "| tstats sum(All_Risk.calculated_risk_score) AS score from datamodel=Risk.All_Risk by All_Risk.risk_object | rename All_Risk.risk_object AS risk_object | where score > `limit`", "", []string{"score", "risk_object"}},
		{"tstats unknown field", "| tstats sum(All_Risk.risk) AS s from datamodel=Risk.All_Risk by All_Risk.risk_object", `field "All_Risk.risk"`, nil},
		{"fields minus wildcard", "`det` | eval tmp_a=1, tmp_b=2 | fields - tmp_* | table tmp_a", `field "tmp_a"`, nil},
		{"dedup and sort", "`det` | dedup detection_id revision sortby -revision | sort - revision src | head 10", "", nil},
		{"dedup unknown", "`det` | dedup detection revision", `field "detection"`, nil},
		{"unterminated string", "`det` severity=\"high", "unterminated", nil},
		{"mvexpand fillnull", "`det` | fillnull value=\"\" ip | mvexpand ip | table ip", "", []string{"ip"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := testEnv().Analyze(tc.spl)
			err := a.Err()
			switch {
			case tc.problem == "" && err != nil:
				t.Fatalf("unexpected problems:\n%v", err)
			case tc.problem != "" && err == nil:
				t.Fatalf("no problem found, want one containing %q", tc.problem)
			case tc.problem != "" && !strings.Contains(err.Error(), tc.problem):
				t.Fatalf("problems:\n%v\nwant one containing %q", err, tc.problem)
			}
			for _, f := range tc.out {
				if !a.Output[f] {
					t.Errorf("output %v lacks %q", a.Output.Sorted(), f)
				}
			}
		})
	}
}

func TestJSONFields(t *testing.T) {
	got, err := JSONFields([]byte(`{"a":1,"b":{"c":"x","d":[1,2]},"e":[{"f":1}],"g":[],"h":null}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "b.c", "b.d{}", "e{}.f", "g{}", "h"}
	if g := got.Sorted(); strings.Join(g, " ") != strings.Join(want, " ") {
		t.Errorf("JSONFields = %v, want %v", g, want)
	}
	for _, bad := range []string{`[1]`, `{`, ``} {
		if _, err := JSONFields([]byte(bad)); err == nil {
			t.Errorf("JSONFields(%q): no error", bad)
		}
	}
}

func TestApplyProps(t *testing.T) {
	conf := "[st]\nFIELDALIAS-a = \"answer{}\" AS answer src AS src_ip\nEVAL-n = mvcount(answer) + 1\nEVAL-bad = lower(nope)\nEVAL-chained = n + 1\nFIELDALIAS-b = missing AS x\n"
	c, err := ParseConf("props.conf", strings.NewReader(conf))
	if err != nil {
		t.Fatal(err)
	}
	out, err := ApplyProps(NewFieldSet("answer{}", "src"), c.Stanza("st"))
	for _, f := range []string{"answer", "src_ip", "n", "bad", "x"} {
		if !out[f] {
			t.Errorf("ApplyProps did not add %s", f)
		}
	}
	if err == nil || !strings.Contains(err.Error(), `aliases "missing"`) || !strings.Contains(err.Error(), `reads "nope"`) || !strings.Contains(err.Error(), `EVAL-chained (line 5): reads "n"`) {
		t.Errorf("ApplyProps error = %v, want the missing alias source and the unknown EVAL input", err)
	}
}

func TestTokens(t *testing.T) {
	got := Tokens(`src="$src$" domain=$domain$ $src$ $global_time.earliest$ $ not a token`)
	want := "domain global_time.earliest src"
	if strings.Join(got, " ") != want {
		t.Errorf("Tokens = %v, want %s", got, want)
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"`det` | table src", "| tstats count from datamodel=Risk.All_Risk by All_Risk.risk_object", "`det` | eval a=(b+c)*'d{}' | stats count(x) AS y by z", "`loop`", "((|", "[", "'", "\"\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a := testEnv().Analyze(s)
		if a.Refs == nil || a.Output == nil {
			t.Fatal("nil sets")
		}
	})
}
