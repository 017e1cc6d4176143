package splunkapp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/fluxhunt/fluxhunt/config"
	"github.com/fluxhunt/fluxhunt/schema"
)

// The golden events the connector writes (schema/testdata), by sourcetype.
var goldenFiles = map[string]string{
	schema.SourcetypeDetection: "detection.json",
	schema.SourcetypeProbe:     "probe.json",
	schema.SourcetypeHealth:    "health.json",
}

// CIM fields (Splunk Common Information Model) of the datasets the app maps
// to or reads.
var (
	cimIDSAttacks = []string{"action", "category", "dest", "dvc", "ids_type", "severity", "signature", "signature_id", "src", "vendor_product"}
	cimAlerts     = []string{"app", "description", "dest", "id", "mitre_technique_id", "signature", "signature_id", "severity", "src", "type"}
	cimDNS        = []string{"answer", "answer_count", "dest", "message_type", "query", "query_count", "query_type", "record_type", "reply_code", "reply_code_id", "response_time", "src", "transaction_id", "transport", "ttl", "vendor_product"}
	cimTraffic    = []string{"action", "app", "bytes", "bytes_in", "bytes_out", "dest", "dest_ip", "dest_port", "direction", "duration", "dvc", "packets", "protocol", "src", "src_ip", "src_port", "transport", "vendor_product"}
	// ES's Risk data model (All_Risk dataset), as tstats names them.
	riskFields = []string{"All_Risk.calculated_risk_score", "All_Risk.risk_object", "All_Risk.risk_object_type", "All_Risk.risk_score", "All_Risk.risk_message", "All_Risk.threat_object", "All_Risk.threat_object_type"}
)

func loadApp(t *testing.T) *App {
	t.Helper()
	app, err := LoadApp(".")
	if err != nil {
		t.Fatalf("the app does not parse:\n%v", err)
	}
	return app
}

// sourcetypeFields gives each fluxhunt sourcetype's search-time fields: its
// golden event as KV_MODE=json extracts it, plus props.conf's aliases and
// evals.
func sourcetypeFields(t *testing.T, app *App) map[string]FieldSet {
	t.Helper()
	out := map[string]FieldSet{}
	for st, file := range goldenFiles {
		b, err := os.ReadFile(filepath.Join("..", "schema", "testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		fields, err := JSONFields(b)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for n := range builtinFields { // host, source... come from the HEC envelope
			fields[n] = true
		}
		s := app.Conf("props").Stanza(st)
		if s == nil {
			t.Fatalf("props.conf has no [%s]", st)
		}
		all, err := ApplyProps(fields, s)
		if err != nil {
			t.Errorf("props.conf [%s] against schema/testdata/%s:\n%v", st, file, err)
		}
		out[st] = all
	}
	return out
}

func newEnv(t *testing.T, app *App) *Env {
	t.Helper()
	lookups, err := app.Lookups()
	if err != nil {
		t.Errorf("lookups: %v", err)
	}
	return &Env{
		Sourcetypes: sourcetypeFields(t, app),
		TagSources: []TagSource{
			{Name: "Network_Resolution.DNS", Tags: []string{"network", "resolution", "dns"}, Fields: NewFieldSet(cimDNS...)},
			{Name: "Network_Traffic.All_Traffic", Tags: []string{"network", "communicate"}, Fields: NewFieldSet(cimTraffic...)},
		},
		Datamodels: map[string]FieldSet{"Risk.All_Risk": NewFieldSet(riskFields...)},
		Macros:     app.Macros(),
		Lookups:    lookups,
		Eventtypes: app.Eventtypes(),
	}
}

func TestAppParses(t *testing.T) {
	app := loadApp(t)
	for _, c := range []string{"app", "props", "transforms", "eventtypes", "tags", "macros", "savedsearches", "authorize", "inputs", "collections", "default.meta"} {
		if _, ok := app.Confs[c]; !ok {
			t.Errorf("missing %s", c)
		}
	}
	for _, v := range []string{"fluxhunt_overview", "fluxhunt_domain", "fluxhunt_health"} {
		if _, ok := app.Views[v]; !ok {
			t.Errorf("missing dashboard %s", v)
		}
	}
}

func TestAppConf(t *testing.T) {
	app := loadApp(t)
	c := app.Conf("app")
	get := func(stanza, key string) string {
		t.Helper()
		s := c.Stanza(stanza)
		if s == nil {
			t.Fatalf("app.conf has no [%s]", stanza)
		}
		v, ok := s.Get(key)
		if !ok {
			t.Errorf("app.conf [%s] has no %s", stanza, key)
		}
		return v
	}
	if got := get("package", "id"); got != "fluxhunt" {
		t.Errorf("[package] id = %q, want fluxhunt (the folder name)", got)
	}
	if got := get("id", "name"); got != "fluxhunt" {
		t.Errorf("[id] name = %q, want fluxhunt", got)
	}
	version, err := os.ReadFile(filepath.Join("..", "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(string(version))
	for _, s := range []string{"id", "launcher"} {
		if got := get(s, "version"); got != want {
			t.Errorf("[%s] version = %q, want %q (VERSION; make app sets it too)", s, got, want)
		}
	}
	if d := get("launcher", "description"); len(d) == 0 || len(d) > 200 {
		t.Errorf("[launcher] description has %d characters, want 1..200", len(d))
	}
	get("launcher", "author")
	get("ui", "label")
	if c.Stanza("triggers") == nil {
		t.Error("app.conf has no [triggers]")
	}
}

func TestPropsMapEventsToCIM(t *testing.T) {
	app := loadApp(t)
	st := sourcetypeFields(t, app)
	need := map[string][]string{
		schema.SourcetypeDetection: append(append([]string{}, cimIDSAttacks...), cimAlerts...),
		schema.SourcetypeProbe:     {"answer", "answer_count", "dest", "message_type", "query", "query_count", "record_type", "reply_code", "reply_code_id", "response_time", "src", "transport", "ttl", "vendor_product"},
		schema.SourcetypeHealth:    {"instance", "lag_seconds", "status"},
	}
	for sourcetype, fields := range need {
		for _, f := range fields {
			if !st[sourcetype][f] {
				t.Errorf("%s: CIM field %q is neither in the golden event nor derived in props.conf", sourcetype, f)
			}
		}
		s := app.Conf("props").Stanza(sourcetype)
		for key, want := range map[string]string{"KV_MODE": "json", "TRUNCATE": "0", "SHOULD_LINEMERGE": "false", "DATETIME_CONFIG": "NONE"} {
			if got, _ := s.Get(key); got != want {
				t.Errorf("props.conf [%s] %s = %q, want %q", sourcetype, key, got, want)
			}
		}
	}
	// Alerts.type is alarm|alert|event|task|warning: fluxhunt's own kind
	// is detection_type.
	if got, _ := app.Conf("props").Stanza(schema.SourcetypeDetection).Get("EVAL-type"); got != `"alert"` {
		t.Errorf("EVAL-type = %s, want \"alert\"", got)
	}
}

func TestEventtypesAndTags(t *testing.T) {
	app := loadApp(t)
	env := newEnv(t, app)
	wantTags := map[string][]string{
		"fluxhunt_detection": {"alert", "attack", "ids"},
		"fluxhunt_probe":     {"dns", "network", "resolution"},
	}
	for name, search := range app.Eventtypes() {
		a := env.Analyze(search)
		if err := a.Err(); err != nil {
			t.Errorf("eventtype %s: %v", name, err)
		}
		if len(a.Sources) != 1 {
			t.Errorf("eventtype %s selects %v, want one fluxhunt sourcetype", name, a.Sources)
		}
	}
	for _, s := range app.Conf("tags").Stanzas {
		et, ok := strings.CutPrefix(s.Name, "eventtype=")
		if !ok {
			t.Errorf("tags.conf [%s]: tag eventtypes only", s.Name)
			continue
		}
		if _, ok := app.Eventtypes()[et]; !ok {
			t.Errorf("tags.conf [%s]: eventtype %s is not defined", s.Name, et)
		}
		var got []string
		for _, k := range s.Keys {
			if v, _ := s.Get(k); v == "enabled" {
				got = append(got, k)
			}
		}
		slices.Sort(got)
		if want := wantTags[et]; !slices.Equal(got, want) {
			t.Errorf("tags.conf [%s] = %v, want %v", s.Name, got, want)
		}
		delete(wantTags, et)
	}
	for et := range wantTags {
		t.Errorf("tags.conf has no [eventtype=%s]", et)
	}
}

// severities and security domains that ES accepts.
var (
	esSeverities = []string{"informational", "low", "medium", "high", "critical"}
	esDomains    = []string{"access", "endpoint", "network", "threat", "identity", "audit"}
)

func TestSavedSearches(t *testing.T) {
	app := loadApp(t)
	env := newEnv(t, app)
	ss := app.Conf("savedsearches")
	if len(ss.Stanzas) == 0 {
		t.Fatal("no saved searches")
	}
	names := map[string]bool{}
	for _, s := range ss.Stanzas {
		names[s.Name] = true
	}
	correlations := 0
	for _, s := range ss.Stanzas {
		t.Run(s.Name, func(t *testing.T) {
			get := func(key string) string {
				v, ok := s.Get(key)
				if !ok {
					t.Errorf("no %s", key)
				}
				return v
			}
			a := env.Analyze(get("search"))
			if err := a.Err(); err != nil {
				t.Fatalf("search:\n%v", err)
			}
			get("description")
			get("cron_schedule")
			get("dispatch.earliest_time")
			if v, _ := s.Get("alert.suppress"); v == "1" {
				for _, f := range strings.Split(get("alert.suppress.fields"), ",") {
					if !a.Output[f] {
						t.Errorf("alert.suppress.fields names %q, which the results lack", f)
					}
				}
			}
			if v, _ := s.Get("action.correlationsearch.enabled"); v != "1" {
				return
			}
			correlations++
			if v, _ := s.Get("disabled"); v != "1" {
				t.Error("correlation searches ship disabled (they need ES's alert actions)")
			}
			var ann map[string][]string
			if err := json.Unmarshal([]byte(get("action.correlationsearch.annotations")), &ann); err != nil {
				t.Errorf("annotations: %v", err)
			}
			for _, id := range ann["mitre_attack"] {
				if id != "T1568.001" && id != "T1568.002" {
					t.Errorf("annotation mitre_attack %q: fluxhunt detects T1568.001 and T1568.002", id)
				}
			}
			if len(ann["mitre_attack"]) == 0 {
				t.Error("no mitre_attack annotation")
			}
			get("action.correlationsearch.label")
			if get("action.notable") != "1" {
				t.Error("action.notable is not 1")
			}
			if d := get("action.notable.param.security_domain"); !slices.Contains(esDomains, d) {
				t.Errorf("security_domain %q not in %v", d, esDomains)
			}
			if sev := get("action.notable.param.severity"); !slices.Contains(esSeverities, sev) {
				t.Errorf("severity %q not in %v", sev, esSeverities)
			}
			// Every $token$ of the notable and risk texts is a result field.
			for _, key := range []string{"action.notable.param.rule_title", "action.notable.param.rule_description", "action.notable.param.drilldown_name", "action.notable.param.drilldown_search", "action.risk.param._risk_message"} {
				v, ok := s.Get(key)
				if !ok {
					if key != "action.risk.param._risk_message" || s.Name != riskIncidentRule {
						t.Errorf("no %s", key)
					}
					continue
				}
				for _, tok := range Tokens(v) {
					if !a.Output[tok] {
						t.Errorf("%s uses $%s$, which the results lack (have %v)", key, tok, a.Output.Sorted())
					}
				}
			}
			for _, f := range strings.Split(get("action.notable.param.nes_fields"), ",") {
				if !a.Output[f] {
					t.Errorf("nes_fields names %q, which the results lack", f)
				}
			}
			dd := env.Analyze(get("action.notable.param.drilldown_search"))
			if err := dd.Err(); err != nil {
				t.Errorf("drilldown_search:\n%v", err)
			}
			if s.Name == riskIncidentRule {
				// It reads the risk that the other rules write, by name.
				for _, m := range regexp.MustCompile(`source="([^"]+)"`).FindAllStringSubmatch(get("search"), -1) {
					if !names[m[1]] {
						t.Errorf("risk incident rule reads risk of %q, which is no saved search here", m[1])
					}
				}
				return
			}
			// Detection rules: one notable per (detection_id, revision), risk
			// on the host, the domain as threat object.
			if !strings.Contains(a.dedupLine(get("search")), "dedup detection_id revision") {
				t.Error("the search does not dedup detection_id revision")
			}
			if got := get("alert.suppress.fields"); got != "detection_id,revision" {
				t.Errorf("alert.suppress.fields = %q, want detection_id,revision", got)
			}
			if get("action.risk") != "1" {
				t.Error("action.risk is not 1")
			}
			var risk []map[string]any
			if err := json.Unmarshal([]byte(get("action.risk.param._risk")), &risk); err != nil {
				t.Fatalf("_risk: %v", err)
			}
			var objects, threats []string
			for _, r := range risk {
				if f, ok := r["risk_object_field"].(string); ok {
					objects = append(objects, f)
					if r["risk_object_type"] != "system" {
						t.Errorf("risk object %s has type %v, want system", f, r["risk_object_type"])
					}
					if n, ok := r["risk_score"].(float64); !ok || n <= 0 || n > 100 {
						t.Errorf("risk object %s has risk_score %v, want 1..100", f, r["risk_score"])
					}
				}
				if f, ok := r["threat_object_field"].(string); ok {
					threats = append(threats, f)
				}
			}
			if !slices.Equal(objects, []string{"src"}) || !slices.Equal(threats, []string{"domain"}) {
				t.Errorf("risk objects %v, threat objects %v: want [src] and [domain]", objects, threats)
			}
			for _, f := range append(objects, threats...) {
				if !a.Output[f] {
					t.Errorf("_risk names %q, which the results lack", f)
				}
			}
		})
	}
	if correlations != 5 {
		t.Errorf("%d correlation searches, want 5 (four detection types and the risk incident rule)", correlations)
	}
	for _, want := range []string{riskIncidentRule, healthAlert, intelGen} {
		if !names[want] {
			t.Errorf("no saved search %q", want)
		}
	}
}

const (
	riskIncidentRule = "Threat - fluxhunt DNS C2 Behaviours On Host - Rule"
	healthAlert      = "fluxhunt - Connector Health - Alert"
	intelGen         = "fluxhunt - Threat Intel - Fast-Flux Domains - Lookup Gen"
)

// dedupLine returns the search with runs of blanks made single spaces.
func (a *Analysis) dedupLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func TestEveryDetectionTypeHasARule(t *testing.T) {
	app := loadApp(t)
	for typ, kind := range schema.Kinds {
		found := false
		for _, s := range app.Conf("savedsearches").Stanzas {
			q, _ := s.Get("search")
			if v, _ := s.Get("action.correlationsearch.enabled"); v != "1" || !strings.Contains(q, `detection_type="`+typ+`"`) {
				continue
			}
			found = true
			ann, _ := s.Get("action.correlationsearch.annotations")
			if !strings.Contains(ann, kind.MITRE) {
				t.Errorf("%s: rule for %s lacks its technique %s", s.Name, typ, kind.MITRE)
			}
		}
		if !found {
			t.Errorf("no correlation search for detection_type %s", typ)
		}
	}
}

func TestDashboards(t *testing.T) {
	app := loadApp(t)
	env := newEnv(t, app)
	for name, v := range app.Views {
		t.Run(name, func(t *testing.T) {
			if v.Version != "2" {
				t.Errorf("version=%q, want 2 (Dashboard Studio)", v.Version)
			}
			d := v.Definition
			if d.Title == "" || v.Label == "" {
				t.Error("no title or label")
			}
			tokens := FieldSet{}
			for id, in := range d.Inputs {
				if in.Type != "input.timerange" && in.Type != "input.text" && in.Type != "input.dropdown" {
					t.Errorf("input %s: type %q", id, in.Type)
				}
				if in.Options.Token == "" {
					t.Errorf("input %s sets no token", id)
				}
				tokens[in.Options.Token] = true
			}
			outputs := map[string]FieldSet{}
			for id, ds := range d.DataSources {
				if ds.Type != "ds.search" {
					t.Errorf("data source %s: type %s", id, ds.Type)
					continue
				}
				q := ds.Options.Query
				for _, tok := range Tokens(q + " " + strings.Join(mapValues(ds.Options.QueryParameters), " ")) {
					base, _, _ := strings.Cut(tok, ".")
					if !tokens[base] {
						t.Errorf("data source %s uses $%s$, which no input sets", id, tok)
					}
				}
				a := env.Analyze(q)
				if err := a.Err(); err != nil {
					t.Errorf("data source %s:\n%v", id, err)
				}
				outputs[id] = a.Output
			}
			placed := FieldSet{}
			for _, s := range d.Layout.Structure {
				placed[s.Item] = true
			}
			for id, viz := range d.Visualizations {
				if !vizTypes[viz.Type] {
					t.Errorf("visualization %s: type %q is not a Dashboard Studio visualization this app uses", id, viz.Type)
				}
				if !placed[id] {
					t.Errorf("visualization %s is not in the layout", id)
				}
				ds, ok := viz.DataSources["primary"]
				if _, exists := d.DataSources[ds]; !ok || !exists {
					t.Errorf("visualization %s: primary data source %q is not defined", id, ds)
				}
				for _, h := range viz.EventHandlers {
					if h.Type != "drilldown.linkToDashboard" {
						continue
					}
					target, ok := app.Views[h.Options.Dashboard]
					if !ok || h.Options.App != "fluxhunt" {
						t.Errorf("visualization %s links to %s/%s, which is not a dashboard of this app", id, h.Options.App, h.Options.Dashboard)
						continue
					}
					targetTokens := FieldSet{}
					for _, in := range target.Definition.Inputs {
						targetTokens[in.Options.Token] = true
					}
					for _, tk := range h.Options.Tokens {
						if !targetTokens[tk.Token] {
							t.Errorf("visualization %s sets token %s, which %s has no input for", id, tk.Token, h.Options.Dashboard)
						}
						field := strings.TrimSuffix(strings.TrimPrefix(tk.Value, "row."), ".value")
						if !outputs[ds][field] {
							t.Errorf("visualization %s passes row.%s, which data source %s lacks", id, field, ds)
						}
					}
				}
			}
			for _, s := range d.Layout.Structure {
				if _, ok := d.Visualizations[s.Item]; !ok {
					t.Errorf("layout places %s, which is no visualization", s.Item)
				}
			}
			for _, in := range d.Layout.GlobalInputs {
				if _, ok := d.Inputs[in]; !ok {
					t.Errorf("layout names input %s, which is not defined", in)
				}
			}
		})
	}
}

// Dashboard Studio visualization types (splunk.* in the definition JSON).
var vizTypes = NewFieldSet("splunk.line", "splunk.area", "splunk.column", "splunk.bar", "splunk.pie",
	"splunk.table", "splunk.singlevalue", "splunk.markdown", "splunk.events")

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// The connector's default poll searches start with the app's source macros
// and must give the fields the row parsers read.
func TestConnectorDefaultSearches(t *testing.T) {
	app := loadApp(t)
	env := newEnv(t, app)
	for _, tc := range []struct {
		name, text, macro string
		out               []string
	}{
		{"dns", config.DefaultDNSSearch, "fluxhunt_dns_source", []string{"_time", "src", "query", "record_type", "reply_code", "answer", "ttl", "dest", "count"}},
		{"flow", config.DefaultFlowSearch, "fluxhunt_flow_source", []string{"_time", "src", "dest", "dest_port", "transport", "bytes", "packets", "count"}},
	} {
		for _, shards := range []int{1, 4} {
			q, err := config.RenderSearch(tc.text, config.SearchVars{Shard: 1, Shards: shards, Limit: 1000})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			a := env.Analyze(q)
			if err := a.Err(); err != nil {
				t.Errorf("%s search (shards=%d):\n%v", tc.name, shards, err)
			}
			if !slices.Contains(a.Macros, tc.macro) {
				t.Errorf("%s search does not use `%s`", tc.name, tc.macro)
			}
			for _, f := range tc.out {
				if !a.Output[f] {
					t.Errorf("%s search does not return %q", tc.name, f)
				}
			}
		}
	}
	// The DNS source must not read fluxhunt's own probes back.
	if def := app.Macros()["fluxhunt_dns_source"]; !strings.Contains(def, `NOT sourcetype="fluxhunt:probe"`) {
		t.Errorf("fluxhunt_dns_source does not leave out fluxhunt:probe: %s", def)
	}
}

func TestLookups(t *testing.T) {
	app := loadApp(t)
	env := newEnv(t, app)
	if got, want := env.Lookups["fluxhunt_allowlist"], []string{"pattern", "kind", "comment", "added_by", "expires"}; !slices.Equal(got, want) {
		t.Errorf("fluxhunt_allowlist columns %v, want %v (the connector and README rely on them)", got, want)
	}
	if got := env.Lookups["fluxhunt_fastflux_intel"]; !slices.Contains(got, "domain") || !slices.Contains(got, "ip") || !slices.Contains(got, "description") || !slices.Contains(got, "weight") {
		t.Errorf("fluxhunt_fastflux_intel columns %v lack ES's domain/ip/description/weight", got)
	}
	// What the connector runs to read the allowlist back.
	for _, q := range []string{"| inputlookup fluxhunt_allowlist", "| inputlookup fluxhunt_allowlist | `fluxhunt_allowlist_active` | table pattern kind"} {
		if err := env.Analyze(q).Err(); err != nil {
			t.Errorf("%s:\n%v", q, err)
		}
	}
	// Every lookup file shipped is defined, and the other way round.
	files, _ := filepath.Glob(filepath.Join("lookups", "*"))
	defined := FieldSet{}
	for _, s := range app.Conf("transforms").Stanzas {
		if f, ok := s.Get("filename"); ok {
			defined[f] = true
		}
	}
	for _, f := range files {
		if !defined[filepath.Base(f)] {
			t.Errorf("%s is not defined in transforms.conf", f)
		}
	}
}

func TestMacrosAreUsedAndDefined(t *testing.T) {
	app := loadApp(t)
	env := newEnv(t, app)
	used := FieldSet{}
	note := func(q string) {
		for _, m := range env.Analyze(q).Macros {
			used[m] = true
		}
	}
	for _, s := range app.Conf("savedsearches").Stanzas {
		q, _ := s.Get("search")
		note(q)
	}
	for _, v := range app.Views {
		for _, ds := range v.Definition.DataSources {
			note(ds.Options.Query)
		}
	}
	note(config.DefaultDNSSearch)
	note(config.DefaultFlowSearch)
	note("| inputlookup fluxhunt_allowlist | `fluxhunt_allowlist_active`")
	for name := range app.Macros() {
		if !used[name] {
			t.Errorf("macro %s is defined but no search, dashboard or connector search uses it", name)
		}
	}
}

func TestRoleIsLeastPrivilege(t *testing.T) {
	app := loadApp(t)
	s := app.Conf("authorize").Stanza("role_fluxhunt_connector")
	if s == nil {
		t.Fatal("authorize.conf has no [role_fluxhunt_connector]")
	}
	allowed := map[string]bool{"importRoles": true, "search": true, "srchIndexesAllowed": true, "srchIndexesDefault": true,
		"srchJobsQuota": true, "rtSrchJobsQuota": true, "srchDiskQuota": true, "srchMaxTime": true, "srchTimeWin": true}
	for _, k := range s.Keys {
		v, _ := s.Get(k)
		if !allowed[k] {
			t.Errorf("role sets %s = %s: the connector only searches", k, v)
		}
		if strings.HasPrefix(k, "srchIndexes") && (strings.Contains(v, "*") || strings.Contains(v, "_internal") || strings.Contains(v, "_audit")) {
			t.Errorf("role %s = %s: name the DNS and flow indexes, not wildcards or internal ones", k, v)
		}
	}
	if v, _ := s.Get("importRoles"); v != "" {
		t.Errorf("role imports %q: it must inherit nothing", v)
	}
	if v, _ := s.Get("rtSrchJobsQuota"); v != "0" {
		t.Errorf("rtSrchJobsQuota = %q, want 0", v)
	}
	// The connector's searches run outside the app: the macros and the
	// allowlist lookup must be exported.
	meta := app.Conf("default.meta")
	for _, obj := range []string{"macros", "transforms", "lookups", "eventtypes", "tags", "props"} {
		st := meta.Stanza(obj)
		if st == nil {
			t.Errorf("default.meta has no [%s]", obj)
			continue
		}
		if v, _ := st.Get("export"); v != "system" {
			t.Errorf("default.meta [%s] export = %q, want system", obj, v)
		}
	}
}

func TestMetadataNamesExistingObjects(t *testing.T) {
	app := loadApp(t)
	for _, s := range app.Conf("default.meta").Stanzas {
		typ, name, ok := strings.Cut(s.Name, "/")
		if !ok {
			continue
		}
		if app.Conf(typ).Stanza(name) == nil {
			t.Errorf("default.meta [%s]: %s.conf has no [%s]", s.Name, typ, name)
		}
		if v, _ := s.Get("access"); !strings.Contains(v, "read : [ * ]") {
			t.Errorf("default.meta [%s] access = %q: every role (the connector's too) must read it", s.Name, v)
		}
	}
}

func TestHECStanzaDisabled(t *testing.T) {
	// Splunk Cloud (AppInspect) forbids [http://...] in an app, so the token
	// stanza ships commented out, and says disabled = 1 for whoever copies it.
	b, err := os.ReadFile(filepath.Join("default", "inputs.conf"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^# \[http://fluxhunt\]$`).Match(b) || !regexp.MustCompile(`(?m)^# disabled = 1$`).Match(b) {
		t.Error("inputs.conf lacks the commented, disabled [http://fluxhunt] stanza")
	}
	if regexp.MustCompile(`(?m)^\[http://`).Match(b) {
		t.Error("inputs.conf has a live [http://...] stanza, which Splunk Cloud rejects")
	}
	if regexp.MustCompile(`(?m)^#?\s*token\s*=\s*[0-9a-fA-F-]{36}`).Match(b) {
		t.Error("inputs.conf carries a token value")
	}
}

func TestREADMEDocumentsTheApp(t *testing.T) {
	app := loadApp(t)
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, s := range []string{"## Install the Splunk app", "splunk install app", "fluxhunt_connector", "indexes.conf"} {
		if !strings.Contains(readme, s) {
			t.Errorf("README.md does not mention %q", s)
		}
	}
	for name := range app.Macros() {
		if !strings.Contains(readme, "`"+name+"`") {
			t.Errorf("README.md does not document macro %s", name)
		}
	}
	for _, col := range []string{"pattern", "kind", "comment", "added_by", "expires"} {
		if !strings.Contains(readme, "`"+col+"`") {
			t.Errorf("README.md does not document allowlist column %s", col)
		}
	}
	for _, s := range app.Conf("savedsearches").Stanzas {
		if !strings.Contains(readme, s.Name) {
			t.Errorf("README.md does not name saved search %q", s.Name)
		}
	}
}
